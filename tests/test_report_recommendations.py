"""Recommendations in every output format: text, markdown, JSON (against the schema), SARIF, GitHub."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queryreview.model import Finding, Location, Recommendation, Review, StatementImpact
from queryreview.report import github, json_report, markdown, render, sarif, text

try:
    import jsonschema
except ImportError:  # a dev dependency
    jsonschema = None
needs_jsonschema = pytest.mark.skipif(jsonschema is None, reason="jsonschema is not installed")

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCHEMA = json.loads((DOCS / "findings.schema.json").read_text(encoding="utf-8"))
LONG_SQL = ("CREATE INDEX CONCURRENTLY orders_customer_id_created_at_status_idx ON public.orders "
            "(customer_id, created_at DESC) INCLUDE (status, total) WHERE status <> 'archived'")

CREATE = Recommendation(
    kind="create-index", sql=LONG_SQL, table="public.orders", validated_by="hypopg",
    reason="Serves customer_id = $1 ORDER BY created_at DESC for 2 statements | 38% of database time",
    statements=(
        StatementImpact(text="SELECT id, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20",
                        queryid=42, calls=120_000, total_ms=3_400_000.0, cost_before=12_345.6, cost_after=8.4),
        StatementImpact(text="SELECT count(*) FROM orders WHERE customer_id = $1", calls=500, total_ms=12_000.0,
                        cost_before=11_000.0, cost_after=4.2),
    ),
    cost_before=23_345.6, cost_after=12.6, size_bytes=42 * 1024 * 1024, saving_ms_per_day=85_000.0,
    write_overhead="public.orders: 12,525 writes/day (inserts, updates, deletes over 40.0 days since 2024-01-01)")
DROP = Recommendation(
    kind="drop-index", sql="DROP INDEX CONCURRENTLY public.orders_status_idx", table="public.orders",
    reason="unused: orders_status_idx on orders (status): 8.6 MB, no scans since 2024-01-01 (40 days)",
    size_bytes=9_000_000, validated_by="catalog", write_overhead="public.orders: 12,525 writes/day")
REWRITE = Recommendation(
    kind="rewrite", sql="SELECT EXISTS(SELECT 1 FROM orders WHERE customer_id = $1)", table="public.orders",
    reason="QR110 count(*) > 0 → EXISTS: EXISTS stops at the first matching row",
    statements=(StatementImpact(text="SELECT count(*) > 0 FROM orders WHERE customer_id = $1"),),
    validated_by="rule")
REJECTED = (
    Recommendation(kind="create-index", sql="CREATE INDEX CONCURRENTLY users_name_idx ON public.users (name)",
                   table="public.users", reason="saving 3% is under --min-saving 20%", validated_by="hypopg",
                   rejected=True),
    Recommendation(kind="rewrite", sql="", table="public.users", validated_by="rule", rejected=True,
                   reason="QR104 OR across columns → UNION ALL: not offered: the query has LIMIT"),
)
FINDING = Finding("QR101", "select-star", "warning", "query", "SELECT * fetches every column", "List the columns",
                  Location("app/q.sql", 1, 8, 1, 9), "SELECT * FROM orders")


def _review(findings: bool = True, recommendations: bool = True) -> Review:
    return Review(findings=[FINDING] if findings else [], files=1, statements=1, parsed=1,
                  recommendations=[CREATE, DROP, REWRITE] if recommendations else [],
                  rejected=list(REJECTED) if recommendations else [])


# -- text ---------------------------------------------------------------------------------------------


def test_text_has_ranked_recommendations_after_findings_then_rejected() -> None:
    out = text.render(_review(), color=False, width=100)
    finding, recommendations, rejected = (out.index("QR101 select-star"), out.index("Recommendations (3)"),
                                          out.index("Considered, rejected (2)"))
    assert finding < recommendations < rejected < out.index("Found 1 finding")
    assert re.search(r"^  1\. create-index on public\.orders$", out, re.M)
    assert re.search(r"^  3\. rewrite on public\.orders$", out, re.M)
    lines = out.splitlines()
    assert "     " + LONG_SQL in lines  # never wrapped, even past the width: copyable
    assert "cost 23,346 → 12.60 (-99.9%) · size 42 MB · saves ~1.4 min/day · validated by hypopg" in out
    assert "helps 2 statements:" in out and "120,000 calls, 56.7 min total" in out
    assert "writes: public.orders: 12,525 writes/day" in out
    assert "why: unused: orders_status_idx" in out
    assert "- create-index on public.users: saving 3% is under --min-saving 20%" in out
    assert "not offered: the query has LIMIT" in out


def test_text_without_recommendations_is_unchanged() -> None:
    plain = text.render(_review(recommendations=False), color=False)
    assert "Recommendations" not in plain and "rejected" not in plain
    only = text.render(_review(findings=False), color=False)
    assert "Recommendations (3)" in only and only.rstrip().endswith("(1 parsed).")


def test_text_colour_stays_out_of_the_sql() -> None:
    out = text.render(_review(), color=True)
    assert LONG_SQL in out  # colour codes wrap the line, never split it


# -- markdown --------------------------------------------------------------------------------------------


def test_markdown_table_and_sql_blocks() -> None:
    out = markdown.render(_review())
    assert out.index("| QR101") < out.index("### Recommendations") < out.index("### Considered, rejected")
    assert re.search(r"^\| 1 +\| create-index +\| public\.orders +\| 23,346 → 12\.60 \(-99\.9%\) +\| 42 MB +\| "
                     r"1\.4 min +\| hypopg +\|$", out, re.M)
    assert f"```sql\n{LONG_SQL}\n```" in out
    assert "- helps `SELECT id, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20` " \
           "(120,000 calls" in out
    assert "- why: Serves customer\\_id = $1" in out  # escaped outside code spans
    assert "- **create-index on public.users**: saving 3% is under --min-saving 20%" in out


def test_markdown_without_findings_still_shows_recommendations() -> None:
    out = markdown.render(_review(findings=False))
    assert "No findings in 1 file" in out and "### Recommendations" in out
    assert markdown.render(_review(findings=False, recommendations=False)).count("###") == 0


def test_markdown_stays_under_the_comment_limit() -> None:
    many = Review(findings=[FINDING] * 400, files=1, statements=400, parsed=400,
                  recommendations=[CREATE] * 300, rejected=list(REJECTED) * 200)
    out = markdown.render(many)
    assert len(out) <= markdown.COMMENT_LIMIT
    assert "### Recommendations" in out and "left out to stay under GitHub's comment limit" in out
    assert "| 1 " in out and "**1. create-index on public.orders**" in out


# -- JSON ---------------------------------------------------------------------------------------------------


def _strict(schema: dict) -> dict:
    strict = copy.deepcopy(schema)

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("type") == "object":
                node.setdefault("additionalProperties", False)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(strict)
    return strict


@needs_jsonschema
def test_json_recommendations_match_the_schema() -> None:
    document = json.loads(json_report.render(_review()))
    jsonschema.Draft202012Validator(_strict(SCHEMA)).validate(document)
    assert [r["kind"] for r in document["recommendations"]] == ["create-index", "drop-index", "rewrite"]
    first = document["recommendations"][0]
    assert first["sql"] == LONG_SQL and first["validated_by"] == "hypopg" and first["size_bytes"] == 42 << 20
    assert first["statements"][0] == {"queryid": 42, "text": CREATE.statements[0].text, "calls": 120_000,
                                      "total_ms": 3_400_000.0, "cost_before": 12_345.6, "cost_after": 8.4}
    assert [r["reason"] for r in document["rejected"]] == [r.reason for r in REJECTED]


def test_json_always_has_both_lists() -> None:
    document = json.loads(json_report.render(_review(recommendations=False)))
    assert document["recommendations"] == [] and document["rejected"] == []


@needs_jsonschema
def test_documented_recommendation_example_matches_the_schema() -> None:
    page = (DOCS / "json-schema.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json advise\n(.*?)```", page, re.S)
    assert len(blocks) == 1
    schema = _strict(SCHEMA)
    validator = jsonschema.Draft202012Validator({**schema["$defs"]["recommendation"], "$defs": schema["$defs"]})
    validator.validate(json.loads(blocks[0]))


@needs_jsonschema
def test_every_validated_by_value_is_in_the_schema() -> None:
    from queryreview.advisor.drops import VALIDATED_BY
    from queryreview.rewrite.recommend import VALIDATED_BY_EXPLAIN, VALIDATED_BY_RULE

    allowed = set(SCHEMA["$defs"]["recommendation"]["properties"]["validated_by"]["enum"])
    assert {VALIDATED_BY, VALIDATED_BY_EXPLAIN, VALIDATED_BY_RULE, "hypopg", "real-index", "estimate"} == allowed


# -- SARIF --------------------------------------------------------------------------------------------------


def test_sarif_keeps_results_and_puts_recommendations_in_run_properties() -> None:
    with_recommendations = sarif.document(_review())
    without = sarif.document(_review(recommendations=False))
    run = with_recommendations["runs"][0]
    assert run["results"] == without["runs"][0]["results"]
    assert run["tool"] == without["runs"][0]["tool"]
    assert "properties" not in without["runs"][0]
    assert [r["sql"] for r in run["properties"]["recommendations"]] == [CREATE.sql, DROP.sql, REWRITE.sql]
    assert len(run["properties"]["rejected"]) == 2


@needs_jsonschema
def test_sarif_with_recommendations_is_still_what_github_accepts() -> None:
    from test_report_formats import GITHUB_SARIF_SCHEMA

    jsonschema.Draft202012Validator(GITHUB_SARIF_SCHEMA).validate(sarif.document(_review()))


# -- GitHub ---------------------------------------------------------------------------------------------------


def test_github_one_notice_per_recommendation() -> None:
    lines = github.render(_review()).splitlines()
    notices = [line for line in lines if line.startswith("::notice title=queryreview recommendation")]
    assert len(notices) == 3
    first = notices[0]
    assert first.startswith("::notice title=queryreview recommendation 1%3A create-index on public.orders::")
    body = first.split("::", 2)[2]
    assert "\n" not in body and body.startswith(LONG_SQL.replace("%", "%25") + "%0A")
    assert "(-99.9%25)" in body and "validated by hypopg" in body
    assert lines[-1] == "queryreview: 1 finding (1 warning) in 1 file; 3 recommendations, 2 considered and rejected"
    assert lines[0].startswith("::warning file=app/q.sql")


def test_github_without_recommendations_is_unchanged() -> None:
    assert github.render(_review(recommendations=False)).splitlines()[-1] == \
        "queryreview: 1 finding (1 warning) in 1 file"


# -- any recommendation renders in every format -------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
_number = st.one_of(st.none(), st.floats(0, 1e9, allow_nan=False))
_recommendation = st.builds(
    Recommendation,
    kind=st.sampled_from(["create-index", "drop-index", "rewrite"]), sql=_text, reason=_text,
    table=st.one_of(st.none(), _text),
    statements=st.lists(st.builds(StatementImpact, text=_text, calls=st.integers(0, 10**9),
                                  total_ms=st.floats(0, 1e12, allow_nan=False), cost_before=_number,
                                  cost_after=_number), max_size=3).map(tuple),
    cost_before=_number, cost_after=_number, size_bytes=st.one_of(st.none(), st.integers(0, 1 << 50)),
    validated_by=st.sampled_from(["hypopg", "real-index", "estimate", "catalog", "explain", "rule"]),
    saving_ms_per_day=_number, write_overhead=st.one_of(st.none(), _text))


@settings(max_examples=60, deadline=None)
@given(recommendations=st.lists(_recommendation, max_size=4), rejected=st.lists(_recommendation, max_size=3))
def test_any_recommendation_renders_in_every_format(recommendations: list[Recommendation],
                                                    rejected: list[Recommendation]) -> None:
    review = Review(files=1, statements=1, parsed=1, recommendations=recommendations, rejected=rejected)
    for output_format in ("text", "markdown", "json", "sarif", "github"):
        out = render(review, output_format, color=False)
        assert out.endswith("\n")
        if output_format in ("json", "sarif"):
            json.loads(out)
        if output_format == "github":
            assert len(out.rstrip("\n").split("\n")) == len(recommendations) + 1  # the runner splits on \\n only
