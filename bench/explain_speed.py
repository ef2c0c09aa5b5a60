"""How fast does queryreview EXPLAIN the top statements of a busy pg_stat_statements?

Builds, on an embedded PostgreSQL 18, the database of bench/collect_speed.py (--tables tables,
--rows rows each, analyzed) and fills pg_stat_statements with --statements distinct statement
shapes. Then reads the workload and EXPLAINs the top --top statements (generic plans: the
path ``collect --explain`` takes), in-process, and once more through the CLI
(``collect --explain``, child process, start-up included). pg_stat_statements is reset after
the schema is built, so the workload is the statement shapes alone.

    python bench/explain_speed.py                      # 200 tables, 5000 statements, top 200
    python bench/explain_speed.py --analyze            # EXPLAIN ANALYZE with sampled values

Target (issue 4): EXPLAIN of the top 200 of a 5,000-statement pg_stat_statements < 5 s wall.

Measured here (PG 18.6 embedded, Python 3.11, 5,001 entries, top 200, all generic plans):
EXPLAIN of the top 200 in-process 0.58 s (2.9 ms per statement); the whole
``collect --explain`` in a child process (start-up, catalog, workload, plans, gzip) 1.8 s.
With --analyze (sampled values bound): 2.4 s in-process, 4.3 s for the whole command.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from collect_speed import build_schema, fill_statements, run_collect  # noqa: E402


def explain_in_process(dsn: str, top: int, analyze: bool) -> tuple[float, float, collections.Counter]:
    """Seconds to read the workload, seconds to EXPLAIN its top statements, and the methods used."""
    from queryreview.sources.postgres.connect import open_session
    from queryreview.sources.postgres.explain import explain_workload
    from queryreview.sources.postgres.stats import Selection, load_workload

    with open_session(dsn) as session:
        started = time.perf_counter()
        workload = load_workload(session, [], Selection(top=max(top, 500)))
        loaded = time.perf_counter()
        results = explain_workload(session, workload, top=top, analyze=analyze)
        finished = time.perf_counter()
    methods = collections.Counter(result.method if result.error is None else f"error ({result.method})"
                                  for result in results.values())
    return loaded - started, finished - loaded, methods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument("--top", type=int, default=200)
    parser.add_argument("--analyze", action="store_true", help="EXPLAIN ANALYZE (values sampled from pg_stats)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is shown")
    parser.add_argument("--workdir", type=Path, help="keep the server here (default: a temp dir)")
    args = parser.parse_args()

    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qr-xdg-")
    from queryreview.sources.embedded import EmbeddedServer

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="qr-bench-explain-"))
    server = EmbeddedServer.start(workdir / "pg18")
    try:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_explain WITH (FORCE)")
            conn.execute("CREATE DATABASE bench_explain")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT pg_stat_statements_reset()")
        dsn = server.dsn("bench_explain")
        started = time.perf_counter()
        build_schema(dsn, args.tables, args.rows)
        with psycopg.connect(dsn, autocommit=True) as conn:
            # The schema's bulk INSERTs would top the list: keep the application-like shapes only.
            conn.execute("SELECT pg_stat_statements_reset()")
        entries = fill_statements(dsn, args.tables, args.statements)
        print(f"setup: {args.tables} tables x {args.rows} rows, {entries} pg_stat_statements entries "
              f"({time.perf_counter() - started:.1f} s)")

        runs = sorted(explain_in_process(dsn, args.top, args.analyze) for _ in range(args.repeat))
        load_s, explain_s, methods = sorted(runs, key=lambda run: run[1])[len(runs) // 2]
        label = "EXPLAIN ANALYZE" if args.analyze else "EXPLAIN"
        print(f"in-process: read workload {load_s * 1000:.0f} ms; {label} of top {args.top}: {explain_s:.2f} s "
              f"({explain_s / max(args.top, 1) * 1000:.1f} ms per statement); methods: {dict(methods)}")

        extra = ["--top", "500", "--explain-top", str(args.top), "--explain"] + (["--analyze"] if args.analyze else [])
        output = workdir / "snapshot.json.gz"
        cli_runs = sorted(run_collect(dsn, output, extra) for _ in range(args.repeat))
        seconds, peak_mb, summary = cli_runs[len(cli_runs) // 2]
        print(f"collect {' '.join(extra)}: wall {seconds:.2f} s (min {cli_runs[0][0]:.2f}), peak RSS {peak_mb:.0f} MB, "
              f"snapshot {output.stat().st_size / 2**20:.2f} MB gz")
        print(f"    {summary.splitlines()[0]}")
    finally:
        server.stop()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
