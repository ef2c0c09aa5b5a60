"""Start-up time of the CLI: ``queryreview --version`` and ``--help`` as subprocesses.

    python bench/startup.py            # median of 15 runs each; target < 150 ms
    python bench/startup.py -n 30

Prints the median and min wall time (and median CPU time, steadier on a busy machine) of each
command next to the floor (``python -c pass``),
and, for any command over the target (or always with --importtime), the modules that cost
the most to import (``python -X importtime``): those are the ones to import lazily.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_MS = 150.0
BIN = Path(sys.executable).parent


def run_ms(command: list[str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one run: the child's user+system time is steadier than wall time on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True)
    elapsed = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {completed.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return elapsed, cpu


def measure(command: list[str], runs: int) -> tuple[float, float, float]:
    """Median wall, min wall and median CPU milliseconds over ``runs`` runs."""
    run_ms(command)  # warm the page cache and .pyc files
    results = [run_ms(command) for _ in range(runs)]
    walls = [wall for wall, _ in results]
    return statistics.median(walls), min(walls), statistics.median(cpu for _, cpu in results)


def import_costs(args: list[str], top: int = 15) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) of the costliest imports of ``python -X importtime -m queryreview ARGS``."""
    completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "queryreview", *args],
                               capture_output=True, text=True)
    rows = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line[len("import time:"):].split("|", 2))
        rows.append((int(cumulative_us), int(self_us), name.rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=15)
    parser.add_argument("--importtime", action="store_true", help="always show the import breakdown")
    args = parser.parse_args()

    script = BIN / "queryreview"
    if not script.exists():
        raise SystemExit(f"{script} not found: install the package (pip install -e .) in this interpreter's venv")
    floor = measure([sys.executable, "-c", "pass"], args.runs)
    print(f"python -c pass (floor)          wall median {floor[0]:6.1f} ms  min {floor[1]:6.1f} ms  "
          f"CPU median {floor[2]:6.1f} ms")
    over = []
    for flag in ("--version", "--help"):
        median, best, cpu = measure([str(script), flag], args.runs)
        verdict = "OK" if median < TARGET_MS else "OVER TARGET"
        print(f"queryreview {flag:<10}          wall median {median:6.1f} ms  min {best:6.1f} ms  "
              f"CPU median {cpu:6.1f} ms   [{verdict}: target {TARGET_MS:.0f} ms wall]")
        if median >= TARGET_MS:
            over.append(flag)
    median, best, cpu = measure([str(script), "check", "--help"], args.runs)
    print(f"queryreview check --help        wall median {median:6.1f} ms  min {best:6.1f} ms  CPU median {cpu:6.1f} ms")
    for flag in over or (["--help"] if args.importtime else []):
        print(f"\ncostliest imports for `queryreview {flag}` (cumulative µs, self µs, module):")
        for cumulative, own, name in import_costs([flag]):
            print(f"  {cumulative:>9,} {own:>9,}  {name}")


if __name__ == "__main__":
    main()
