"""How long does the embedded demo take, and are its planted problems real?

Times each step of the demo the way ``queryreview audit`` (no target) and ``--verify`` run it:

1. cold prepare: initdb, start, load examples/dashboard (in a fresh cache directory);
2. second prepare: stop, start again, find the cached database;
3. workload before: the dashboard's pgbench mix (warm-up, then the measured run);
4. index build: examples/dashboard/solution.sql (CREATE/DROP INDEX CONCURRENTLY);
5. workload after: the same mix, same duration and concurrency;
then puts the planted indexes back. Prints the times, the whole demo (2 + 3 + 4 + 5), the
speed-up of the mean transaction latency (before / after) and the per-script figures.

    .venv/bin/python bench/demo_speed.py                       # scale 1, 15 s runs, 4 clients
    .venv/bin/python bench/demo_speed.py --cache ~/.cache/queryreview/demo   # reuse a loaded cache
    .venv/bin/python bench/demo_speed.py --scale 0.5 --duration 10 --json bench/out/demo.json

Targets (issue 6): cold load under a minute on 2 cores; whole demo (cached prepare, workload
before, index build, workload after) well under 3 minutes; mean latency at least 10x lower
after the indexes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from queryreview.demo import (WorkloadRun, prepare_demo, reset_indexes, run_workload, solution_statements)


def apply_solution(dsn: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in solution_statements():
            conn.execute(statement)  # CREATE/DROP INDEX CONCURRENTLY, as --verify applies them
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def script_table(before: WorkloadRun, after: WorkloadRun) -> list[str]:
    lines = [f"  {'script':<14} {'weight':>6} {'tx before':>9} {'mean before':>12} {'p95 before':>11} "
             f"{'tx after':>9} {'mean after':>11} {'p95 after':>10} {'speed-up':>9}"]
    for name, was in before.per_script.items():
        now = after.per_script[name]
        ratio = was.latency_mean_ms / now.latency_mean_ms if now.latency_mean_ms else float("nan")
        lines.append(f"  {name:<14} {was.weight:>6} {was.transactions:>9} {was.latency_mean_ms:>10.1f}ms "
                     f"{(was.latency_p95_ms or 0):>9.1f}ms {now.transactions:>9} {now.latency_mean_ms:>9.2f}ms "
                     f"{(now.latency_p95_ms or 0):>8.2f}ms {ratio:>8.0f}x")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, help="demo cache directory (default: a fresh temporary one)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per measured workload run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress messages")
    args = parser.parse_args()
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qr-xdg-")
    temporary = args.cache is None
    cache = args.cache or Path(tempfile.mkdtemp(prefix="qr-demo-bench-"))
    if temporary:
        cache.chmod(0o755)  # as root the server runs as another OS user
    started = time.perf_counter()

    def say(message: str) -> None:
        if args.verbose:
            print(f"  [{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr)

    figures: dict = {"scale": args.scale, "duration_s": args.duration, "clients": args.clients, "jobs": args.jobs,
                     "cpus": os.cpu_count()}
    try:
        t0 = time.perf_counter()
        demo = prepare_demo(cache, scale=args.scale, progress=say)
        figures["prepare_first_s"] = time.perf_counter() - t0
        figures["loaded_now"] = demo.loaded_now
        figures["load_s"] = demo.load_seconds
        demo.close()

        t0 = time.perf_counter()
        demo = prepare_demo(cache, scale=args.scale, progress=say)
        figures["prepare_cached_s"] = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            before = run_workload(demo, duration_s=args.duration, clients=args.clients, jobs=args.jobs,
                                  warmup_s=args.warmup, progress=say)
            figures["workload_before_s"] = time.perf_counter() - t0
            figures["index_build_s"] = apply_solution(demo.dsn)
            t0 = time.perf_counter()
            after = run_workload(demo, duration_s=args.duration, clients=args.clients, jobs=args.jobs,
                                 warmup_s=args.warmup, progress=say)
            figures["workload_after_s"] = time.perf_counter() - t0
        finally:
            reset_indexes(demo, progress=say)
            demo.close()
    finally:
        if temporary:
            shutil.rmtree(cache, ignore_errors=True)

    whole = (figures["prepare_cached_s"] + figures["workload_before_s"] + figures["index_build_s"]
             + figures["workload_after_s"])
    figures.update(whole_demo_s=whole, before=before.to_dict(), after=after.to_dict(),
                   speedup_mean=before.latency_mean_ms / after.latency_mean_ms,
                   speedup_p95=before.latency_p95_ms / after.latency_p95_ms)
    first = "cold load" if figures["loaded_now"] else "first prepare (cache was already loaded)"
    print(f"demo at scale {args.scale:g} on {os.cpu_count()} CPUs; workload {args.duration:g} s, "
          f"{args.clients} clients, {args.jobs} threads, {args.warmup:g} s warm-up")
    print(f"  {first:<42} {figures['prepare_first_s']:7.1f} s   (target < 60 s; load alone "
          f"{(figures['load_s'] or 0):.1f} s)")
    print(f"  {'second prepare (cached)':<42} {figures['prepare_cached_s']:7.1f} s")
    print(f"  {'workload before (warm-up + run)':<42} {figures['workload_before_s']:7.1f} s")
    print(f"  {'index build (solution.sql, CONCURRENTLY)':<42} {figures['index_build_s']:7.1f} s")
    print(f"  {'workload after (warm-up + run)':<42} {figures['workload_after_s']:7.1f} s")
    print(f"  {'whole demo (2 + 3 + 4 + 5)':<42} {whole:7.1f} s   (target well under 180 s)")
    print(f"  mean latency  {before.latency_mean_ms:9.2f} ms -> {after.latency_mean_ms:7.2f} ms   "
          f"speed-up {figures['speedup_mean']:.0f}x (target >= 10x)")
    print(f"  p95 latency   {before.latency_p95_ms:9.2f} ms -> {after.latency_p95_ms:7.2f} ms   "
          f"speed-up {figures['speedup_p95']:.0f}x")
    print(f"  throughput    {before.tps:9.1f} tps -> {after.tps:7.1f} tps; transactions {before.transactions} -> "
          f"{after.transactions}; per-second tps spread (cv) {_cv(before)} -> {_cv(after)}")
    print("\n".join(script_table(before, after)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")


def _cv(run: WorkloadRun) -> str:
    return "n/a" if run.tps_cv is None else f"{run.tps_cv:.0%}"


if __name__ == "__main__":
    main()
