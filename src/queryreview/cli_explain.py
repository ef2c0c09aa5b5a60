"""``queryreview explain``: review a saved EXPLAIN (FORMAT JSON) plan (registered by cli.py).

Kept out of cli.py's import path: sqlglot and the rules load only when the command runs.
"""

from __future__ import annotations

import sys

import click

FORMATS = ("text", "json", "sarif", "markdown", "github")
EXIT_CODES_HELP = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error, 3 runtime error."


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("plan", type=str)
@click.option("--sql", "sql_path", type=str, metavar="FILE",
              help="The query's SQL: the statement rules run on it too. Default: the plan's Query Text "
                   "(auto_explain), if any.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format (text and markdown add the plan tree; json adds a \"plans\" key).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--select", multiple=True,
              help="Rules to run (codes, names, prefixes such as QR3, or ALL). Default: every plan rule, plus the "
                   "configured statement rules when there is SQL. Repeatable; commas allowed.")
@click.option("--ignore", multiple=True, help="Rules to skip (codes, names or prefixes). Repeatable; commas allowed.")
@click.option("--fail-on", type=click.Choice(("info", "warning", "error", "never")),
              help="Lowest severity that makes the exit code 1 [default: warning].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Configuration file (default: nearest .queryreview.toml or pyproject.toml).")
@click.option("--stdin-filename", default="-", show_default=True, help="Name shown for a plan read from stdin.")
@click.option("--no-color", is_flag=True, help="Plain text output even on a terminal.")
@click.pass_context
def explain(ctx: click.Context, plan: str, sql_path: str | None, output_format: str, output: str | None,
            select: tuple[str, ...], ignore: tuple[str, ...], fail_on: str | None, config_path: str | None,
            stdin_filename: str, no_color: bool) -> None:
    """Analyse a saved EXPLAIN (FORMAT JSON) plan: where the time goes, and what to fix.

    PLAN is a file or - for stdin: the bare JSON, psql output around it, or an auto_explain
    log entry (log_format = json). Run with ANALYZE for actual times and rows; without it
    the analysis uses the planner's estimates.

    \b
    Examples:
      psql -XAtc "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT ..." > plan.json
      queryreview explain plan.json --sql query.sql
      psql -XAtc "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT ..." | queryreview explain -
      queryreview explain plan.json --format json -o review.json
    """
    from queryreview.explain_pipeline import run_explain

    exit_code = run_explain(
        plan_path=plan,
        sql_path=sql_path,
        output_format=output_format,
        output=output,
        select=_split_tokens(select),
        ignore=_split_tokens(ignore),
        fail_on=fail_on,
        config_path=config_path,
        color=False if no_color else None,
        debug=bool(ctx.obj and ctx.obj.get("debug")),
        stdin_filename=stdin_filename,
    )
    sys.exit(exit_code)


def _split_tokens(values: tuple[str, ...]) -> list[str] | None:
    tokens = [token.strip() for value in values for token in value.split(",") if token.strip()]
    return tokens or None
