"""Command line: each command is thin (options -> pipeline -> renderer).

Heavy imports (sqlglot, rich, psycopg) happen inside commands so that
``queryreview --help`` and ``--version`` stay instant.
"""

from __future__ import annotations

import sys

import click

from queryreview import __version__
from queryreview.cli_advise import advise
from queryreview.cli_audit import audit
from queryreview.cli_collect import Duration, collect
from queryreview.cli_explain import explain
from queryreview.cli_gate import gate
from queryreview.errors import EXIT_INTERRUPTED, EXIT_RUNTIME, QueryReviewError

FORMATS = ("text", "json", "sarif", "markdown", "github")
EXIT_CODES_HELP = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error, 3 runtime error."


class _Group(click.Group):
    """Turns user-caused errors into one line plus a hint; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except QueryReviewError as error:
            _fail(str(error), error.hint, error.exit_code, ctx)
        except KeyboardInterrupt:
            click.echo("queryreview: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except Exception as error:  # a bug: say so, briefly, unless debugging
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _fail(f"internal error: {type(error).__name__}: {error}",
                  "rerun with --debug for a traceback, and please report it", EXIT_RUNTIME, ctx)


def _fail(message: str, hint: str | None, code: int, ctx: click.Context) -> None:
    if ctx.obj and ctx.obj.get("debug"):
        import traceback

        traceback.print_exc()
    click.echo(f"queryreview: error: {message}", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    sys.exit(code)


@click.group(cls=_Group, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="queryreview")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Review SQL query performance on PostgreSQL."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, type=str)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--select", multiple=True, help="Rules to run: codes, names, prefixes (QR1) or ALL. Repeatable; commas allowed.")
@click.option("--ignore", multiple=True, help="Rules to skip (codes, names or prefixes). Repeatable; commas allowed.")
@click.option("--fail-on", type=click.Choice(("info", "warning", "error", "never")),
              help="Lowest severity that makes the exit code 1 [default: warning].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Configuration file (default: nearest .queryreview.toml or pyproject.toml).")
@click.option("--exclude", multiple=True, help="Glob of paths to skip (adds to the configuration's).")
@click.option("--stdin-filename", default="-", show_default=True, help="Name shown for input read from stdin.")
@click.option("--no-color", is_flag=True, help="Plain text output even on a terminal.")
@click.option("--dsn", help="Database to review against (catalog-aware rules); without PATHs its workload is reviewed.")
@click.option("--snapshot", "snapshot_path", type=click.Path(dir_okay=False),
              help="Snapshot file from `queryreview collect`, instead of a live --dsn.")
@click.option("--statement-timeout", type=Duration(), default="5s", show_default=True,
              help="With --dsn: limit for each catalog or statistics query.")
@click.pass_context
def check(ctx: click.Context, paths: tuple[str, ...], output_format: str, output: str | None, select: tuple[str, ...],
          ignore: tuple[str, ...], fail_on: str | None, config_path: str | None, exclude: tuple[str, ...],
          stdin_filename: str, no_color: bool, dsn: str | None, snapshot_path: str | None,
          statement_timeout: int) -> None:
    """Review SQL files (directories recursively, - for stdin) for performance anti-patterns.

    \b
    Examples:
      queryreview check app/queries/ db/migrations/
      queryreview check - < slow.sql
      queryreview check queries/ --format sarif -o queryreview.sarif
      queryreview check db/queries/ --dsn "service=app"      # with the live catalog
      queryreview check --snapshot snap.json.gz               # the captured workload, offline
    """
    from queryreview.pipeline import run_check

    if not paths and dsn is None and snapshot_path is None:
        raise click.UsageError("give at least one PATH (a file, a directory, or - for stdin), or --dsn/--snapshot")
    exit_code = run_check(
        paths=list(paths),
        output_format=output_format,
        output=output,
        select=_split_tokens(select),
        ignore=_split_tokens(ignore),
        fail_on=fail_on,
        config_path=config_path,
        exclude=list(exclude),
        stdin_filename=stdin_filename,
        color=False if no_color else None,
        debug=bool(ctx.obj and ctx.obj.get("debug")),
        dsn=dsn,
        snapshot_path=snapshot_path,
        statement_timeout_ms=statement_timeout,
    )
    sys.exit(exit_code)


@main.command()
@click.argument("name", required=False)
@click.option("--format", "output_format", type=click.Choice(("text", "json", "markdown")), default="text",
              show_default=True, help="Output format.")
def rules(name: str | None, output_format: str) -> None:
    """List all rules, or show one rule's documentation (by code or name).

    \b
    Examples:
      queryreview rules
      queryreview rules leading-wildcard-like
      queryreview rules QR101 --format markdown
    """
    from queryreview.report.rules_doc import render_rule, render_rule_table

    if name:
        from queryreview.rules.registry import find_rule

        click.echo(render_rule(find_rule(name), output_format), nl=False)
    else:
        click.echo(render_rule_table(output_format), nl=False)


main.add_command(collect)
main.add_command(explain)
main.add_command(gate)
main.add_command(advise)
main.add_command(audit)


def _split_tokens(values: tuple[str, ...]) -> list[str] | None:
    tokens = [token.strip() for value in values for token in value.split(",") if token.strip()]
    return tokens or None
