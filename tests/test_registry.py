"""The catalog is consistent: one YAML per rule module and back, unique codes and names."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import queryreview.rules as rules_package
from queryreview.rules.registry import all_rules, rules_dir, validate

NOT_RULES = {"__init__", "registry"}


def test_every_yaml_has_a_module_and_back() -> None:
    modules = {p.stem for p in Path(rules_package.__file__).parent.glob("*.py")} - NOT_RULES
    yaml_names = {rule.name.replace("-", "_") for rule in all_rules()}
    assert modules == yaml_names
    assert len(list(rules_dir().glob("*.yaml"))) == len(all_rules())


def test_codes_and_names_are_unique() -> None:
    codes = [rule.code for rule in all_rules()]
    names = [rule.name for rule in all_rules()]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.name)
def test_rule_metadata_is_complete(rule) -> None:
    assert validate(rule) == []


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.name)
def test_requires_matches_the_check_signature(rule) -> None:
    params = set(inspect.signature(rule.check).parameters)
    assert params == set(rule.requires), f"{rule.name}: YAML requires {rule.requires}, check() takes {params}"
    assert callable(rule.check)


REQUIRED_QUERY_RULES = """select-star leading-wildcard-like non-sargable-predicate or-across-columns
not-in-subquery offset-pagination order-by-random update-or-delete-without-where cartesian-join
count-for-existence correlated-subquery-in-select union-without-all large-in-list compare-with-null
distinct-on-join having-without-aggregate limit-without-order-by negated-predicate-scan
nested-subquery-depth select-for-update-without-limit-or-skip-locked unbounded-select
implicit-cast-in-join""".split()


def test_every_required_query_rule_exists() -> None:
    query_rules = {rule.name for rule in all_rules() if rule.family == "query"}
    assert set(REQUIRED_QUERY_RULES) <= query_rules, set(REQUIRED_QUERY_RULES) - query_rules
    assert {"parse-error", "unused-suppression"} <= {rule.name for rule in all_rules()}
