"""EXPLAIN of collected query text on real servers (embedded PG 18, system PG 15): every method,
the injection paths, ANALYZE (read-only, and writes on a disposable database), failures, and
``collect --explain``.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlglot
from click.testing import CliRunner
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from pgservers import PgServer
from queryreview.catalog import QueryStat, WorkloadStats
from queryreview.cli import main
from queryreview.cli_collect import collect as collect_command
from queryreview.collect import CollectOptions, collect_from
from queryreview.sources.postgres import explain as explain_module
from queryreview.sources.postgres.connect import QueryFailed, Session, SessionOptions, is_own_query, open_session
from queryreview.sources.postgres.explain import ExplainStopped, explain_statement, explain_workload
from queryreview.sources.postgres.explain_params import (
    parameter_targets,
    repair_typed_literals,
    spaced_parameters,
)
from queryreview.sources.postgres.explain_writes import analyze_write
from queryreview.sources.snapshot import ExplainResult, read_snapshot, write_snapshot

if "collect" not in main.commands:  # cli.py registers it; until then the tests do
    main.add_command(collect_command)

SCHEMA = """
CREATE TABLE items (id int PRIMARY KEY, category text NOT NULL, price numeric NOT NULL, created date NOT NULL);
INSERT INTO items SELECT g, 'c' || (g % 50), g % 1000, DATE '2024-01-01' + g % 365 FROM generate_series(1, 20000) g;
CREATE INDEX items_category_idx ON items (category);
CREATE DOMAIN positive_int AS int NOT NULL CHECK (VALUE > 0);
CREATE TABLE ledger (id bigserial PRIMARY KEY, account positive_int, amount numeric NOT NULL, note text);
INSERT INTO ledger (account, amount, note) SELECT 1 + g % 100, g, 'n' || g FROM generate_series(1, 2000) g;
CREATE TABLE ledger_audit (id serial PRIMARY KEY, ledger_id bigint REFERENCES ledger (id) ON DELETE CASCADE);
INSERT INTO ledger_audit (ledger_id) SELECT g FROM generate_series(1, 300) g;
CREATE TABLE canary (x int);
INSERT INTO canary VALUES (42);
CREATE TABLE secret (x int);
ANALYZE;
"""
_roles = itertools.count()


def _make(pg_server: PgServer, name: str) -> str:
    dsn = pg_server.make_database(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute(SCHEMA)
    return dsn


@pytest.fixture(scope="module")
def shop(pg_server: PgServer) -> Iterator[str]:
    """One database for the tests that change nothing."""
    name = f"qr_explain_{os.getpid()}"
    dsn = _make(pg_server, name)
    yield dsn
    pg_server.drop_database(name)


@pytest.fixture
def disposable_shop(pg_server: PgServer) -> Iterator[str]:
    """A database of its own, for the tests that run data-modifying statements."""
    name = f"qr_explain_w_{os.getpid()}_{next(pg_server._counter)}"
    dsn = _make(pg_server, name)
    yield dsn
    pg_server.drop_database(name)


@pytest.fixture
def session(shop: str) -> Iterator[Session]:
    with open_session(shop) as opened:
        yield opened


def _admin(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


def _assert_untouched(dsn: str) -> None:
    """The canary and its row survive, no advisory lock is held, and nothing is left to roll back."""
    with _admin(dsn) as conn:
        assert conn.execute("SELECT x FROM canary").fetchall() == [(42,)]
        assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_prepared_xacts").fetchone()[0] == 0


def _root(result: ExplainResult) -> dict:
    assert result.error is None, result.error
    assert result.plan_json is not None
    return result.plan_json[0]["Plan"]


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _generic_method(pg_server: PgServer) -> str:
    return "generic_plan" if pg_server.version_num >= 160000 else "prepared_generic"


# -- generic plans ------------------------------------------------------------------------------------


def test_dollar_parameter_on_an_indexed_column_gives_an_index_scan(pg_server: PgServer, session: Session) -> None:
    """NULL parameters must never fold into ``Result / One-Time Filter: false``."""
    result = explain_statement(session, "SELECT * FROM items WHERE id = $1")
    root = _root(result)
    assert result.method == _generic_method(pg_server)
    assert root["Node Type"] == "Index Scan" and root["Index Name"] == "items_pkey"
    assert "$1" in root["Index Cond"]
    assert "One-Time Filter" not in json.dumps(result.plan_json)
    assert result.parameter_types == ("integer",)


def test_pg15_path_is_prepare_force_generic_and_deallocate(pg_server: PgServer, session: Session) -> None:
    """The PREPARE path works on every version; it leaves no prepared statement and no setting behind."""
    result = explain_statement(session, "SELECT * FROM items WHERE id = $2")  # $1 unused: the server cannot type it
    assert result.method == "prepared_generic"
    assert _root(result)["Node Type"] == "Index Scan"
    assert result.parameter_types == ("text", "integer")
    assert "given to PREPARE: $1 text" in result.note
    assert result.plan_json[0]["Settings"]["plan_cache_mode"] == "force_generic_plan"
    assert session.fetch_all("SELECT name FROM pg_prepared_statements") == []
    assert session.fetch_one("SELECT current_setting('plan_cache_mode') AS mode")["mode"] == "auto"
    assert session._conn.pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_parameter_types_from_the_compared_column_when_inference_fails(session: Session) -> None:
    result = explain_statement(session, "SELECT * FROM items WHERE id = $1 + $2")  # unknown + unknown: ambiguous
    assert result.method == "prepared_generic"
    assert result.parameter_types == ("integer", "integer")
    assert _root(result)["Node Type"] == "Index Scan"


@pytest.mark.parametrize(("text", "note"), [
    ("SELECT * FROM items WHERE created > DATE $1 AND created < now() - interval $2 LIMIT $3",
     "DATE $1 read as $1::DATE; interval $2 read as $2::interval"),
    ("SELECT * FROM items WHERE created = timestamp with time zone $1", "read as $1::timestamp with time zone"),
    ("SELECT * FROM items WHERE id IN ($1,$2,$3) AND category = $4", None),
    ("SELECT * FROM items WHERE id IN ($1 /*, ... */)", None),  # PG 18's squashed IN list
])
def test_pg_stat_statements_normalizations_are_repaired(session: Session, text: str, note: str | None) -> None:
    result = explain_statement(session, text)
    _root(result)
    assert result.method in ("generic_plan", "prepared_generic")
    if note:
        assert note in result.note


def test_a_statement_without_parameters_is_explained_plainly(session: Session) -> None:
    result = explain_statement(session, "SELECT count(*) FROM items WHERE category = 'c7' -- a file statement\n;")
    assert result.method == "plain"
    assert any(node["Node Type"].startswith("Bitmap") or node["Node Type"] == "Index Only Scan"
               for node in _nodes(_root(result)))


def test_no_generic_plan_falls_back_to_values_sampled_from_pg_stats(pg_server: PgServer, session: Session) -> None:
    """EXECUTE …(NULL) into a NOT NULL domain fails (PG <= 15): values from pg_stats are bound instead.

    PG 16+ never evaluates the parameters (GENERIC_PLAN), so it gets the generic plan.
    """
    result = explain_statement(session, "INSERT INTO ledger (account, amount) VALUES ($1, $2)")
    assert _root(result)["Node Type"] == "ModifyTable"
    if pg_server.version_num >= 160000:
        assert result.method == "generic_plan"
    else:
        assert result.method == "sampled_values"
        assert "domain positive_int does not allow null values" in result.note
        assert "$1: most common value of public.ledger.account" in result.note or "ledger.account" in result.note
    redacted = explain_statement(session, "INSERT INTO ledger (account, amount) VALUES ($1, $2)", sample_values=False)
    if pg_server.version_num < 160000:
        assert redacted.plan_json is None and "not used for redacted snapshots" in redacted.error


def test_sampled_values_come_from_pg_stats(session: Session) -> None:
    """The forced sampled path (as the fallback runs it) binds a most common value and histogram quartiles."""
    explainer = explain_module._Explainer(session, None, True)
    proved = explain_module._proved("SELECT * FROM items WHERE category = $1 AND price BETWEEN $2 AND $3 LIMIT $4")
    result = explainer._sampled(proved, None)
    assert result.method == "sampled_values"
    assert "$1: most common value of" in result.note and "items.category" in result.note
    assert "$2: first quartile of" in result.note and "$3: third quartile of" in result.note
    assert "$4: LIMIT 20" in result.note
    text = json.dumps(result.plan_json)
    assert "$1" not in text and "'c" in text  # a custom plan shows the bound value, not $1


def test_unexplainable_parameter_is_an_error_not_a_crash(session: Session) -> None:
    result = explain_statement(session, "SELECT array_length($1, 1)")
    assert result.plan_json is None
    assert "no representative value for $1" in result.error


# -- injection: every path -----------------------------------------------------------------------------

INJECTIONS = [
    "SELECT * FROM items WHERE id = $1; DROP TABLE canary",
    "SELECT * FROM items WHERE id = $1 /* ; */; DROP TABLE canary",
    "SELECT * FROM items WHERE id = $1 -- ;\n; DROP TABLE canary",
    "SELECT * FROM items WHERE id IN ($1,$2); DROP TABLE canary",
    "SELECT * FROM items WHERE created > DATE $1; DROP TABLE canary",
    "SELECT $a$ ; $a$ FROM items WHERE id = $1; DROP TABLE canary",
    "SELECT E'\\''; DROP TABLE canary; --' FROM items WHERE id = $1",
    "SELECT 'x\\'; DROP TABLE canary; --' FROM items WHERE id = $1",
    "COMMIT; SET default_transaction_read_only = off; DROP TABLE canary",
    "SELECT * FROM items WHERE id = $1; COMMIT; SET default_transaction_read_only = off; DROP TABLE canary",
    "DELETE FROM canary; COMMIT",
    "SELECT pg_advisory_lock($1)",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "WITH x AS (SELECT pg_terminate_backend(pg_backend_pid())) SELECT * FROM x",
    "EXPLAIN ANALYZE DELETE FROM canary",
    "PREPARE qr_1 AS SELECT 1; DROP TABLE canary",
    "SELECT * FROM items WHERE category = 'a\x00'; DROP TABLE canary",
    "SELECT * FROM items WHERE category = 'a\x00'",  # libpq would send 'SELECT … = 'a' only
]
PATHS = {
    "default": {},
    "analyze": {"analyze": True},
    "analyze_writes": {"analyze": True, "analyze_writes": True, "disposable": True},
    "settings": {"settings": {"enable_seqscan": "off"}},
    "no_sampling": {"sample_values": False},
}


@pytest.mark.parametrize("path", PATHS)
def test_injection_is_refused_through_every_path(shop: str, session: Session, path: str) -> None:
    for text in INJECTIONS:
        result = explain_statement(session, text, **PATHS[path])
        assert result.plan_json is None, text
        assert result.error.startswith("refusing to run this SQL"), (text, result.error)
    _assert_untouched(shop)
    assert session.fetch_one("SELECT current_setting('default_transaction_read_only') AS v")["v"] == "on"


def _unproved(body: str, count: int = 1, modifies: bool = False):
    """A _Text that skipped the guard: what the server does if the guard were ever fooled."""
    return explain_module._Text(body, sqlglot.parse_one("SELECT 1", read="postgres"), count, modifies, [])


@pytest.mark.parametrize("body", [
    "SELECT * FROM items WHERE id = $1; DROP TABLE canary",
    "SELECT * FROM items WHERE id = $1; COMMIT; SET default_transaction_read_only = off; DROP TABLE canary",
])
def test_the_server_refuses_two_statements_on_every_method_even_past_the_guard(
        shop: str, session: Session, body: str) -> None:
    explainer = explain_module._Explainer(session, None, True)
    calls = {
        "generic (PG 16+: Parse before the simple message; else PREPARE)": lambda: explainer._generic(_unproved(body)),
        "prepared_generic": lambda: explainer._prepared_generic(_unproved(body), []),
        "sampled/plain/analyze": lambda: explainer._bound(_unproved(body), explain_module._ANALYZE_OPTIONS, ["1"], [0]),
        "analyze writes": lambda: explainer._bound(_unproved(body), explain_module._ANALYZE_OPTIONS, ["1"], [0],
                                                   read_write=True),
    }
    for name, call in calls.items():
        with pytest.raises(QueryFailed, match="cannot insert multiple commands into a prepared statement"):
            call()
    _assert_untouched(shop)


def test_the_simple_protocol_only_sends_text_the_server_just_parsed(shop: str, session: Session) -> None:
    wire = explain_module._Wire(session)
    with pytest.raises(RuntimeError, match="simple protocol refused"):
        wire.simple("SELECT 1; DROP TABLE canary")
    with wire.transaction():
        wire.parse("", "SELECT 1")
        with pytest.raises(RuntimeError, match="simple protocol refused"):
            wire.simple("SELECT 1; DROP TABLE canary")
    _assert_untouched(shop)


# -- ANALYZE -----------------------------------------------------------------------------------------


def test_analyze_runs_selects_read_only_with_sampled_values(session: Session) -> None:
    result = explain_statement(session, "SELECT * FROM items WHERE category = $1", analyze=True)
    assert result.method == "analyze"
    root = _root(result)
    assert root["Actual Loops"] == 1 and root["Actual Rows"] > 0
    assert "Shared Hit Blocks" in root  # BUFFERS
    assert "parameters bound to values sampled from pg_stats ($1: most common value of" in result.note
    assert "Execution Time" in result.plan_json[0]


def test_analyze_of_a_file_statement_runs_it_as_is(session: Session) -> None:
    result = explain_statement(session, "SELECT count(*) FROM items WHERE price < 10", analyze=True)
    assert result.method == "analyze" and result.note is None
    assert _root(result)["Actual Rows"] == 1


@pytest.mark.parametrize("text", [
    "UPDATE ledger SET amount = amount + 1 WHERE id = $1",
    "DELETE FROM ledger WHERE id = 5",
    "INSERT INTO ledger (account, amount) VALUES (7, 1)",
    "WITH gone AS (DELETE FROM ledger WHERE id = $1 RETURNING id) SELECT count(*) FROM gone",
    "SELECT * FROM ledger WHERE id = $1 FOR UPDATE",
])
def test_data_modifying_statements_are_not_analyzed_without_both_flags(shop: str, session: Session, text: str) -> None:
    for flags in ({"analyze": True}, {"analyze": True, "analyze_writes": True}, {"analyze": True, "disposable": True}):
        result = explain_statement(session, text, **flags)
        root = _root(result)
        assert "Actual Loops" not in root
        assert result.method != "analyze"
        assert "not analysed: it modifies data or locks rows" in result.note
    _assert_untouched(shop)


def _fingerprint(dsn: str) -> dict:
    """Every row of every table and every sequence's state, read as a superuser."""
    state = {}
    with _admin(dsn) as conn:
        for (table,) in conn.execute("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                                     "WHERE schemaname = 'public' ORDER BY 1").fetchall():
            state[table] = conn.execute(f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) "
                                        f"FROM {table} AS t").fetchone()[0]
        sequences = conn.execute("SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences").fetchall()
        for (sequence,) in sequences:
            state[sequence] = conn.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
    return state


@pytest.mark.parametrize("text", [
    "INSERT INTO ledger (account, amount, note) VALUES ($1, $2, $3)",
    "INSERT INTO ledger (account, amount) SELECT account, amount FROM ledger WHERE id < 50",
    "INSERT INTO ledger_audit (ledger_id) VALUES (1)",
    "UPDATE ledger SET amount = amount * 2 WHERE account = $1",
    "DELETE FROM ledger WHERE id < $1",  # cascades into ledger_audit
    "WITH moved AS (DELETE FROM ledger_audit WHERE id < 10 RETURNING ledger_id) "
    "INSERT INTO ledger_audit (ledger_id) SELECT ledger_id FROM moved",
])
def test_analyze_writes_on_a_disposable_database_changes_nothing(disposable_shop: str, text: str) -> None:
    before = _fingerprint(disposable_shop)
    with open_session(disposable_shop) as session:
        result = explain_statement(session, text, analyze=True, analyze_writes=True, disposable=True)
    assert result.method == "analyze", result.error
    assert _root(result)["Node Type"] == "ModifyTable" or "Actual Loops" in _root(result)
    assert "ran in a rolled-back READ WRITE transaction; row checksums unchanged: public.ledger" in result.note
    after = _fingerprint(disposable_shop)
    assert after == before
    _assert_untouched(disposable_shop)


def test_sequences_advanced_by_an_analyzed_insert_are_set_back(disposable_shop: str) -> None:
    with _admin(disposable_shop) as conn:
        conn.execute("CREATE SEQUENCE untouched_seq")  # never called: is_called false must survive
        before = conn.execute("SELECT last_value, is_called FROM ledger_id_seq").fetchone()
    with open_session(disposable_shop) as session:
        text = "INSERT INTO ledger (account, amount) SELECT 1, g FROM generate_series(1, 9) g"
        result = explain_statement(session, text, analyze=True, analyze_writes=True, disposable=True)
    assert "sequences the statement advanced were set back: public.ledger_id_seq to 2000" in result.note
    with _admin(disposable_shop) as conn:
        assert conn.execute("SELECT last_value, is_called FROM ledger_id_seq").fetchone() == before
        assert conn.execute("SELECT last_value, is_called FROM untouched_seq").fetchone() == (1, False)
        assert conn.execute("SELECT count(*) FROM ledger").fetchone()[0] == 2000


def test_a_failing_analyzed_write_still_sets_sequences_back(disposable_shop: str) -> None:
    with _admin(disposable_shop) as conn:
        before = conn.execute("SELECT last_value, is_called FROM ledger_id_seq").fetchone()
    with open_session(disposable_shop) as session:
        result = explain_statement(session, "INSERT INTO ledger (account, amount) VALUES (-1, 1)",  # CHECK fails
                                   analyze=True, analyze_writes=True, disposable=True)
    assert result.plan_json is None and "positive_int" in result.error
    with _admin(disposable_shop) as conn:
        assert conn.execute("SELECT last_value, is_called FROM ledger_id_seq").fetchone() == before


def test_analyze_write_refuses_side_effect_functions(disposable_shop: str) -> None:
    with open_session(disposable_shop) as session:
        for text in ("INSERT INTO ledger (account, amount) VALUES (nextval('ledger_id_seq'), 1)",
                     "UPDATE ledger SET note = pg_notify('c', 'x')::text",
                     "INSERT INTO ledger (account, amount) SELECT 1, pg_advisory_lock(1)"):
            result = explain_statement(session, text, analyze=True, analyze_writes=True, disposable=True)
            assert result.error.startswith("refusing to run this SQL: function"), result.error
    _assert_untouched(disposable_shop)


def test_analyze_write_is_reachable_only_through_the_flags(disposable_shop: str) -> None:
    """analyze_write() itself is the private helper; the public API gates it (tested above)."""
    with open_session(disposable_shop) as session:
        explainer = explain_module._Explainer(session, None, True)
        result = analyze_write(explainer, explain_module._proved("DELETE FROM ledger WHERE id < 3"))
        assert result.method == "analyze" and "public.ledger_audit (300 rows)" in result.note


# -- settings, failures, connection loss --------------------------------------------------------------


def test_settings_apply_to_the_one_explain_only(pg_server: PgServer, session: Session) -> None:
    result = explain_statement(session, "SELECT * FROM items WHERE price = $1", settings={"enable_seqscan": "off"})
    root = _root(result)
    assert result.plan_json[0]["Settings"]["enable_seqscan"] == "off"
    assert root["Node Type"] == "Seq Scan"  # no index on price: the seq scan survives, disabled
    if pg_server.version_num >= 180000:
        assert root["Disabled"] is True
    else:
        assert root["Total Cost"] >= 1e10
    indexed = explain_statement(session, "SELECT * FROM items WHERE category = $1", settings={"enable_seqscan": "off"})
    assert all(node["Node Type"] != "Seq Scan" for node in _nodes(_root(indexed)))
    assert session.fetch_one("SELECT current_setting('enable_seqscan') AS v")["v"] == "on"


@pytest.mark.parametrize("name", ["default_transaction_read_only", "transaction_read_only", "search_path",
                                  "statement_timeout", "session_replication_role", "standard_conforming_strings"])
def test_only_planner_settings_are_accepted(session: Session, name: str) -> None:
    with pytest.raises(ValueError, match="not a planner setting"):
        explain_statement(session, "SELECT 1", settings={name: "off"})


@pytest.fixture
def limited_role(pg_server: PgServer, shop: str) -> Iterator[str]:
    role = f"qr_explainer_{os.getpid()}_{next(_roles)}"
    with _admin(shop) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT ON items TO {role}")
    yield role
    with _admin(shop) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def _workload(*texts: str) -> WorkloadStats:
    statements = [QueryStat(queryid=index + 1, query=text, total_exec_time=1000.0 - index)
                  for index, text in enumerate(texts)]
    return WorkloadStats(extension_version="1.10", statements=statements)


def test_each_failure_is_recorded_and_the_run_goes_on(shop: str, limited_role: str) -> None:
    params = conninfo_to_dict(shop)
    params["user"] = limited_role
    dsn = psycopg.conninfo.make_conninfo("", **params)
    workload = _workload(
        "SELECT * FROM items WHERE id = $1",
        "SELECT count(*) FROM items a JOIN items b ON a.price < b.price",  # slow under ANALYZE: timeout
        "SELECT * FROM secret WHERE x = $1",  # permission
        "SELECT * FROM items WHERE id =>> $1",  # syntax sqlglot cannot read: refused
        "SELECT * FROM items WHERE nope = $1",  # the server's error
        "SELECT * FROM items WHERE category = $1",
    )
    with open_session(dsn, SessionOptions(statement_timeout_ms=300)) as session:
        results = explain_workload(session, workload, analyze=True)
    assert list(results) == [1, 2, 3, 4, 5, 6]
    assert results[1].method == "analyze" and results[1].error is None
    assert "canceling statement due to statement timeout" in results[2].error
    assert "permission denied for table secret" in results[3].error
    assert results[4].error.startswith("refusing to run this SQL: cannot parse")
    assert 'column "nope" does not exist' in results[5].error  # generic plan tried: ANALYZE had no value
    assert "not analysed: cannot bind values: no representative value for $1" in results[5].note
    assert results[6].method == "analyze" and results[6].plan_json is not None


def test_a_lost_connection_stops_the_run_with_what_was_gathered(pg_server: PgServer, shop: str) -> None:
    workload = _workload("SELECT * FROM items WHERE id = $1", "SELECT * FROM items WHERE category = $1",
                         "SELECT * FROM items WHERE price = $1")
    with open_session(shop) as session, _admin(shop) as admin:
        def kill(done: int, total: int) -> None:
            if done == 1:
                admin.execute("SELECT pg_terminate_backend(%s, 5000)", [session.backend_pid])

        with pytest.raises(ExplainStopped) as stopped:
            explain_workload(session, workload, on_statement=kill)
    assert list(stopped.value.results) == [1]
    assert "after 1 of 3 plans" in str(stopped.value)
    assert stopped.value.results[1].plan_json is not None


def test_workload_skips_own_utility_textless_and_repeated_statements(session: Session) -> None:
    statements = [
        QueryStat(queryid=1, query="SELECT * FROM items WHERE id = $1"),
        QueryStat(queryid=1, query="SELECT * FROM items WHERE id = $1", toplevel=False),
        QueryStat(queryid=2, query="BEGIN"),
        QueryStat(queryid=3, query="/* queryreview */ SELECT 1\n/* queryreview */"),
        QueryStat(queryid=4, query=None),
        QueryStat(queryid=None, query="SELECT 2"),
        QueryStat(queryid=5, query="-- app\n(SELECT * FROM items WHERE category = $1)"),
        QueryStat(queryid=6, query="SELECT count(*) FROM items"),
    ]
    results = explain_workload(session, WorkloadStats(statements=statements), top=2)
    assert list(results) == [1, 5]
    assert all(result.plan_json is not None for result in results.values())


def test_every_message_is_marked_in_pg_stat_statements(disposable_shop: str) -> None:
    with _admin(disposable_shop) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    with open_session(disposable_shop) as session:
        for text, flags in (("SELECT * FROM items WHERE id = $1", {}), ("SELECT * FROM items WHERE id = $2", {}),
                            ("SELECT * FROM items WHERE category = $1", {"analyze": True}),
                            ("SELECT count(*) FROM items", {"settings": {"enable_seqscan": "off"}}),
                            ("INSERT INTO ledger (account, amount) VALUES ($1, $2)",
                             {"analyze": True, "analyze_writes": True, "disposable": True})):
            assert explain_statement(session, text, **flags).error is None
    with _admin(disposable_shop) as conn:
        texts = [row[0] for row in conn.execute(
            "SELECT query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = "
            "current_database()) AND query NOT LIKE '%pg_stat_statements%' "
            "AND query NOT IN ('BEGIN READ ONLY', 'ROLLBACK')").fetchall()]  # psycopg's own, as in Session
    assert texts
    assert all(is_own_query(text) for text in texts), [text for text in texts if not is_own_query(text)]


# -- collect --explain ----------------------------------------------------------------------------------


def _run_app_queries(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for value in (1, 2, 3):
            conn.execute("SELECT * FROM items WHERE id = %s", [value]).fetchall()
            conn.execute("SELECT count(*) FROM ledger WHERE account = %s AND amount > %s", [value, 10]).fetchall()
        conn.execute("SELECT * FROM items WHERE created > DATE '2024-03-01' AND id IN (1,2,3)").fetchall()


def test_collect_explain_puts_plans_into_the_snapshot(pg_server: PgServer, shop: str, tmp_path: Path) -> None:
    _run_app_queries(shop)
    snapshot = collect_from(shop, CollectOptions(explain=True, explain_top=50))
    by_text = {stat.query: stat.queryid for stat in snapshot.workload.statements}
    queryid = by_text["SELECT * FROM items WHERE id = $1"]
    assert snapshot.plans[queryid].method == _generic_method(pg_server)
    assert snapshot.plans[queryid].plan_json[0]["Plan"]["Node Type"] == "Index Scan"
    dated = next(queryid for text, queryid in by_text.items() if "DATE $" in text)
    assert snapshot.plans[dated].plan_json is not None and "read as" in snapshot.plans[dated].note
    path = tmp_path / "snap.json.gz"
    write_snapshot(snapshot, path)
    again = read_snapshot(path)
    assert again.plans == snapshot.plans
    plain = collect_from(shop, CollectOptions())
    assert plain.plans is None and "plans" not in plain.to_dict()


def test_collect_explain_with_redact_explains_the_redacted_texts(shop: str) -> None:
    _run_app_queries(shop)
    snapshot = collect_from(shop, CollectOptions(explain=True, redact=True))
    texts = {stat.queryid: stat.query for stat in snapshot.workload.statements}
    assert snapshot.plans
    for queryid, result in snapshot.plans.items():
        if result.method == "sampled_values" or result.method == "analyze":
            pytest.fail(f"values bound in a redacted snapshot: {texts[queryid]}")
    assert any(result.plan_json is not None for result in snapshot.plans.values())


def test_cli_collect_explain(shop: str, tmp_path: Path) -> None:
    _run_app_queries(shop)
    output = tmp_path / "snap.json"
    result = CliRunner().invoke(main, ["collect", shop, "--explain", "--analyze", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "statements explained" in result.output
    data = json.loads(output.read_text())
    methods = {plan["method"] for plan in data["plans"].values()}
    assert "analyze" in methods
    for plan in data["plans"].values():
        assert set(plan) == {"method", "plan", "error", "parameter_types", "note"}


@pytest.mark.parametrize(("args", "message"), [
    (["--analyze-writes"], "--disposable"),
    (["--explain", "--disposable"], "only applies to --analyze-writes"),
    (["--explain", "--catalog-only"], "--catalog-only"),
    (["--analyze", "--redact"], "--redact"),
])
def test_cli_collect_explain_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["collect", "host=/nonexistent", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_cli_collect_help_mentions_explain() -> None:
    result = CliRunner().invoke(main, ["collect", "--help"])
    assert result.exit_code == 0
    for option in ("--explain", "--explain-top", "--analyze", "--analyze-writes", "--disposable"):
        assert option in result.output


# -- text repairs (no server) ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT * FROM t WHERE a IN ($1,$2,$3)", "SELECT * FROM t WHERE a IN ($1 ,$2 ,$3 )"),
    ("SELECT $1::int,$2", "SELECT $1 ::int,$2"),
    ("SELECT '$1,$2', \"$1,x\", $q$ $1,$2 $q$ -- $1,$2\n/* $1,$2 */ FROM t",
     "SELECT '$1,$2', \"$1,x\", $q$ $1,$2 $q$ -- $1,$2\n/* $1,$2 */ FROM t"),
    ("SELECT E'\\'$1,$2' , a$1,b FROM t", "SELECT E'\\'$1,$2' , a$1,b FROM t"),
    ("SELECT $1 , $2", "SELECT $1 , $2"),
])
def test_spaced_parameters(text: str, expected: str) -> None:
    assert spaced_parameters(text) == expected
    sqlglot.parse_one(expected, read="postgres")


def test_typed_literal_repair_never_touches_strings_or_valid_sql() -> None:
    text = "SELECT 'DATE $1', x AT TIME ZONE $1, date FROM t WHERE d > DATE $2 AND i < interval $3 day to second"
    repaired, notes = repair_typed_literals(text)
    assert repaired == ("SELECT 'DATE $1', x AT TIME ZONE $1, date FROM t WHERE d > $2::DATE AND i < $3::interval")
    assert notes == ["DATE $2 read as $2::DATE", "interval $3 day to second read as $3::interval"]
    assert repair_typed_literals("SELECT * FROM t WHERE a = $1")[1] == []


def test_parameter_targets() -> None:
    tree = sqlglot.parse_one(
        "WITH c AS (SELECT 1 AS k) SELECT * FROM s.items i JOIN c ON c.k = $9 WHERE i.category = $1 "
        "AND price BETWEEN $2 AND $3 AND id = ANY($4) AND $5 < created AND id = $6 + 1 LIMIT $7 OFFSET $8",
        read="postgres")
    targets = parameter_targets(tree)
    assert (targets[1].role, targets[1].relations, targets[1].column) == ("eq", ("s.items",), "category")
    assert (targets[2].role, targets[3].role) == ("low", "high")
    assert targets[4].role == "array" and targets[5].role == "range" and targets[6].role == "operand"
    assert (targets[7].role, targets[8].role) == ("limit", "offset")
    assert targets[9].relations == ()  # a CTE is not a catalog table
    insert = parameter_targets(sqlglot.parse_one("INSERT INTO t (a, b) VALUES ($1, $2)", read="postgres"))
    assert (insert[2].relations, insert[2].column) == (("t",), "b")
