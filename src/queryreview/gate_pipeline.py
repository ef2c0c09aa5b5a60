"""Pipeline behind ``queryreview gate``: target database -> statements -> plans (seq scans off) ->
seq-scan-regression (QR316) through the engine -> diff with the baseline -> report -> exit code.

    exit_code = run_gate(GateOptions(migrations="db/migrations", queries=["app/queries"],
                                     stats="prod-snapshot.json.gz"))
    result = gate(options)        # in-process: result.review, result.diff, result.exit_code

Statements come from ``--queries`` files (the project's splitter; each query or DML
statement) and the top statements of a ``--stats`` snapshot; one statement seen in both is
checked once, at its place in the file. Each is planned (generic plan) with
``enable_seqscan = off``; the rule reports the full reads of tables over ``min_rows``
(production sizes from the snapshot, else the target's catalog), and only those the baseline
does not hold are findings. Exit 1 on any, 0 otherwise (``--update-baseline`` accepts them).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from queryreview.errors import EXIT_CLEAN, EXIT_FINDINGS, InputError
from queryreview.gate import Diff, Observation, compare, fingerprint, read_baseline, write_baseline
from queryreview.model import Finding, Location, Review, SourceText

RULE = "seq-scan-regression"
DEFAULT_BASELINE = ".queryreview/baseline.json"
PLAN_SETTINGS = {"enable_seqscan": "off", "jit": "off"}  # JIT would only compile for the 1e10 costs (PG < 18)
# Second plan, for statements whose plan sorts a table's rows: a Sort that survives has no index giving the order.
SORT_SETTINGS = {**PLAN_SETTINGS, "enable_sort": "off"}
SORTS_SUFFIX = "#sorts"
_FAILURES_LISTED = 10
_QUERY_FAILED = re.compile(r"^query failed on \S+: ")  # the target is in the notes once already


@dataclass
class GateOptions:
    queries: list[str] = field(default_factory=list)
    migrations: str | None = None
    dsn: str | None = None
    stats: str | None = None
    baseline: str = DEFAULT_BASELINE
    update_baseline: bool = False
    min_rows: int | None = None  # None: the rule's setting (configuration, else 10,000)
    top: int = 200  # statements taken from the snapshot's workload, busiest first
    output_format: str = "text"
    output: str | None = None
    markdown_summary: str | None = None  # also append the markdown report here ($GITHUB_STEP_SUMMARY)
    color: bool | None = None
    debug: bool = False
    config_path: Path | None = None
    exclude: list[str] = field(default_factory=list)
    pgdata: str | None = None  # embedded server directory to reuse with --migrations
    statement_timeout_ms: int = 10_000


@dataclass
class Candidate:
    """A statement to plan, where it comes from, and its baseline key."""

    name: str  # the plan's name: "path:line" or "pg_stat_statements:<queryid>"
    text: str
    key: str
    normalized: str
    location: Location
    source: SourceText | None = None


@dataclass
class GateResult:
    review: Review
    diff: Diff
    exit_code: int


def run_gate(options: GateOptions) -> int:
    """Run the gate and write the report(s); returns the exit code."""
    from queryreview.pipeline import write_report

    result = gate(options)
    write_report(result.review, options.output_format, options.output, options.color)
    if options.markdown_summary:
        _append_markdown(result.review, options.markdown_summary)
    return result.exit_code


def gate(options: GateOptions) -> GateResult:
    from queryreview.config import load_config, rule_overrides
    from queryreview.rules.registry import find_rule

    _check_options(options)
    config = load_config(options.config_path)
    rule = find_rule(RULE)
    settings, severities = rule_overrides(config, [rule])
    rule_settings = {**rule.default_settings(), **settings.get(rule.name, {})}
    if options.min_rows is not None:
        rule_settings["min_rows"] = options.min_rows
    snapshot = None
    if options.stats:
        from queryreview.sources.snapshot import read_snapshot

        snapshot = read_snapshot(options.stats)
    baseline = read_baseline(options.baseline)  # before the slow part: a bad file fails fast
    review = Review()
    candidates, skipped = _file_candidates(options, config, review)
    candidates = _dedupe(candidates + _workload_candidates(snapshot, options.top))
    if not candidates:
        raise InputError("no statements to check", hint="give --queries with SELECT/INSERT/UPDATE/DELETE "
                                                       "statements, or --stats with a snapshot's workload")
    with _target(options) as target:
        catalog, plans, failures, server = _plan_all(target.dsn, candidates, snapshot, options)
        review.notes.append(f"target: {target.description}, {server}" if target.description else f"target: {server}")
        review.notes.extend(target.notes)
    if failures and not plans:
        name, error = next(iter(failures.items()))
        raise InputError(f"none of the {len(candidates)} statements could be planned on the target "
                         f"(first: {name}: {error})",
                         hint="is this the right database, with the migrations applied?")
    sizes = (f"table sizes from {options.stats}" if snapshot is not None
             else "table sizes from the target database's catalog (give --stats for production's)")
    review.notes.append(f"{sizes}; tables over {rule_settings['min_rows']:,} rows count")
    findings = _review_plans(rule, catalog, plans, rule_settings, severities, options.debug)
    observations = _observations(candidates, plans, findings)
    diff = compare(baseline, observations)
    kept = _new_findings(findings, diff, {c.name: c for c in candidates})
    review.statements = len(candidates)
    review.parsed = sum(1 for name in plans if not name.endswith(SORTS_SUFFIX))
    _note_planning(review, candidates, plans, failures, skipped)
    _note_baseline(review, baseline, diff, options)
    if options.update_baseline:
        from queryreview.gate import Baseline

        updated = Baseline.from_observations(observations, baseline)
        write_baseline(updated, options.baseline)
        review.notes.extend(f"accepted: {_where(f)}: {f.message}" for f in kept)
        review.notes.append(f"baseline written to {options.baseline}: {len(updated.statements)} statements, "
                            f"{updated.full_scan_count()} accepted full scans")
        kept = []
    review.findings = sorted(kept, key=Finding.sort_key)
    review.sources = {c.location.path: c.source for c in candidates
                      if c.source is not None and any(f.location.path == c.location.path for f in kept)}
    return GateResult(review, diff, EXIT_FINDINGS if review.findings else EXIT_CLEAN)


def _check_options(options: GateOptions) -> None:
    if options.migrations and options.dsn:
        raise InputError("give --migrations or --dsn, not both",
                         hint="--dsn: a database already migrated; --migrations: applied to a fresh embedded one")
    if not options.migrations and options.dsn is None:
        raise InputError("no target database: give --migrations DIR or --dsn DSN")
    if not options.queries and not options.stats:
        raise InputError("nothing to check: give --queries and/or --stats")
    if options.min_rows is not None and options.min_rows < 0:
        raise InputError("--min-rows must be 0 or more")
    if options.top < 1:
        raise InputError("--top must be at least 1")


# -- statements ------------------------------------------------------------------------------------


def _file_candidates(options: GateOptions, config, review: Review) -> tuple[list[Candidate], int]:
    """Each query or DML statement of the --queries files; the number of other statements skipped."""
    if not options.queries:
        return [], 0
    from sqlglot import exp

    from queryreview.sources.files import discover, read_sources
    from queryreview.sql.parse import statements as parse_statements

    files = discover(options.queries, list(config.exclude) + list(options.exclude), config.base)
    if not files:
        raise InputError("no SQL files found in " + ", ".join(options.queries))
    found: list[Candidate] = []
    skipped = 0
    for source in read_sources(files, config.max_file_bytes):
        review.files += 1
        if source.problem is not None and not source.text:
            review.notes.append(f"{source.path}: {source.problem[0]}")
            continue
        for statement in parse_statements(source):
            if statement.kind == "meta":
                continue
            if statement.ast is not None and not isinstance(statement.ast, (exp.Query, exp.DML)):
                skipped += 1  # DDL, SET, BEGIN…: nothing to plan
                continue
            key, normalized = fingerprint(statement.text, statement.ast)
            location = statement.location
            found.append(Candidate(f"{source.path}:{location.line}", statement.text, key, normalized, location, source))
    return found, skipped


def _workload_candidates(snapshot, top: int) -> list[Candidate]:
    """The snapshot's busiest statements that can be planned (its order: total time)."""
    if snapshot is None or snapshot.workload is None:
        return []
    from queryreview.sources.postgres.connect import is_own_query

    found: list[Candidate] = []
    for stat in snapshot.workload.statements:
        if len(found) >= top:
            break
        if not stat.query or is_own_query(stat.query) or not _plannable(stat.query):
            continue
        name = f"pg_stat_statements:{stat.queryid}"
        key, normalized = fingerprint(stat.query)
        found.append(Candidate(name, stat.query, key, normalized, Location(name, 1, 1, 1, 1)))
    return found


def _plannable(text: str) -> bool:
    match = re.match(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*\(*\s*([A-Za-z]+)", text, re.S)
    return bool(match) and match.group(1).lower() in ("select", "with", "insert", "update", "delete", "values", "table")


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per statement key: a file's statement wins over the same one from the workload."""
    seen: dict[str, Candidate] = {}
    for candidate in candidates:
        seen.setdefault(candidate.key, candidate)
    names: set[str] = set()
    unique = []
    for candidate in seen.values():
        if candidate.name in names:  # two statements on one line: keep the plans apart
            candidate.name = f"{candidate.name}#{candidate.key[:6]}"
        names.add(candidate.name)
        unique.append(candidate)
    return unique


# -- target and plans ------------------------------------------------------------------------------


@contextmanager
def _target(options: GateOptions) -> Iterator:
    from queryreview.sources.gate_target import Target, migrated_database

    if options.migrations:
        with migrated_database(options.migrations, options.pgdata) as target:
            yield target
    else:
        yield Target(options.dsn or "", "")


def _plan_all(dsn: str, candidates: list[Candidate], snapshot, options: GateOptions):
    """(catalog for sizes, {plan name: Plan}, {name: why not planned}, "user@host:port/db (PostgreSQL n)").

    A statement whose plan has a Sort over a table scan is planned again with sorts disabled,
    under the name ``<name>#sorts``.
    """
    from queryreview.collect import CollectOptions, collect
    from queryreview.plan.advice import input_scan
    from queryreview.plan.tree import parse_plan
    from queryreview.sources.postgres.connect import SessionOptions, open_session
    from queryreview.sources.postgres.explain import explain_statement

    plans = {}
    failures: dict[str, str] = {}
    with open_session(dsn or None, SessionOptions(statement_timeout_ms=options.statement_timeout_ms)) as session:
        catalog = snapshot.catalog if snapshot is not None else collect(session, CollectOptions(statements=False)).catalog
        server = f"{session.target} (PostgreSQL {session.server_version_num // 10000})"
        for candidate in candidates:
            result = explain_statement(session, candidate.text, settings=PLAN_SETTINGS)
            if result.error or not result.plan_json:
                failures[candidate.name] = _QUERY_FAILED.sub("", result.error or "no plan")
                continue
            plan = plans[candidate.name] = parse_plan(result.plan_json, candidate.name)
            if any(node.node_type == "Sort" and input_scan(node) is not None for node in plan.nodes):
                sorted_result = explain_statement(session, candidate.text, settings=SORT_SETTINGS)
                if sorted_result.plan_json and not sorted_result.error:
                    name = candidate.name + SORTS_SUFFIX
                    plans[name] = parse_plan(sorted_result.plan_json, name)
    return catalog, plans, failures, server


def _review_plans(rule, catalog, plans: dict, rule_settings: dict, severities: dict, debug: bool) -> list[Finding]:
    if not plans:
        return []
    from queryreview.engine import Context, Engine, PlanInput

    inputs = [PlanInput(name, plan, None) for name, plan in plans.items()]
    context = Context(catalog=catalog, plans=inputs, settings={rule.name: rule_settings}, severities=severities,
                      debug=debug)
    return Engine([rule], context).review_plans()


def _observations(candidates: list[Candidate], plans: dict, findings: list[Finding]) -> list[Observation]:
    by_name: dict[str, Observation] = {}
    for candidate in candidates:
        by_name[candidate.name] = Observation(candidate.key, candidate.normalized, planned=candidate.name in plans)
    for finding in findings:
        seen = by_name.get(finding.location.path.removesuffix(SORTS_SUFFIX))
        evidence = finding.evidence or {}
        if seen is None or not evidence.get("relation"):
            continue
        (seen.sorts if evidence.get("kind") == "sort" else seen.full_scans).add(evidence["relation"])
    return list(by_name.values())


def _new_findings(findings: list[Finding], diff: Diff, candidates: dict[str, Candidate]) -> list[Finding]:
    """The findings the baseline does not hold, placed at their statement."""
    kept = []
    for finding in findings:
        candidate = candidates.get(finding.location.path.removesuffix(SORTS_SUFFIX))
        evidence = finding.evidence or {}
        if candidate is None or not evidence.get("relation"):
            kept.append(finding)  # not one of ours (a rule failure report): never hide it
            continue
        entry = (candidate.key, evidence["relation"])
        message = finding.message
        if evidence.get("kind") == "sort":
            if entry not in diff.new_sorts:
                continue
            message += (" (the baseline's plan for this statement had no such Sort: an index that returned "
                        "the rows in order is gone)")
        elif entry not in diff.new_full_scans:
            continue
        kept.append(replace(finding, message=message, location=candidate.location,
                            statement=_shorten(candidate.text),
                            evidence={**evidence, "statement_key": candidate.key}))
    return kept


def _shorten(text: str) -> str:
    from queryreview.engine import STATEMENT_TEXT_LIMIT

    return text if len(text) <= STATEMENT_TEXT_LIMIT else text[:STATEMENT_TEXT_LIMIT] + " …"


# -- notes -----------------------------------------------------------------------------------------


def _note_planning(review: Review, candidates: list[Candidate], plans: dict, failures: dict[str, str],
                   skipped: int) -> None:
    count = sum(1 for name in plans if not name.endswith(SORTS_SUFFIX))
    planned = f"planned {count} of {len(candidates)} statements with enable_seqscan = off"
    if skipped:
        planned += f" ({skipped} non-query statements of the query files skipped)"
    review.notes.append(planned)
    for name, error in list(failures.items())[:_FAILURES_LISTED]:
        review.notes.append(f"not checked: {name}: could not be planned: {error}")
    if len(failures) > _FAILURES_LISTED:
        review.notes.append(f"not checked: {len(failures) - _FAILURES_LISTED} more statements could not be planned")


def _note_baseline(review: Review, baseline, diff: Diff, options: GateOptions) -> None:
    if baseline is None:
        if not options.update_baseline:
            review.notes.append(f"no baseline at {options.baseline}: every full scan counts as new (accept the "
                                "current ones with --update-baseline)")
        return
    review.notes.append(f"baseline {options.baseline}: {len(baseline.statements)} statements, "
                        f"{baseline.full_scan_count()} accepted full scans")
    for fixed in diff.fixed:
        what = "full scan of" if fixed.kind == "full-scan" else "sort of"
        why = "the statement is no longer checked" if fixed.gone else "no longer in the plan"
        review.notes.append(f"fixed: {what} {fixed.table} ({why}): {fixed.text[:200]}")
    if diff.unplanned:
        review.notes.append(f"{len(diff.unplanned)} baseline statements could not be planned this time: their "
                            "entries are kept")


def _where(finding: Finding) -> str:
    location = finding.location
    return location.path if location.path.startswith("pg_stat_statements:") else f"{location.path}:{location.line}"


def _append_markdown(review: Review, path: str) -> None:
    from queryreview.report import render

    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(render(review, "markdown"))
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}") from None
