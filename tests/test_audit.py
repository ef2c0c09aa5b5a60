"""``queryreview audit`` end to end on real servers (PG 18 embedded, PG 15 system): ranking, findings of
every family on the right statement, plans, advice, safety (nothing left behind), a lost connection
(partial report, exit 3), a failing EXPLAIN (listed with its reason), snapshots, and --verify refusals.

The demo itself (embedded dashboard, pgbench, --verify) runs at a small scale in test_audit_demo.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from queryreview.audit.pipeline import AuditOptions, audit, run_audit
from queryreview.audit.progress import Progress
from queryreview.cli import main
from queryreview.errors import EXIT_RUNTIME, InputError

ORDERS = 60_000
SCHEMA = f"""
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                     status text NOT NULL, total_cents bigint NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO customers SELECT g, 'c' || g || '@example.com', 'customer ' || g FROM generate_series(1, 2000) AS g;
INSERT INTO orders SELECT g, 1 + (g * 7919) % 2000, (ARRAY['open','paid','shipped'])[1 + g % 3], g % 10000,
                          timestamptz '2026-01-01' + g * interval '1 minute'
                   FROM generate_series(1, {ORDERS}) AS g;
ANALYZE customers, orders;
"""
SLOW = "SELECT id, status, total_cents FROM orders WHERE customer_id = %s ORDER BY created_at DESC"
FAST = "SELECT name, email FROM customers WHERE id = %s"
DOOMED = "SELECT count(*) FROM doomed WHERE x = %s"


def _indexes(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT indexrelid::regclass::text FROM pg_index")}


@pytest.fixture
def shop(fresh_db: str) -> str:
    """Orders filtered by customer without an index (the slow statement), a PK lookup (fast), and a
    statement whose table is gone by the time of the audit (its EXPLAIN fails)."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute("CREATE TABLE doomed (x int)")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")
        for customer in range(1, 41):
            conn.execute(SLOW, [customer]).fetchall()
        for customer in range(1, 401):
            conn.execute(FAST, [customer]).fetchall()
        conn.execute(DOOMED, [1]).fetchall()
        conn.execute("DROP TABLE doomed")
    return fresh_db


def _row(report, fragment: str):
    rows = [row for row in report.queries if fragment in row.text]
    assert rows, [row.text for row in report.queries]
    return rows[0]


def test_live_audit_ranks_by_time_and_ties_findings_plans_and_advice_to_the_statement(pg_server, shop: str) -> None:
    before = _indexes(shop)

    report = audit(AuditOptions(dsn=shop, top=50))

    assert report.partial is None and report.origin == "live"
    assert report.server.version_num == pg_server.version_num and report.server.database
    top = report.queries[0]
    assert "FROM orders WHERE customer_id" in top.text, [row.text for row in report.queries]
    assert [row.rank for row in report.queries] == list(range(1, len(report.queries) + 1))
    assert all(a.total_ms >= b.total_ms for a, b in zip(report.queries, report.queries[1:]))
    assert top.calls == 40 and top.rows_per_call == pytest.approx(ORDERS / 2000, rel=0.01)
    assert 0.5 < top.share <= 1 and report.covered_share <= 1
    assert top.plan is not None and top.plan_error is None and top.plan_method
    codes = {finding.code for finding in top.findings}
    assert "QR301" in codes or "QR201" in codes, codes  # the plan's seq scan / the missing index
    helping = report.recommendations_for(top)
    assert any(r.kind == "create-index" and "customer_id" in r.sql for r in helping), report.recommendations
    assert report.window is not None and report.total_ms > 0
    assert any("read-only" in line for line in report.safety)
    # nothing left behind: no index, and the audit's own statements are not in the ranking
    assert _indexes(shop) == before
    assert not any("queryreview" in row.text for row in report.queries)


def test_a_failing_explain_is_listed_with_its_reason(shop: str) -> None:
    report = audit(AuditOptions(dsn=shop, top=50, advise=False))

    doomed = _row(report, "FROM doomed")
    assert doomed.plan is None and doomed.plan_error and "doomed" in doomed.plan_error
    assert any("EXPLAIN failed for 1 statement" in line for line in report.skipped), report.skipped
    assert report.partial is None


class _KillAfterFirstPlan(Progress):
    """Terminates the audit's own backend once the first statement has been explained."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.killed = False

    def task(self, description: str, total: int | None = None):
        def update(done: int, total_now: int) -> None:
            if "explaining" in description and done == 1 and not self.killed:
                with psycopg.connect(self.dsn, autocommit=True, application_name="test killer") as conn:
                    pids = [row[0] for row in conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = 'queryreview' "
                        "AND pid <> pg_backend_pid()")]
                    assert pids
                    for pid in pids:
                        conn.execute("SELECT pg_terminate_backend(%s)", [pid])
                self.killed = True
        return update


def test_a_connection_lost_mid_audit_gives_a_partial_report_and_exit_3(shop: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    progress = _KillAfterFirstPlan(shop)

    code = run_audit(AuditOptions(dsn=shop, top=50), output_format="json", output=str(out), progress=progress)

    assert progress.killed
    assert code == EXIT_RUNTIME
    doc = json.loads(out.read_text())
    assert doc["audit"]["partial"] and "connection" in doc["audit"]["partial"].lower()
    assert doc["queries"], "what was gathered is still reported"
    assert sum(1 for q in doc["queries"] if q["plan"] is not None) >= 1
    assert any(q["plan_error"] and "connection" in q["plan_error"] for q in doc["queries"])


def test_cli_json_document_and_text_report(shop: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["audit", shop, "--top", "20", "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"findings", "recommendations", "audit", "queries", "summary"} <= set(doc)
    assert "verification" not in doc
    assert doc["queries"][0]["query"].startswith("SELECT id, status, total_cents FROM orders")

    text = runner.invoke(main, ["audit", shop, "--top", "20", "--no-color", "--quiet"])
    assert text.exit_code == 0, text.output
    assert max(len(line) for line in text.stdout.splitlines()) <= 100
    assert "orders" in text.stdout


def test_fail_on_makes_findings_fail_the_run(shop: str) -> None:
    result = CliRunner().invoke(main, ["audit", shop, "--format", "json", "--quiet", "--fail-on", "info"])
    assert result.exit_code == 1, result.output


def test_snapshot_audit_is_offline_and_keeps_the_plans(shop: str, tmp_path: Path) -> None:
    from queryreview.collect import CollectOptions, collect_from
    from queryreview.sources.snapshot import write_snapshot

    path = tmp_path / "snap.json.gz"
    write_snapshot(collect_from(shop, CollectOptions(explain=True)), path)

    report = audit(AuditOptions(snapshot_path=str(path), top=50))

    assert report.origin == "snapshot" and report.partial is None
    assert report.safety == ["offline: read from a snapshot file, no database contacted"]
    top = report.queries[0]
    assert "FROM orders WHERE customer_id" in top.text and top.plan is not None
    assert any(f.code == "QR301" for f in top.findings), top.findings
    assert any(r.kind == "create-index" and "customer_id" in r.sql for r in report.recommendations)
    assert {r.validated_by for r in report.recommendations if r.kind == "create-index"} == {"estimate"}


def test_snapshot_without_plans_says_plan_rules_were_skipped(shop: str, tmp_path: Path) -> None:
    from queryreview.collect import collect_from
    from queryreview.sources.snapshot import write_snapshot

    path = tmp_path / "snap.json.gz"
    write_snapshot(collect_from(shop), path)
    report = audit(AuditOptions(snapshot_path=str(path), top=50, advise=False))
    assert any("without --explain" in line for line in report.skipped)
    assert all(row.plan is None for row in report.queries)


def test_verify_is_refused_unless_the_database_is_disposable(shop: str) -> None:
    with pytest.raises(InputError, match="disposable"):
        audit(AuditOptions(dsn=shop, verify=True))
    result = CliRunner().invoke(main, ["audit", shop, "--keep"])
    assert result.exit_code == 2 and "--keep only applies with --verify" in result.output


def test_verify_on_a_disposable_database_replays_its_busiest_selects(shop: str) -> None:
    before = _indexes(shop)
    report = audit(AuditOptions(dsn=shop, top=20, verify=True, disposable=True, duration_s=2,
                                warmup_s=1, clients=2, jobs=1))
    verification = report.verification
    assert verification is not None and not verification.kept
    assert any("customer_id" in sql for sql in verification.applied), verification.applied
    slow = [change for change in verification.statements if "FROM orders WHERE customer_id" in change.text]
    assert slow and slow[0].speedup and slow[0].speedup > 1, verification.statements
    assert any("replay" in note for note in verification.notes), verification.notes
    assert _indexes(shop) == before  # rolled back


def test_an_unreachable_database_is_one_line_and_exit_3() -> None:
    result = CliRunner().invoke(main, ["audit", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
                                       "--quiet"])
    assert result.exit_code == 3
    assert "Traceback" not in result.output and re.search(r"error: .*127\.0\.0\.1", result.output), result.output


def test_the_audit_does_not_flood_pg_stat_statements_with_its_own_explains(shop: str) -> None:
    """Each what-if EXPLAIN EXECUTE of a differently named prepared statement was a new utility entry:
    thousands per audit on PG 15, evicting the statistics being audited. One name now."""
    def entries() -> list[str]:
        with psycopg.connect(shop, autocommit=True) as conn:
            return [row[0] for row in conn.execute(
                "SELECT query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())")]

    before = entries()
    audit(AuditOptions(dsn=shop, top=50))
    first = entries()
    audit(AuditOptions(dsn=shop, top=50))
    second = entries()
    added = [text for text in first if text not in before]
    # its catalog queries and one EXPLAIN per statement: a fixed few, not one per what-if call
    assert len(added) <= 60, added
    assert len(second) - len(first) <= 2, [text for text in second if text not in first]
    assert not [text for text in second if re.search(r"EXECUTE qr_(?!1\b)", text)]


@pytest.mark.parametrize("args, message", [
    (["--snapshot", "/nonexistent/snap.json.gz"], "snap.json.gz"),
    (["postgresql://x@127.0.0.1:1/x", "--verify", "--verify-script", "/nonexistent/w.sql"], "no such file"),
    (["postgresql://x@127.0.0.1:1/x", "--verify", "--verify-script", "README.md@0"], "positive integer"),
    (["--demo-scale", "0"], "0"),
])
def test_bad_audit_arguments_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["audit", "--quiet", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and message in result.output, result.output
