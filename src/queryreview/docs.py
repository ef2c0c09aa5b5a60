"""Generate docs/rules.md, the rule index, from rules/*.yaml.

    python -m queryreview.docs            # print it
    python -m queryreview.docs --write    # rewrite docs/rules.md in the source tree
    python -m queryreview.docs --check    # exit 1 when docs/rules.md is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REFRESH_COMMAND = "python -m queryreview.docs --write"
HEADER = f"<!-- Generated from rules/*.yaml by `{REFRESH_COMMAND}`: do not edit by hand. -->"


def rules_doc_path() -> Path:
    """docs/rules.md of the source checkout this module belongs to."""
    return Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def anchor(code: str, name: str) -> str:
    """The GitHub anchor of a rule's ``## QR101 select-star`` heading."""
    return f"{code.lower()}-{name}"


def render_rules_doc() -> str:
    from tabulate import tabulate

    from queryreview.report.markdown import inline
    from queryreview.report.rules_doc import needs, rule_markdown
    from queryreview.rules.registry import all_rules

    rules = all_rules()
    rows = [(f"[{rule.code}](#{anchor(rule.code, rule.name)})", rule.name, rule.family, rule.severity,
             needs(rule, short=True), inline(rule.summary, table=True)) for rule in rules]
    table = tabulate(rows, headers=("code", "name", "family", "severity", "needs", "summary"),
                     tablefmt="github", disable_numparse=True)
    parts = [
        "# Rules",
        "",
        HEADER,
        "",
        f"queryreview has {len(rules)} rules. The hundreds digit of a code is the family "
        "(1 query, 2 schema, 3 plan, 4 workload, 5 migration, 9 tool). `queryreview rules NAME` "
        "shows a rule's page in the terminal; docs/configuration.md says how to select rules, "
        "change a severity and set a rule's settings.",
        "",
        table,
        "",
    ]
    for rule in rules:
        parts.append(rule_markdown(rule).rstrip("\n"))
        parts.append("")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queryreview.docs", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite docs/rules.md")
    group.add_argument("--check", action="store_true", help="exit 1 when docs/rules.md is stale")
    parser.add_argument("--path", type=Path, default=None, help="file to write or check (default: docs/rules.md)")
    args = parser.parse_args(argv)
    text = render_rules_doc()
    path = args.path or rules_doc_path()
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
        return 0
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(f"{path} is stale: run `{REFRESH_COMMAND}`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
