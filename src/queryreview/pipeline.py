"""Pipelines behind the CLI commands: sources -> analysis -> renderer -> exit code."""

from __future__ import annotations

import sys
from pathlib import Path

from queryreview.config import Config, check_fail_on, load_config, rule_overrides
from queryreview.errors import EXIT_CLEAN, EXIT_FINDINGS, InputError
from queryreview.model import SEVERITY_RANK, Review, SourceText


def run_check(paths: list[str], output_format: str = "text", output: str | None = None,
              select: list[str] | None = None, ignore: list[str] | None = None, fail_on: str | None = None,
              config_path: Path | None = None, exclude: list[str] | None = None, stdin_filename: str = "-",
              color: bool | None = None, debug: bool = False, dsn: str | None = None,
              snapshot_path: str | None = None, statement_timeout_ms: int = 5000) -> int:
    """Review SQL inputs (and/or a database's workload) and write the report; returns the exit code.

    With ``dsn`` or ``snapshot_path`` the catalog-aware rules run too; without ``paths`` the
    statements reviewed are the workload's (pg_stat_statements texts).
    """
    from queryreview.engine import Context, Engine
    from queryreview.rules.registry import select_rules
    from queryreview.sources.files import discover, read_sources

    config = load_config(config_path)
    chosen = select_rules(select if select is not None else config.select, list(config.ignore) + list(ignore or ()))
    settings, severities = rule_overrides(config, chosen)
    fail_on = check_fail_on(fail_on or config.fail_on)
    snapshot = _database_snapshot(dsn, snapshot_path, statements=not paths, statement_timeout_ms=statement_timeout_ms)
    files = discover(paths, list(config.exclude) + list(exclude or ()), config.base) if paths else []
    if paths and not files:
        raise InputError("no SQL files found in " + ", ".join(paths), hint="files must end in .sql (or name them explicitly)")
    context = Context(settings=settings, severities=severities, debug=debug)
    review = Review()
    if snapshot is not None:
        context.catalog = snapshot.catalog
        context.stats = snapshot.workload
        review.notes.extend(snapshot.notes())
    engine = Engine(chosen, context)
    if paths:
        sources = read_sources(files, config.max_file_bytes, stdin_name=stdin_filename)
    else:
        sources = workload_sources(snapshot.workload if snapshot is not None else None)
    review = engine.review(sources, review)
    write_report(review, output_format, output, color)
    return exit_code(review, fail_on)


def _database_snapshot(dsn: str | None, snapshot_path: str | None, statements: bool, statement_timeout_ms: int):
    """The catalog (and workload) to review against: read from a snapshot file or collected live."""
    if dsn is not None and snapshot_path is not None:
        raise InputError("give --dsn or --snapshot, not both")
    if snapshot_path is not None:
        from queryreview.sources.snapshot import read_snapshot

        return read_snapshot(snapshot_path)
    if dsn is not None:
        from queryreview.collect import CollectOptions, collect_from
        from queryreview.sources.postgres.connect import SessionOptions

        return collect_from(dsn or None, CollectOptions(statements=statements),
                            SessionOptions(statement_timeout_ms=statement_timeout_ms))
    return None


def workload_sources(workload) -> list[SourceText]:
    """pg_stat_statements texts as inputs named ``pg_stat_statements:<queryid>``, busiest first."""
    if workload is None:
        return []
    sources = []
    for stat in workload.statements:
        if stat.query:
            sources.append(SourceText(f"pg_stat_statements:{stat.queryid}", stat.query))
    return sources


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
