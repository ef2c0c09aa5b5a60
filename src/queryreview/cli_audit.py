"""``queryreview audit``: the end-to-end report (registered by cli.py).

Kept out of cli.py's import path: psycopg, sqlglot and rich load only when the command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from queryreview.cli_advise import ByteSize, Percent
from queryreview.cli_collect import Duration

FORMATS = ("text", "json", "sarif", "markdown", "html")
EXIT_CODES_HELP = ("Exit codes: 0 report written, 1 findings at or above --fail-on (only when given), 2 usage or "
                   "input error, 3 database or runtime error (a partial report is still written).")


class ScriptSpec(click.ParamType):
    """``FILE`` or ``FILE@WEIGHT``: a pgbench script for --verify on a database."""

    name = "file[@weight]"

    def convert(self, value, param, ctx):  # type: ignore[override]
        from queryreview.pgbench import Script

        if isinstance(value, Script):
            return value
        path, _, weight = str(value).rpartition("@") if "@" in str(value) else (str(value), "", "1")
        if not weight.isdigit() or int(weight) < 1:
            self.fail(f"{value!r}: the weight after @ must be a positive integer", param, ctx)
        if not Path(path).is_file():
            self.fail(f"{path}: no such file", param, ctx)
        return Script(Path(path), int(weight))


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("dsn", required=False)
@click.option("--snapshot", "snapshot_path", type=click.Path(dir_okay=False),
              help="Audit a snapshot from `queryreview collect --explain` instead (offline; with DSN: costed there).")
@click.option("--top", type=click.IntRange(min=1), default=200, show_default=True,
              help="Statements audited (with plans and advice), by total database time.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format (html: one self-contained file).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--no-color", is_flag=True, help="Plain text output even on a terminal.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@click.option("--statement-timeout", type=Duration(), default="5s", show_default=True,
              help="Limit for each catalog query and EXPLAIN.")
@click.option("--lock-timeout", type=Duration(), default="1s", show_default=True,
              help="Limit for waiting on a lock (the audit never takes one a writer would wait on).")
@click.option("--analyze", is_flag=True, help="EXPLAIN ANALYZE read-only statements (runs them; off by default).")
@click.option("--no-advice", is_flag=True, help="Skip the index advisor.")
@click.option("--budget", type=ByteSize(), help="Total size the recommended indexes may take (2GB, 500MB).")
@click.option("--max-indexes", type=click.IntRange(min=1), default=10, show_default=True,
              help="At most this many new indexes.")
@click.option("--min-saving", type=Percent(), default="10%", show_default=True,
              help="Recommend an index only if it cuts the cost of the statements it helps by this much.")
@click.option("--disposable", is_flag=True,
              help="The database is a disposable copy: real-index costing without hypopg, and --verify allowed.")
@click.option("--verify", is_flag=True,
              help="Disposable databases only: build the recommended indexes, run the workload again, report "
                   "measured before/after (the demo always allows it).")
@click.option("--keep", is_flag=True, help="With --verify: keep the indexes instead of dropping them afterwards.")
@click.option("--verify-script", "verify_scripts", type=ScriptSpec(), multiple=True,
              help="With --verify on a DSN: pgbench script(s) to run before and after, FILE[@WEIGHT]. Repeatable. "
                   "Default: a replay of the busiest SELECTs of pg_stat_statements with sampled values.")
@click.option("--select", multiple=True, help="Rules to run (codes, names, prefixes). Repeatable; commas allowed.")
@click.option("--ignore", multiple=True, help="Rules to skip. Repeatable; commas allowed.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file.")
@click.option("--fail-on", type=click.Choice(("info", "warning", "error")),
              help="Exit 1 when a finding is at or above this severity (default: the report decides nothing).")
@click.option("--duration", type=Duration(), default="15s", show_default=True,
              help="How long each measured workload run lasts (the demo's, and --verify's before and after), "
                   "after a 3 s warm-up.")
@click.option("--clients", type=click.IntRange(min=1, max=64), default=4, show_default=True,
              help="Concurrent pgbench clients of those runs.")
@click.option("--demo-scale", type=click.FloatRange(min=0.001, max=20), default=1.0, show_default=True,
              help="The demo: data size (1 = 50,000 customers, about 3.5 million rows).")
@click.option("--cache-dir", type=click.Path(file_okay=False),
              help="The demo: where its server and data are kept [default: ~/.cache/queryreview/demo].")
@click.pass_context
def audit(ctx: click.Context, dsn: str | None, snapshot_path: str | None, top: int, output_format: str,
          output: str | None, no_color: bool, quiet: bool, statement_timeout: int, lock_timeout: int, analyze: bool,
          no_advice: bool, budget: int | None, max_indexes: int, min_saving: float, disposable: bool, verify: bool,
          keep: bool, verify_scripts: tuple, select: tuple[str, ...], ignore: tuple[str, ...],
          config_path: str | None, fail_on: str | None, duration: int, clients: int, demo_scale: float,
          cache_dir: str | None) -> None:
    """Audit a database's workload: what makes it slow, what to change, and by how much.

    Reads pg_stat_statements, the catalog and the top statements' plans over one read-only
    session (timeouts, no DDL, nothing left behind), runs every rule family on them, asks the
    index advisor for validated recommendations, and writes one report ranked by database
    time. With no DSN and no --snapshot it runs the embedded demo: a customer-dashboard
    database in the spirit of the incident that started this project, its workload driven by
    pgbench, then audited (add --verify to apply the advice and measure it).

    \b
    Examples:
      queryreview audit                                  # the embedded demo
      queryreview audit --verify                         # the demo, advice applied and measured
      queryreview audit postgresql://audit@replica/app   # live, read-only
      queryreview audit --snapshot snap.json.gz          # offline
      queryreview audit "service=app" --format html -o audit.html
    """
    from queryreview.audit.pipeline import AuditOptions, run_audit
    from queryreview.audit.progress import stderr_progress
    from queryreview.cli import _split_tokens

    if keep and not verify:
        raise click.UsageError("--keep only applies with --verify")
    if verify_scripts and not verify:
        raise click.UsageError("--verify-script only applies with --verify")
    options = AuditOptions(
        dsn=dsn, snapshot_path=snapshot_path, top=top, statement_timeout_ms=statement_timeout,
        lock_timeout_ms=lock_timeout, analyze=analyze, advise=not no_advice, budget_bytes=budget,
        max_indexes=max_indexes, min_saving=min_saving, disposable=disposable, verify=verify, keep=keep,
        verify_scripts=list(verify_scripts), select=_split_tokens(select), ignore=_split_tokens(ignore) or [],
        config_path=Path(config_path) if config_path else None, fail_on=fail_on,
        debug=bool(ctx.obj and ctx.obj.get("debug")),
        demo_cache_dir=Path(cache_dir) if cache_dir else None, demo_scale=demo_scale,
        duration_s=duration / 1000, clients=clients,
    )
    progress = stderr_progress(quiet)
    try:
        code = run_audit(options, output_format=output_format, output=output, color=False if no_color else None,
                         progress=progress, on_summary=None if quiet else lambda line: click.echo(line, err=True))
    finally:
        progress.close()
    sys.exit(code)
