"""``queryreview collect``: snapshot a live database for offline review (registered by cli.py).

Kept out of cli.py's import path: psycopg loads only when the command runs.
"""

from __future__ import annotations

import re
import sys

import click

from queryreview.errors import EXIT_RUNTIME

EXIT_CODES_HELP = "Exit codes: 0 written, 2 usage or input error, 3 database or runtime error."
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m)?\s*", re.IGNORECASE)
_UNIT_MS = {None: 1, "ms": 1, "s": 1000, "sec": 1000, "m": 60000, "min": 60000}


class Duration(click.ParamType):
    """``5s``, ``500ms``, ``2min``; a bare number is milliseconds, as in PostgreSQL. 0 turns the limit off."""

    name = "duration"

    def convert(self, value, param, ctx):  # type: ignore[override]
        if isinstance(value, int):
            return value
        match = _DURATION.fullmatch(str(value))
        if not match:
            self.fail(f"{value!r} is not a duration (examples: 5s, 500ms, 2min)", param, ctx)
        unit = match.group(2).lower() if match.group(2) else None
        return int(round(float(match.group(1)) * _UNIT_MS[unit]))


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("target", required=False)
@click.option("--dsn", help="Connection string or URI (instead of TARGET). Neither: libpq defaults (PG* variables).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              help="Snapshot file; gzip when it ends in .gz. Default: JSON on stdout.")
@click.option("--redact", is_flag=True,
              help="Leave data out: literals in query texts become $n, no pg_stats values or literal defaults.")
@click.option("--top", type=click.IntRange(min=0), default=500, show_default=True,
              help="Statements kept by total time (slower or very frequent ones are kept on top).")
@click.option("--statement-timeout", type=Duration(), default="5s", show_default=True,
              help="Limit for each catalog or statistics query (5s, 500ms, 2min).")
@click.option("--catalog-only", is_flag=True, help="Do not read pg_stat_statements (schema and statistics only).")
@click.option("--explain", is_flag=True, help="Also EXPLAIN the top statements; their plans go into the snapshot.")
@click.option("--explain-top", type=click.IntRange(min=0), default=200, show_default=True,
              help="How many statements --explain plans (by total time).")
@click.option("--analyze", is_flag=True,
              help="EXPLAIN ANALYZE read-only statements (runs them; $n get values sampled from pg_stats). "
                   "Implies --explain.")
@click.option("--analyze-writes", is_flag=True,
              help="Also EXPLAIN ANALYZE INSERT/UPDATE/DELETE in a rolled-back transaction; needs --disposable.")
@click.option("--disposable", is_flag=True,
              help="Declare the database disposable (a copy, not production): required by --analyze-writes.")
def collect(target: str | None, dsn: str | None, output: str | None, redact: bool, top: int,
            statement_timeout: int, catalog_only: bool, explain: bool = False, explain_top: int = 200,
            analyze: bool = False, analyze_writes: bool = False, disposable: bool = False) -> None:
    """Snapshot a database's catalog, statistics and pg_stat_statements into a file.

    The snapshot feeds offline review (check --snapshot) without database access. Read-only:
    every query runs in a read-only transaction that is rolled back; nothing is analyzed or
    changed. A summary goes to stderr.

    --explain adds a plan per top statement (generic plans for $n texts, never run).
    --analyze runs read-only statements under EXPLAIN ANALYZE, rolled back. --analyze-writes
    --disposable also runs INSERT/UPDATE/DELETE, rolled back, then proves every row checksum
    unchanged and sets back sequences they advanced: the one case where collect writes.

    \b
    Examples:
      queryreview collect postgresql://app@db/prod -o prod.json.gz
      queryreview collect --dsn "host=db dbname=prod" --redact -o prod.json.gz
      PGDATABASE=prod queryreview collect > prod.json
      queryreview collect DSN --explain --analyze -o prod.json.gz
    """
    from queryreview.collect import CollectOptions, collect_from, summary
    from queryreview.sources.postgres.connect import SessionOptions
    from queryreview.sources.postgres.stats import ExtensionMissing
    from queryreview.sources.snapshot import write_snapshot

    if target and dsn:
        raise click.UsageError("give the database as TARGET or as --dsn, not both")
    analyze = analyze or analyze_writes
    explain = explain or analyze
    if analyze_writes and not disposable:
        raise click.UsageError("--analyze-writes runs INSERT/UPDATE/DELETE (rolled back): only on a database you "
                               "mark --disposable")
    if disposable and not analyze_writes:
        raise click.UsageError("--disposable only applies to --analyze-writes")
    if explain and catalog_only:
        raise click.UsageError("--explain plans pg_stat_statements' statements: it cannot go with --catalog-only")
    if analyze and redact:
        raise click.UsageError("--analyze binds values sampled from pg_stats, which plans then show: "
                               "it cannot go with --redact")
    options = CollectOptions(top=top, redact=redact, statements=not catalog_only, explain=explain,
                             explain_top=explain_top, analyze=analyze, analyze_writes=analyze_writes,
                             disposable=disposable)
    try:
        snapshot = collect_from(target or dsn, options, SessionOptions(statement_timeout_ms=statement_timeout))
    except ExtensionMissing as error:
        error.hint = f"{error.hint}; or collect the catalog alone with --catalog-only"
        raise
    written = write_snapshot(snapshot, output)
    click.echo(summary(snapshot, output if output and output != "-" else None, written), err=True)
    for notice in snapshot.warnings:
        click.echo(f"warning: {notice.message}", err=True)
        if notice.hint:
            click.echo(f"  hint: {notice.hint}", err=True)
    if any(notice.code == "explain-stopped" for notice in snapshot.warnings):
        # the snapshot holds what was gathered, but the run did not finish: a partial result is exit 3
        click.echo("queryreview: error: the connection was lost while explaining; the snapshot is partial",
                   err=True)
        sys.exit(EXIT_RUNTIME)
