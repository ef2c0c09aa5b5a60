"""How fast and how big is ``queryreview collect`` on a busy database?

Builds, on an embedded PostgreSQL 18 (pg_stat_statements.max = 10000), a database of
--tables tables (8 columns, a primary key, two secondary indexes, a foreign key, --rows rows
each, analyzed) and fills pg_stat_statements with --statements distinct query shapes. Then runs
``queryreview collect DSN -o snap.json.gz`` in a child process, the way a user would, with and
without --redact, and reports wall time, the child's peak RSS and the snapshot size.

    python bench/collect_speed.py                      # 200 tables, 5000 statements
    python bench/collect_speed.py --statements 10000 --top 10000

Targets (issue 3): wall time < 5 s, peak memory < 300 MB, gzip snapshot < 20 MB.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

COLUMNS = ("id", "parent_id", "code", "status", "amount", "created_at", "note", "score")
_CHILD = """
import resource, sys
from queryreview.cli import main
from queryreview.cli_collect import collect
if "collect" not in main.commands:
    main.add_command(collect)
try:
    main(sys.argv[1:])
finally:
    print(f"maxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""


def build_schema(dsn: str, tables: int, rows: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        for number in range(tables):
            name = sql.Identifier(f"t{number:03d}")
            parent = sql.Identifier(f"t{max(number - 1, 0):03d}")
            conn.execute(sql.SQL(
                "CREATE TABLE {name} (id bigint PRIMARY KEY, parent_id bigint REFERENCES {parent} (id), "
                "code text NOT NULL, status text NOT NULL DEFAULT 'new', amount numeric(12, 2), "
                "created_at timestamptz NOT NULL DEFAULT now(), note varchar(200), score double precision)"
            ).format(name=name, parent=parent if number else name))
            conn.execute(sql.SQL("CREATE INDEX ON {} (parent_id)").format(name))
            conn.execute(sql.SQL("CREATE INDEX ON {} (status, created_at) WHERE status <> 'done'").format(name))
            conn.execute(sql.SQL(
                "INSERT INTO {} SELECT g, NULLIF(g - 1, 0), 'code-' || g, (ARRAY['new','paid','done'])[1 + g %% 3], "
                "g * 1.5, now() - g * interval '1 minute', repeat('x', g %% 50), random() "
                "FROM generate_series(1, %s) AS g"
            ).format(name), [rows])
        conn.execute("ANALYZE")


def shapes(tables: int, wanted: int):
    """Distinct statement shapes: table x select list x filter column (queryids differ by structure)."""
    select_lists = [combo for width in (1, 2, 3) for combo in itertools.combinations(COLUMNS, width)]
    filters = ("id", "parent_id", "code", "status", "amount")
    produced = 0
    for select_list, filter_column in itertools.product(select_lists, filters):
        for number in range(tables):
            yield sql.SQL("SELECT {cols} FROM {table} WHERE {col} = %s").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, select_list)),
                table=sql.Identifier(f"t{number:03d}"), col=sql.Identifier(filter_column),
            ), filter_column
            produced += 1
            if produced >= wanted:
                return


def fill_statements(dsn: str, tables: int, wanted: int) -> int:
    values = {"id": 5, "parent_id": 4, "code": "code-5", "status": "paid", "amount": 7.5}
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.pipeline():
            for statement, filter_column in shapes(tables, wanted):
                conn.execute(statement, [values[filter_column]])
        return conn.execute("SELECT count(*) FROM pg_stat_statements WHERE dbid = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()[0]


def run_collect(dsn: str, output: Path, extra: list[str]) -> tuple[float, float, str]:
    """Seconds, the child's own peak RSS in MB, and its stderr summary."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _CHILD, "collect", dsn, "-o", str(output), *extra],
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"collect failed ({result.returncode}):\n{result.stderr}")
    lines = result.stderr.strip().splitlines()
    peak_kb = int(lines[-1].removeprefix("maxrss_kb="))
    return elapsed, peak_kb / 1024, "\n".join(lines[:-1])


def step_times(dsn: str, top: int) -> list[tuple[str, float]]:
    """Seconds per collection step, in-process (where the time goes)."""
    from queryreview.collect import CollectOptions, collect_from

    marks: list[tuple[str, float]] = [("connect", time.perf_counter())]
    collect_from(dsn, CollectOptions(top=top), on_step=lambda name: marks.append((name, time.perf_counter())))
    marks.append(("end", time.perf_counter()))
    return [(name, following - started) for (name, started), (_, following) in zip(marks, marks[1:])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument("--top", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; the median is shown")
    parser.add_argument("--workdir", type=Path, help="keep the server and snapshots here (default: a temp dir)")
    args = parser.parse_args()

    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qr-xdg-")
    from queryreview.sources.embedded import EmbeddedServer

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="qr-bench-collect-"))
    server = EmbeddedServer.start(workdir / "pg18")
    try:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_collect WITH (FORCE)")
            conn.execute("CREATE DATABASE bench_collect")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT pg_stat_statements_reset()")
        dsn = server.dsn("bench_collect")
        started = time.perf_counter()
        build_schema(dsn, args.tables, args.rows)
        entries = fill_statements(dsn, args.tables, args.statements)
        print(f"setup: {args.tables} tables x {args.rows} rows, {entries} pg_stat_statements entries "
              f"in this database ({time.perf_counter() - started:.1f} s)")
        everything = str(max(entries, args.top))
        for label, extra in (("collect", ["--top", str(args.top)]),
                             ("collect --top all", ["--top", everything]),
                             ("collect --redact --top all", ["--redact", "--top", everything])):
            output = workdir / f"{label.replace(' ', '_').replace('--', '')}.json.gz"
            runs = sorted(run_collect(dsn, output, extra) for _ in range(args.repeat))
            seconds, peak_mb, summary = runs[len(runs) // 2]
            size_mb = output.stat().st_size / 2**20
            print(f"{label:28s} wall {seconds:5.2f} s (min {runs[0][0]:.2f})   peak RSS {peak_mb:6.1f} MB   "
                  f"snapshot {size_mb:6.2f} MB gz")
            print(f"    {summary.splitlines()[0]}")
        steps = step_times(dsn, args.top)
        print("in-process steps: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in steps))
    finally:
        server.stop()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
