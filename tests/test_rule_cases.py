"""Tests generated from every rules/*.yaml case: fail cases give exactly the expected findings."""

from __future__ import annotations

import pytest

from queryreview.catalog import Catalog
from queryreview.engine import Context, Engine
from queryreview.model import Review
from queryreview.rules.registry import Rule, all_rules, find_rule
from queryreview.sources.files import decode


def _cases(kind: str):
    for rule in all_rules():
        for number, case in enumerate(rule.cases.get(kind) or ()):
            yield pytest.param(rule, case, id=f"{rule.code}-{rule.name}-{kind}{number}")


def _run(rule: Rule, case: dict) -> Review:
    if "bytes" in case:
        source = decode("case.sql", case["bytes"].encode("latin-1"), 20 * 1024 * 1024)
    else:
        source = decode("case.sql", case["sql"].encode("utf-8"), 20 * 1024 * 1024)
    settings = {rule.name: case.get("settings", {})}
    # with_rules: other rules that run alongside (e.g. the rule a suppression names)
    others = [find_rule(token) for token in case.get("with_rules", ())]
    catalog = Catalog.from_dict(case["catalog"]) if "catalog" in case else None
    if "catalog" in rule.requires:
        assert catalog is not None, f"{rule.name}: every case needs a catalog fixture"
    engine = Engine([rule, *others], Context(settings=settings, catalog=catalog))
    review = engine.review([source])
    review.findings = [f for f in review.findings if f.code == rule.code]
    return review


@pytest.mark.parametrize(("rule", "case"), list(_cases("fail")))
def test_fail_case(rule: Rule, case: dict) -> None:
    review = _run(rule, case)
    expected = case["findings"]
    got = [(f.location.line, f.location.column) for f in review.findings]
    assert got == [(e["line"], e["column"]) for e in expected], [f.message for f in review.findings]
    for finding, want in zip(review.findings, expected):
        assert finding.code == rule.code
        if "end_line" in want:
            assert finding.location.end_line == want["end_line"]
        if "end_column" in want:
            assert finding.location.end_column == want["end_column"]
        if "message_contains" in want:
            assert want["message_contains"] in finding.message
        if "fix_sql" in want:
            assert finding.fix is not None and finding.fix.sql == want["fix_sql"]
        if "fix_contains" in want:
            assert finding.fix is not None and want["fix_contains"] in (finding.fix.sql or "")


@pytest.mark.parametrize(("rule", "case"), list(_cases("pass")))
def test_pass_case(rule: Rule, case: dict) -> None:
    review = _run(rule, case)
    assert review.findings == [], [(f.location.line, f.message) for f in review.findings]
