"""Capture real EXPLAIN (FORMAT JSON) output from the embedded PostgreSQL 18, for rule fixtures.

    python scripts/capture_plan.py --setup setup.sql --query "SELECT ..." [--analyze] \
        [--set work_mem=64kB --set jit_above_cost=0] [--yaml]

The setup SQL runs once per distinct text, in a database named after its hash (kept, so
reruns are fast). Plan fixtures in rules/*.yaml must come from here (or another real
server), never be typed by hand. --yaml prints the plan as a YAML flow value to paste
under `plan:` in a case.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import psycopg
from psycopg import sql

from queryreview.sources.embedded import EmbeddedServer

CACHE = Path(os.environ.get("QUERYREVIEW_CAPTURE_DIR", Path.home() / ".cache" / "queryreview" / "capture-pg18"))


def capture(setup: str, query: str, analyze: bool, settings: list[str], dsn: str | None = None) -> list:
    """Plan of ``query`` in a database made by ``setup`` on ``dsn`` (a superuser DSN to a server's
    postgres database), or on the cached embedded PG 18 when ``dsn`` is None."""
    if dsn is None:
        server = EmbeddedServer.start(CACHE)
        dsn_for = server.dsn
    else:
        from psycopg.conninfo import make_conninfo

        def dsn_for(dbname: str) -> str:
            return make_conninfo(dsn, dbname=dbname)
    name = "fx_" + hashlib.sha1(setup.encode()).hexdigest()[:12]
    with psycopg.connect(dsn_for("postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            with psycopg.connect(dsn_for(name), autocommit=True) as conn:
                conn.execute(setup)
    options = "ANALYZE, BUFFERS, SETTINGS, FORMAT JSON" if analyze else "SETTINGS, FORMAT JSON"
    with psycopg.connect(dsn_for(name)) as conn:
        for setting in settings:
            key, _, value = setting.partition("=")
            conn.execute("SELECT set_config(%s, %s, true)", (key.strip(), value.strip()))
        row = conn.execute(f"EXPLAIN ({options}) {query}").fetchone()
        conn.rollback()
    return row[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", required=True, help="file with the schema and data SQL")
    parser.add_argument("--query", required=True)
    parser.add_argument("--analyze", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="setting=value for the EXPLAIN's transaction")
    parser.add_argument("--yaml", action="store_true", help="print as compact JSON on one line (valid YAML)")
    parser.add_argument("--dsn", help="superuser DSN of another server (e.g. a PG 15 with JIT) instead of the embedded PG 18")
    args = parser.parse_args()
    plan = capture(Path(args.setup).read_text(), args.query, args.analyze, args.set, args.dsn)
    if args.yaml:
        print(json.dumps(plan, separators=(",", ":")))
    else:
        json.dump(plan, sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
