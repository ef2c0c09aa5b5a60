"""Speed of ``queryreview check`` in-process: statements per second on one core, memory, per-rule cost.

    python bench/check_speed.py                  # 6,000-statement corpus, 5 repetitions
    python bench/check_speed.py -n 20000 -r 3 --catalog

Prints, for the same corpus:
  * the full check pipeline (split + parse + every rule, as ``queryreview check`` runs it,
    i.e. without a catalog unless --catalog): median and best statements/s over the repetitions;
  * a breakdown: splitting alone, sqlglot parsing alone, building the node index, engine overhead,
    and the fix SQL the output renders on demand (Fix.later) after the pipeline;
  * pglast (libpg_query) parse-only speed on the same statements, and our ratio to it;
  * peak memory: ru_maxrss of the process and tracemalloc's peak for one pipeline run;
  * the cost of each rule's check() over the parsed corpus, slowest first.
Target: 2,000 statements/s on one core for the whole pipeline. Times are CPU time of the
process (time.process_time), so other load on the machine disturbs them less than wall time;
the pipeline's wall time is printed too.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

TARGET = 2000.0


def pin_to_one_core() -> str:
    try:
        os.sched_setaffinity(0, {0})
        return "pinned to core 0"
    except (AttributeError, OSError) as error:  # not Linux, or not allowed
        return f"not pinned ({error.__class__.__name__})"


def timed(function: Callable[[], object]) -> float:
    """CPU seconds of this process: on a shared, noisy machine far steadier than wall time."""
    started = time.process_time()
    function()
    return time.process_time() - started


def timed_wall(function: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>9,.0f} stmt/s  ({seconds * 1000 / count:.3f} ms/stmt)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, default=6000, help="statements in the corpus [6000]")
    parser.add_argument("-r", "--repeat", type=int, default=5, help="repetitions of the pipeline [5]")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--catalog", action="store_true",
                        help="give the engine a catalog fixture so catalog rules run too (as with --dsn)")
    parser.add_argument("--no-pglast", action="store_true", help="skip the pglast comparison")
    args = parser.parse_args()

    from queryreview.catalog import Catalog
    from queryreview.engine import Context, Engine
    from queryreview.model import Script, SourceText
    from queryreview.rules.registry import all_rules
    from queryreview.sql.parse import parse_sql, statements as parse_statements
    from queryreview.sql.split import split

    pinning = pin_to_one_core()
    path = corpus.write(args.count, args.seed)
    text = path.read_text(encoding="utf-8")
    catalog = Catalog.from_dict(corpus.catalog()) if args.catalog else None
    rules = list(all_rules())
    print(f"corpus: {path.name} ({len(text.encode()):,} bytes); python {sys.version.split()[0]}; {pinning}; "
          f"{len(rules)} rules; catalog: {'yes' if catalog else 'no (as `queryreview check` without --dsn)'}")

    def pipeline():
        engine = Engine(rules, Context(catalog=catalog))
        return engine.review([SourceText(path.name, text)])

    first = timed(pipeline)  # imports every rule module, warms caches
    review = pipeline()
    count = review.statements
    print(f"statements: {count:,} ({review.parsed:,} parsed), findings: {len(review.findings):,}; "
          f"skipped rules: {len(review.skipped_rules)}")
    print(f"first run (cold: imports)    {rate(count, first)}")

    runs, walls = [], []
    for _ in range(args.repeat):
        gc.collect()
        wall, cpu = timed_wall(pipeline)
        runs.append(cpu)
        walls.append(wall)
    median, best = statistics.median(runs), min(runs)
    verdict = "OK" if count / median >= TARGET else "BELOW TARGET"
    print(f"pipeline median of {args.repeat} (CPU)  {rate(count, median)}  [{verdict}: target {TARGET:,.0f}/s]")
    print(f"pipeline best (CPU)          {rate(count, best)}")
    print(f"pipeline median (wall)       {rate(count, statistics.median(walls))}")

    # --- breakdown ------------------------------------------------------------------------
    raws = split(text)
    texts = [text[raw.start:raw.end] for raw in raws if raw.kind == "sql"]
    split_time = min(timed(lambda: split(text)) for _ in range(3))
    print(f"  split only                 {rate(count, split_time)}")

    def parse_all():
        for statement_text in texts:
            try:
                parse_sql(statement_text)
            except Exception:
                pass

    parse_time = min(timed(parse_all) for _ in range(3))
    print(f"  sqlglot parse only         {rate(len(texts), parse_time)}")

    source = SourceText(path.name, text)
    parsed = parse_statements(source)
    from sqlglot import exp

    def index_all():
        for statement in parsed:
            statement._by_type = None  # rebuilt by the first nodes() call, as for each statement in the pipeline
            statement.nodes(exp.Select)

    # with the collector off: here all 6,000 trees are alive at once (the pipeline holds one at a time),
    # and collections would walk them all
    gc.disable()
    try:
        index_time = min(timed(index_all) for _ in range(3))
    finally:
        gc.enable()
    print(f"  node index (one walk each) {rate(len(parsed), index_time)}")

    # --- per rule -------------------------------------------------------------------------
    engine = Engine(rules, Context(catalog=catalog))
    script = Script(source, parsed)  # migration rules read the statements around theirs
    costs = []
    for rule in engine.statement_rules:
        settings = rule.default_settings()

        def run_rule(rule=rule, settings=settings):
            hits = 0
            offered = {"settings": settings, "catalog": catalog, "stats": None, "script": script}
            for statement in parsed:
                if "stmt" in rule.params and statement.ast is None:
                    continue
                offered["stmt"] = offered["raw"] = statement
                try:
                    hits += sum(1 for _ in rule.check(**{name: offered[name] for name in rule.params}))
                except Exception:
                    hits += 0
            return hits

        seconds = min(timed(run_rule) for _ in range(3))
        costs.append((seconds, rule.code, rule.name, run_rule()))
    rules_total = sum(seconds for seconds, *_ in costs)
    overhead = median - split_time - parse_time - index_time - rules_total
    print(f"  all statement rules        {rate(count, rules_total)}")
    print(f"  engine overhead (rest)     {overhead * 1000 / count:.3f} ms/stmt "
          f"(calling the rules, findings, suppressions, locations, freeing trees; parsing slower in the mix)")
    fixes = [finding.fix for finding in pipeline().findings if finding.fix is not None and finding.fix.pending]
    fix_time = timed(lambda: [fix.sql for fix in fixes])
    print(f"  + fix SQL, when read       {fix_time * 1000 / count:.3f} ms/stmt "
          f"({len(fixes)} rewritten statements, {fix_time * 1000 / max(len(fixes), 1):.2f} ms each; "
          "rendered by the text, json, sarif and markdown output, not by the pipeline)")
    print("per rule (slowest first; µs per statement, hits):")
    for seconds, code, name, hits in sorted(costs, reverse=True):
        share = 100 * seconds / median
        print(f"  {code} {name:<48} {seconds * 1e6 / count:>8.1f} µs  {share:>5.1f}% of pipeline  {hits:>6} hits")
    for skipped in engine.skipped:
        print(f"  (skipped {skipped})")

    # --- pglast -----------------------------------------------------------------------------
    if not args.no_pglast:
        try:
            import pglast
            from pglast import parser as pg_parser
        except ImportError:
            print("pglast: not installed (pip install pglast) — skipped")
        else:
            def pglast_objects():
                for statement_text in texts:
                    try:
                        pglast.parse_sql(statement_text)
                    except Exception:
                        pass

            def pglast_json():
                for statement_text in texts:
                    try:
                        pg_parser.parse_sql_json(statement_text)
                    except Exception:
                        pass

            objects = min(timed(pglast_objects) for _ in range(3))
            raw_json = min(timed(pglast_json) for _ in range(3))
            print(f"pglast {pglast.__version__} parse_sql (AST objects) {rate(len(texts), objects)}")
            print(f"pglast parse_sql_json (libpg_query)   {rate(len(texts), raw_json)}")
            print(f"ratio: our full pipeline takes {median / objects:.1f}x the time of pglast parse_sql, "
                  f"{median / raw_json:.1f}x libpg_query; sqlglot parse alone is {parse_time / objects:.1f}x pglast")

    # --- memory -----------------------------------------------------------------------------
    gc.collect()
    tracemalloc.start()
    pipeline()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"memory: tracemalloc peak of one pipeline run {peak / 2**20:,.1f} MiB; "
          f"process ru_maxrss {maxrss_kib / 1024:,.1f} MiB "
          f"({peak / count / 1024:.1f} KiB per statement held)")


if __name__ == "__main__":
    main()
