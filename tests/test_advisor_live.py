"""The index advisor on real servers: hypopg costing (system PG 15), real indexes rolled back
(--disposable, embedded PG 18 and PG 15 without hypopg), estimates, and the bad-input lines."""

from __future__ import annotations

import json
import re
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from pgservers import PgServer
from queryreview.advise_pipeline import AdviseOptions, advise
from queryreview.advisor.candidates import Candidate, column_key
from queryreview.advisor.statements import from_sources
from queryreview.advisor.whatif import HypoCosting, WhatIf
from queryreview.cli import main
from queryreview.cli_advise import advise as advise_command
from queryreview.collect import CollectOptions, collect_from
from queryreview.model import SourceText
from queryreview.sources.postgres.connect import open_session
from queryreview.sources.snapshot import write_snapshot

if "advise" not in main.commands:  # cli.py registers it; until then the tests do
    main.add_command(advise_command)

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, region text NOT NULL);
INSERT INTO customers SELECT g, 'user' || g || '@example.com', (ARRAY['eu', 'us', 'apac'])[1 + g % 3]
FROM generate_series(1, 20000) AS g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL,
                     created_at timestamp NOT NULL, total numeric NOT NULL, note text);
INSERT INTO orders SELECT g, 1 + (g * 7) % 20000,
       CASE WHEN g % 50 = 0 THEN 'open' WHEN g % 3 = 0 THEN 'shipped' ELSE 'done' END,
       timestamp '2024-01-01' + g * interval '1 minute', g % 500, md5(g::text)
FROM generate_series(1, 100000) AS g;
CREATE TABLE events (kind text NOT NULL, at timestamp NOT NULL, payload text);
INSERT INTO events SELECT 'k' || (g % 400), timestamp '2024-01-01' + g * interval '1 second', 'p'
FROM generate_series(1, 50000) AS g;
CREATE INDEX events_kind_at_idx ON events (kind, at);
CREATE TABLE secret (id bigint, v text);
ANALYZE;
"""

LOOKUP = "SELECT id, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20"
OPEN = "SELECT id FROM orders WHERE status = 'open' ORDER BY created_at LIMIT 50"
BY_PK = "SELECT * FROM customers WHERE id = $1"
BY_PREFIX = "SELECT * FROM events WHERE kind = $1"
SUFFIX = "SELECT id FROM customers WHERE email LIKE '%er1234@%'"
WORKLOAD = [LOOKUP, OPEN, BY_PK, BY_PREFIX, SUFFIX]


def _database(pg_server: PgServer, suffix: str, hypopg: bool) -> Iterator[str]:
    name = f"qr_advise_{suffix}_{os.getpid()}"
    dsn = pg_server.make_database(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        if hypopg:
            conn.execute("CREATE EXTENSION hypopg")
        conn.execute(SCHEMA)
    try:
        yield dsn
    finally:
        pg_server.drop_database(name)


def _need_hypopg(pg_server: PgServer) -> None:
    if pg_server.name == "pg18":
        pytest.skip("no hypopg in the embedded wheel")
    if not pg_server.has_hypopg:
        pytest.skip("hypopg not installed on this PostgreSQL (apt-get install postgresql-15-hypopg)")


@pytest.fixture(scope="module")
def hypo_shop(pg_server: PgServer) -> Iterator[str]:
    _need_hypopg(pg_server)
    yield from _database(pg_server, "hypo", hypopg=True)


@pytest.fixture(scope="module")
def plain_shop(pg_server: PgServer) -> Iterator[str]:
    """No hypopg in this database (PG 18 has none; on PG 15 it is not created here)."""
    yield from _database(pg_server, "plain", hypopg=False)


@pytest.fixture
def workload_file(tmp_path: Path) -> Path:
    path = tmp_path / "queries.sql"
    path.write_text(";\n".join(WORKLOAD) + ";\n")
    return path


def _advise(dsn: str, *args: str) -> dict:
    result = CliRunner().invoke(main, ["advise", dsn, *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return _creates(json.loads(result.stdout))


def _creates(report: dict) -> dict:
    """The report with only the create-index recommendations (rewrites and drops come from other modules)."""
    for key in ("recommendations", "rejected"):
        report[key] = [r for r in report[key] if r["kind"] == "create-index"]
    return report


def _indexes(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
                                               "ORDER BY indexname")]


# -- hypopg (PG 15) -------------------------------------------------------------------------------------


def test_hypopg_validates_and_never_recommends_what_an_existing_index_serves(hypo_shop: str, workload_file: Path):
    report = _advise(hypo_shop, "--workload", str(workload_file), "--min-saving", "5%")
    recommendations = report["recommendations"]
    validated = [r for r in recommendations if r["validated_by"] == "hypopg"]
    assert validated, report
    lookup = next(r for r in validated if "customer_id" in r["sql"])
    assert lookup["sql"].startswith("CREATE INDEX CONCURRENTLY orders_customer_id")
    assert lookup["size_bytes"] > 0
    assert all(s["cost_after"] < s["cost_before"] for s in lookup["statements"])
    # the primary key serves customers (id), events_kind_at_idx serves events (kind): never recommended
    assert not any("customers (id)" in r["sql"] or "events (kind)" in r["sql"] for r in recommendations)
    rejected = " ".join(r["reason"] for r in report["rejected"])
    assert "customers_pkey" in rejected and "events_kind_at_idx" in rejected


def test_partial_index_for_the_rare_status(hypo_shop: str, workload_file: Path) -> None:
    report = _advise(hypo_shop, "--workload", str(workload_file), "--min-saving", "5%")
    partial = [r for r in report["recommendations"] if "WHERE status = 'open'" in r["sql"]]
    assert partial, [r["sql"] for r in report["recommendations"]]
    assert re.search(r"keeps [12]\.\d% of the rows \(pg_stats most_common_freqs\)", partial[0]["reason"])


def test_trigram_gin_is_said_plainly_not_to_be_validated_with_hypopg(hypo_shop: str, workload_file: Path) -> None:
    report = _advise(hypo_shop, "--workload", str(workload_file), "--min-saving", "5%")
    gin = [r for r in report["recommendations"] + report["rejected"] if "gin_trgm_ops" in r["sql"]]
    assert gin
    assert "cannot be cost-validated" in gin[0]["reason"]
    assert all(r["validated_by"] == "estimate" for r in gin)


def test_hypothetical_indexes_are_reset_even_after_an_exception(hypo_shop: str) -> None:
    statements, _ = from_sources([SourceText("q.sql", LOOKUP)])
    statements[0].tables = frozenset({"public.orders"})
    statements[0].columns = {"public.orders": frozenset({"customer_id", "created_at", "id", "total"})}
    candidate = Candidate("public.orders", (column_key("customer_id"),))
    with open_session(hypo_shop) as session:
        with pytest.raises(RuntimeError):
            with HypoCosting(session) as costing:
                result = WhatIf(costing).cost(statements[0], frozenset({candidate}))
                assert result.used == {candidate}
                assert session.fetch_one("SELECT count(*) AS n FROM hypopg_list_indexes")["n"] == 1
                raise RuntimeError("boom in the middle of a run")
        assert session.fetch_one("SELECT count(*) AS n FROM hypopg_list_indexes")["n"] == 0


def test_budget_smaller_than_any_candidate_is_one_clear_line(hypo_shop: str, workload_file: Path) -> None:
    report = _advise(hypo_shop, "--workload", str(workload_file), "--budget", "8kB")
    assert not [r for r in report["recommendations"] if r["validated_by"] == "hypopg"]
    assert any("is smaller than every useful candidate" in note for note in report["notes"])


def test_two_runs_give_the_same_advice(hypo_shop: str, workload_file: Path) -> None:
    first = _advise(hypo_shop, "--workload", str(workload_file), "--min-saving", "5%")
    second = _advise(hypo_shop, "--workload", str(workload_file), "--min-saving", "5%")
    assert first["recommendations"] == second["recommendations"]
    assert first["rejected"] == second["rejected"]


def test_workload_from_pg_stat_statements(hypo_shop: str) -> None:
    with psycopg.connect(hypo_shop, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        for customer in range(1, 40):
            conn.execute("SELECT id, total FROM orders WHERE customer_id = %s ORDER BY created_at DESC LIMIT 20",
                         [customer])
    report = _advise(hypo_shop, "--min-saving", "5%")
    lookup = next(r for r in report["recommendations"] if "customer_id" in r["sql"])
    impact = lookup["statements"][0]
    assert impact["calls"] >= 39 and impact["total_ms"] > 0 and impact["queryid"] is not None


def test_snapshot_from_another_major_version_is_warned_about(hypo_shop: str, workload_file: Path,
                                                             tmp_path: Path) -> None:
    snapshot = collect_from(hypo_shop, CollectOptions(statements=False))
    snapshot.source.server_version_num = 130012
    snapshot.catalog.server_version_num = 130012
    path = tmp_path / "old.json.gz"
    write_snapshot(snapshot, path)
    review, run = advise(AdviseOptions(dsn=hypo_shop, snapshot_path=str(path), workload=[str(workload_file)]))
    assert any("comes from PostgreSQL 13 but costing runs on PostgreSQL 15" in note for note in review.notes)
    assert run.validated_by == "hypopg"


# -- without hypopg ----------------------------------------------------------------------------------------


def test_real_indexes_rolled_back_on_a_disposable_database(plain_shop: str, workload_file: Path) -> None:
    before = _indexes(plain_shop)
    report = _advise(plain_shop, "--workload", str(workload_file), "--disposable", "--min-saving", "5%")
    validated = [r for r in report["recommendations"] if r["validated_by"] == "real-index"]
    assert any("customer_id" in r["sql"] for r in validated), report
    assert all(r["size_bytes"] > 0 for r in validated)
    assert any("rolled back" in note for note in report["notes"])
    assert _indexes(plain_shop) == before  # nothing was left behind


def test_pg_trgm_gin_is_validated_with_a_real_index(plain_shop: str, workload_file: Path) -> None:
    report = _advise(plain_shop, "--workload", str(workload_file), "--disposable", "--min-saving", "5%")
    gin = [r for r in report["recommendations"] + report["rejected"] if "gin_trgm_ops" in r["sql"]]
    assert gin and "cannot be cost-validated" not in gin[0]["reason"]


def test_without_hypopg_and_not_disposable_it_estimates_and_says_what_to_install(pg_server: PgServer,
                                                                                 plain_shop: str,
                                                                                 workload_file: Path) -> None:
    before = _indexes(plain_shop)
    report = _advise(plain_shop, "--workload", str(workload_file), "--min-saving", "5%")
    assert report["recommendations"]
    assert {r["validated_by"] for r in report["recommendations"]} == {"estimate"}
    notes = " ".join(report["notes"])
    if pg_server.has_hypopg:
        assert "CREATE EXTENSION hypopg" in notes
    else:
        assert f"postgresql-{pg_server.version_num // 10000}-hypopg" in notes and "CREATE EXTENSION hypopg" in notes
    assert "--disposable" in notes
    assert _indexes(plain_shop) == before


def test_snapshot_alone_gives_estimates(plain_shop: str, workload_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "snap.json.gz"
    write_snapshot(collect_from(plain_shop, CollectOptions(statements=False)), path)
    result = CliRunner().invoke(main, ["advise", "--snapshot", str(path), "--workload", str(workload_file),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    report = _creates(json.loads(result.stdout))
    assert report["recommendations"]
    assert {r["validated_by"] for r in report["recommendations"]} == {"estimate"}
    assert any("no database to cost on" in note for note in report["notes"])


def test_unplannable_statements_and_unreadable_tables_are_one_line_each(pg_server: PgServer, plain_shop: str,
                                                                       tmp_path: Path) -> None:
    role = f"qr_advise_reader_{os.getpid()}"
    with psycopg.connect(plain_shop, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT ON orders, customers, events TO {role}")
    path = tmp_path / "bad.sql"
    path.write_text(f"{LOOKUP};\nSELECT nope FROM orders WHERE id = $1;\nSELECT v FROM secret WHERE id = $1;\n")
    try:
        dsn = pg_server.dsn(psycopg.conninfo.conninfo_to_dict(plain_shop)["dbname"], user=role)
        report = _advise(dsn, "--workload", str(path), "--min-saving", "5%")
    finally:
        with psycopg.connect(plain_shop, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
    notes = report["notes"]
    assert any(f"{path}:2: cannot be planned" in note and "nope" in note for note in notes), notes
    assert any(f"{path}:3: cannot be planned, the role cannot read a table" in note for note in notes), notes
    assert any("customer_id" in r["sql"] for r in report["recommendations"])


def test_pg_stat_statements_workload_with_parameters_on_real_indexes(plain_shop: str) -> None:
    with psycopg.connect(plain_shop, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        for customer in range(1, 30):
            conn.execute("SELECT id, total FROM orders WHERE customer_id = %s ORDER BY created_at DESC LIMIT 20",
                         [customer])
    before = _indexes(plain_shop)
    report = _advise(plain_shop, "--disposable", "--min-saving", "5%")
    lookup = next(r for r in report["recommendations"] if "customer_id" in r["sql"])
    assert lookup["validated_by"] == "real-index"
    assert lookup["statements"][0]["calls"] >= 29 and "$1" in lookup["statements"][0]["text"]
    assert any("statistics window is shorter than a minute" in note for note in report["notes"])
    assert _indexes(plain_shop) == before
