"""``queryreview gate``: fail a pull request that makes a query read a large table whole (registered by cli.py).

Kept out of cli.py's import path: psycopg, sqlglot and the rules load only when the command runs.
"""

from __future__ import annotations

import sys

import click

from queryreview.cli_collect import Duration

FORMATS = ("text", "json", "sarif", "markdown", "github")
EXIT_CODES_HELP = ("Exit codes: 0 no new regression, 1 a new full scan (or sort) of a large table, 2 usage or "
                   "input error (a failing migration included), 3 database or runtime error.")


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--migrations", metavar="DIR",
              help="Plain SQL migrations, applied in file-name order to a fresh embedded PostgreSQL database.")
@click.option("--dsn", help="A database whose schema is already migrated (instead of --migrations). Never written to.")
@click.option("--queries", multiple=True, metavar="PATH",
              help="SQL files or directories of the application's queries. Repeatable.")
@click.option("--stats", metavar="FILE",
              help="Snapshot from `queryreview collect` on production: its top statements are checked too, and "
                   "its row counts say which tables are large.")
@click.option("--baseline", default=".queryreview/baseline.json", show_default=True, metavar="FILE",
              help="Full scans accepted so far; only others fail the gate.")
@click.option("--update-baseline", is_flag=True, help="Accept the current full scans: write the baseline, exit 0.")
@click.option("--min-rows", type=click.IntRange(min=0), metavar="N",
              help="Tables with more rows than this count as large [default: 10000, or the configuration's].")
@click.option("--top", type=click.IntRange(min=1), default=200, show_default=True,
              help="How many of the snapshot's statements (by total time) to check.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--markdown-summary", metavar="FILE",
              help="Also append the markdown report to FILE (e.g. \"$GITHUB_STEP_SUMMARY\").")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Configuration file (default: nearest .queryreview.toml or pyproject.toml).")
@click.option("--exclude", multiple=True, help="Glob of query paths to skip (adds to the configuration's).")
@click.option("--pgdata", metavar="DIR",
              help="With --migrations: embedded server directory to keep and reuse between runs (faster). "
                   "Default: a temporary one.")
@click.option("--statement-timeout", type=Duration(), default="10s", show_default=True,
              help="Limit for each EXPLAIN and catalog query.")
@click.option("--no-color", is_flag=True, help="Plain text output even on a terminal.")
@click.pass_context
def gate(ctx: click.Context, migrations: str | None, dsn: str | None, queries: tuple[str, ...], stats: str | None,
         baseline: str, update_baseline: bool, min_rows: int | None, top: int, output_format: str,
         output: str | None, markdown_summary: str | None, config_path: str | None, exclude: tuple[str, ...],
         pgdata: str | None, statement_timeout: int, no_color: bool) -> None:
    """Fail when a change makes a statement read a large table whole (sequential-scan regression gate).

    Every statement is planned with enable_seqscan = off, so a full read survives only where no
    index can serve it; on a table that is large in production, one the baseline does not hold
    is a finding. Index added or query fixed: the next run reports the baseline entry as fixed.

    \b
    Examples:
      queryreview gate --migrations db/migrations/ --queries app/queries/ \\
                       --stats prod-snapshot.json.gz --baseline .queryreview/baseline.json
      queryreview gate --dsn "$CI_DATABASE_URL" --queries app/queries/ --update-baseline
      queryreview gate --migrations db/migrations/ --queries app/queries/ --stats snap.json.gz \\
                       --format github --markdown-summary "$GITHUB_STEP_SUMMARY"
    """
    from queryreview.gate_pipeline import GateOptions, run_gate

    if migrations and dsn:
        raise click.UsageError("give --migrations or --dsn, not both")
    if not migrations and dsn is None:
        raise click.UsageError("give the target: --migrations DIR (applied to a fresh database) or --dsn DSN")
    if not queries and not stats:
        raise click.UsageError("give the statements to check: --queries PATH and/or --stats FILE")
    if pgdata and not migrations:
        raise click.UsageError("--pgdata goes with --migrations")
    options = GateOptions(
        queries=list(queries), migrations=migrations, dsn=dsn, stats=stats, baseline=baseline,
        update_baseline=update_baseline, min_rows=min_rows, top=top, output_format=output_format, output=output,
        markdown_summary=markdown_summary, color=False if no_color else None,
        debug=bool(ctx.obj and ctx.obj.get("debug")), config_path=config_path, exclude=list(exclude),
        pgdata=pgdata, statement_timeout_ms=statement_timeout,
    )
    sys.exit(run_gate(options))
