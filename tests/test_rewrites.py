"""rewrite_recommendations without a database: which rewrites are offered, which are rejected and why,
inputs (findings, statements, texts, workload entries), costs, ranking. Equivalence itself is proven
on PostgreSQL in test_rewrite_equivalence.py."""

from __future__ import annotations

from typing import Any

import pytest

from queryreview.catalog import Catalog
from queryreview.model import Finding, Location, Recommendation, SourceText, StatementImpact
from queryreview.rewrite import REWRITES, rewrite_recommendations
from queryreview.sources.snapshot import ExplainResult
from queryreview.sql.parse import statements

CATALOG = Catalog.from_dict({"tables": [
    {"name": "customers", "columns": ["id bigint not null", "email text", "referrer_id bigint"]},
    {"name": "orders", "columns": ["id bigint not null", "customer_id bigint not null", "coupon_id bigint",
                                   "created_at timestamptz not null", "created_on date", "placed text",
                                   "total numeric", "weight double precision", "qty integer", "big bigint",
                                   "status text"]},
    {"name": "users", "columns": ["id bigint not null", "email text", "phone text", "name text"]},
]})


def _one(sql: str, code: str, catalog: Catalog | None = CATALOG, **kwargs: Any) -> Recommendation:
    found = [r for r in rewrite_recommendations([sql], catalog=catalog, **kwargs) if r.reason.startswith(code)]
    assert len(found) == 1, [r.reason for r in found]
    return found[0]


# -- NOT IN -------------------------------------------------------------------------------------------


def test_not_in_with_not_null_columns_is_the_rules_rewrite() -> None:
    r = _one("SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)", "QR105")
    assert not r.rejected and r.kind == "rewrite"
    assert r.sql == "SELECT id FROM customers WHERE NOT EXISTS(SELECT 1 FROM orders WHERE customer_id = customers.id)"
    assert "NOT NULL per the catalog" in r.reason and "property-tested" in r.reason
    assert r.table == "public.customers" and r.statements[0].text.startswith("SELECT id FROM customers")
    assert r.validated_by == "rule" and r.cost_before is None


def test_not_in_with_nullable_columns_gets_null_guards() -> None:
    r = _one("SELECT id FROM customers WHERE referrer_id NOT IN (SELECT coupon_id FROM orders WHERE total > 0)",
             "QR105")
    assert not r.rejected
    assert "NOT EXISTS(SELECT 1 FROM orders WHERE total > 0 AND coupon_id IS NULL)" in r.sql
    assert "(customers.referrer_id IS NOT NULL OR NOT EXISTS(SELECT 1 FROM orders WHERE total > 0))" in r.sql
    assert "coupon_id and customers.referrer_id may be NULL (per the catalog)" in r.reason


def test_not_in_without_a_catalog_is_guarded_on_both_sides() -> None:
    r = _one("SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)", "QR105", catalog=None)
    assert "customer_id IS NULL" in r.sql and "customers.id IS NOT NULL" in r.sql
    assert "without a catalog" in r.reason


def test_not_in_on_the_nullable_side_of_an_outer_join_is_guarded() -> None:
    r = _one("SELECT c.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id "
             "WHERE o.id NOT IN (SELECT customer_id FROM orders)", "QR105")
    assert "o.id IS NOT NULL" in r.sql  # orders.id is NOT NULL, but not after a LEFT JOIN


def test_not_in_where_null_and_false_differ_is_rejected() -> None:
    r = _one("SELECT id, referrer_id NOT IN (SELECT coupon_id FROM orders) AS fresh FROM customers", "QR105")
    assert r.rejected and "NULL and false differ" in r.reason
    negated = _one("SELECT id FROM customers WHERE NOT (referrer_id NOT IN (SELECT coupon_id FROM orders))", "QR105")
    assert negated.rejected


def test_not_in_without_a_mechanical_rewrite_gives_nothing() -> None:
    sql = "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders GROUP BY customer_id)"
    assert [r for r in rewrite_recommendations([sql], catalog=CATALOG) if r.reason.startswith("QR105")] == []


# -- count, correlated subquery, OFFSET ------------------------------------------------------------------


def test_count_for_existence() -> None:
    r = _one("SELECT count(*) > 0 FROM orders WHERE customer_id = $1", "QR110")
    assert r.sql == "SELECT EXISTS(SELECT 1 FROM orders WHERE customer_id = $1)" and not r.rejected


def test_correlated_subquery_becomes_lateral_unless_the_query_selects_star() -> None:
    r = _one("SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n FROM customers c",
             "QR111")
    assert "LEFT JOIN LATERAL" in r.sql and not r.rejected and "exactly one row" in r.reason
    star = _one("SELECT *, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n FROM customers c", "QR111")
    assert star.rejected and "`*`" in star.reason


def test_offset_pagination_is_a_template() -> None:
    r = _one("SELECT id FROM orders ORDER BY id LIMIT 20 OFFSET $1", "QR106")
    assert not r.rejected and r.sql == "SELECT id FROM orders WHERE id > $1 ORDER BY id LIMIT 20"
    assert "Template, not an equivalent rewrite" in r.reason and "Same rows" not in r.reason


def test_offset_settings_are_passed_to_the_rule() -> None:
    sql = "SELECT id FROM orders ORDER BY id LIMIT 20 OFFSET 5000"
    assert any(r.reason.startswith("QR106") for r in rewrite_recommendations([sql]))
    quiet = rewrite_recommendations([sql], settings={"offset-pagination": {"max_offset": 10_000}})
    assert not any(r.reason.startswith("QR106") for r in quiet)


# -- non-sargable predicates ------------------------------------------------------------------------------


@pytest.mark.parametrize("sql, contains", [
    ("SELECT id FROM orders WHERE date(created_at) = '2024-01-01'", "created_at >= '2024-01-01'"),
    ("SELECT id FROM orders WHERE created_at::date BETWEEN $1 AND $2", "created_at >= $1"),
    ("SELECT id FROM orders WHERE date_trunc('day', created_at) > current_date - 7", "created_at >="),
    ("SELECT id FROM orders WHERE extract(year FROM created_on) = 2024", "created_on < '2025-01-01'"),
    ("SELECT id FROM orders WHERE qty + 1 > $1", "qty > $1 - 1"),
    ("SELECT id FROM orders WHERE big - 5 = 10", "big = 10 + 5"),
    ("SELECT id FROM orders WHERE total + 0.5 >= 3", "total >= 3 - 0.5"),
    ("SELECT id FROM orders WHERE created_at + interval '90 minutes' < now()", "created_at < CURRENT_TIMESTAMP"),
    ("SELECT id FROM orders WHERE created_on + 7 > current_date", "created_on > CURRENT_DATE - 7"),
    ("SELECT id FROM orders WHERE coalesce(status, 'new') = 'new'", "status IS NULL"),
    ("SELECT id FROM orders WHERE coalesce(qty, 0) = 1", "qty = 1"),
])
def test_sargable_rewrites_offered(sql: str, contains: str) -> None:
    r = _one(sql, "QR103")
    assert not r.rejected, r.reason
    assert contains in r.sql and "Same rows" in r.reason


@pytest.mark.parametrize("sql, why", [
    ("SELECT id FROM orders WHERE date(placed) = '2024-01-01'", "placed is text"),
    ("SELECT id FROM orders WHERE date(created_at) = '2024-01-01 12:00'", "not known to be a date"),
    ("SELECT id FROM orders WHERE weight + 1 > 5", "does not undo exactly"),
    ("SELECT id FROM orders WHERE big + 1 > $1", "narrower than big's bigint"),
    ("SELECT id FROM orders WHERE total - 1 = $1", "narrower than total's numeric"),
    ("SELECT id FROM orders WHERE created_at + interval '1 day' > now()", "not a fixed length of time"),
    ("SELECT id FROM orders WHERE created_at + interval '2 hours' > localtimestamp", "not known to be a timestamp"),
    ("SELECT id FROM orders WHERE created_on + 1 = '2024-01-02'", "not known to be a date"),
    ("SELECT id FROM orders WHERE coalesce(qty, 0) = 0.0", "may equal 0.0"),
    ("SELECT id FROM orders WHERE NOT (coalesce(qty, 1) = 0)", "NULL and false differ"),
    ("SELECT id FROM orders WHERE extract(year FROM placed) = 2024", "text, not a date"),
])
def test_sargable_rewrites_rejected_with_the_reason(sql: str, why: str) -> None:
    r = _one(sql, "QR103")
    assert r.rejected and why in r.reason, r.reason
    assert r.sql  # the rule's rewrite is still shown, for the reader to judge


def test_sargable_rewrites_that_need_a_catalog() -> None:
    assert _one("SELECT id FROM orders WHERE date(created_at) = '2024-01-01'", "QR103", catalog=None).rejected
    assert _one("SELECT id FROM orders WHERE extract(year FROM created_at) = 2024", "QR103", catalog=None).rejected
    assert _one("SELECT id FROM orders WHERE qty + 1 > 5", "QR103", catalog=None).rejected
    # date_trunc only takes timestamps (and intervals, which a date literal would not match): no catalog needed
    assert not _one("SELECT id FROM orders WHERE date_trunc('day', created_at) = '2024-01-01'", "QR103",
                    catalog=None).rejected
    # coalesce(c, v) = v is exact for any type
    assert not _one("SELECT id FROM orders WHERE coalesce(status, 'x') = 'x'", "QR103", catalog=None).rejected


# -- OR -> UNION ALL ----------------------------------------------------------------------------------------


def test_or_across_columns_becomes_union_all() -> None:
    r = _one("SELECT id, email FROM users WHERE email = $1 OR phone = $2", "QR104")
    assert r.sql == ("SELECT id, email FROM users WHERE email = $1 UNION ALL "
                     "SELECT id, email FROM users WHERE phone = $2 AND NOT (email = $1) IS TRUE")
    assert not r.rejected and r.table == "public.users"


def test_or_with_an_order_by_on_output_columns_sorts_the_union() -> None:
    r = _one("SELECT u.id, u.name FROM users u WHERE u.email = $1 OR u.phone = $1 ORDER BY u.name, id DESC", "QR104")
    assert r.sql.endswith("ORDER BY name, id DESC") and not r.rejected


@pytest.mark.parametrize("sql, why", [
    ("SELECT count(*) FROM users WHERE email = $1 OR phone = $2", "aggregates"),
    ("SELECT id FROM users WHERE email = $1 OR phone = $2 LIMIT 10", "LIMIT"),
    ("SELECT DISTINCT name FROM users WHERE email = $1 OR phone = $2", "DISTINCT"),
    ("SELECT id FROM users WHERE email = $1 OR phone = $2 FOR UPDATE", "LOCKS"),
    ("UPDATE users SET name = 'x' WHERE email = $1 OR phone = $2", "not a condition of a SELECT's WHERE"),
    ("SELECT id FROM users WHERE (email = $1 OR phone = $2) AND random() < 0.5", "volatile"),
    ("SELECT id FROM users TABLESAMPLE SYSTEM (10) WHERE email = $1 OR phone = $2", "samples a table"),
    ("SELECT u.id FROM users u JOIN generate_series(1, (random() * 3)::int) g ON true WHERE u.email = $1 "
     "OR u.phone = $2", "volatile"),
    ("SELECT id FROM users WHERE email = $1 OR phone = $2 ORDER BY lower(name)", "ORDER BY"),
    ("SELECT * FROM users WHERE email = $1 OR phone = $2 ORDER BY name", "ORDER BY"),
    ("SELECT id FROM users WHERE email = '1' OR phone = '2' OR name = '3' OR id = 4 OR email = '5' AND phone = '6'",
     "more than 4"),
    ("SELECT id FROM users WHERE email = $1 OR phone = $2 UNION SELECT id FROM customers", "set operation"),
])
def test_or_rewrite_refused_where_not_equivalent(sql: str, why: str) -> None:
    r = _one(sql, "QR104")
    assert r.rejected and why in r.reason, r.reason


# -- inputs, costs, ranking ----------------------------------------------------------------------------------


def _finding(code: str, statement: str) -> Finding:
    return Finding(code=code, rule="x", severity="warning", family="query", message="m", help="h",
                   location=Location("q.sql", 1, 1, 1, 2), statement=statement)


def test_findings_ask_only_the_rules_that_reported() -> None:
    sql = "SELECT id FROM users WHERE (email = $1 OR phone = $2) AND id NOT IN (SELECT customer_id FROM orders)"
    both = rewrite_recommendations([sql], catalog=CATALOG)
    assert {r.reason[:5] for r in both} == {"QR104", "QR105"}
    only = rewrite_recommendations([_finding("QR105", sql), _finding("QR101", sql)], catalog=CATALOG)
    assert [r.reason[:5] for r in only] == ["QR105"]


def test_statements_texts_and_duplicates() -> None:
    sql = "SELECT count(*) > 0 FROM orders WHERE customer_id = $1"
    parsed = statements(SourceText("q.sql", sql + ";"))[0]
    found = rewrite_recommendations([parsed, sql, _finding("QR110", sql)])
    assert len(found) == 1


def test_unusable_inputs_are_skipped() -> None:
    cut = _finding("QR110", "SELECT count(*) > 0 FROM orders WHERE x = 1 …")  # cut at 2,000 characters
    assert rewrite_recommendations([cut, "SELECT FROM WHERE (", "SELECT 1; SELECT 2", _finding("QR110", None)]) == []


def test_the_same_input_gives_the_same_output() -> None:
    texts = ["SELECT id FROM users WHERE email = $1 OR phone = $2",
             "SELECT id FROM orders WHERE date(placed) = '2024-01-01'",
             "SELECT count(*) > 0 FROM orders WHERE customer_id = $1"]
    assert rewrite_recommendations(texts, catalog=CATALOG) == rewrite_recommendations(texts, catalog=CATALOG)
    found = rewrite_recommendations(texts, catalog=CATALOG)
    assert [r.rejected for r in found] == sorted(r.rejected for r in found)  # offered first


class _Planner:
    """Stands in for explain_statement: a cost per statement text."""

    def __init__(self, costs: dict[str, float]) -> None:
        self.costs = costs

    def __call__(self, session: object, text: str, **kwargs: Any) -> ExplainResult:
        for fragment, cost in self.costs.items():
            if fragment in text:
                return ExplainResult(plan_json=[{"Plan": {"Total Cost": cost}}], method="plain")
        return ExplainResult(error="relation does not exist", method="plain")


@pytest.fixture
def planner(monkeypatch: pytest.MonkeyPatch):
    from queryreview.sources.postgres import explain

    def install(costs: dict[str, float]) -> None:
        monkeypatch.setattr(explain, "explain_statement", _Planner(costs))

    return install


def test_costs_rank_and_saving_per_day(planner) -> None:
    exists, count = "EXISTS(SELECT 1 FROM orders", "count(*) > 0 FROM orders"
    union, ors = "UNION ALL", "email = $1 OR phone = $2"
    planner({exists: 10.0, count: 1000.0, union: 50.0, ors: 100.0})
    impacts = [StatementImpact(text="SELECT id FROM users WHERE email = $1 OR phone = $2", calls=10, total_ms=10_000),
               StatementImpact(text="SELECT count(*) > 0 FROM orders WHERE customer_id = $1", calls=5,
                               total_ms=2_000)]
    found = rewrite_recommendations(impacts, catalog=CATALOG, session=object(), window_days=2)
    assert [r.reason[:5] for r in found] == ["QR104", "QR110"]  # 2,500 ms/day saved before 990 ms/day
    first, second = found
    assert (first.cost_before, first.cost_after, first.validated_by) == (100.0, 50.0, "explain")
    assert first.saving_ms_per_day == pytest.approx(10_000 / 2 * 0.5)
    assert second.saving_ms_per_day == pytest.approx(2_000 / 2 * 0.99)
    assert first.statements[0].calls == 10 and first.statements[0].cost_after == 50.0


def test_a_rewrite_the_planner_does_not_prefer_is_rejected(planner) -> None:
    planner({"UNION ALL": 120.0, "OR phone": 100.0})
    r = _one("SELECT id FROM users WHERE email = $1 OR phone = $2", "QR104", session=object())
    assert r.rejected and "planner does not expect it to be cheaper" in r.reason
    assert (r.cost_before, r.cost_after) == (100.0, 120.0)


def test_a_statement_that_cannot_be_planned_is_not_costed(planner) -> None:
    planner({})
    r = _one("SELECT count(*) > 0 FROM orders WHERE customer_id = $1", "QR110", session=object())
    assert not r.rejected and r.cost_before is None and r.validated_by == "rule"
    assert "not costed: relation does not exist" in r.reason


def test_every_rewrite_code_is_a_rule_with_a_rewrite() -> None:
    from queryreview.rules.registry import find_rule

    assert set(REWRITES) == {"QR103", "QR104", "QR105", "QR106", "QR110", "QR111"}
    for code in REWRITES:
        assert find_rule(code).family == "query"


def test_a_crashing_rule_costs_only_its_rewrite(monkeypatch: pytest.MonkeyPatch) -> None:
    from queryreview.rewrite import recommend

    def broken(*args: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setitem(recommend.REWRITES, "QR104", broken)
    sql = "SELECT id FROM users WHERE (email = $1 OR phone = $2) AND id NOT IN (SELECT customer_id FROM orders)"
    assert [r.reason[:5] for r in rewrite_recommendations([sql], catalog=CATALOG)] == ["QR105"]


def test_workload_texts_with_packed_parameters() -> None:
    """pg_stat_statements texts: `IN ($1,$2)` parses, and the impact keeps the text as collected."""
    text = "SELECT id FROM users WHERE email IN ($1,$2) OR phone = $3"
    found = rewrite_recommendations([StatementImpact(text=text, queryid=7, calls=3, total_ms=9.0)], catalog=CATALOG)
    assert [r.reason[:5] for r in found] == ["QR104"] and not found[0].rejected
    assert found[0].statements[0].text == text and found[0].statements[0].queryid == 7
    assert "UNION ALL" in found[0].sql
