"""A read-only, time-limited, clearly marked session on a live PostgreSQL.

    with open_session("postgresql://app@db/prod") as session:
        rows = session.fetch_all(load_query("stats.sql"), [10])

Safety comes in layers, each set before the server sees any of our SQL:

- startup options: statement_timeout, lock_timeout, idle_in_transaction_session_timeout,
  default_transaction_read_only=on, application_name;
- every fetch runs in ``BEGIN READ ONLY`` and is always rolled back;
- every fetch goes over the EXTENDED protocol (pipeline mode, or a prepared statement
  when the libpq is too old for pipelines), where the server accepts exactly one statement
  per message: ``SELECT 1; COMMIT; SET default_transaction_read_only = off; …`` is an error
  instead of an escape;
- every statement starts with MARKER so it can be told apart (and excluded) in
  pg_stat_statements and the server log.

Messages never contain a password: targets are built from the connection's resolved
host/port/user/dbname, never from the string the user gave.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from queryreview.errors import RuntimeFailure

MARKER = "/* queryreview */"

_QUERIES_DIR = Path(__file__).parent / "queries"
_CONNECT_HINT = "check the host, port, user and database; libpq settings (PG* variables, .pgpass, service files) apply"
_TIMEOUT_HINT = "raise the statement timeout, or run when the server is less busy"


@dataclass(frozen=True)
class SessionOptions:
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    idle_in_transaction_timeout_ms: int = 60000
    connect_timeout_s: int = 10  # only applied when the user's DSN/env did not set connect_timeout
    application_name: str = "queryreview"


class QueryFailed(RuntimeFailure):
    """The server refused or failed one query; the session is still usable."""

    def __init__(self, message: str, hint: str | None = None, sqlstate: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.sqlstate = sqlstate


class QueryCancelled(QueryFailed):
    """statement_timeout or lock_timeout stopped one query; catch it and carry on."""


class PrivilegeError(QueryFailed):
    """The role lacks a privilege; ``missing`` says which (the server's words)."""

    def __init__(self, message: str, missing: str, hint: str | None = None, sqlstate: str | None = None) -> None:
        super().__init__(message, hint=hint, sqlstate=sqlstate)
        self.missing = missing


class ConnectionLost(RuntimeFailure):
    """The server closed the connection (terminated, crashed, network); the session is dead."""


class Session:
    """One connection; every fetch is a single read-only statement, rolled back."""

    server_version_num: int
    target: str

    def __init__(self, connection: psycopg.Connection, options: SessionOptions) -> None:
        self._conn = connection
        self.options = options
        self.server_version_num = connection.info.server_version
        self.target = _display_target(connection.info.user, connection.info.host, connection.info.port,
                                      connection.info.dbname)
        self._use_pipeline = psycopg.Pipeline.is_supported()

    # -- public API ---------------------------------------------------------------------------

    def fetch_all(self, query: str, params: Sequence | Mapping | None = None) -> list[dict[str, Any]]:
        """Rows of one read-only statement as dicts; ``%s``/``%(name)s`` placeholders when params are given."""
        return self._run(query, params, limit=None)

    def fetch_one(self, query: str, params: Sequence | Mapping | None = None) -> dict[str, Any] | None:
        """First row of one read-only statement, or None."""
        rows = self._run(query, params, limit=1)
        return rows[0] if rows else None

    @property
    def backend_pid(self) -> int:
        """The server process serving this session (pg_stat_activity.pid)."""
        return self._conn.info.backend_pid

    @property
    def closed(self) -> bool:
        return self._conn.closed

    def close(self) -> None:
        if not self._conn.closed:
            self._conn.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Session({self.target}, server_version_num={self.server_version_num})"

    # -- internals ----------------------------------------------------------------------------

    def _run(self, query: str, params: Sequence | Mapping | None, limit: int | None) -> list[dict[str, Any]]:
        if self._conn.closed:
            raise ConnectionLost(f"connection to {self.target} is closed")
        text = marked(query)
        # Empty params must not reach psycopg: [] would turn on %-placeholder parsing (a literal
        # '%' then fails) and buys no protocol safety; the protocol is forced below instead.
        bound = params if params else None
        try:
            return self._fetch(text, bound, limit)
        except KeyboardInterrupt:
            # psycopg has already cancelled the running query on the server; leave nothing open.
            self._conn.close()
            raise
        except psycopg.Error as error:
            raise self._translate(error) from error
        finally:
            self._rollback()

    def _fetch(self, text: str, params: Sequence | Mapping | None, limit: int | None) -> list[dict[str, Any]]:
        with self._conn.cursor(row_factory=dict_row) as cursor:
            if self._use_pipeline:
                # Pipeline mode sends everything (BEGIN included) with PQsendQueryParams:
                # the extended protocol, one statement per message.
                with self._conn.pipeline() as pipeline:
                    cursor.execute(text, params, prepare=False)
                    pipeline.sync()  # results (and description) arrive only after a sync
                    return _rows(cursor, limit)
            # Old libpq without pipelines: a prepared statement is extended protocol too.
            cursor.execute(text, params, prepare=True)
            return _rows(cursor, limit)

    def _rollback(self) -> None:
        if self._conn.closed or self._conn.broken:
            return
        try:
            self._conn.rollback()
        except KeyboardInterrupt:
            self._conn.close()
            raise
        except psycopg.Error:
            self._conn.close()  # a connection we cannot roll back is not one to keep

    def _translate(self, error: psycopg.Error) -> RuntimeFailure:
        reason = _reason(error)
        sqlstate = getattr(error, "sqlstate", None)
        if self._conn.closed or self._conn.broken or isinstance(error, pg_errors.AdminShutdown):
            self.close()
            return ConnectionLost(f"connection to {self.target} lost: {reason}",
                                  hint="the server ended the session (terminated, restarted or unreachable)")
        if isinstance(error, pg_errors.QueryCanceled):
            return QueryCancelled(f"query cancelled on {self.target}: {reason}", hint=_TIMEOUT_HINT, sqlstate=sqlstate)
        if isinstance(error, pg_errors.LockNotAvailable):
            return QueryCancelled(f"query gave up waiting for a lock on {self.target}: {reason}",
                                  hint="another session holds a conflicting lock; retry later", sqlstate=sqlstate)
        if isinstance(error, pg_errors.InsufficientPrivilege):
            return PrivilegeError(f"insufficient privilege on {self.target}: {reason}", missing=reason,
                                  hint="grant pg_read_all_stats (or pg_monitor) to the role, or connect as one that has it",
                                  sqlstate=sqlstate)
        return QueryFailed(f"query failed on {self.target}: {reason}", sqlstate=sqlstate)


def open_session(target: str | None, options: SessionOptions = SessionOptions()) -> Session:
    """Connect with safety settings in the startup packet; ``None``/"" means libpq defaults (PG* env, service, .pgpass)."""
    ours = [
        f"-c statement_timeout={int(options.statement_timeout_ms)}",
        f"-c lock_timeout={int(options.lock_timeout_ms)}",
        f"-c idle_in_transaction_session_timeout={int(options.idle_in_transaction_timeout_ms)}",
        "-c default_transaction_read_only=on",
        # guard.py reads strings this way; with it off, 'a\'' would end elsewhere on the server.
        "-c standard_conforming_strings=on",
    ]
    connection = _connect(target or "", ours, options.application_name, False, options.connect_timeout_s)
    connection.read_only = True
    return Session(connection, options)


def open_writable(target: str | None, settings: Mapping[str, str | int], application_name: str) -> psycopg.Connection:
    """An autocommit read-WRITE connection, only for a database the user declared disposable (real-index
    costing, --verify): the same parsing, connect timeout and password scrubbing as ``open_session``;
    ``settings`` (``{"lock_timeout": 5000}``…) go in the startup packet after the user's own options."""
    ours = [f"-c {name}={value}" for name, value in settings.items()]
    ours += ["-c default_transaction_read_only=off", "-c standard_conforming_strings=on"]
    return _connect(target or "", ours, application_name, True, SessionOptions.connect_timeout_s)


def _connect(conninfo: str, ours: list[str], application_name: str, autocommit: bool,
             connect_timeout_s: int) -> psycopg.Connection:
    try:
        given = conninfo_to_dict(conninfo)
    except psycopg.Error as error:
        # libpq quotes fragments of the bad string in its message; they may be a password.
        raise RuntimeFailure("invalid connection string: " + _redact_quoted(_reason(error)),
                             hint="use a postgresql:// URI or key=value pairs") from None
    kwargs: dict[str, Any] = {
        "autocommit": autocommit,
        "application_name": application_name,
        "options": _startup_options(given, ours),
    }
    if "connect_timeout" not in given and not os.environ.get("PGCONNECT_TIMEOUT"):
        kwargs["connect_timeout"] = connect_timeout_s
    try:
        return psycopg.connect(conninfo, **kwargs)
    except psycopg.Error as error:
        where = _target_of_failed(error, given)
        reason = _scrub(_reason(error), _secrets(given))
        raise RuntimeFailure(f"cannot connect to {where}: {reason}", hint=_CONNECT_HINT) from None


def load_query(name: str) -> str:
    """Text of ``queries/<name>``; ``.sql`` is added unless given (``pg_stat_statements_1.10`` works)."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a query file name: {name!r}")
    filename = name if name.endswith(".sql") else f"{name}.sql"
    return (_QUERIES_DIR / filename).read_text(encoding="utf-8")


def marked(query: str) -> str:
    """The query text between two MARKERs: ``/* queryreview */ SELECT …\n/* queryreview */``.

    The prefix is what the server log and PG <= 17's pg_stat_statements show first; PG 18's
    pg_stat_statements drops leading comments but keeps a trailing one (seen on 18.6), hence
    the suffix. A trailing ';' is removed: pg_stat_statements would cut the text there.
    """
    body = query.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    if not body.startswith(MARKER):
        body = f"{MARKER} {body}"
    if not body.endswith(MARKER):
        body = f"{body}\n{MARKER}"  # own line: the query may end inside a -- comment
    return body


def is_own_query(text: str | None) -> bool:
    """Whether a pg_stat_statements/pg_stat_activity text was sent by a Session (marker at either end)."""
    if not text:
        return False
    stripped = text.strip()
    return stripped.startswith(MARKER) or stripped.endswith(MARKER)


# SQL condition for the same test, for queries that read pg_stat_statements (no parameters: plain %).
OWN_QUERY_CONDITION = f"(query LIKE '{MARKER}%' OR query LIKE '%{MARKER}')"


# -- helpers --------------------------------------------------------------------------------------


def _rows(cursor: psycopg.Cursor, limit: int | None) -> list[dict[str, Any]]:
    if cursor.description is None:
        return []
    if limit is None:
        return cursor.fetchall()
    return cursor.fetchmany(limit)


def _startup_options(given: Mapping[str, Any], ours: list[str]) -> str:
    """The user's own backend options (DSN, else PGOPTIONS) followed by ours, so ours win."""
    user = str(given.get("options") or os.environ.get("PGOPTIONS") or "").strip()
    return " ".join(([user] if user else []) + ours)


def _display_target(user: str | None, host: str | None, port: str | int | None, dbname: str | None) -> str:
    return f"{user or '?'}@{host or '?'}:{port or '?'}/{dbname or '?'}"


def _target_of_failed(error: psycopg.Error, given: Mapping[str, Any]) -> str:
    """user@host:port/dbname of the failed attempt (no password), from libpq's resolved values.

    psycopg attaches the failed PGconn to most connection errors; when it does not (its own
    connect timeout), fall back to the parsed conninfo over libpq's defaults (PG* variables).
    """
    pgconn = getattr(error, "pgconn", None)
    if pgconn is not None:
        def text(value: bytes | None) -> str | None:
            return value.decode("utf-8", "replace") if value else None

        return _display_target(text(pgconn.user), text(pgconn.host), text(pgconn.port), text(pgconn.db))
    resolved = {option.keyword.decode(): option.val.decode("utf-8", "replace")
                for option in psycopg.pq.Conninfo.get_defaults() if option.val is not None}
    resolved.update({key: str(value) for key, value in given.items() if value is not None})
    user = resolved.get("user")
    return _display_target(user, resolved.get("host") or resolved.get("hostaddr"), resolved.get("port"),
                           resolved.get("dbname") or user)


def _reason(error: BaseException) -> str:
    """The server's/libpq's message on one line, without psycopg's prefixes."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    message = (primary or str(error)).removeprefix("connection failed: ").removeprefix("connection is bad: ")
    # One attempt: the target is already in our message, so drop libpq's "connection to server at …".
    attempts = _ATTEMPT_PREFIX.findall(message)
    if len(attempts) == 1:
        message = _ATTEMPT_PREFIX.sub("", message)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    joined = ""
    for line in lines:
        if joined:
            joined += " " if joined.endswith((".", ":", ";", "?", "!")) else ". "
        joined += line
    return " ".join(joined.split())


_ATTEMPT_PREFIX = re.compile(r'connection to server (?:at|on socket) "[^"]*"(?: \([^)]*\))?(?:, port \d+)? failed: ')


def _secrets(given: Mapping[str, Any]) -> list[str]:
    values = [given.get("password"), os.environ.get("PGPASSWORD")]
    return [str(value) for value in values if value]


def _scrub(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def _redact_quoted(message: str) -> str:
    """Replace every "quoted" fragment of a libpq parse error, except option names we know."""
    known = {"=", "password", "host", "port", "user", "dbname"}
    return re.sub(r'"([^"]*)"', lambda m: m.group(0) if m.group(1) in known else '"***"', message)
