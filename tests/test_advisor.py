"""Index advisor: candidates from statements, existing indexes that serve them, selectivity from
pg_stats, the estimate costing, index sizes (the deduplication-aware model, also against indexes
built for real on the embedded PG 18 and on PG 15), selection on a fake costing, CLI parsing."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from pgservers import PgServer

from queryreview.advisor.candidates import Candidate, Key, column_key, generate
from queryreview.advisor.estimate import EstimateCosting
from queryreview.advisor.existing import served_by
from queryreview.advisor.select import Limits, select
from queryreview.advisor.selectivity import equality_fraction, range_fraction
from queryreview.advisor.sizes import ColumnShape, SizeModel, btree_bytes, corrected_distinct, storage_by_name
from queryreview.advisor.statements import from_sources, from_workload
from queryreview.advisor.whatif import Costing, PlanCost, WhatIf
from queryreview.catalog import Catalog, ColumnStats, QueryStat, WorkloadStats
from queryreview.cli import main
from queryreview.cli_advise import ByteSize, Percent, advise
from queryreview.model import SourceText

if "advise" not in main.commands:  # cli.py registers it; until then the tests do
    main.add_command(advise)

CATALOG = {
    "tables": [
        {"name": "orders", "rows": 1_000_000, "relpages": 20_000,
         "columns": ["id bigint not null", "customer_id bigint", "status text", "created_at timestamptz",
                     "total numeric", "email text"],
         "indexes": [{"name": "orders_pkey", "columns": ["id"], "primary": True, "unique": True,
                      "definition": "CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)"},
                     {"name": "orders_customer_created_idx", "columns": ["customer_id", "created_at"],
                      "definition": "CREATE INDEX orders_customer_created_idx ON public.orders USING btree "
                                    "(customer_id, created_at)"},
                     {"name": "orders_lower_email_idx", "columns": ["lower((email)::text)"],
                      "definition": "CREATE INDEX orders_lower_email_idx ON public.orders USING btree "
                                    "(lower((email)::text))"}],
         "column_stats": [
             {"column": "status", "n_distinct": 4, "null_frac": 0.0,
              "most_common_vals": ["done", "shipped", "paid", "open"],
              "most_common_freqs": [0.6, 0.3, 0.08, 0.02]},
             {"column": "customer_id", "n_distinct": 50_000},
             {"column": "total", "n_distinct": -0.5, "histogram_bounds": [str(v) for v in range(0, 1001, 10)]},
             {"column": "created_at", "n_distinct": -1},
         ]},
        {"name": "customers", "rows": 50_000, "relpages": 600,
         "columns": ["id bigint not null", "name text", "region text"],
         "indexes": [{"name": "customers_pkey", "columns": ["id"], "primary": True, "unique": True}],
         "column_stats": [{"column": "region", "n_distinct": 5}]},
    ]
}


def _catalog() -> Catalog:
    return Catalog.from_dict(CATALOG)


def _pool(sql: str, catalog: Catalog | None = None):
    catalog = catalog or _catalog()
    statements, notes = from_sources([SourceText("q.sql", sql)])
    return statements, generate(statements, catalog), catalog


def _labels(pool) -> list[str]:
    return [candidate.label() for candidate in pool.candidates]


# -- candidates ---------------------------------------------------------------------------------------


def test_equality_columns_come_first_most_selective_first_then_one_range_column() -> None:
    _, pool, _ = _pool("SELECT id FROM orders WHERE status = $1 AND customer_id = $2 AND total > 100")
    labels = _labels(pool)
    # customer_id (1/50,000) is more selective than status (1/4)
    assert "public.orders (customer_id, status, total)" in labels
    assert "public.orders (status)" in labels and "public.orders (total)" in labels


def test_in_any_and_join_columns_are_candidates() -> None:
    _, pool, _ = _pool("SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id "
                       "WHERE c.region = ANY($1) AND o.status IN ('open', 'paid')")
    labels = _labels(pool)
    assert "public.orders (customer_id)" in labels  # the join column of the probed side
    assert "public.customers (region)" in labels
    assert "public.orders (status)" in labels


def test_order_by_keys_follow_the_equality_columns() -> None:
    _, pool, _ = _pool("SELECT id FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20")
    assert "public.orders (customer_id, created_at)" in _labels(pool)  # a btree scans backwards as well


def test_partial_index_for_a_rare_value_by_most_common_freqs() -> None:
    _, pool, _ = _pool("SELECT id FROM orders WHERE status = 'open' ORDER BY created_at LIMIT 50")
    partial = [c for c in pool.candidates if c.predicate]
    assert [c.label() for c in partial] == ["public.orders (created_at) WHERE status = 'open'"]
    assert "2.0% of the rows" in pool.info[partial[0]].partial_note


def test_no_partial_index_for_a_common_value() -> None:
    _, pool, _ = _pool("SELECT id FROM orders WHERE status = 'done' ORDER BY created_at LIMIT 50")
    assert not [c for c in pool.candidates if c.predicate]


def test_expression_index_for_a_function_of_a_column() -> None:
    _, pool, _ = _pool("SELECT id FROM orders WHERE upper(email) = $1")
    assert "public.orders ((UPPER(email)))" in _labels(pool)


def test_trigram_gin_for_a_leading_wildcard() -> None:
    _, pool, _ = _pool("SELECT id FROM orders WHERE email LIKE '%@example.com'")
    gin = [c for c in pool.candidates if c.method == "gin"]
    assert [c.definition() for c in gin] == ["CREATE INDEX ON public.orders USING gin (email gin_trgm_ops)"]
    assert not pool.info[gin[0]].hypopg_ok


def test_covering_include_when_few_other_columns_are_read() -> None:
    _, pool, _ = _pool("SELECT id, total FROM orders WHERE status = $1")
    assert "public.orders (status) INCLUDE (id, total)" in _labels(pool)


def test_no_covering_index_for_select_star() -> None:
    _, pool, _ = _pool("SELECT * FROM orders WHERE status = $1")
    assert not [c for c in pool.candidates if c.include]


def test_common_conditions_of_an_or_are_candidates_too() -> None:
    _, pool, _ = _pool("SELECT o.id FROM orders o, customers c WHERE (o.customer_id = c.id AND c.region = 'eu') "
                       "OR (o.customer_id = c.id AND c.region = 'us')")
    assert "public.orders (customer_id)" in _labels(pool)


def test_identifiers_are_quoted_in_definitions() -> None:
    catalog = Catalog.from_dict({"tables": [{"name": "Order Items", "columns": ["user bigint", "Qty int"]}]})
    statements, pool, _ = _pool('SELECT 1 FROM "Order Items" WHERE "user" = $1 AND "Qty" > 3', catalog)
    definitions = [c.definition() for c in pool.candidates]
    assert 'CREATE INDEX ON public."Order Items" ("user", "Qty")' in definitions


def test_statement_tables_and_columns_are_recorded() -> None:
    statements, _, _ = _pool("SELECT o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region = $1")
    assert statements[0].tables == {"public.orders", "public.customers"}
    assert statements[0].columns["public.orders"] == {"total", "customer_id"}


# -- existing indexes ------------------------------------------------------------------------------------


def test_the_primary_key_serves_a_candidate_on_its_column() -> None:
    catalog = _catalog()
    served = served_by(Candidate("public.orders", (column_key("id"),)), catalog)
    assert served is not None and served.name == "orders_pkey"


def test_a_wider_index_serves_its_prefix_but_not_the_other_way() -> None:
    catalog = _catalog()
    assert served_by(Candidate("public.orders", (column_key("customer_id"),)), catalog).name == \
        "orders_customer_created_idx"
    assert served_by(Candidate("public.orders", (column_key("created_at"),)), catalog) is None
    wider = Candidate("public.orders", (column_key("customer_id"), column_key("created_at"), column_key("total")))
    assert served_by(wider, catalog) is None


def test_directions_reversed_together_are_served() -> None:
    catalog = _catalog()
    backwards = Candidate("public.orders", (column_key("customer_id", True, True), column_key("created_at", True, True)))
    mixed = Candidate("public.orders", (column_key("customer_id"), column_key("created_at", True, True)))
    assert served_by(backwards, catalog) is not None
    assert served_by(mixed, catalog) is None


def test_an_expression_index_serves_the_same_expression_however_written() -> None:
    catalog = _catalog()
    _, pool, _ = _pool("SELECT id FROM orders WHERE LOWER(email) = $1")
    expression = next(c for c in pool.candidates if c.keys[0].expression)
    assert served_by(expression, catalog).name == "orders_lower_email_idx"


def test_a_partial_candidate_is_not_served_by_a_full_index_and_include_must_be_carried() -> None:
    catalog = _catalog()
    partial = Candidate("public.orders", (column_key("id"),), predicate="status = 'open'")
    covering = Candidate("public.orders", (column_key("id"),), include=("total",))
    assert served_by(partial, catalog) is None
    assert served_by(covering, catalog) is None


# -- selectivity -----------------------------------------------------------------------------------------


def test_selectivity_from_most_common_values_and_histogram() -> None:
    table = _catalog().table("orders")
    assert equality_fraction(table, "status", "open") == pytest.approx(0.02)
    assert equality_fraction(table, "customer_id", None) == pytest.approx(1 / 50_000)
    assert range_fraction(table, "total", ">", "900") == pytest.approx(0.1, abs=0.01)
    assert range_fraction(table, "total", "<", "abc") == pytest.approx(1 / 3)  # cannot compare: the default


# -- estimate costing -------------------------------------------------------------------------------------


def test_estimate_prefers_the_selective_index_and_never_plans() -> None:
    statements, pool, catalog = _pool("SELECT id FROM orders WHERE customer_id = $1 AND status = $2")
    costing = EstimateCosting(catalog, pool)
    by_label = {c.label(): c for c in pool.candidates}
    selective = by_label["public.orders (customer_id, status)"]
    loose = by_label["public.orders (status)"]
    base, with_selective, with_loose = costing.plans(
        [(statements[0], frozenset()), (statements[0], frozenset({selective})), (statements[0], frozenset({loose}))])
    assert with_selective.cost < with_loose.cost <= base.cost
    assert costing.size(selective) > costing.size(Candidate("public.orders", (column_key("status"),)))


# -- index sizes ------------------------------------------------------------------------------------------


def test_type_storage_and_deduplication_by_type_name() -> None:
    assert storage_by_name("bigint") == storage_by_name("bigint")
    assert (storage_by_name("bigint").length, storage_by_name("bigint").dedup) == (8, True)
    assert storage_by_name("character varying(25)").length == -1 and storage_by_name("character varying(25)").dedup
    for no_dedup in ("numeric(15,2)", "double precision", "real", "jsonb", "interval", "integer[]", "tstzrange"):
        assert not storage_by_name(no_dedup).dedup, no_dedup
    assert storage_by_name("timestamp(3) with time zone").length == 8


def _key(distinct: float, dedup: bool = True, width: float = 8, varlena: bool = False) -> ColumnShape:
    return ColumnShape(width=width, align=8 if not varlena else 4, varlena=varlena, null_frac=0.0,
                       distinct=distinct, dedup=dedup)


def test_duplicates_shrink_a_btree_unless_include_or_the_type_forbids_deduplication() -> None:
    rows = 1_000_000
    unique = btree_bytes(rows, [_key(rows)], [])
    repeated = btree_bytes(rows, [_key(1_000)], [])
    assert repeated < unique / 2  # 1,000 rows per key: one key and 1,000 six-byte TIDs instead of 1,000 tuples
    assert btree_bytes(rows, [_key(1_000)], [], dedup=False) == unique  # before PostgreSQL 13
    assert btree_bytes(rows, [_key(1_000, dedup=False)], []) == unique  # numeric, float, jsonb…
    with_include = btree_bytes(rows, [_key(1_000)], [_key(rows)])
    assert with_include > unique  # INCLUDE indexes never deduplicate, and carry the extra column


def test_the_size_is_deterministic_and_grows_with_the_rows() -> None:
    keys = [_key(5_000)]
    assert btree_bytes(2_000_000, keys, []) == btree_bytes(2_000_000, keys, [])
    assert btree_bytes(1_000_000, keys, []) < btree_bytes(2_000_000, keys, []) < btree_bytes(4_000_000, keys, [])
    assert btree_bytes(1_000_000, keys, [], fraction=0.1) < btree_bytes(1_000_000, keys, []) / 5


def test_clustered_columns_get_their_distinct_count_back_from_block_sampling() -> None:
    # TPC-H SF1 lineitem.l_orderkey: 1.5 M values, 4 rows each side by side; ANALYZE says 369,479
    stats = ColumnStats(column="l_orderkey", n_distinct=369_479, correlation=1.0)
    corrected = corrected_distinct(stats, rows=6_001_215, relpages=110_368, sample_rows=30_000)
    assert 1.2e6 < corrected < 1.7e6
    scattered = ColumnStats(column="l_partkey", n_distinct=191_490, correlation=0.01)
    assert corrected_distinct(scattered, 6_001_215, 110_368, 30_000) == 191_490
    every_block = ColumnStats(column="c", n_distinct=100, correlation=1.0)
    assert corrected_distinct(every_block, 1_000_000, 20_000, 30_000) == 100  # all blocks sampled: no bias


def test_model_sizes_from_a_snapshot_catalog() -> None:
    model = SizeModel.from_catalog(_catalog())
    status = model.bytes(Candidate("public.orders", (column_key("status"),)))
    customer = model.bytes(Candidate("public.orders", (column_key("customer_id"),)))
    created = model.bytes(Candidate("public.orders", (column_key("created_at"),)))
    assert status is not None and customer is not None and created is not None
    assert status < customer < created  # 4 values, 20 rows per customer, all distinct
    assert model.bytes(Candidate("public.orders", (column_key("status"),), predicate="status = 'open'")) < status
    expression = Candidate("public.orders", (Key("lower(email)", expression=True, columns=("email",)),))
    assert model.bytes(expression) is None  # not modelled: the costing falls back


SIZE_SCHEMA = """
CREATE TABLE shapes (dup bigint, uniq bigint, num numeric, word text, flag text, sparse int);
INSERT INTO shapes
SELECT g % 500, g, (g % 500)::numeric / 7, md5((g % 3000)::text),
       (ARRAY['A', 'NONE', 'DELIVER IN PERSON'])[1 + g % 3], CASE WHEN g % 4 = 0 THEN NULL ELSE g % 50 END
FROM generate_series(1, 200000) AS g;
ANALYZE shapes;
"""
SIZE_CASES = {
    "many duplicates": ("dup",), "all distinct": ("uniq",), "INCLUDE": ("dup", "INCLUDE", "uniq"),
    "numeric": ("num",), "text duplicates": ("word",), "strings of uneven width": ("flag",),
    "NULLs": ("sparse",), "two columns": ("dup", "flag"), "partial": ("uniq", "WHERE", "flag = 'A'"),
}


def _size_candidate(parts: tuple[str, ...]) -> Candidate:
    if "INCLUDE" in parts:
        return Candidate("public.shapes", (column_key(parts[0]),), include=(parts[2],))
    if "WHERE" in parts:
        return Candidate("public.shapes", (column_key(parts[0]),), predicate=parts[2])
    return Candidate("public.shapes", tuple(column_key(name) for name in parts))


def test_model_sizes_match_indexes_built_for_real(pg_server: PgServer, fresh_db: str) -> None:
    """Within 30% of pg_relation_size for every shape (most within a few %), where a size that ignores
    deduplication (hypopg's, when installed) is 2x off on the column with many duplicates."""
    from queryreview.collect import CollectOptions, collect_from
    from queryreview.sources.postgres.connect import open_session

    hypopg = pg_server.has_hypopg and pg_server.name != "pg18"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SIZE_SCHEMA)
        if hypopg:
            conn.execute("CREATE EXTENSION hypopg")
        real = {}
        for name, parts in SIZE_CASES.items():
            conn.execute("BEGIN")
            conn.execute(_size_candidate(parts).definition(name="qr_size_probe"))
            real[name] = conn.execute("SELECT pg_relation_size('qr_size_probe')").fetchone()[0]
            conn.execute("ROLLBACK")
        naive = None
        if hypopg:
            row = conn.execute("SELECT hypopg_relation_size(indexrelid) FROM hypopg_create_index(%s)",
                               [_size_candidate(SIZE_CASES["many duplicates"]).definition()]).fetchone()
            naive = row[0]
            conn.execute("SELECT hypopg_reset()")
    with open_session(fresh_db) as session:
        live = SizeModel.from_session(session, ["public.shapes"])
    offline = SizeModel.from_catalog(collect_from(fresh_db, CollectOptions(statements=False)).catalog)
    for name, parts in SIZE_CASES.items():
        candidate = _size_candidate(parts)
        for model in (live, offline):
            estimate = model.bytes(candidate)
            assert estimate is not None, name
            assert 0.7 * real[name] <= estimate <= 1.3 * real[name], (name, estimate, real[name])
    shape = live.shape("public.shapes")
    assert shape is not None and not shape.columns["num"].dedup and shape.columns["dup"].dedup
    without_dedup = btree_bytes(shape.rows, [shape.columns["dup"]], [], dedup=False)
    assert without_dedup > 2 * real["many duplicates"]  # what ignoring deduplication gets wrong
    if naive is not None:
        assert naive > 2 * real["many duplicates"]


def test_hypopg_costing_budgets_with_the_model_and_plans_with_hypopg(pg_server: PgServer, fresh_db: str) -> None:
    from queryreview.advisor.sizes import MODEL_BASIS, SIZE_MARGIN
    from queryreview.advisor.whatif import HypoCosting
    from queryreview.sources.postgres.connect import open_session

    if pg_server.name == "pg18" or not pg_server.has_hypopg:
        pytest.skip("needs hypopg (system PostgreSQL 15 with postgresql-15-hypopg)")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SIZE_SCHEMA)
        conn.execute("CREATE EXTENSION hypopg")
    candidate = _size_candidate(SIZE_CASES["many duplicates"])
    with open_session(fresh_db) as session:
        model = SizeModel.from_session(session, ["public.shapes"]).bytes(candidate)
        with HypoCosting(session) as costing:
            assert costing.size(candidate) == int(model * (1 + SIZE_MARGIN))
            assert costing.size_basis(candidate) == MODEL_BASIS
        with HypoCosting(session, sizes="hypopg") as costing:
            assert costing.size(candidate) > 2 * model  # hypopg_relation_size, deduplication ignored
            assert "hypopg_relation_size" in costing.size_basis(candidate)


# -- selection on a costing with known answers -----------------------------------------------------------


class _Table(Costing):
    """A costing that looks up costs in a dict: (statement key, frozenset of labels) -> cost."""

    validated_by = "hypopg"

    def __init__(self, costs: dict, sizes: dict) -> None:
        super().__init__()
        self.costs, self.sizes_by_label = costs, sizes

    def _plans(self, requests):
        found = []
        for statement, config in requests:
            labels = frozenset(c.label() for c in config)
            best = min((cost, used) for (key, used), cost in self.costs.items()
                       if key == statement.key and used <= labels)
            found.append(PlanCost(best[0], frozenset(c for c in config if c.label() in best[1])))
        return found

    def _size(self, candidate):
        return self.sizes_by_label[candidate.label()]


def _two_statements():
    statements, notes = from_sources([SourceText("a.sql", "SELECT id FROM orders WHERE status = $1;\n"
                                                        "SELECT id FROM orders WHERE customer_id = $1;")])
    catalog = _catalog()
    generate(statements, catalog)
    status = Candidate("public.orders", (column_key("status"),))
    customer = Candidate("public.orders", (column_key("customer_id"),))
    a, b = statements[0].key, statements[1].key
    costs = {(a, frozenset()): 1000.0, (a, frozenset({status.label()})): 500.0,
             (b, frozenset()): 1000.0, (b, frozenset({customer.label()})): 10.0}
    sizes = {status.label(): 10 << 20, customer.label(): 12 << 20}
    return statements, [status, customer], costs, sizes


def test_selection_respects_the_budget_and_says_why() -> None:
    statements, candidates, costs, sizes = _two_statements()
    selection = select(statements, candidates, WhatIf(_Table(costs, sizes)), Limits(budget_bytes=15 << 20))
    assert [c.label() for c in selection.chosen] == ["public.orders (customer_id)"]
    assert "budget" in selection.rejected[candidates[0]]


def test_selection_respects_max_indexes_and_min_saving() -> None:
    statements, candidates, costs, sizes = _two_statements()
    limited = select(statements, candidates, WhatIf(_Table(costs, sizes)), Limits(max_indexes=1))
    assert len(limited.chosen) == 1
    strict = select(statements, candidates, WhatIf(_Table(costs, sizes)), Limits(min_saving=0.95))
    assert [c.label() for c in strict.chosen] == ["public.orders (customer_id)"]  # 99% saving; status only 50%
    assert "minimum 95%" in strict.rejected[candidates[0]]


def test_selection_is_deterministic() -> None:
    results = []
    for _ in range(2):
        statements, candidates, costs, sizes = _two_statements()
        selection = select(statements, candidates, WhatIf(_Table(costs, sizes)), Limits())
        results.append([c.label() for c in selection.chosen])
    assert results[0] == results[1] and len(results[0]) == 2


def test_an_index_saving_too_little_of_the_workload_is_rejected() -> None:
    statements, candidates, costs, sizes = _two_statements()
    costs[(statements[0].key, frozenset({candidates[0].label()}))] = 900.0
    # customer_id saves 990 of the workload's 2,000 (49.5%); then status 100 of the 1,010 left (9.9%)
    selection = select(statements, candidates, WhatIf(_Table(costs, sizes)), Limits(min_workload_saving=0.3))
    assert [c.label() for c in selection.chosen] == ["public.orders (customer_id)"]
    assert "minimum 30.0%" in selection.rejected[candidates[0]]


def test_a_budget_smaller_than_every_candidate() -> None:
    statements, candidates, costs, sizes = _two_statements()
    selection = select(statements, candidates, WhatIf(_Table(costs, sizes)), Limits(budget_bytes=1 << 20))
    assert not selection.chosen
    assert set(selection.too_big) == set(candidates)


def test_workload_weights_from_pg_stat_statements_and_window() -> None:
    stats = WorkloadStats(statements=[
        QueryStat(queryid=1, query="SELECT id FROM orders WHERE status = $1", calls=10, total_exec_time=500.0),
        QueryStat(queryid=2, query="BEGIN", calls=100, total_exec_time=5.0),
        QueryStat(queryid=3, query="SELECT id FROM orders WHERE customer_id = $1", calls=1000,
                  total_exec_time=2000.0),
    ], stats_reset="2024-01-01T00:00:00+00:00", collected_at="2024-01-03T00:00:00+00:00")
    statements, notes = from_workload(stats)
    assert [s.queryid for s in statements] == [3, 1]  # busiest first; BEGIN cannot use an index
    assert statements[0].ms_per_day == pytest.approx(1000.0)
    assert statements[0].weight == 1000


def test_file_weights_from_a_comment() -> None:
    statements, _ = from_sources([SourceText("w.sql", "-- queryreview: weight=25\nSELECT 1 FROM orders WHERE id = 1;\n"
                                                      "SELECT 2 FROM orders WHERE id = 2;")])
    assert [s.weight for s in statements] == [25.0, 1.0]


# -- CLI --------------------------------------------------------------------------------------------------


def test_advise_help() -> None:
    result = CliRunner().invoke(main, ["advise", "--help"])
    assert result.exit_code == 0
    assert "--budget" in result.output and "--disposable" in result.output and "--workload" in result.output


def test_advise_needs_a_database_or_a_snapshot() -> None:
    result = CliRunner().invoke(main, ["advise"])
    assert result.exit_code == 2
    assert "give a database" in result.output


@pytest.mark.parametrize("text, expected", [("2GB", 2 << 30), ("500 MB", 500 << 20), ("750kB", 750 << 10),
                                            ("1.5G", int(1.5 * (1 << 30))), ("4096", 4096)])
def test_budget_sizes(text: str, expected: int) -> None:
    assert ByteSize().convert(text, None, None) == expected


def test_min_saving_percent() -> None:
    assert Percent().convert("20%", None, None) == pytest.approx(0.2)
    assert Percent().convert("5", None, None) == pytest.approx(0.05)


def test_real_indexes_are_refused_unless_the_database_is_declared_disposable() -> None:
    from queryreview.advisor.real_index import RealIndexCosting
    from queryreview.errors import InputError

    with pytest.raises(InputError, match="not declared disposable"):
        RealIndexCosting("host=/nonexistent dbname=prod", disposable=False)
