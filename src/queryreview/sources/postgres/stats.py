"""Workload from pg_stat_statements, read through the column map of the INSTALLED extension version.

    with open_session(dsn) as session:
        notices: list[Notice] = []
        workload = load_workload(session, notices, Selection(top=500))

Columns moved between extension versions (1.8 total_exec_time, 1.9 toplevel, 1.10 jit and
temp times, 1.11 shared_blk_*_time, 1.12 parallel workers), so each version has its own
query file, pg_stat_statements_<version>.sql, all mapped onto QueryStat's field names. The
extension version, not the server version, decides: a PG 17 server can still run 1.10 until
someone runs ALTER EXTENSION … UPDATE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from queryreview.catalog import QueryStat, WorkloadStats
from queryreview.errors import RuntimeFailure
from queryreview.sources.postgres.catalog_loader import iso_utc
from queryreview.sources.postgres.connect import Session, is_own_query, load_query
from queryreview.sources.snapshot import Notice

# Extension versions with their own statements query, oldest first (1.8 = PostgreSQL 13).
KNOWN_VERSIONS = ("1.8", "1.9", "1.10", "1.11", "1.12")
# The totals query changes once: 1.9 added toplevel.
TOTALS_VERSIONS = ("1.8", "1.9")

StepHook = Callable[[str], None]


class ExtensionMissing(RuntimeFailure):
    """pg_stat_statements cannot be read here (not installed, not preloaded, too old); the hint has the fix."""


@dataclass(frozen=True)
class Selection:
    """Which entries to keep: the top N by total time, plus slow or frequent ones beyond it."""

    top: int = 500
    min_mean_ms: float = 100.0  # any entry at least this slow on average
    min_calls_share: float = 0.01  # any entry with at least this share of all calls


@dataclass(frozen=True)
class Extension:
    """What pg_stat_statements_extension.sql found."""

    version: str
    schema: str
    track: str
    max_entries: int | None
    track_planning: bool
    compute_query_id: str | None
    role: str
    role_ident: str
    reads_all_stats: bool


def version_key(version: str) -> tuple[int, ...]:
    """``"1.10"`` -> ``(1, 10)``: extension versions compare numerically, not as text."""
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def query_version(installed: str, known: tuple[str, ...] = KNOWN_VERSIONS) -> str | None:
    """The newest query version not newer than ``installed``; None when it predates them all."""
    chosen = None
    for candidate in known:
        if version_key(candidate) <= version_key(installed):
            chosen = candidate
    return chosen


def detect_extension(session: Session, database: str = "") -> Extension:
    """The installed pg_stat_statements, or ExtensionMissing carrying the exact fix."""
    row = session.fetch_one(load_query("pg_stat_statements_extension")) or {}
    where = f" in database {database}" if database else ""
    preload = "add pg_stat_statements to shared_preload_libraries in postgresql.conf and restart PostgreSQL"
    if row.get("extversion") is None:
        if row.get("available_version") is None:
            raise ExtensionMissing(
                f"pg_stat_statements is not available on this server{where}",
                hint=f"install the PostgreSQL contrib package, {preload}, then run: CREATE EXTENSION pg_stat_statements;",
            )
        if not row.get("loaded"):
            raise ExtensionMissing(
                f"pg_stat_statements is not installed{where}, and its library is not preloaded",
                hint=f"{preload}, then run: CREATE EXTENSION pg_stat_statements;",
            )
        raise ExtensionMissing(f"pg_stat_statements is not installed{where}",
                               hint="run: CREATE EXTENSION pg_stat_statements;  (as a superuser or the database owner)")
    version = row["extversion"]
    if not row.get("loaded"):
        raise ExtensionMissing(f"pg_stat_statements {version} is installed but its library is not loaded", hint=preload)
    if query_version(version) is None:
        raise ExtensionMissing(
            f"pg_stat_statements {version} is too old (queryreview reads 1.8 and later, PostgreSQL 13+)",
            hint="run: ALTER EXTENSION pg_stat_statements UPDATE;",
        )
    max_entries = row.get("max")
    return Extension(
        version=version,
        schema=row["schema"],
        track=row.get("track") or "",
        max_entries=int(max_entries) if max_entries is not None else None,
        track_planning=(row.get("track_planning") == "on"),
        compute_query_id=row.get("compute_query_id"),
        role=row.get("role") or "",
        role_ident=row.get("role_ident") or "",
        reads_all_stats=bool(row.get("reads_all_stats")),
    )


def load_workload(session: Session, notices: list[Notice], selection: Selection = Selection(),
                  extension: Extension | None = None, on_step: StepHook | None = None) -> WorkloadStats:
    """Top statements of the current database plus totals over every entry, hidden ones included."""
    step = on_step or (lambda name: None)
    if extension is None:
        step("extension")
        extension = detect_extension(session)
    version = query_version(extension.version) or KNOWN_VERSIONS[0]
    if version_key(extension.version) > version_key(KNOWN_VERSIONS[-1]):
        notices.append(Notice(
            "newer-extension",
            f"pg_stat_statements {extension.version} is newer than this queryreview knows ({KNOWN_VERSIONS[-1]}); "
            "columns added since are not collected",
            "upgrade queryreview",
        ))
    _notice_settings(extension, notices)

    view = sql.Identifier(extension.schema, "pg_stat_statements")
    step("statements")
    params = {"top": int(selection.top), "min_mean_ms": float(selection.min_mean_ms),
              "min_calls_share": float(selection.min_calls_share)}
    rows = session.fetch_all(_with_view(f"pg_stat_statements_{version}.sql", pgss=view), params)
    statements = [_query_stat(row) for row in rows if not is_own_query(row["query"])]  # the SQL filters them too

    step("totals")
    totals_version = query_version(extension.version, TOTALS_VERSIONS)
    totals = session.fetch_one(_with_view(f"pg_stat_statements_totals_{totals_version}.sql", pgss=view)) or {}

    dealloc = stats_reset = None
    if version_key(extension.version) >= (1, 9):
        step("info")
        info = session.fetch_one(_with_view("pg_stat_statements_info",
                                            info=sql.Identifier(extension.schema, "pg_stat_statements_info"))) or {}
        dealloc = None if info.get("dealloc") is None else int(info["dealloc"])
        stats_reset = iso_utc(info.get("stats_reset"))

    workload = WorkloadStats(
        extension_version=extension.version,
        statements=statements,
        total_exec_time=float(totals.get("total_exec_time") or 0.0),
        total_calls=int(totals.get("total_calls") or 0),
        entries=int(totals.get("entries") or 0),
        hidden_entries=int(totals.get("hidden_entries") or 0),
        hidden_exec_time=float(totals.get("hidden_exec_time") or 0.0),
        dealloc=dealloc,
        stats_reset=stats_reset,
        track_planning=extension.track_planning,
        track=extension.track,
        max_entries=extension.max_entries,
    )
    notices.extend(workload_notices(workload, extension.role, extension.role_ident))
    return workload


def workload_notices(workload: WorkloadStats, role: str, role_ident: str) -> list[Notice]:
    """Warnings a workload deserves: hidden entries (with the GRANT), evictions, an empty view, lost texts."""
    notices = []
    if workload.hidden_entries:
        seen = workload.total_exec_time + workload.hidden_exec_time
        share = f", {100 * workload.hidden_exec_time / seen:.0f}% of all time" if seen > 0 else ""
        grantee = role_ident or role
        notices.append(Notice(
            "hidden-statements",
            f"{workload.hidden_entries} statement(s) of other roles ({workload.hidden_exec_time:.0f} ms{share}) "
            f"are hidden from {role}: pg_stat_statements shows them as <insufficient privilege>",
            f"GRANT pg_read_all_stats TO {grantee};  (or GRANT pg_monitor TO {grantee};)",
        ))
    if workload.dealloc:
        since = f" since {workload.stats_reset}" if workload.stats_reset else ""
        limit = f" (pg_stat_statements.max = {workload.max_entries})" if workload.max_entries else ""
        notices.append(Notice(
            "evicted-statements",
            f"pg_stat_statements ran out of room {workload.dealloc} time(s){since}{limit} and evicted its "
            "least-used entries: rarely run statements may be missing and the totals undercount",
            "raise pg_stat_statements.max (takes a restart), or SELECT pg_stat_statements_reset(); and collect later",
        ))
    if workload.entries == 0 and workload.hidden_entries == 0 and workload.track != "none":
        notices.append(Notice("no-statements", "pg_stat_statements holds no statements for this database",
                              "let the application run for a while, then collect again"))
    missing_text = sum(1 for stat in workload.statements if stat.query is None)
    if missing_text:
        notices.append(Notice(
            "missing-query-texts",
            f"{missing_text} statement text(s) are missing (pg_stat_statements' text file was garbage-collected)",
            "they come back as the statements run again",
        ))
    return notices


def _notice_settings(extension: Extension, notices: list[Notice]) -> None:
    if extension.track == "none":
        notices.append(Notice("tracking-off", "pg_stat_statements.track = none: no statement is recorded",
                              "set pg_stat_statements.track = top in postgresql.conf and reload"))
    if extension.compute_query_id == "off":
        notices.append(Notice("tracking-off", "compute_query_id = off: pg_stat_statements records nothing",
                              "set compute_query_id = auto in postgresql.conf and reload"))


def _with_view(name: str, **identifiers: sql.Identifier) -> str:
    """A query file with the extension's schema-qualified view names filled in (psycopg.sql, never concatenation)."""
    return sql.SQL(load_query(name)).format(**identifiers).as_string()


_INT_FIELDS = ("calls", "rows", "plans", "shared_blks_hit", "shared_blks_read", "shared_blks_dirtied",
               "shared_blks_written", "local_blks_hit", "local_blks_read", "temp_blks_read", "temp_blks_written",
               "wal_records", "wal_fpi", "wal_bytes")
_FLOAT_FIELDS = ("total_exec_time", "mean_exec_time", "min_exec_time", "max_exec_time", "stddev_exec_time",
                 "total_plan_time", "shared_blk_read_time", "shared_blk_write_time")
_OPTIONAL_INT = ("jit_functions", "parallel_workers_to_launch", "parallel_workers_launched")
_OPTIONAL_FLOAT = ("temp_blk_read_time", "temp_blk_write_time", "jit_time")


def _query_stat(row: dict[str, Any]) -> QueryStat:
    values: dict[str, Any] = {
        "queryid": None if row["queryid"] is None else int(row["queryid"]),
        "query": row["query"],
        "toplevel": bool(row["toplevel"]),
        "user": row["user"],
        "database": row["database"],
        "stats_since": iso_utc(row["stats_since"]),
    }
    for name in _INT_FIELDS:
        values[name] = int(row[name] or 0)
    for name in _FLOAT_FIELDS:
        values[name] = float(row[name] or 0.0)
    for name in _OPTIONAL_INT:
        values[name] = None if row[name] is None else int(row[name])
    for name in _OPTIONAL_FLOAT:
        values[name] = None if row[name] is None else float(row[name])
    return QueryStat(**values)
