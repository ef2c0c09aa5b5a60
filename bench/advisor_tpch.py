"""How good, and how cheap, are the index advisor's recommendations on TPC-H?

TPC-H scale factor 1 (data from the ``duckdb==1.5.5`` + ``duckdb-extension-tpch==1.5.5``
wheels) is loaded into a throwaway system PostgreSQL 15 cluster with hypopg, with no
index at all (not even primary keys), and analyzed. The advisor then picks indexes for
the 19 queries other than 2, 17 and 20 (weight 1 each) with hypopg costing, at each
budget. Figures: the workload's total planner cost with the recommended indexes as a
percentage of its cost without any, what-if EXPLAIN calls, wall and CPU time, and the
chosen set's size: as estimated (what the budget is checked against: the advisor's size
model, or hypopg_relation_size with ``--sizes hypopg``) and as built for real (each chosen
index is created in a transaction that is rolled back, and measured).

    .venv/bin/python bench/advisor_tpch.py                      # budgets 200, 500, 1000 MB
    .venv/bin/python bench/advisor_tpch.py --budget 500 --algorithm extend
    .venv/bin/python bench/advisor_tpch.py --sizes model hypopg --repeat 3   # bench/ADVISOR.md's table
    .venv/bin/python bench/advisor_tpch.py --calibrate          # model and hypopg sizes vs built indexes

One-time cost: the data (about 1 GB of CSV) and the loaded cluster are kept in
``--cache`` (default ``~/.cache/queryreview/bench-tpch``); the first run takes a few
minutes, later runs start the cluster in seconds. duckdb lives in its own virtualenv in
the cache (created on first use): it is not a dependency of queryreview.

Adapting the queries to PostgreSQL (done by ``adapt_query``, documented in bench/ADVISOR.md):
``CAST('…' AS date) + INTERVAL 3 MONTH`` becomes ``… + INTERVAL '3 month'``; everything else
duckdb's ``tpch_queries()`` returns is valid PostgreSQL as is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

PG15_BIN = Path(os.environ.get("QUERYREVIEW_PG15_BIN", "/usr/lib/postgresql/15/bin"))
DUCKDB_PACKAGES = ("duckdb==1.5.5", "duckdb-extension-tpch==1.5.5")
TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
EXCLUDED_QUERIES = (2, 17, 20)
DEFAULT_CACHE = Path(os.environ.get("QUERYREVIEW_BENCH_CACHE", "~/.cache/queryreview/bench-tpch")).expanduser()
_TYPES = {"BIGINT": "bigint", "INTEGER": "integer", "VARCHAR": "varchar", "DATE": "date", "DOUBLE": "double precision"}

_GENERATE = r"""
import json, pathlib, sys
import duckdb, duckdb_extension_tpch
out = pathlib.Path(sys.argv[1]); scale = float(sys.argv[2])
ext = next(pathlib.Path(duckdb_extension_tpch.__file__).parent.glob("extensions/*/tpch.duckdb_extension"))
con = duckdb.connect()
con.execute(f"LOAD '{ext}'")
con.execute(f"CALL dbgen(sf={scale})")
schema = {}
for table, column, kind in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "ORDER BY table_name, ordinal_position").fetchall():
    schema.setdefault(table, []).append([column, kind])
for table in schema:
    con.execute(f"COPY {table} TO '{out / (table + '.csv')}' (FORMAT csv, HEADER false)")
queries = {number: text for number, text in con.execute("SELECT query_nr, query FROM tpch_queries()").fetchall()}
(out / "schema.json").write_text(json.dumps(schema))
(out / "queries.json").write_text(json.dumps(queries))
"""


# -- data --------------------------------------------------------------------------------------


def duckdb_python(cache: Path) -> Path:
    """A python with the duckdb wheels: the cache's own virtualenv, created on first use."""
    venv = cache / "duckdb-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with {' '.join(DUCKDB_PACKAGES)} …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *DUCKDB_PACKAGES], check=True)
    return python


def generate_data_files(cache: Path, scale: float) -> Path:
    """CSV files, schema and queries from duckdb's dbgen, generated once per scale factor."""
    out = cache / f"sf{scale:g}"
    if (out / "queries.json").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    print(f"generating TPC-H sf={scale:g} into {out} …", file=sys.stderr)
    subprocess.run([str(duckdb_python(cache)), "-c", _GENERATE, str(out), str(scale)], check=True)
    return out


def adapt_query(text: str) -> str:
    """duckdb's TPC-H text as PostgreSQL: ``INTERVAL 3 MONTH`` -> ``INTERVAL '3 month'``."""
    text = re.sub(r"INTERVAL\s+(\d+)\s+(YEAR|MONTH|DAY)S?\b",
                  lambda m: f"INTERVAL '{m.group(1)} {m.group(2).lower()}'", text, flags=re.IGNORECASE)
    return text.strip().rstrip(";")


def workload_queries(data: Path) -> dict[int, str]:
    queries = json.loads((data / "queries.json").read_text())
    return {int(number): adapt_query(text) for number, text in sorted(queries.items(), key=lambda kv: int(kv[0]))
            if int(number) not in EXCLUDED_QUERIES}


# -- the cluster ---------------------------------------------------------------------------------


def _as_postgres() -> dict:
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def start_cluster(cache: Path, scale: float) -> tuple[str, object, str]:
    """The cache's PG 15 cluster (created on first use), started: (DSN of database tpch, stop, admin DSN)."""
    for binary in ("initdb", "pg_ctl"):
        if not (PG15_BIN / binary).exists():
            sys.exit(f"PostgreSQL 15 not found in {PG15_BIN}: apt-get install postgresql-15 postgresql-15-hypopg")
    cluster = cache / f"pg15-sf{scale:g}"
    data = cluster / "data"
    run = dict(check=True, capture_output=True, text=True, cwd="/", **_as_postgres())
    if not data.exists():
        cluster.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for parent in [cluster, *cluster.parents]:
                parent.chmod(parent.stat().st_mode | 0o011)
            shutil.chown(cluster, "postgres", "postgres")
        subprocess.run([str(PG15_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--locale=C", "--no-sync"], **run)
        settings = {"listen_addresses": "''", "unix_socket_directories": f"'{cluster}'", "port": "5499",
                    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                    "shared_buffers": "'512MB'", "maintenance_work_mem": "'1GB'", "max_wal_size": "'4GB'",
                    "logging_collector": "off"}
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))
    log = cluster / "server.log"
    status = subprocess.run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "status"], capture_output=True, cwd="/",
                            **_as_postgres())
    if status.returncode != 0:
        subprocess.run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120", "start"], **run)

    def stop() -> None:
        subprocess.run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       check=False, capture_output=True, cwd="/", **_as_postgres())

    admin = f"host={cluster} port=5499 user=postgres dbname=postgres"
    return admin.replace("dbname=postgres", "dbname=tpch"), stop, admin


def load(dsn: str, admin: str, data: Path) -> None:
    """Tables without any index or constraint, COPY, ANALYZE; skipped when already loaded."""
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = 'tpch'").fetchone():
            with psycopg.connect(dsn) as check:
                done = check.execute("SELECT obj_description('lineitem'::regclass)").fetchone()
            if done and done[0] == "loaded":
                return
            conn.execute("DROP DATABASE tpch WITH (FORCE)")
        conn.execute("CREATE DATABASE tpch")
    schema = json.loads((data / "schema.json").read_text())
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        for table in TABLES:
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_pg_type(kind)))
                for name, kind in schema[table])
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), columns))
            started = time.perf_counter()
            with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(sql.Identifier(table))) as copy, \
                    (data / f"{table}.csv").open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            print(f"  {table}: loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        conn.execute("VACUUM ANALYZE")
        conn.execute("COMMENT ON TABLE lineitem IS 'loaded'")


def _pg_type(kind: str) -> str:
    if kind.startswith("DECIMAL"):
        return kind.replace("DECIMAL", "numeric")
    return _TYPES[kind]


# -- the anchor: Extend (Schlosser et al. 2019, as evaluated by Kossmann et al., VLDB 2020) ----------------


def extend(statements, whatif, budget_bytes: int, max_width: int = 2, min_improvement: float = 1.003):
    """Extend: start from nothing; each step either adds the one-column index with the best cost
    reduction per byte, or appends one column to a chosen index (reduction per added byte); stops
    when no step improves the workload cost by min_improvement or fits the budget."""
    from queryreview.advisor.candidates import Candidate, column_key

    columns = sorted({(table, column) for statement in statements for table, names in statement.columns.items()
                      for column in names})
    singles = [Candidate(table, (column_key(column),)) for table, column in columns]
    by_table: dict[str, list[str]] = {}
    for table, column in columns:
        by_table.setdefault(table, []).append(column)

    def total(config) -> float:
        return sum(result.cost for result in whatif.costs(statements, config).values() if result.cost is not None)

    chosen: list = []
    current = total(frozenset())
    used = 0
    while True:
        best = None  # (ratio, new config list, cost, bytes)
        for single in singles:
            if single in chosen:
                continue
            size = whatif.size(single)
            if size is None or used + size > budget_bytes:
                continue
            cost = total(frozenset(chosen + [single]))
            ratio = (current - cost) / size
            if cost * min_improvement < current and (best is None or ratio > best[0]):
                best = (ratio, chosen + [single], cost, used + size)
        for index in chosen:
            if len(index.keys) >= max_width:
                continue
            for column in by_table[index.table]:
                if column in index.key_columns():
                    continue
                wider = Candidate(index.table, index.keys + (column_key(column),))
                if wider in chosen:
                    continue
                size = whatif.size(wider)
                if size is None:
                    continue
                extra = size - whatif.size(index)
                if used + extra > budget_bytes:
                    continue
                config = [wider if item == index else item for item in chosen]
                cost = total(frozenset(config))
                ratio = (current - cost) / max(extra, 1)
                if cost * min_improvement < current and (best is None or ratio > best[0]):
                    best = (ratio, config, cost, used + extra)
        if best is None:
            return chosen
        _, chosen, current, used = best


# -- the run ------------------------------------------------------------------------------------------


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) the server process serving our session has used; None if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_one(dsn: str, catalog, statements, candidates, budget_mb: int, algorithm: str, sizes: str = "model") -> dict:
    """One advisor run at one budget on a fresh session; figures for the table. ``sizes``: what the budget
    is checked against, the advisor's size model ("model") or hypopg_relation_size ("hypopg")."""
    from queryreview.advisor.select import Limits, select
    from queryreview.advisor.whatif import HypoCosting, WhatIf
    from queryreview.sources.postgres.connect import SessionOptions, open_session

    budget = budget_mb << 20
    with open_session(dsn, SessionOptions(statement_timeout_ms=60000)) as session, \
            HypoCosting(session, sizes=sizes) as costing:
        whatif = WhatIf(costing, infer=algorithm != "extend")
        server_before = _backend_cpu(session.backend_pid)
        wall, cpu = time.perf_counter(), time.process_time()
        if algorithm == "extend":
            chosen = extend(statements, whatif, budget)
        else:
            chosen = select(statements, candidates, whatif, Limits(budget_bytes=budget, max_indexes=None)).chosen
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server_after = _backend_cpu(session.backend_pid)
        calls, inferred = whatif.calls, whatif.inferred
        before = sum(r.cost for r in whatif.costs(statements, frozenset()).values())
        after = sum(r.cost for r in whatif.costs(statements, frozenset(chosen)).values())
        used = sum(whatif.size(candidate) for candidate in chosen)
    server = server_after - server_before if server_before is not None and server_after is not None else None
    return {"algorithm": algorithm, "sizes": sizes, "budget_mb": budget_mb, "percent": 100 * after / before,
            "calls": calls, "inferred": inferred,
            "wall_s": wall, "client_cpu_s": cpu, "server_cpu_s": server, "indexes": len(chosen),
            "used_mb": used / (1 << 20), "chosen": [candidate.label() for candidate in chosen],
            "definitions": [candidate.definition() for candidate in chosen]}


# -- real sizes --------------------------------------------------------------------------------------


_BUILT_NOW: set[str] = set()


def real_sizes(dsn: str, definitions: list[str], cache: Path, rebuild: bool = False) -> dict[str, int]:
    """pg_relation_size of each index built for real (CREATE INDEX, then ROLLBACK: nothing stays).

    The data never changes once loaded, so sizes are kept in ``cache`` by definition (a JSON file in
    the cluster's directory); ``rebuild`` builds each again once in this process."""
    known = json.loads(cache.read_text()) if cache.exists() else {}
    missing = sorted({d for d in definitions if d not in known or (rebuild and d not in _BUILT_NOW)})
    if missing:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            for definition in missing:
                started = time.perf_counter()
                conn.execute("BEGIN")
                try:
                    conn.execute(definition.replace("CREATE INDEX ON", "CREATE INDEX qr_bench_real ON", 1))
                    known[definition] = conn.execute("SELECT pg_relation_size('qr_bench_real')").fetchone()[0]
                finally:
                    conn.execute("ROLLBACK")
                _BUILT_NOW.add(definition)
                print(f"  built for real in {time.perf_counter() - started:.1f} s, rolled back: "
                      f"{known[definition] / (1 << 20):.1f} MiB  {definition}", file=sys.stderr)
        cache.write_text(json.dumps(known, indent=1, sort_keys=True))
    return {d: known[d] for d in definitions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--budget", type=int, nargs="*", default=[200, 500, 1000], help="budgets in MB")
    parser.add_argument("--algorithm", choices=("queryreview", "extend", "both"), default="both")
    parser.add_argument("--sizes", choices=("model", "hypopg"), nargs="*", default=["model"],
                        help="what budgets are checked against: the advisor's size model (default) or "
                             "hypopg_relation_size; both: --sizes model hypopg")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; times are the medians")
    parser.add_argument("--no-real-sizes", action="store_true",
                        help="skip building the chosen indexes for real (rolled back) to measure them")
    parser.add_argument("--rebuild-sizes", action="store_true", help="ignore the cache of real sizes")
    parser.add_argument("--calibrate", action="store_true",
                        help="only compare hypopg's and the model's sizes with real built ones, for every "
                             "candidate and every one-column index")
    parser.add_argument("--show-indexes", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)

    from queryreview.advisor.candidates import generate
    from queryreview.advisor.existing import served_by
    from queryreview.advisor.statements import from_sources
    from queryreview.collect import CollectOptions, collect_from
    from queryreview.model import SourceText

    data = generate_data_files(args.cache, args.scale)
    dsn, stop, admin = start_cluster(args.cache, args.scale)
    size_cache = args.cache / f"pg15-sf{args.scale:g}" / "real_sizes.json"
    try:
        load(dsn, admin, data)
        catalog = collect_from(dsn, CollectOptions(statements=False)).catalog
        queries = workload_queries(data)
        if args.calibrate:
            statements, _ = from_sources([SourceText(f"q{number:02d}.sql", text) for number, text in queries.items()])
            pool = generate(statements, catalog)
            print(calibrate(dsn, catalog, pool.candidates, size_cache, args.rebuild_sizes))
            return 0
        algorithms = ["queryreview", "extend"] if args.algorithm == "both" else [args.algorithm]
        rows = []
        for sizes in args.sizes:
            for budget in args.budget:
                for algorithm in algorithms:
                    runs = []
                    for _ in range(max(args.repeat, 1)):
                        started = time.perf_counter()
                        statements, _ = from_sources([SourceText(f"q{number:02d}.sql", text)
                                                      for number, text in queries.items()])
                        pool = generate(statements, catalog)
                        candidates = [c for c in pool.candidates if served_by(c, catalog) is None]
                        prepare = time.perf_counter() - started
                        run = run_one(dsn, catalog, statements, candidates, budget, algorithm, sizes)
                        run["wall_s"] += prepare if algorithm == "queryreview" else 0.0
                        run["candidates"] = len(candidates) if algorithm == "queryreview" else None
                        runs.append(run)
                    row = _median(runs)
                    if not args.no_real_sizes:
                        built = real_sizes(dsn, row["definitions"], size_cache, args.rebuild_sizes)
                        row["real_mb"] = sum(built.values()) / (1 << 20)
                    rows.append(row)
                    print(_line(row), file=sys.stderr)
                    if args.show_indexes:
                        for label in row["chosen"]:
                            print(f"      {label}", file=sys.stderr)
        print(_table(rows))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))
    finally:
        stop()
    return 0


def _median(runs: list[dict]) -> dict:
    """The first run, with the median of each time over all runs (the rest is deterministic)."""
    import statistics

    row = dict(runs[0])
    for key in ("wall_s", "client_cpu_s", "server_cpu_s"):
        values = [run[key] for run in runs if run[key] is not None]
        row[key] = statistics.median(values) if values else None
    row["repeat"] = len(runs)
    return row


def calibrate(dsn: str, catalog, candidates, cache: Path, rebuild: bool) -> str:
    """hypopg_relation_size and the size model against real built sizes: a table and its summary."""
    import statistics

    from queryreview.advisor.candidates import Candidate, column_key
    from queryreview.advisor.sizes import SizeModel
    from queryreview.advisor.whatif import HypoCosting
    from queryreview.sources.postgres.connect import SessionOptions, open_session

    sample = {c.definition(): c for c in candidates if c.method == "btree" and not c.predicate}
    for table in catalog.tables.values():
        for column in table.columns:
            single = Candidate(table.qualified_name, (column_key(column.name),))
            sample.setdefault(single.definition(), single)
    real = real_sizes(dsn, sorted(sample), cache, rebuild)
    with open_session(dsn, SessionOptions(statement_timeout_ms=60000)) as session, \
            HypoCosting(session, sizes="hypopg") as costing:
        costing.prefetch(list(sample.values()))
        hypo = {definition: costing.sizes.get(candidate) for definition, candidate in sample.items()}
        model = SizeModel.from_session(session, sorted({c.table for c in sample.values()}))
        modelled = {definition: model.bytes(candidate) for definition, candidate in sample.items()}
    rows = [(definition, real[definition], hypo[definition], modelled[definition]) for definition in sorted(sample)
            if real[definition] >= 1 << 20 and hypo[definition] and modelled[definition]]

    def error(estimate: int, actual: int) -> float:
        return 100.0 * (estimate / actual - 1)

    lines = ["| index | real | hypopg | model |", "|---|---:|---:|---:|"]
    for definition, actual, hypopg, estimate in sorted(rows, key=lambda row: -abs(error(row[3], row[1]))):
        lines.append(f"| {definition.replace('CREATE INDEX ON public.', '')} | {actual / (1 << 20):.1f} MB | "
                     f"{hypopg / (1 << 20):.1f} MB ({error(hypopg, actual):+.0f}%) | "
                     f"{estimate / (1 << 20):.1f} MB ({error(estimate, actual):+.0f}%) |")
    lines.append("")
    lines.append(f"{len(rows)} indexes of 1 MB or more (of {len(sample)} built), error against the real size:")
    for name, position in (("hypopg_relation_size", 2), ("size model", 3)):
        signed = [error(row[position], row[1]) for row in rows]
        absolute = [abs(value) for value in signed]
        lines.append(f"- {name}: median |error| {statistics.median(absolute):.1f}%, mean {statistics.mean(absolute):.1f}%, "
                     f"range {min(signed):+.0f}% .. {max(signed):+.0f}%, within ±10%: {sum(v <= 10 for v in absolute)}, "
                     f"within ±30%: {sum(v <= 30 for v in absolute)}")
    return "\n".join(lines)


def _line(row: dict) -> str:
    server = f"{row['server_cpu_s']:.1f}" if row["server_cpu_s"] is not None else "?"
    real = f", {row['real_mb']:.0f} MB built for real" if row.get("real_mb") is not None else ""
    return (f"{row['algorithm']:>11} @ {row['budget_mb']:>4} MB ({row['sizes']} sizes): {row['percent']:.1f}% of the "
            f"no-index cost, {row['calls']} what-if calls ({row['inferred']} more answers inferred from plans), "
            f"{row['wall_s']:.1f} s wall (CPU: client {row['client_cpu_s']:.1f} s, server {server} s), "
            f"{row['indexes']} indexes, {row['used_mb']:.0f} MB{real}")


def _table(rows: list[dict]) -> str:
    lines = ["| budget | sizes | algorithm | cost with indexes | what-if calls | wall time | CPU client + server | "
             "indexes (size by the sizes used) | real built size |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        server = row["server_cpu_s"] if row["server_cpu_s"] is not None else float("nan")
        real = f"{row['real_mb']:.0f} MB" if row.get("real_mb") is not None else "–"
        if row.get("real_mb") is not None and row["real_mb"] > row["budget_mb"]:
            real += " (OVER the budget)"
        lines.append(f"| {row['budget_mb']} MB | {row['sizes']} | {row['algorithm']} | {row['percent']:.1f}% | "
                     f"{row['calls']:,} | {row['wall_s']:.1f} s | {row['client_cpu_s'] + server:.1f} s | "
                     f"{row['indexes']} ({row['used_mb']:.0f} MB) | {real} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
