"""Pipeline behind ``queryreview advise``: workload + catalog -> candidates -> what-if costing ->
workload-wide selection -> Review.recommendations / Review.rejected -> report.

Recommendations come ranked by kind: indexes to create (validated ones first, estimates
after), then rewrites of the same statements (rewrite/recommend.py), then indexes to drop
(advisor/drops.py).

    review = advise(AdviseOptions(dsn="service=app", budget_bytes=2 << 30))
    exit_code = run_advise(AdviseOptions(...), output_format="json", output="advice.json")

Where the pieces come from:

- ``dsn`` alone: catalog and pg_stat_statements from the live database, costing there;
- ``dsn`` + ``workload`` (SQL files): the files' statements, weight 1 each (or as a
  ``-- queryreview: weight=N`` comment says), catalog and costing from the database;
- ``snapshot`` + ``dsn``: the snapshot's workload, costed on the DSN (a staging copy), whose
  catalog is the one indexes are proposed against; a different major version is warned about;
- ``snapshot`` alone: the snapshot's workload and catalog, costs estimated from its pg_stats.

Costing: hypopg when installed in the target; else real indexes rolled back when the user
says ``disposable``; else an estimate (and a note saying what to install).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

from queryreview.errors import EXIT_CLEAN, InputError
from queryreview.model import Review

DEFAULT_TOP = 100


@dataclass
class AdviseOptions:
    dsn: str | None = None
    snapshot_path: str | None = None
    workload: list[str] = field(default_factory=list)  # SQL files or globs
    budget_bytes: int | None = None
    max_indexes: int | None = 10
    min_saving: float = 0.10  # fraction
    disposable: bool = False
    top: int = DEFAULT_TOP  # pg_stat_statements entries considered, by total time
    statement_timeout_ms: int = 5000
    use_dsn: bool = True  # False: the dsn is None on purpose (libpq defaults are not wanted)


@dataclass
class AdviseRun:
    """What happened, for the one-line summary on stderr and for benchmarks."""

    statements: int = 0
    helped: int = 0
    candidates: int = 0
    whatif_calls: int = 0
    validated_by: str = "estimate"
    seconds: float = 0.0


def run_advise(options: AdviseOptions, output_format: str = "text", output: str | None = None,
               color: bool | None = None, on_summary=None) -> int:
    """Advise and write the report; returns the exit code (0: the advice was produced)."""
    from queryreview.pipeline import write_report

    review, run = advise(options)
    write_report(review, output_format, output, color)
    if on_summary is not None:
        on_summary(summary_line(review, run))
    return EXIT_CLEAN


def summary_line(review: Review, run: AdviseRun) -> str:
    return (f"queryreview advise: {len(review.recommendations)} recommendation(s) from {run.statements} "
            f"statement(s) ({run.helped} helped by some candidate), {run.candidates} candidate(s), "
            f"{run.whatif_calls} what-if call(s) ({run.validated_by}), {run.seconds:.1f} s")


def advise(options: AdviseOptions) -> tuple[Review, AdviseRun]:
    """The advice as a Review (recommendations, rejected, notes) plus run figures."""
    started = time.perf_counter()
    if options.snapshot_path is None and not options.use_dsn:
        raise InputError("give a database (DSN) or --snapshot", hint="queryreview advise \"service=app\"")
    review = Review()
    inputs = _inputs(options, review.notes)
    try:
        outcome = recommend(inputs, options, review)
    finally:
        if inputs.session is not None:
            inputs.session.close()
    review.statements = len(inputs.statements)
    review.parsed = len(inputs.statements)
    review.files = inputs.files
    run = AdviseRun(statements=len(inputs.statements), helped=outcome.helped, candidates=outcome.candidates,
                    whatif_calls=outcome.calls, validated_by=outcome.validated_by,
                    seconds=time.perf_counter() - started)
    return review, run


@dataclass
class AdviseInputs:
    statements: list  # advisor.statements.WorkStatement, busiest first
    catalog: object
    session: object | None  # an open Session to cost on, or None (estimates)
    files: int = 0
    window_days: float | None = None  # the pg_stat_statements window the statements' times cover


_Inputs = AdviseInputs


def recommend(inputs: AdviseInputs, options: AdviseOptions, review: Review, rule_settings: dict | None = None):
    """Indexes to create, rewrites, indexes to drop: into ``review.recommendations`` (ranked) and
    ``review.rejected``; returns the advisor's Outcome (figures). The session stays open.
    ``rule_settings`` (by rule name) reach the drop rules (unused-index's thresholds)."""
    from queryreview.advisor.run import AdvisorRun

    outcome = AdvisorRun(inputs.statements, inputs.catalog, inputs.session, options, review.notes).run()
    rewrites = _rewrites(inputs)  # after the advisor: its hypothetical indexes are gone by now
    drops = _drops(inputs.catalog, rule_settings)
    review.recommendations = (outcome.recommendations + [r for r in rewrites if not r.rejected]
                              + [r for r in drops if not r.rejected])
    review.rejected = outcome.rejected + [r for r in rewrites if r.rejected] + [r for r in drops if r.rejected]
    return outcome


def _rewrites(inputs: _Inputs) -> list:
    """Rewrite recommendations for the same statements (rewrite/recommend.py), costed on the session."""
    from queryreview.model import StatementImpact
    from queryreview.rewrite.recommend import rewrite_recommendations

    impacts = [StatementImpact(text=s.text, queryid=s.queryid, calls=s.calls, total_ms=s.measured_ms or 0.0)
               for s in inputs.statements]
    return rewrite_recommendations(impacts, catalog=inputs.catalog, session=inputs.session,
                                   window_days=inputs.window_days)


def _drops(catalog, rule_settings: dict | None = None) -> list:
    """DROP INDEX recommendations for unused, duplicate and redundant indexes (advisor/drops.py)."""
    from queryreview.advisor.drops import drop_recommendations

    return drop_recommendations(catalog, rule_settings)


def _inputs(options: AdviseOptions, notes: list[str]) -> _Inputs:
    from queryreview.advisor.statements import from_sources, from_workload

    snapshot = None
    if options.snapshot_path is not None:
        from queryreview.sources.snapshot import read_snapshot

        snapshot = read_snapshot(options.snapshot_path)
        notes.extend(snapshot.notes())
    session = None
    catalog = snapshot.catalog if snapshot is not None else None
    workload = snapshot.workload if snapshot is not None else None
    if options.use_dsn and (options.dsn is not None or snapshot is None):
        session, catalog, live_workload = _live(options, need_workload=snapshot is None and not options.workload,
                                                notes=notes)
        if snapshot is None:
            workload = live_workload
        else:
            _version_warning(snapshot, catalog, notes)
    window_days = None
    try:
        files = 0
        if options.workload:
            paths = _expand(options.workload)
            from queryreview.sources.files import read_sources

            statements, more = from_sources(read_sources(paths, 10 * 1024 * 1024))
            files = len(paths)
        elif workload is not None:
            from queryreview.advisor.statements import window_days as days_between

            statements, more = from_workload(workload)
            statements = statements[: options.top]
            window_days = days_between(workload.stats_reset, workload.collected_at)
        else:
            raise InputError("no workload: the snapshot has no pg_stat_statements data",
                             hint="give SQL files with --workload, or collect the snapshot with pg_stat_statements")
        notes.extend(more)
        if not statements:
            raise InputError("no statement an index could speed up was found in the workload",
                             hint="advise looks at SELECT, UPDATE, DELETE and INSERT … SELECT statements")
    except BaseException:
        if session is not None:
            session.close()
        raise
    return _Inputs(statements, catalog, session, files, window_days)


def _live(options: AdviseOptions, need_workload: bool, notes: list[str]):
    """(session kept open for costing, catalog, workload or None) from the database."""
    from queryreview.collect import CollectOptions, collect
    from queryreview.errors import RuntimeFailure
    from queryreview.sources.postgres.connect import SessionOptions, open_session
    from queryreview.sources.postgres.stats import ExtensionMissing

    session = open_session(options.dsn or None, SessionOptions(statement_timeout_ms=options.statement_timeout_ms))
    try:
        try:
            snapshot = collect(session, CollectOptions(statements=need_workload, top=options.top))
        except ExtensionMissing as error:
            raise RuntimeFailure(str(error), hint=(error.hint or "") + "; or give the statements as SQL files with "
                                 "--workload") from None
        notes.extend(snapshot.notes())
    except BaseException:
        session.close()
        raise
    return session, snapshot.catalog, snapshot.workload


def _version_warning(snapshot, catalog, notes: list[str]) -> None:
    taken = snapshot.source.server_version_num or snapshot.catalog.server_version_num
    here = catalog.server_version_num
    if taken and here and taken // 10000 != here // 10000:
        notes.append(f"the snapshot comes from PostgreSQL {taken // 10000} but costing runs on PostgreSQL "
                     f"{here // 10000}: plans and costs may differ from production's")


def _expand(patterns: list[str]) -> list[str]:
    paths: list[str] = []
    for pattern in patterns:
        matches = sorted(glob(pattern, recursive=True)) if any(ch in pattern for ch in "*?[") else [pattern]
        if not matches:
            raise InputError(f"--workload {pattern}: no file matches")
        for match in matches:
            if Path(match).is_dir():
                paths.extend(sorted(str(p) for p in Path(match).rglob("*.sql")))
            elif not Path(match).is_file():
                raise InputError(f"--workload {match}: no such file")
            else:
                paths.append(match)
    return list(dict.fromkeys(paths))
