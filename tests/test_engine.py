"""Engine behaviour: suppressions, skipping, crash containment, selection."""

from __future__ import annotations

import dataclasses

import pytest

from queryreview.engine import Context, Engine
from queryreview.errors import InputError
from queryreview.model import Hit, SourceText
from queryreview.rules.registry import find_rule, select_rules


def _review(text: str, rules, context: Context | None = None):
    return Engine(rules, context).review([SourceText("t.sql", text)])


def test_line_suppression_covers_only_its_line() -> None:
    text = "SELECT *, -- queryreview: ignore[select-star]\n  (SELECT * FROM b) AS x FROM a;"
    review = _review(text, [find_rule("select-star")])
    assert [(f.location.line, f.code) for f in review.findings] == [(2, "QR101")]


def test_statement_suppression_covers_the_whole_statement() -> None:
    text = "-- queryreview: ignore[QR101]\nSELECT *,\n  (SELECT * FROM b) AS x FROM a;\nSELECT * FROM c;"
    review = _review(text, [find_rule("select-star"), find_rule("unused-suppression")])
    assert [(f.location.line, f.code) for f in review.findings] == [(4, "QR101")]


def test_bare_ignore_suppresses_every_rule() -> None:
    text = "SELECT * FROM a; -- queryreview: ignore"
    assert _review(text, [find_rule("select-star"), find_rule("unused-suppression")]).findings == []


def test_rules_missing_inputs_are_skipped_and_said() -> None:
    rule = find_rule("select-star")
    needy = dataclasses.replace(rule, name="needs-catalog")
    needy.__dict__["params"] = ("stmt", "catalog")
    engine = Engine([needy])
    assert engine.skipped == ["QR101 needs-catalog: needs a database catalog (--dsn or --snapshot)"]


def test_a_crashing_rule_becomes_a_finding_and_the_rest_is_reviewed() -> None:
    rule = find_rule("select-star")
    broken = dataclasses.replace(rule)

    def explode(stmt):
        if "boom" in stmt.text:
            raise ValueError("boom")
        yield Hit("fine")

    broken.__dict__["check"] = explode
    broken.__dict__["params"] = ("stmt",)
    review = _review("SELECT boom FROM t;\nSELECT 1 FROM t;", [broken])
    messages = [f.message for f in review.findings]
    assert len(messages) == 2
    assert "failed on this input (ValueError: boom)" in messages[0]
    assert messages[1] == "fine"
    with pytest.raises(ValueError):
        _review("SELECT boom FROM t;", [broken], Context(debug=True))


def test_select_by_prefix_name_and_code_then_ignore() -> None:
    chosen = select_rules(["QR9", "select-star"], ["parse-error"])
    names = {rule.name for rule in chosen}
    assert "select-star" in names and "unused-suppression" in names
    assert "parse-error" not in names
    assert all(rule.code.startswith("QR9") or rule.name == "select-star" for rule in chosen)


def test_unknown_selection_is_a_usage_error() -> None:
    with pytest.raises(InputError, match="unknown rule"):
        select_rules(["no-such-rule"], None)


def test_statements_after_a_parse_error_are_reviewed() -> None:
    review = _review("SELECT * FROM a;\nSELECT FROM WHERE;\nSELECT * FROM b;",
                     [find_rule("select-star"), find_rule("parse-error")])
    assert [(f.location.line, f.code) for f in review.findings] == [(1, "QR101"), (2, "QR901"), (3, "QR101")]
    assert (review.statements, review.parsed) == (3, 2)


def test_own_line_suppression_inside_a_statement_covers_the_next_line() -> None:
    text = "SELECT id,\n  -- queryreview: ignore[select-star]\n  (SELECT * FROM b) AS x,\n  (SELECT * FROM c) AS y FROM a;"
    review = _review(text, [find_rule("select-star"), find_rule("unused-suppression")])
    assert [(f.location.line, f.code) for f in review.findings] == [(4, "QR101")]


def test_parameters_without_spaces_parse_and_keep_positions() -> None:
    # pg_stat_statements writes `IN ($1,$2)`; sqlglot alone reads `$1,$` as a dollar quote
    text = "SELECT * FROM t WHERE a IN ($1,$2,$3) AND b = $4;"
    review = _review(text, [find_rule("select-star"), find_rule("parse-error")])
    assert [(f.location.line, f.location.column, f.code) for f in review.findings] == [(1, 8, "QR101")]
    assert review.parsed == 1
