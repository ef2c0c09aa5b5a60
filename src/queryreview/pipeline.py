"""Pipelines behind the CLI commands: sources -> analysis -> renderer -> exit code."""

from __future__ import annotations

import sys
from pathlib import Path

from queryreview.config import Config, check_fail_on, load_config, rule_overrides
from queryreview.errors import EXIT_CLEAN, EXIT_FINDINGS, InputError
from queryreview.model import SEVERITY_RANK, Review


def run_check(paths: list[str], output_format: str = "text", output: str | None = None,
              select: list[str] | None = None, ignore: list[str] | None = None, fail_on: str | None = None,
              config_path: Path | None = None, exclude: list[str] | None = None, stdin_filename: str = "-",
              color: bool | None = None, debug: bool = False) -> int:
    """Review SQL inputs and write the report; returns the exit code."""
    from queryreview.engine import Context, Engine
    from queryreview.rules.registry import select_rules
    from queryreview.sources.files import discover, read_sources

    config = load_config(config_path)
    chosen = select_rules(select if select is not None else config.select, list(config.ignore) + list(ignore or ()))
    settings, severities = rule_overrides(config, chosen)
    fail_on = check_fail_on(fail_on or config.fail_on)
    files = discover(paths, list(config.exclude) + list(exclude or ()), config.base)
    if not files:
        raise InputError("no SQL files found in " + ", ".join(paths), hint="files must end in .sql (or name them explicitly)")
    engine = Engine(chosen, Context(settings=settings, severities=severities, debug=debug))
    review = engine.review(read_sources(files, config.max_file_bytes, stdin_name=stdin_filename))
    write_report(review, output_format, output, color)
    return exit_code(review, fail_on)


def exit_code(review: Review, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_CLEAN
    threshold = SEVERITY_RANK[fail_on]
    failing = any(SEVERITY_RANK[f.severity] >= threshold for f in review.findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def write_report(review: Review, output_format: str, output: str | None, color: bool | None) -> None:
    from queryreview.report import render

    if output:
        text = render(review, output_format, color=False)
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {output}: {error.strerror or error}") from error
        return
    text = render(review, output_format, color=color)
    sys.stdout.write(text)
    sys.stdout.flush()
