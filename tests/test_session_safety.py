"""A Session is read-only, time-limited, single-statement, marked, and never leaks a password.

Every test runs against real servers (embedded PG 18 and system PG 15) via ``pg_server``.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgservers import PASSWORD_ROLE, PgServer, free_port
from queryreview.errors import RuntimeFailure
from queryreview.sources.postgres.connect import (
    MARKER,
    OWN_QUERY_CONDITION,
    ConnectionLost,
    PrivilegeError,
    QueryCancelled,
    QueryFailed,
    Session,
    SessionOptions,
    is_own_query,
    load_query,
    marked,
    open_session,
)

MULTI = "SELECT 1; CREATE TABLE canary ()"


@pytest.fixture(scope="module")
def shared_db(pg_server: PgServer) -> Iterator[str]:
    """One database for the tests that change nothing (fresh_db costs a CREATE DATABASE per test)."""
    name = f"qr_safety_{os.getpid()}"
    dsn = pg_server.make_database(name)
    yield dsn
    pg_server.drop_database(name)


@pytest.fixture
def session(shared_db: str) -> Iterator[Session]:
    with open_session(shared_db) as opened:
        yield opened


def _admin(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


def _exists(dsn: str, relation: str) -> bool:
    with _admin(dsn) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", [relation]).fetchone()[0]


def _wait_until(condition: Callable[[], bool], what: str, limit_s: float = 30.0) -> None:
    """Poll for a condition (not a timing assertion: the limit only stops a hung test)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def _running_sleep(admin_dsn: str, pid: int) -> Callable[[], bool]:
    def check() -> bool:
        with _admin(admin_dsn) as conn:
            row = conn.execute("SELECT state, query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        return row is not None and row[0] == "active" and "pg_sleep" in row[1]

    return check


# -- timeouts and transactions ---------------------------------------------------------------------


def test_statement_timeout_cancels_and_the_session_is_reusable(shared_db: str) -> None:
    with open_session(shared_db, SessionOptions(statement_timeout_ms=200)) as session:
        with pytest.raises(QueryCancelled) as caught:
            session.fetch_all("SELECT pg_sleep(10)")
        assert isinstance(caught.value, RuntimeFailure)
        assert "statement timeout" in str(caught.value)
        assert session.fetch_one("SELECT 41 + 1 AS answer") == {"answer": 42}
        assert session.fetch_one("SHOW statement_timeout") == {"statement_timeout": "200ms"}


def test_no_transaction_is_left_open(pg_server: PgServer, fresh_db: str) -> None:
    with _admin(fresh_db) as conn:
        conn.execute("CREATE TABLE t (a int)")
    with open_session(fresh_db) as session:
        session.fetch_all("SELECT * FROM t")
        session.fetch_one("SELECT count(*) FROM t WHERE a = %s", [1])
        with pytest.raises(QueryFailed):
            session.fetch_all("SELECT * FROM t WHERE no_such_column = 1")
        session.fetch_all("SELECT a FROM t")
        with _admin(fresh_db) as conn:
            state = conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s",
                                 [session.backend_pid]).fetchone()[0]
            assert state == "idle"
            # An open transaction of ours would hold AccessShareLock on t and block this.
            conn.execute("SET lock_timeout = '500ms'")
            conn.execute("ALTER TABLE t ADD COLUMN b int")


def test_safety_settings_win_over_the_users_options(shared_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=0 -c standard_conforming_strings=off -c work_mem=7MB")
    dsn = make_conninfo(shared_db, options="-c default_transaction_read_only=off -c lock_timeout=0")
    with open_session(dsn) as session:
        row = session.fetch_one(
            "SELECT current_setting('default_transaction_read_only') AS dtro,"
            " current_setting('transaction_read_only') AS tro, current_setting('lock_timeout') AS lock_timeout,"
            " current_setting('standard_conforming_strings') AS scs, current_setting('statement_timeout') AS st")
        assert row == {"dtro": "on", "tro": "on", "lock_timeout": "1s", "scs": "on", "st": "5s"}
    with open_session(shared_db) as session:  # PGOPTIONS is kept (our settings come after it)
        assert session.fetch_one("SHOW work_mem") == {"work_mem": "7MB"}


def test_connect_timeout_default_applies_only_when_unset(shared_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_session(shared_db) as session:
        assert session._conn.info.get_parameters()["connect_timeout"] == "10"
    with open_session(make_conninfo(shared_db, connect_timeout=7)) as session:
        assert session._conn.info.get_parameters()["connect_timeout"] == "7"
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "9")
    with open_session(shared_db) as session:
        assert session._conn.info.get_parameters()["connect_timeout"] == "9"


# -- one statement, extended protocol --------------------------------------------------------------


def test_the_simple_protocol_trap_is_real(fresh_db: str) -> None:
    """Control: plain psycopg with [] runs both statements. Our session must not (next test)."""
    with _admin(fresh_db) as conn:
        conn.execute("SELECT 1; CREATE TABLE control_canary ()", [])  # type: ignore[arg-type]
    assert _exists(fresh_db, "control_canary")


@pytest.mark.parametrize("params", [None, [], ()], ids=["none", "empty-list", "empty-tuple"])
@pytest.mark.parametrize("text", [
    MULTI,
    "SELECT 1; COMMIT; SET default_transaction_read_only = off; CREATE TABLE canary ()",
    "CREATE TABLE canary ()",
])
def test_multi_statement_and_ddl_are_refused(session: Session, shared_db: str, text: str, params) -> None:
    with pytest.raises(QueryFailed):
        session.fetch_all(text, params)
    assert not _exists(shared_db, "canary")
    assert session.fetch_one("SELECT 1 AS still_alive") == {"still_alive": 1}


def test_multi_statement_with_parameters_is_refused(session: Session, shared_db: str) -> None:
    with pytest.raises(QueryFailed):
        session.fetch_all("SELECT %s::int; CREATE TABLE canary ()", [1])
    assert not _exists(shared_db, "canary")


def test_literal_percent_without_params(session: Session) -> None:
    assert session.fetch_one("SELECT '100%' AS pct") == {"pct": "100%"}
    assert session.fetch_one("SELECT '100%%' AS pct, %s::text AS p", ["x"]) == {"pct": "100%", "p": "x"}
    assert session.fetch_one("SELECT %(v)s::int AS v", {"v": 5}) == {"v": 5}


def test_fetch_shapes(session: Session) -> None:
    assert session.fetch_all("SELECT g AS n FROM generate_series(1, 3) g") == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert session.fetch_one("SELECT g AS n FROM generate_series(1, 3) g") == {"n": 1}
    assert session.fetch_one("SELECT 1 WHERE false") is None
    assert session.fetch_all("SELECT 1 WHERE false") == []


# -- read only -------------------------------------------------------------------------------------


def test_read_only_is_in_force(fresh_db: str) -> None:
    session = open_session(fresh_db)
    with _admin(fresh_db) as conn:
        conn.execute("CREATE TABLE t (a int)")
        conn.execute("CREATE SEQUENCE s")
    for text in ["INSERT INTO t VALUES (1)", "UPDATE t SET a = 2", "DELETE FROM t",
                 "WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x", "SELECT nextval('s')",
                 "CREATE TEMP TABLE tmp (a int)"]:
        with pytest.raises(QueryFailed) as caught:
            session.fetch_all(text)
        assert caught.value.sqlstate == "25006", text  # read_only_sql_transaction
        assert "read-only transaction" in str(caught.value)
    session.close()
    with _admin(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_session_settings_changed_by_a_query_are_rolled_back(session: Session) -> None:
    session.fetch_all("SELECT set_config('default_transaction_read_only', 'off', false)")
    session.fetch_all("SET statement_timeout = 0")
    row = session.fetch_one("SELECT current_setting('default_transaction_read_only') AS d,"
                            " current_setting('statement_timeout') AS s")
    assert row == {"d": "on", "s": "5s"}


# -- what the server sees --------------------------------------------------------------------------


@pytest.fixture
def statement_log(pg_server: PgServer) -> Iterator[None]:
    with _admin(pg_server.admin_dsn) as conn:
        conn.execute("ALTER SYSTEM SET log_statement = 'all'")
        conn.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] '")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield
    finally:
        with _admin(pg_server.admin_dsn) as conn:
            conn.execute("ALTER SYSTEM RESET log_statement")
            conn.execute("ALTER SYSTEM RESET log_line_prefix")
            conn.execute("SELECT pg_reload_conf()")


_LOGGED = re.compile(r"\[(\d+)\] LOG:  (?:statement|execute [^:]*): (.*)")


def _logged_statements(pg_server: PgServer, pid: int, log_offset: int) -> list[str]:
    text = pg_server.log_text()[log_offset:]
    return [match.group(2) for match in map(_LOGGED.search, text.splitlines()) if match and int(match.group(1)) == pid]


def _wait_for_reload(pg_server: PgServer, dsn: str) -> None:
    def reloaded() -> bool:
        with psycopg.connect(dsn) as conn:
            return conn.execute("SHOW log_statement").fetchone()[0] == "all"

    _wait_until(reloaded, "log_statement = all after pg_reload_conf")


def test_server_log_shows_only_marked_reads(pg_server: PgServer, shared_db: str, statement_log: None) -> None:
    _wait_for_reload(pg_server, shared_db)
    log_offset = len(pg_server.log_text())
    with open_session(shared_db) as session:
        pid = session.backend_pid
        session.fetch_all("SELECT 1 AS one")
        session.fetch_one("SELECT %s::int AS two", [2])
        session.fetch_all("SHOW server_version")
        with pytest.raises(QueryFailed):
            session.fetch_all(MULTI)
    _wait_until(lambda: len(_logged_statements(pg_server, pid, log_offset)) >= 9, "the session's log lines")
    logged = _logged_statements(pg_server, pid, log_offset)
    ours = [text for text in logged if text.startswith(MARKER)]
    assert len(ours) == 3  # the multi-statement text fails at parse and is never executed
    for text in logged:
        keyword = text.removeprefix(MARKER).split()[0].upper()
        assert keyword in {"SELECT", "SET", "SHOW", "BEGIN", "ROLLBACK"}, text
        assert text.startswith(MARKER) or keyword in {"BEGIN", "ROLLBACK"}, text
    # Proof of the extended protocol: the server logs our statements as "execute", never "statement".
    log = pg_server.log_text()[log_offset:]
    assert re.search(rf"\[{pid}\] LOG:  execute <unnamed>: {re.escape(MARKER)} SELECT 1 AS one", log)
    assert not re.search(rf"\[{pid}\] LOG:  statement: {re.escape(MARKER)}", log)


def test_every_statement_is_marked_in_pg_stat_statements(pg_server: PgServer, fresh_db: str) -> None:
    """PG 18 drops the leading comment from pg_stat_statements texts; the trailing marker survives."""
    with open_session(fresh_db) as session:
        # Structurally different statements: pg_stat_statements merges texts that differ only in aliases.
        session.fetch_all("SELECT 1 AS a")
        session.fetch_all("SELECT %s::int AS a, 2 AS b", [5])
        session.fetch_all("  \n SELECT 1, 2, 3;  ")
        session.fetch_all("SELECT relname FROM pg_class WHERE relname = 'x' -- a trailing line comment")
    with _admin(fresh_db) as conn:
        rows = conn.execute(
            "SELECT query FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND query NOT LIKE '%pg_stat_statements%' AND query NOT IN ('BEGIN READ ONLY', 'ROLLBACK')").fetchall()
        marked_rows = conn.execute(
            "SELECT count(*) FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            f" AND {OWN_QUERY_CONDITION}").fetchone()[0]
    texts = [row[0] for row in rows]
    assert len(texts) == 4, texts
    assert all(is_own_query(text) for text in texts), texts
    assert marked_rows == 4
    if pg_server.version_num < 180000:
        assert all(text.startswith(MARKER) for text in texts), texts


def test_marked_text() -> None:
    assert marked("SELECT 1;  ") == f"{MARKER} SELECT 1\n{MARKER}"
    assert marked(marked("SELECT 1")) == marked("SELECT 1")
    assert marked("SELECT 1 -- note") == f"{MARKER} SELECT 1 -- note\n{MARKER}"
    assert is_own_query(marked("SELECT 1")) and not is_own_query("SELECT 1") and not is_own_query(None)


def test_application_name_in_pg_stat_activity(pg_server: PgServer, session: Session) -> None:
    with _admin(pg_server.admin_dsn) as conn:
        name = conn.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s",
                            [session.backend_pid]).fetchone()[0]
    assert name == "queryreview"


def test_server_version_and_target(pg_server: PgServer, session: Session) -> None:
    assert session.server_version_num == pg_server.version_num
    assert session.server_version_num // 10000 == {"pg18": 18, "pg15": 15}[pg_server.name]
    assert re.fullmatch(r"postgres@/[^:]+:\d+/qr_safety_\d+", session.target), session.target


# -- failures --------------------------------------------------------------------------------------


def test_closed_port_fails_with_runtime_failure() -> None:
    port = free_port()
    with pytest.raises(RuntimeFailure) as caught:
        open_session(f"postgresql://someone@127.0.0.1:{port}/x")
    message = str(caught.value)
    assert message.startswith(f"cannot connect to someone@127.0.0.1:{port}/x: ")
    assert "refused" in message
    assert "\n" not in message and caught.value.hint
    assert caught.value.exit_code == 3


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that completes TCP handshakes (listen backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("how", ["dsn", "options"])
def test_connect_timeout_against_a_silent_server(silent_listener: int, how: str) -> None:
    if how == "dsn":
        target, options = f"host=127.0.0.1 port={silent_listener} dbname=x connect_timeout=1", SessionOptions()
    else:
        target, options = f"postgresql://127.0.0.1:{silent_listener}/x", SessionOptions(connect_timeout_s=1)
    with pytest.raises(RuntimeFailure) as caught:
        open_session(target, options)
    assert "timeout expired" in str(caught.value)
    assert f"127.0.0.1:{silent_listener}/x" in str(caught.value)


def test_terminated_mid_query_is_a_clear_runtime_failure(pg_server: PgServer, shared_db: str) -> None:
    session = open_session(shared_db, SessionOptions(statement_timeout_ms=60000))
    pid = session.backend_pid
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            session.fetch_all("SELECT pg_sleep(60)")
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            outcome["error"] = error

    worker = threading.Thread(target=run)
    worker.start()
    try:
        _wait_until(_running_sleep(pg_server.admin_dsn, pid), "the session's pg_sleep to run")
        with _admin(pg_server.admin_dsn) as conn:
            assert conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    finally:
        worker.join(60)
    error = outcome.get("error")
    assert isinstance(error, ConnectionLost) and isinstance(error, RuntimeFailure), repr(error)
    assert str(error).startswith(f"connection to {session.target} lost: ")
    assert "terminat" in str(error)
    assert session.closed
    with pytest.raises(ConnectionLost, match="closed"):
        session.fetch_all("SELECT 1")


def test_ctrl_c_cancels_the_server_query_and_closes(pg_server: PgServer, shared_db: str) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGINT is delivered to the main thread only")
    session = open_session(shared_db, SessionOptions(statement_timeout_ms=60000))
    pid = session.backend_pid

    def interrupt() -> None:
        _wait_until(_running_sleep(pg_server.admin_dsn, pid), "the session's pg_sleep to run")
        os.kill(os.getpid(), signal.SIGINT)

    trigger = threading.Thread(target=interrupt)
    trigger.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            session.fetch_all("SELECT pg_sleep(60)")
    finally:
        trigger.join(60)
    assert session.closed

    def backend_gone() -> bool:
        with _admin(pg_server.admin_dsn) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0] == 0

    _wait_until(backend_gone, "the interrupted backend to exit")


def test_insufficient_privilege(pg_server: PgServer, fresh_db: str) -> None:
    role = f"qr_plain_{secrets.token_hex(3)}"
    with _admin(fresh_db) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute("CREATE TABLE private_t (a int)")
        conn.execute("REVOKE ALL ON private_t FROM PUBLIC")
    try:
        with open_session(make_conninfo(fresh_db, user=role)) as session:
            with pytest.raises(PrivilegeError) as caught:
                session.fetch_all("SELECT * FROM private_t")
            assert "private_t" in caught.value.missing
            assert caught.value.hint
            assert session.fetch_one("SELECT current_user AS u") == {"u": role}
    finally:
        with _admin(fresh_db) as conn:
            conn.execute("DROP TABLE private_t")
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_load_query_reads_packaged_sql(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from queryreview.sources.postgres import connect

    (tmp_path / "pg_stat_statements_1.10.sql").write_text("SELECT 1")
    monkeypatch.setattr(connect, "_QUERIES_DIR", tmp_path)
    assert load_query("pg_stat_statements_1.10") == "SELECT 1"
    assert load_query("pg_stat_statements_1.10.sql") == "SELECT 1"
    with pytest.raises(ValueError):
        load_query("../connect.py")
    with pytest.raises(FileNotFoundError):
        load_query("no_such_query")


# -- passwords ---------------------------------------------------------------------------------------


@pytest.fixture
def password_role(pg_server: PgServer) -> Iterator[str]:
    password = f"Pw-{secrets.token_hex(8)}"
    with _admin(pg_server.admin_dsn) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(PASSWORD_ROLE)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(PASSWORD_ROLE),
                                                                       sql.Literal(password)))
    try:
        yield password
    finally:
        with _admin(pg_server.admin_dsn) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(PASSWORD_ROLE)))


def _password_targets(pg_server: PgServer, dbname: str, password: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Ways to give a password: URI, key=value, PGPASSWORD (target, extra environment)."""
    socket_dir, port = str(pg_server.socket_dir), pg_server.port
    quoted_dir = socket_dir.replace("/", "%2F")
    return {
        "uri": (f"postgresql://{PASSWORD_ROLE}:{password}@{quoted_dir}:{port}/{dbname}", {}),
        "keyvalue": (make_conninfo("", host=socket_dir, port=port, user=PASSWORD_ROLE, dbname=dbname,
                                   password=password), {}),
        "pgpassword": (make_conninfo("", host=socket_dir, port=port, user=PASSWORD_ROLE, dbname=dbname),
                       {"PGPASSWORD": password}),
    }


@pytest.mark.parametrize("way", ["uri", "keyvalue", "pgpassword"])
def test_password_never_appears(pg_server: PgServer, shared_db: str, password_role: str, way: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(shared_db)["dbname"]
    target, environment = _password_targets(pg_server, dbname, password_role)[way]
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    with open_session(target) as session:
        assert session.fetch_one("SELECT current_user AS u") == {"u": PASSWORD_ROLE}
        assert password_role not in session.target and password_role not in repr(session)
        with pytest.raises(QueryFailed) as caught:
            session.fetch_all("SELECT * FROM no_such_table")
        assert password_role not in str(caught.value)


@pytest.mark.parametrize("way", ["uri", "keyvalue", "pgpassword"])
def test_wrong_password_fails_without_showing_it(pg_server: PgServer, shared_db: str, password_role: str,
                                                 way: str, monkeypatch: pytest.MonkeyPatch) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(shared_db)["dbname"]
    wrong = f"Wrong-{secrets.token_hex(8)}"
    target, environment = _password_targets(pg_server, dbname, wrong)[way]
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(RuntimeFailure) as caught:
        open_session(target)
    message = f"{caught.value} {caught.value.hint}"
    assert "password authentication failed" in message
    assert message.startswith(f"cannot connect to {PASSWORD_ROLE}@")
    assert wrong not in message and password_role not in message


def test_malformed_conninfo_does_not_echo_its_parts() -> None:
    secret = f"S{secrets.token_hex(6)}"
    for target in [f"host=localhost {secret}", f"host=localhost password={secret} bogus={secret}",
                   f"postgresql://u:{secret}@localhost/db?{secret}=1"]:
        with pytest.raises(RuntimeFailure) as caught:
            open_session(target)
        assert secret not in str(caught.value), target


# -- through the CLI ---------------------------------------------------------------------------------


def test_cli_collect_unreachable_exits_3_with_one_line() -> None:
    from click.testing import CliRunner

    from queryreview.cli import main

    if "collect" not in main.commands:
        pytest.skip("the collect command is not there yet")
    port = free_port()
    result = CliRunner().invoke(main, ["collect", f"postgresql://127.0.0.1:{port}/x"])
    assert result.exit_code == 3, result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("  hint:")]
    assert len(errors) == 1 and errors[0].startswith("queryreview: error: cannot connect to "), result.stderr
    assert "Traceback" not in result.stderr


def test_prepared_statement_fallback_is_single_statement_too(session: Session, shared_db: str) -> None:
    """Without pipeline support (old libpq) fetches go through a prepared statement: still one statement."""
    session._use_pipeline = False
    try:
        with pytest.raises(QueryFailed, match="multiple commands"):
            session.fetch_all(MULTI)
        assert not _exists(shared_db, "canary")
        assert session.fetch_one("SELECT %s::int AS v", [3]) == {"v": 3}
        assert session.fetch_one("SELECT 'x%' AS v") == {"v": "x%"}
    finally:
        session._use_pipeline = True
