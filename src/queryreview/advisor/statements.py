"""The statements an advisor run optimises, each with the weight of its share of database time.

    statements, notes = from_workload(workload)                  # pg_stat_statements: calls x mean time
    statements, notes = from_sources(read_sources(paths, ...))   # files: weight 1 unless given

A file statement's weight can be given in a comment inside or just above it:
``-- queryreview: weight=25`` (it then counts like 25 executions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlglot import exp

from queryreview.catalog import WorkloadStats
from queryreview.model import SourceText, Statement

_WEIGHT = re.compile(r"queryreview:\s*weight\s*[=:]?\s*([0-9]+(?:\.[0-9]+)?)", re.I)
# Statements an index can speed up: their WHERE, JOIN, ORDER BY and GROUP BY run scans.
_INDEXABLE = (exp.Select, exp.SetOperation, exp.Update, exp.Delete, exp.Insert, exp.Subquery)


@dataclass(eq=False)
class WorkStatement:
    """One statement to optimise.

    ``measured_ms`` is pg_stat_statements' total execution time (None for files);
    ``ms_per_day`` that time spread over the statistics window, when the window is known.
    """

    key: str  # "pg_stat_statements:<queryid>" or "path:line"
    text: str
    stmt: Statement
    order: int  # position in the input: ties break by it, so output is deterministic
    queryid: int | None = None
    calls: int = 0
    weight: float = 1.0
    measured_ms: float | None = None
    ms_per_day: float | None = None
    tables: frozenset[str] = frozenset()  # qualified names of catalog tables it reads or writes (filled later)
    columns: dict[str, frozenset[str]] = field(default_factory=dict)  # table -> columns it mentions
    searched: dict[str, frozenset[str]] = field(default_factory=dict)  # table -> columns it filters, joins, sorts on
    fractions: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)  # table -> key -> (kind, kept)

    @property
    def ast(self) -> Any:
        return self.stmt.ast

    def __repr__(self) -> str:
        return f"WorkStatement({self.key})"


def from_workload(workload: WorkloadStats) -> tuple[list[WorkStatement], list[str]]:
    """pg_stat_statements entries (merged per text) that an index could speed up, busiest first."""
    from queryreview.sources.postgres.connect import is_own_query
    from queryreview.workload import statements as merged_entries

    found: list[WorkStatement] = []
    notes: list[str] = []
    skipped_unparsable = 0
    window = window_days(workload.stats_reset, workload.collected_at)
    entries = sorted(merged_entries(workload), key=lambda entry: (-entry.total_exec_time, entry.queryid or 0))
    for entry in entries:
        if not entry.query or is_own_query(entry.query) or entry.calls <= 0:
            continue
        key = f"pg_stat_statements:{entry.queryid}"
        stmt = _parse(key, entry.query)
        if stmt is None:
            skipped_unparsable += 1
            continue
        if not _indexable(stmt):
            continue
        days = window_days(entry.stats_since, workload.collected_at) or window
        found.append(WorkStatement(
            key=key, text=stmt.text, stmt=stmt, order=len(found), queryid=entry.queryid, calls=entry.calls,
            weight=float(entry.calls), measured_ms=entry.total_exec_time,
            ms_per_day=entry.total_exec_time / days if days else None,
        ))
    if skipped_unparsable:
        notes.append(f"{skipped_unparsable} pg_stat_statements text(s) could not be parsed and were left out")
    if found and all(item.ms_per_day is None for item in found):
        why = ("shorter than a minute" if workload.stats_reset else
               "unknown (no pg_stat_statements_info.stats_reset before PostgreSQL 14)")
        notes.append(f"the statistics window is {why}: savings are not given per day, statements are weighted "
                     "by their measured total time")
    return found, notes


def from_sources(sources: list[SourceText]) -> tuple[list[WorkStatement], list[str]]:
    """Every SELECT/UPDATE/DELETE/INSERT … SELECT of the files, weight 1 unless a comment gives one."""
    from queryreview.sql.parse import statements as parse_statements

    found: list[WorkStatement] = []
    notes: list[str] = []
    for source in sources:
        if source.problem is not None:
            notes.append(f"{source.path}: {source.problem[0]}; left out")
            continue
        for stmt in parse_statements(source):
            if stmt.kind != "sql":
                continue
            line = stmt.location.line
            if stmt.ast is None:
                notes.append(f"{source.path}:{line}: cannot parse ({stmt.error}); left out")
                continue
            if not _indexable(stmt):
                continue
            found.append(WorkStatement(key=f"{source.path}:{line}", text=stmt.text, stmt=stmt, order=len(found),
                                       weight=_weight(stmt), calls=0))
    return found, notes


def _weight(stmt: Statement) -> float:
    for comment in stmt.comments:
        match = _WEIGHT.search(comment.text)
        if match:
            return max(float(match.group(1)), 0.0)
    return 1.0


def _parse(key: str, text: str) -> Statement | None:
    from queryreview.sql.parse import statements as parse_statements

    parsed = [stmt for stmt in parse_statements(SourceText(key, text)) if stmt.kind == "sql"]
    if len(parsed) != 1 or parsed[0].ast is None:
        return None
    return parsed[0]


def _indexable(stmt: Statement) -> bool:
    tree = stmt.ast
    if isinstance(tree, exp.Insert):
        return isinstance(tree.expression, (exp.Select, exp.SetOperation)) or tree.find(exp.Select) is not None
    return isinstance(tree, _INDEXABLE)


def window_days(start: str | None, end: str | None) -> float | None:
    """Days between two ISO 8601 timestamps (end: now when missing); None when unknown or under a minute."""
    from datetime import datetime, timezone

    from queryreview.workload import when

    began = when(start)
    if began is None:
        return None
    ended = when(end) or datetime.now(timezone.utc)
    span = ended - began
    if span < timedelta(minutes=1):
        return None
    return span.total_seconds() / 86400
