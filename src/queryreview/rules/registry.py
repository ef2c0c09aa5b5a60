"""The rule catalog: YAML metadata joined with each rule's ``check`` function."""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable

from queryreview.errors import InputError
from queryreview.model import FAMILIES, SEVERITIES

# Inputs a rule may ask for by parameter name, and what provides them.
INPUTS = {
    "stmt": "a parsed statement",
    "raw": "a statement, parsed or not",
    "settings": "the rule's settings",
    "unused": "the unused suppressions of a file",
    "source": "an input file",
    "script": "the other statements of the same input",
    "catalog": "a database catalog (--dsn or --snapshot)",
    "plan": "an EXPLAIN plan",
    "stats": "pg_stat_statements (--dsn or --snapshot)",
}
REQUIRED_FIELDS = ("code", "name", "family", "severity", "requires", "summary", "why", "fix", "references", "cases")


def rules_dir() -> Path:
    """Where the YAML lives: inside the installed wheel, or at the top of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_rules"
    if packaged.is_dir():
        return packaged
    return package.parent.parent / "rules"


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    family: str
    severity: str
    requires: tuple[str, ...]
    summary: str
    why: str
    fix: str
    references: tuple[str, ...]
    cases_text: str = field(default="", repr=False)  # the YAML of `cases:`, parsed on first use
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    @cached_property
    def cases(self) -> dict[str, list[dict[str, Any]]]:
        """The pass/fail cases (tests and docs); parsed lazily: with plan fixtures they are most of the YAML."""
        if not self.cases_text:
            return {}
        return (_yaml_load(self.cases_text) or {}).get("cases") or {}

    @property
    def module_name(self) -> str:
        return "queryreview.rules." + self.name.replace("-", "_")

    @cached_property
    def check(self) -> Callable[..., Any]:
        module = importlib.import_module(self.module_name)
        return module.check

    @cached_property
    def params(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.check).parameters)

    @cached_property
    def help_line(self) -> str:
        """The first paragraph of ``fix``, on one line: the default help for a finding."""
        return " ".join(self.fix.split("\n\n", 1)[0].split())

    def default_settings(self) -> dict[str, Any]:
        return {key: spec.get("default") for key, spec in self.settings.items()}


def _yaml_load(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*:", re.M)


def _split_cases(text: str) -> tuple[str, str]:
    """(metadata YAML, cases YAML): the top-level ``cases:`` block is cut out to be parsed later."""
    match = re.search(r"^cases:", text, re.M)
    if match is None:
        return text, ""
    following = _TOP_LEVEL_KEY.search(text, match.end())
    end = following.start() if following else len(text)
    return text[: match.start()] + text[end:], text[match.start() : end]


def _rule_from_yaml(path: Path) -> Rule:
    metadata, cases_text = _split_cases(path.read_text(encoding="utf-8"))
    data = _yaml_load(metadata)
    if cases_text:
        data["cases"] = None  # present; parsed on first use
    missing = [key for key in REQUIRED_FIELDS if key not in data]
    if missing:
        raise ValueError(f"{path.name}: missing {', '.join(missing)}")
    return Rule(
        code=data["code"],
        name=data["name"],
        family=data["family"],
        severity=data["severity"],
        requires=tuple(data["requires"] or ()),
        summary=data["summary"].strip(),
        why=data["why"].strip(),
        fix=data["fix"].strip(),
        references=tuple(data["references"] or ()),
        cases_text=cases_text,
        settings=data.get("settings") or {},
        path=path,
    )


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every rule in the catalog, ordered by code."""
    rules = [_rule_from_yaml(path) for path in sorted(rules_dir().glob("QR*.yaml"))]
    return tuple(sorted(rules, key=lambda rule: rule.code))


def find_rule(token: str) -> Rule:
    """A rule by code or name (case-insensitive for codes)."""
    for rule in all_rules():
        if token.upper() == rule.code or token == rule.name:
            return rule
    raise InputError(f"unknown rule {token!r}", hint="`queryreview rules` lists them all")


def _matches(rule: Rule, token: str) -> bool:
    token = token.strip()
    upper = token.upper()
    return upper == "ALL" or rule.name == token or rule.code.startswith(upper) and upper.startswith("QR")


def select_rules(select: list[str] | None, ignore: list[str] | None) -> list[Rule]:
    """Rules chosen by ``select`` (codes, names, code prefixes such as ``QR1``, or ALL) minus ``ignore``."""
    rules = all_rules()
    for token in list(select or ()) + list(ignore or ()):
        if not any(_matches(rule, token) for rule in rules):
            raise InputError(f"unknown rule or prefix {token!r} in select/ignore", hint="`queryreview rules` lists them all")
    chosen = [rule for rule in rules if not select or any(_matches(rule, t) for t in select)]
    return [rule for rule in chosen if not any(_matches(rule, t) for t in ignore or ())]


def validate(rule: Rule) -> list[str]:
    """Problems with a rule's metadata; empty when it is well-formed."""
    problems = []
    if not (len(rule.code) == 5 and rule.code.startswith("QR") and rule.code[2:].isdigit()):
        problems.append(f"code {rule.code!r} is not QR + 3 digits")
    elif FAMILIES.get(int(rule.code[2])) != rule.family:
        problems.append(f"family {rule.family!r} does not match code {rule.code}")
    if rule.severity not in SEVERITIES:
        problems.append(f"severity {rule.severity!r} not in {SEVERITIES}")
    for key in ("summary", "why", "fix"):
        if not getattr(rule, key):
            problems.append(f"{key} is empty")
    if not rule.references:
        problems.append("no references")
    unknown = set(rule.requires) - set(INPUTS)
    if unknown:
        problems.append(f"requires unknown inputs {sorted(unknown)}")
    if rule.path is not None and rule.path.name != f"{rule.code}-{rule.name}.yaml":
        problems.append(f"file name {rule.path.name} should be {rule.code}-{rule.name}.yaml")
    if not rule.cases.get("fail") or not rule.cases.get("pass"):
        problems.append("needs at least one fail and one pass case")
    return problems
