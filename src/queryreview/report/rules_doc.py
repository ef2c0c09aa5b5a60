"""Rule documentation: the table of all rules and one rule's page."""

from __future__ import annotations

import json

from queryreview.rules.registry import Rule, all_rules


def _example(rule: Rule, kind: str) -> str | None:
    for case in rule.cases.get(kind) or ():
        if "sql" in case and case["sql"].strip():
            return case["sql"].rstrip()
    return None


def rule_dict(rule: Rule) -> dict:
    return {
        "code": rule.code, "name": rule.name, "family": rule.family, "severity": rule.severity,
        "requires": list(rule.requires), "summary": rule.summary, "why": rule.why, "fix": rule.fix,
        "references": list(rule.references), "settings": rule.settings,
        "example_bad": _example(rule, "fail"), "example_good": _example(rule, "pass"),
    }


def render_rule(rule: Rule, output_format: str = "text") -> str:
    if output_format == "json":
        return json.dumps(rule_dict(rule), indent=2) + "\n"
    if output_format == "markdown":
        return rule_markdown(rule)
    lines = [f"{rule.code} {rule.name}  ({rule.family}, {rule.severity})", "", rule.summary, "",
             "Why:", *("  " + line for line in rule.why.splitlines()), "",
             "Fix:", *("  " + line for line in rule.fix.splitlines())]
    if rule.settings:
        lines += ["", "Settings:"]
        for key, spec in rule.settings.items():
            lines.append(f"  {key} = {spec.get('default')!r}: {spec.get('description', '')}")
    bad, good = _example(rule, "fail"), _example(rule, "pass")
    if bad:
        lines += ["", "Bad:", *("  " + line for line in bad.splitlines())]
    if good:
        lines += ["", "Good:", *("  " + line for line in good.splitlines())]
    if rule.references:
        lines += ["", "References:", *("  " + ref for ref in rule.references)]
    return "\n".join(lines) + "\n"


def rule_markdown(rule: Rule) -> str:
    parts = [f"## {rule.code} {rule.name}", "",
             f"Family: {rule.family} · severity: {rule.severity} · needs: {', '.join(rule.requires)}", "",
             rule.summary, "", "**Why.** " + rule.why, "", "**Fix.** " + rule.fix, ""]
    if rule.settings:
        parts += ["| setting | default | meaning |", "|---|---|---|"]
        parts += [f"| `{k}` | `{v.get('default')!r}` | {v.get('description', '')} |" for k, v in rule.settings.items()]
        parts.append("")
    bad, good = _example(rule, "fail"), _example(rule, "pass")
    if bad:
        parts += ["Bad:", "", "```sql", bad, "```", ""]
    if good:
        parts += ["Good:", "", "```sql", good, "```", ""]
    if rule.references:
        parts += ["References: " + ", ".join(f"<{ref}>" for ref in rule.references), ""]
    return "\n".join(parts)


def render_rule_table(output_format: str = "text") -> str:
    rules = all_rules()
    if output_format == "json":
        return json.dumps([rule_dict(rule) for rule in rules], indent=2) + "\n"
    from tabulate import tabulate

    rows = [(rule.code, rule.name, rule.family, rule.severity, rule.summary) for rule in rules]
    headers = ("code", "name", "family", "severity", "summary")
    table_format = "github" if output_format == "markdown" else "simple"
    return tabulate(rows, headers=headers, tablefmt=table_format) + "\n"
