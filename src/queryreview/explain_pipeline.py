"""Pipeline behind ``queryreview explain``: plan file -> plan (and statement) rules -> report -> exit code.

    review, plans = analyse(text, "plan.json")             # in-process, e.g. for benchmarks
    exit_code = run_explain("plan.json", sql_path="q.sql")  # what the command runs

The report is the usual one (queryreview.report.render) plus the plan summary: an
indented node tree above the findings in text (and markdown), a top-level ``plans`` key in
JSON (docs/json-schema.md).
"""

from __future__ import annotations

import codecs
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from queryreview.config import Config, check_fail_on, load_config, rule_overrides
from queryreview.errors import InputError
from queryreview.model import Review, SourceText

MAX_PLAN_BYTES = 512 * 1024 * 1024
# what a statement-level rule can be given in explain (no database: catalog and stats rules do not apply)
_STATEMENT_INPUTS = {"stmt", "raw", "unused", "source", "script"}
_DATABASE_INPUTS = {"catalog", "stats"}


@dataclass
class ExplainedPlan:
    name: str
    plan: object  # queryreview.plan.tree.Plan


def run_explain(plan_path: str, sql_path: str | None = None, output_format: str = "text", output: str | None = None,
                select: list[str] | None = None, ignore: list[str] | None = None, fail_on: str | None = None,
                config_path: Path | None = None, color: bool | None = None, debug: bool = False,
                stdin_filename: str = "-", stdin: BinaryIO | None = None) -> int:
    """Review one EXPLAIN (FORMAT JSON) plan (``-`` for stdin) and write the report; returns the exit code."""
    from queryreview.pipeline import exit_code

    config = load_config(config_path)
    fail_on = check_fail_on(fail_on or config.fail_on)
    if plan_path == "-" and sql_path == "-":
        raise InputError("the plan and --sql cannot both come from stdin", hint="save one of them to a file")
    name = stdin_filename if plan_path == "-" else plan_path
    data = _read_plan(plan_path, stdin)
    sql_source = _read_sql(sql_path, config.max_file_bytes) if sql_path else None
    review, plans = analyse(data, name, sql_source, select=select, config_select=config.select,
                            ignore=list(config.ignore) + list(ignore or ()), config=config, debug=debug)
    write_explain_report(review, plans, output_format, output, color)
    return exit_code(review, fail_on)


def analyse(data: str | bytes, name: str, sql_source: SourceText | None = None, select: list[str] | None = None,
            config_select: list[str] | None = None, ignore: list[str] | None = None, config: Config | None = None,
            debug: bool = False) -> tuple[Review, list[ExplainedPlan]]:
    """Parse the plan, run the plan rules on it and the statement rules on its SQL (``sql_source``, else
    the plan's own ``Query Text`` from auto_explain)."""
    from queryreview.engine import Context, Engine, PlanInput
    from queryreview.plan.tree import parse_plan
    from queryreview.sql.parse import statements as parse_statements

    plan = parse_plan(data, name)
    if sql_source is None and plan.query:
        sql_source = SourceText(f"{name}:query", plan.query)
    rules = explain_rules(select, config_select, ignore, with_sql=sql_source is not None)
    settings, severities = rule_overrides(config, rules) if config is not None else ({}, {})
    statement = None
    if sql_source is not None and sql_source.problem is None:
        parsed = [s for s in parse_statements(sql_source) if s.kind == "sql"]
        statement = parsed[0].text if len(parsed) == 1 else sql_source.text.strip() or None
    context = Context(settings=settings, severities=severities, debug=debug,
                      plans=[PlanInput(name, plan, statement)])
    review = Review(files=1)  # the plan file
    review = Engine(rules, context).review([sql_source] if sql_source is not None else [], review)
    return review, [ExplainedPlan(name, plan)]


def explain_rules(select: list[str] | None, config_select: list[str] | None, ignore: list[str] | None,
                  with_sql: bool) -> list:
    """The rules an explain run uses.

    With ``--select``: exactly those. Otherwise every plan rule, plus (when there is SQL) the
    statement rules the configuration selects. Rules needing a database catalog or
    pg_stat_statements do not apply to a plan file: they are left out unless ``--select``
    names them (the report then says they were skipped, and why).
    """
    from queryreview.rules.registry import select_rules

    if select is not None:
        return select_rules(select, ignore)
    rules = [rule for rule in select_rules(None, ignore)
             if "plan" in rule.params and not set(rule.params) & _DATABASE_INPUTS]
    if with_sql:
        rules += [rule for rule in select_rules(config_select, ignore)
                  if "plan" not in rule.params and set(rule.params) & _STATEMENT_INPUTS
                  and not set(rule.params) & _DATABASE_INPUTS]
    return sorted(rules, key=lambda rule: rule.code)


def write_explain_report(review: Review, plans: list[ExplainedPlan], output_format: str, output: str | None,
                         color: bool | None) -> None:
    use_color = False if output else _use_color(color)
    text = render_explain(review, plans, output_format, use_color)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {output}: {error.strerror or error}") from error
        return
    sys.stdout.write(text)
    sys.stdout.flush()


def render_explain(review: Review, plans: list[ExplainedPlan], output_format: str, color: bool = False,
                   width: int | None = None) -> str:
    """The report in ``output_format`` with the plan summary added where the format has room for it."""
    from queryreview.plan.summary import plan_document, render_tree
    from queryreview.report import render

    if output_format == "json":
        from queryreview.report.json_report import document

        doc = document(review)
        doc["plans"] = [plan_document(item.plan, item.name) for item in plans]
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    report = render(review, output_format, color=color)
    if output_format == "text":
        columns = width or _terminal_width()
        trees = "".join(render_tree(item.plan, item.name, columns, color) + "\n" for item in plans)
        return trees + report
    if output_format == "markdown":
        trees = "".join(f"<details><summary>Plan {item.name}</summary>\n\n```\n"
                        + render_tree(item.plan, item.name, 100, False).replace("```", "'''")
                        + "```\n\n</details>\n\n" for item in plans)
        return report.rstrip("\n") + "\n\n" + trees
    return report


def _read_plan(path: str, stdin: BinaryIO | None) -> str:
    if path == "-":
        handle = stdin or sys.stdin.buffer
        data = handle.read(MAX_PLAN_BYTES + 1)
    else:
        target = Path(path)
        if target.is_dir():
            raise InputError(f"{path}: is a directory; give one EXPLAIN (FORMAT JSON) file")
        try:
            with target.open("rb") as handle:
                data = handle.read(MAX_PLAN_BYTES + 1)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except OSError as error:
            raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_PLAN_BYTES:
        raise InputError(f"{path}: larger than {MAX_PLAN_BYTES // (1024 * 1024)} MB; is this one EXPLAIN output?")
    return _text(data)


def _text(data: bytes) -> str:
    """Plan bytes as text: UTF-8 (with or without BOM), or UTF-16 with a BOM (PowerShell redirects)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def _read_sql(path: str, max_bytes: int) -> SourceText:
    from queryreview.sources.files import read_sources

    if path != "-" and not Path(path).is_file():
        raise InputError(f"--sql {path}: no such file")
    return next(iter(read_sources([path], max_bytes)))


def _use_color(color: bool | None) -> bool:
    if color is not None:
        return color
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _terminal_width() -> int:
    import shutil

    from queryreview.report.text import MAX_WIDTH, MIN_WIDTH

    width = shutil.get_terminal_size((MAX_WIDTH, 24)).columns if sys.stdout.isatty() else MAX_WIDTH
    return max(MIN_WIDTH + 30, min(width, MAX_WIDTH))
