"""``queryreview advise``: which indexes to create, validated by the planner (registered by cli.py).

Kept out of cli.py's import path: psycopg and sqlglot load only when the command runs.
"""

from __future__ import annotations

import re
import sys

import click

from queryreview.cli_collect import Duration

FORMATS = ("text", "json", "sarif", "markdown", "github")
EXIT_CODES_HELP = "Exit codes: 0 advice produced, 2 usage or input error, 3 database or runtime error."
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(b|bytes?|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20,
          "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40,
          "tib": 1 << 40}
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%?\s*")


class ByteSize(click.ParamType):
    """``2GB``, ``500MB``, ``750 kB``: powers of 1024, as PostgreSQL's pg_size_pretty; a bare number is bytes."""

    name = "size"

    def convert(self, value, param, ctx):  # type: ignore[override]
        if isinstance(value, int):
            return value
        match = _SIZE.fullmatch(str(value))
        if not match:
            self.fail(f"{value!r} is not a size (examples: 2GB, 500MB, 750kB)", param, ctx)
        return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


class Percent(click.ParamType):
    """``20%`` or ``20``: a percentage, returned as a fraction (0.2)."""

    name = "percent"

    def convert(self, value, param, ctx):  # type: ignore[override]
        if isinstance(value, float):
            return value
        match = _PERCENT.fullmatch(str(value))
        if not match or float(match.group(1)) > 100:
            self.fail(f"{value!r} is not a percentage between 0 and 100 (example: 20%)", param, ctx)
        return float(match.group(1)) / 100


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("args", nargs=-1, metavar="[DSN] [FILES]...")
@click.option("--dsn", help="Database to cost on (with --snapshot: a copy such as staging). Instead of DSN.")
@click.option("--snapshot", "snapshot_path", type=click.Path(dir_okay=False),
              help="Snapshot from `queryreview collect`: its workload (and, without --dsn, its catalog).")
@click.option("--workload", multiple=True, metavar="FILES",
              help="SQL files (globs, directories) to optimise instead of pg_stat_statements; weight 1 per "
                   "statement unless a `-- queryreview: weight=N` comment says otherwise. Repeatable.")
@click.option("--budget", type=ByteSize(), help="Total size the new indexes may take (2GB, 500MB). Default: no limit.")
@click.option("--max-indexes", type=click.IntRange(min=1), default=10, show_default=True,
              help="At most this many new indexes.")
@click.option("--min-saving", type=Percent(), default="10%", show_default=True,
              help="Recommend an index only if it cuts the planner cost of the statements it helps by this much.")
@click.option("--disposable", is_flag=True,
              help="The database is a disposable copy: without hypopg, validate with real indexes built in "
                   "transactions that are rolled back (takes locks; never on production).")
@click.option("--top", type=click.IntRange(min=1), default=100, show_default=True,
              help="pg_stat_statements statements considered, by total time.")
@click.option("--statement-timeout", type=Duration(), default="5s", show_default=True,
              help="Limit for each catalog query and EXPLAIN (5s, 500ms, 2min).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--no-color", is_flag=True, help="Plain text output even on a terminal.")
def advise(args: tuple[str, ...], dsn: str | None, snapshot_path: str | None, workload: tuple[str, ...],
           budget: int | None, max_indexes: int, min_saving: float, disposable: bool, top: int,
           statement_timeout: int, output_format: str, output: str | None, no_color: bool) -> None:
    """Recommend indexes for a database's workload, validated with what-if costing.

    Candidates come from each statement's WHERE, JOIN, ORDER BY and GROUP BY; each is
    costed by the planner with hypopg (hypothetical indexes) when the database has it. The
    set is chosen for the whole workload, weighted by each statement's share of database
    time, within --budget and --max-indexes. Nothing is ever created: the output is SQL to
    review and run (CREATE INDEX CONCURRENTLY).

    \b
    Examples:
      queryreview advise "service=app" --budget 2GB --max-indexes 10 --min-saving 20%
      queryreview advise --snapshot prod.json.gz --dsn "service=staging"
      queryreview advise "service=app" --workload 'app/queries/*.sql'
      queryreview advise "service=copy" --disposable --format json -o advice.json
    """
    from queryreview.advise_pipeline import AdviseOptions, run_advise

    positional = list(args)
    if dsn is None and positional and not (workload and snapshot_path):
        dsn = positional.pop(0)
    files = list(workload) + positional  # `--workload app/*.sql` expanded by the shell leaves the rest positional
    if positional and not workload:
        raise click.UsageError(f"unexpected argument {positional[0]!r}: SQL files go after --workload")
    if dsn is None and snapshot_path is None:
        raise click.UsageError("give a database (DSN or --dsn), or --snapshot")
    options = AdviseOptions(dsn=dsn, snapshot_path=snapshot_path, workload=files, budget_bytes=budget,
                            max_indexes=max_indexes, min_saving=min_saving, disposable=disposable, top=top,
                            statement_timeout_ms=statement_timeout, use_dsn=dsn is not None or snapshot_path is None)
    exit_code = run_advise(options, output_format=output_format, output=output, color=False if no_color else None,
                           on_summary=lambda line: click.echo(line, err=True))
    sys.exit(exit_code)
