"""Speed of reading a large EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plan: target under 1 s for 10 MB.

    python bench/plan_parse_speed.py                 # capture (once, cached in bench/out/), then time
    python bench/plan_parse_speed.py --branches 2000 -r 7

The plan is captured from the embedded PostgreSQL 18 (scripts/capture_plan.py's server and
cache), never synthesized: a UNION ALL of many filtered selects over a small table, one
Append with thousands of Seq Scans (plus a partitioned-table variant with --partitions).
Prints the file size, node count, and for each repetition: json decode alone, parse_plan
(decode + tree + derived figures), and the full ``explain`` pipeline (plan rules + plan
summary rendering), with the median and best.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGET_S = 1.0
SETUP = """CREATE TABLE items (id int PRIMARY KEY, kind int NOT NULL, label text NOT NULL);
INSERT INTO items SELECT g, g % 97, 'item ' || g FROM generate_series(1, 2000) g;
ANALYZE items;
"""


def _partition_setup(partitions: int) -> str:
    lines = ["CREATE TABLE readings (id int NOT NULL, sensor int NOT NULL, value float8) PARTITION BY LIST (sensor);"]
    lines += [f"CREATE TABLE readings_{i} PARTITION OF readings FOR VALUES IN ({i});" for i in range(partitions)]
    lines.append(f"INSERT INTO readings SELECT g, g % {partitions}, g * 0.5 FROM generate_series(1, {partitions * 20}) g;")
    lines.append("ANALYZE readings;")
    return "\n".join(lines)


def capture_big_plan(branches: int, partitions: int) -> Path:
    """A real plan with thousands of nodes, captured once and cached under bench/out/."""
    name = f"plan-partitions-{partitions}.json" if partitions else f"plan-union-{branches}.json"
    path = OUT / name
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT / "scripts"))
    from capture_plan import capture

    if partitions:
        setup, query = _partition_setup(partitions), "SELECT sensor, value FROM readings WHERE value > 3"
    else:
        setup = SETUP
        query = " UNION ALL ".join(f"SELECT id, label FROM items WHERE kind = {i % 97} AND id > {i}"
                                   for i in range(branches))
    plan = capture(setup, query, analyze=True, settings=["max_parallel_workers_per_gather=0"])
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--branches", type=int, default=7500, help="UNION ALL branches (default 7500: about 10 MB)")
    parser.add_argument("--partitions", type=int, default=0, help="use a partitioned table with N partitions instead")
    parser.add_argument("-r", "--repeat", type=int, default=5)
    args = parser.parse_args()

    from queryreview.explain_pipeline import analyse
    from queryreview.plan.tree import parse_plan

    path = capture_big_plan(args.branches, args.partitions)
    text = path.read_text(encoding="utf-8")
    size_mb = len(text.encode()) / 1e6
    plan = parse_plan(text)
    print(f"{path.name}: {size_mb:.1f} MB, {len(plan.nodes)} nodes, depth {max(n.depth for n in plan.nodes)}")

    timings: dict[str, list[float]] = {"json.loads": [], "parse_plan": [], "explain pipeline": []}
    for _ in range(args.repeat):
        start = time.perf_counter()
        json.loads(text)
        timings["json.loads"].append(time.perf_counter() - start)
        start = time.perf_counter()
        parse_plan(text)
        timings["parse_plan"].append(time.perf_counter() - start)
        start = time.perf_counter()
        analyse(text, path.name)
        timings["explain pipeline"].append(time.perf_counter() - start)
    for label, values in timings.items():
        print(f"  {label:<17} median {statistics.median(values) * 1000:7.1f} ms   best {min(values) * 1000:7.1f} ms")
    median = statistics.median(timings["parse_plan"]) * 10 / size_mb
    verdict = "OK" if median < TARGET_S else "SLOW"
    print(f"parse_plan scaled to 10 MB: {median:.2f} s (target < {TARGET_S:.0f} s) {verdict}")


if __name__ == "__main__":
    main()
