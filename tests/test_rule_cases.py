"""Tests generated from every rules/*.yaml case: fail cases give exactly the expected findings."""

from __future__ import annotations

import pytest

from queryreview.catalog import Catalog, WorkloadStats
from queryreview.engine import Context, Engine, PlanInput
from queryreview.plan.tree import parse_plan
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
        # catalog-only rules may leave sql out: they run once over the catalog fixture
        source = decode("case.sql", (case.get("sql") or "").encode("utf-8"), 20 * 1024 * 1024)
    settings = {rule.name: case.get("settings", {})}
    # with_rules: other rules that run alongside (e.g. the rule a suppression names)
    others = [find_rule(token) for token in case.get("with_rules", ())]
    catalog = Catalog.from_dict(case["catalog"]) if "catalog" in case else None
    stats = WorkloadStats.from_dict(case["stats"]) if "stats" in case else None
    # plan fixtures are real EXPLAIN (FORMAT JSON) output, as captured from a server
    plans = [PlanInput("case.json", parse_plan(case["plan"]), case.get("sql"))] if "plan" in case else []
    for needed, value in (("catalog", catalog), ("stats", stats), ("plan", plans or None)):
        if needed in rule.requires:
            assert value is not None, f"{rule.name}: every case needs a {needed} fixture"
    engine = Engine([rule, *others], Context(settings=settings, catalog=catalog, stats=stats, plans=plans))
    review = engine.review([source])
    review.findings = [f for f in review.findings if f.code == rule.code]
    return review


def _expected_where(want: dict) -> tuple:
    """Statement findings are placed by line/column; catalog findings by ``target`` (catalog:<target>,
    or the target itself when it names its kind, e.g. pg_stat_statements:<queryid>); plan findings by
    ``node`` (the plan node's id in evidence)."""
    if "node" in want:
        return ("node", want["node"])
    if "target" in want:
        target = want["target"]
        return (target if ":" in target else "catalog:" + target,)
    return (want["line"], want["column"])


def _where(finding, want: dict) -> tuple:
    if "node" in want:
        return ("node", (finding.evidence or {}).get("node"))
    if "target" in want:
        return (finding.location.path,)
    return (finding.location.line, finding.location.column)


@pytest.mark.parametrize(("rule", "case"), list(_cases("fail")))
def test_fail_case(rule: Rule, case: dict) -> None:
    review = _run(rule, case)
    expected = case["findings"]
    got = [_where(f, want) for f, want in zip(review.findings, expected)]
    assert len(review.findings) == len(expected) and got == [_expected_where(e) for e in expected], [
        (f.location.path, f.location.line, f.location.column, f.message) for f in review.findings
    ]
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
