"""Rule documentation: the table of all rules and one rule's page."""

from __future__ import annotations

import json

from queryreview.rules.registry import Rule, all_rules

TABLE_WIDTH = 100
NAME_WIDTH = 30
# rule input -> (short, long) for the docs; "settings" is configuration, not an input
_NEEDS = {
    "stmt": ("SQL", "SQL text"), "raw": ("SQL", "SQL text"), "source": ("SQL", "SQL text"),
    "unused": ("SQL", "SQL text"), "settings": ("", ""), "script": ("SQL", "SQL text"),
    "catalog": ("catalog", "a database catalog (--dsn or --snapshot)"),
    "plan": ("plan", "an EXPLAIN plan"),
    "stats": ("stats", "pg_stat_statements (--dsn or --snapshot)"),
}


def _example(rule: Rule, kind: str) -> str | None:
    case = _first_case(rule, kind)
    if case is None or not (case.get("sql") or "").strip():
        return None
    return case["sql"].rstrip()


def _example_catalog(rule: Rule, kind: str) -> str | None:
    """The database the first example runs against (catalog and workload fixtures), as YAML."""
    case = _first_case(rule, kind)
    if case is None:
        return None
    fixture = {key: case[key] for key in ("catalog", "stats") if key in case}
    if not fixture:
        return None
    import yaml

    return yaml.safe_dump(fixture, sort_keys=False, default_flow_style=None, width=88).rstrip()


def _first_case(rule: Rule, kind: str) -> dict | None:
    """The case the docs show: the first with SQL, else (catalog-only rules) the first with a catalog."""
    cases = list(rule.cases.get(kind) or ())
    for case in cases:
        if (case.get("sql") or "").strip():
            return case
    for case in cases:
        if "catalog" in case or "stats" in case:
            return case
    return None


def rule_dict(rule: Rule) -> dict:
    return {
        "code": rule.code, "name": rule.name, "family": rule.family, "severity": rule.severity,
        "requires": list(rule.requires), "summary": rule.summary, "why": rule.why, "fix": rule.fix,
        "references": list(rule.references), "settings": rule.settings,
        "example_bad": _example(rule, "fail"), "example_good": _example(rule, "pass"),
        "example_bad_catalog": _example_catalog(rule, "fail"),
        "example_good_catalog": _example_catalog(rule, "pass"),
    }


def _indent(text: str) -> list[str]:
    return ["  " + line if line.strip() else "" for line in text.splitlines()]


def render_rule(rule: Rule, output_format: str = "text") -> str:
    if output_format == "json":
        return json.dumps(rule_dict(rule), indent=2) + "\n"
    if output_format == "markdown":
        return rule_markdown(rule)
    lines = [f"{rule.code} {rule.name}  ({rule.family}, {rule.severity})", "", rule.summary, "",
             f"Needs: {needs(rule)}", "",
             "Why:", *_indent(rule.why), "",
             "Fix:", *_indent(rule.fix)]
    if rule.settings:
        lines += ["", "Settings:"]
        for key, spec in rule.settings.items():
            lines.append(f"  {key} = {toml_value(spec.get('default'))}: {spec.get('description', '')}")
    for title, kind in (("Bad", "fail"), ("Good", "pass")):
        sql, catalog = _example(rule, kind), _example_catalog(rule, kind)
        if sql:
            lines += ["", f"{title}:", *_indent(sql)]
        if catalog:
            lines += ["", f"{title} (database):" if not sql else "  with the database:", *_indent(catalog)]
    if rule.references:
        lines += ["", "References:", *("  " + ref for ref in rule.references)]
    return "\n".join(lines) + "\n"


def needs(rule: Rule, short: bool = False) -> str:
    """What a rule needs to run, in the user's terms ("SQL text", "a database catalog …")."""
    names = []
    for param in rule.requires:
        name = _NEEDS.get(param, (param, param))[0 if short else 1]
        if name and name not in names:
            names.append(name)
    return ", ".join(names) or ("SQL" if short else "SQL text")


def rule_markdown(rule: Rule) -> str:
    from queryreview.report.markdown import inline

    parts = [f"## {rule.code} {rule.name}", "", f"**{inline(rule.summary)}**", "",
             f"Family: {rule.family} · severity: {rule.severity} · needs: {needs(rule)}", "",
             "**Why.** " + rule.why, "", "**Fix.** " + rule.fix, ""]
    if rule.settings:
        parts += ["| setting | default | meaning |", "|---|---|---|"]
        parts += [f"| `{k}` | `{toml_value(v.get('default'))}` | {inline(str(v.get('description', '')), table=True)} |"
                  for k, v in rule.settings.items()]
        example = "\n".join(f"{k} = {toml_value(v.get('default'))}" for k, v in rule.settings.items())
        parts += ["", "In `.queryreview.toml` (in pyproject.toml: `[tool.queryreview.rules.…]`):",
                  "", "```toml", f"[rules.{rule.name}]", example, "```", ""]
    for title, kind in (("Bad", "fail"), ("Good", "pass")):
        sql, catalog = _example(rule, kind), _example_catalog(rule, kind)
        if sql:
            parts += [f"{title}:", "", "```sql", sql, "```", ""]
        if catalog:
            parts += [f"{title} (database):" if not sql else "with the database:", "", "```yaml", catalog, "```", ""]
    if rule.references:
        parts += ["References:", "", *(f"- <{ref}>" for ref in rule.references), ""]
    return "\n".join(parts)


def toml_value(value: object) -> str:
    """A setting's value as it is written in the TOML configuration."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if value is None:
        return "(none)"
    return str(value)


def render_rule_table(output_format: str = "text") -> str:
    rules = all_rules()
    if output_format == "json":
        return json.dumps([rule_dict(rule) for rule in rules], indent=2) + "\n"
    from tabulate import tabulate

    headers = ("code", "name", "family", "severity", "summary")
    if output_format == "markdown":
        from queryreview.report.markdown import inline

        rows = [(rule.code, rule.name, rule.family, rule.severity, inline(rule.summary, table=True)) for rule in rules]
        return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True) + "\n"
    rows = [(rule.code, rule.name, rule.family, rule.severity, rule.summary) for rule in rules]
    # Fit a 100-column terminal: long names wrap at a hyphen, summaries at a space.
    layout = tabulate([row[:4] + ("",) for row in rows], headers=headers, tablefmt="simple",
                      disable_numparse=True, maxcolwidths=[None, NAME_WIDTH, None, None, None])
    summary_width = max(TABLE_WIDTH - layout.splitlines()[0].index("summary"), 20)
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True,
                    maxcolwidths=[None, NAME_WIDTH, None, None, summary_width]) + "\n"
