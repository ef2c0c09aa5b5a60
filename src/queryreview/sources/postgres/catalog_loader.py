"""Build a Catalog from a live PostgreSQL: one query per object kind, however many tables.

    with open_session("postgresql://app@db/prod") as session:
        notices: list[Notice] = []
        catalog = load_catalog(session, notices)

Reads the system catalogs and statistics views only (never ANALYZE, never a table's rows).
System schemas (pg_catalog, information_schema, pg_toast*, pg_temp_*) are left out. Each
query is its own read-only transaction, so objects created or dropped between two queries
are tolerated: rows for a table the tables query did not return are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from queryreview.catalog import Catalog, Column, ColumnStats, Constraint, Index, Table, TableStats
from queryreview.sources.postgres.connect import QueryCancelled, QueryFailed, Session, load_query
from queryreview.sources.snapshot import Notice

# Settings the rules and the advisor read; SHOW form (units included). Missing ones (an older
# server, or pg_stat_statements not loaded) are simply absent from Catalog.settings.
SETTINGS = (
    "work_mem", "maintenance_work_mem", "hash_mem_multiplier", "shared_buffers", "effective_cache_size",
    "random_page_cost", "seq_page_cost", "cpu_tuple_cost", "cpu_index_tuple_cost", "cpu_operator_cost",
    "effective_io_concurrency", "default_statistics_target", "max_parallel_workers_per_gather",
    "max_parallel_workers", "jit", "jit_above_cost", "plan_cache_mode", "from_collapse_limit",
    "join_collapse_limit", "geqo_threshold", "track_io_timing", "track_counts", "autovacuum",
    "compute_query_id", "max_connections", "block_size", "server_version", "lc_collate",
    "default_toast_compression", "pg_stat_statements.track", "pg_stat_statements.max",
    "pg_stat_statements.track_planning", "pg_stat_statements.track_utility",
)

_OUT_OF_SHARED_MEMORY = "53200"
_LOCK_NOT_AVAILABLE = "55P03"
# Reserved words that quote_ident() quotes even when lower case (the ones likely in role/table names).
_RESERVED = frozenset({"USER", "ORDER", "GROUP", "TABLE", "SELECT", "WHERE", "FROM", "ALL", "ANALYSE", "ANALYZE",
                       "AND", "ANY", "AS", "CHECK", "COLUMN", "DEFAULT", "END", "LIMIT", "OFFSET", "ON", "OR",
                       "PRIMARY", "REFERENCES", "UNIQUE", "USING", "WITH", "CURRENT_USER", "SESSION_USER"})

StepHook = Callable[[str], None]


@dataclass
class _TableParts:
    """A table while its parts arrive, one query per kind."""

    row: dict[str, Any]
    columns: list[Column] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    column_stats: list[ColumnStats] = field(default_factory=list)


def load_server(session: Session) -> dict[str, Any]:
    """Server version, database, role (and its quote_ident form), search_path, pg_stat_database.stats_reset."""
    return session.fetch_one(load_query("catalog_server")) or {}


def load_catalog(session: Session, notices: list[Notice], *, with_values: bool = True,
                 on_step: StepHook | None = None, server: dict[str, Any] | None = None) -> Catalog:
    """The current database's catalog. ``with_values=False`` never fetches data values (pg_stats MCVs, histograms)."""
    step = on_step or (lambda name: None)
    if server is None:
        step("server")
        server = load_server(session)
    step("settings")
    settings = {row["name"]: row["value"]
                for row in session.fetch_all(load_query("catalog_settings"), {"names": list(SETTINGS)})}
    step("extensions")
    installed: dict[str, str] = {}
    available: dict[str, str] = {}
    for row in session.fetch_all(load_query("catalog_extensions")):
        if row["installed_version"] is not None:
            installed[row["name"]] = row["installed_version"]
        elif row["default_version"] is not None:
            available[row["name"]] = row["default_version"]

    step("tables")
    table_rows, exact_sizes = _fetch_with_sizes(session, "catalog_tables", notices)
    parts = {(row["schema"], row["name"]): _TableParts(row) for row in table_rows}
    step("columns")
    for row in session.fetch_all(load_query("catalog_columns")):
        owner = parts.get((row["schema"], row["table_name"]))
        if owner is not None:
            owner.columns.append(Column(name=row["name"], type=row["type"], not_null=row["not_null"],
                                        default=row["default"]))
    step("indexes")
    index_rows = _fetch(session, "catalog_indexes", {"exact_sizes": exact_sizes})
    for row in index_rows:
        owner = parts.get((row["table_schema"], row["table_name"]))
        if owner is not None:
            owner.indexes.append(_index(row))
    step("constraints")
    for row in _fetch(session, "catalog_constraints"):
        owner = parts.get((row["schema"], row["table_name"]))
        if owner is not None:
            owner.constraints.append(_constraint(row))
    step("column_stats")
    for row in session.fetch_all(load_query("catalog_column_stats"), {"with_values": with_values}):
        owner = parts.get((row["schema"], row["table_name"]))
        if owner is not None:
            owner.column_stats.append(_column_stats(row))

    tables = {f"{schema}.{name}": _table(part) for (schema, name), part in parts.items()}
    _notice_unreadable(parts, server.get("role") or "", server.get("role_ident") or "", notices)
    _notice_never_analyzed(tables, notices)
    _notice_locked(table_rows, index_rows, notices)
    return Catalog(
        server_version_num=int(server.get("server_version_num") or session.server_version_num),
        server_version=server.get("server_version") or "",
        database=server.get("database") or "",
        settings=settings,
        extensions=installed,
        available_extensions=available,
        stats_reset=iso_utc(server.get("stats_reset")),
        tables=tables,
        search_path=tuple(server.get("search_path") or ()),
    )


def _fetch_with_sizes(session: Session, name: str, notices: list[Notice]) -> tuple[list[dict[str, Any]], bool]:
    """Exact sizes lock every relation (ACCESS SHARE); when the lock table cannot hold that many, estimate them all."""
    try:
        return _fetch(session, name, {"exact_sizes": True}), True
    except QueryFailed as error:
        if error.sqlstate != _OUT_OF_SHARED_MEMORY:
            raise
    notices.append(Notice(
        "estimated-sizes",
        "table and index sizes are estimates from relpages (last VACUUM/ANALYZE): the lock table is too small "
        "to lock every relation at once",
        "raise max_locks_per_transaction for exact sizes",
    ))
    return _fetch(session, name, {"exact_sizes": False}), False


def _fetch(session: Session, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One catalog query. The queries step around relations locked ACCESS EXCLUSIVE when they start; a lock
    taken in between makes one wait until lock_timeout, and a second attempt steps around it too."""
    try:
        return session.fetch_all(load_query(name), params)
    except QueryCancelled as error:
        if error.sqlstate != _LOCK_NOT_AVAILABLE:
            raise
    return session.fetch_all(load_query(name), params)


def _table(part: _TableParts) -> Table:
    row = part.row
    position = {column.name: number for number, column in enumerate(part.columns)}
    column_stats = sorted(part.column_stats, key=lambda stat: position.get(stat.column, len(position)))
    parent = f"{row['parent_schema']}.{row['parent_name']}" if row["parent_name"] is not None else None
    return Table(
        schema=row["schema"],
        name=row["name"],
        kind=row["kind"],
        reltuples=float(row["reltuples"]),
        relpages=int(row["relpages"]),
        total_bytes=int(row["total_bytes"] or 0),
        partition_of=parent,
        columns=tuple(part.columns),
        indexes=tuple(part.indexes),
        constraints=tuple(part.constraints),
        stats=_table_stats(row) if row["has_stats"] else None,
        column_stats=tuple(column_stats),
    )


def _table_stats(row: dict[str, Any]) -> TableStats:
    counters = ("seq_scan", "seq_tup_read", "n_tup_ins", "n_tup_upd", "n_tup_del", "n_tup_hot_upd", "n_live_tup",
                "n_dead_tup", "n_mod_since_analyze", "n_ins_since_vacuum")
    values: dict[str, Any] = {name: int(row[name] or 0) for name in counters}
    for name in ("idx_scan", "idx_tup_fetch"):  # NULL: the table has no index
        values[name] = None if row[name] is None else int(row[name])
    for name in ("last_vacuum", "last_autovacuum", "last_analyze", "last_autoanalyze"):
        values[name] = iso_utc(row[name])
    return TableStats(**values)


def _index(row: dict[str, Any]) -> Index:
    opclasses = tuple(row["opclasses"] or ())
    return Index(
        name=row["name"],
        table=f"{row['table_schema']}.{row['table_name']}",
        columns=tuple(row["columns"] or ()),
        include=tuple(row["include"] or ()),
        predicate=row["predicate"],
        unique=row["unique"],
        primary=row["primary"],
        valid=row["valid"],
        ready=row["ready"],
        method=row["method"],
        opclasses=opclasses if any(opclasses) else (),  # () when every key uses its default
        definition=row["definition"] or "",
        size_bytes=int(row["size_bytes"] or 0),
        idx_scan=int(row["idx_scan"]),
        idx_tup_read=int(row["idx_tup_read"]),
        constraint=row["constraint"],
        schema=row["schema"],
    )


def _constraint(row: dict[str, Any]) -> Constraint:
    ref_table = f"{row['ref_schema']}.{row['ref_name']}" if row["ref_name"] is not None else None
    return Constraint(
        name=row["name"],
        kind=row["kind"],
        columns=tuple(row["columns"] or ()),
        ref_table=ref_table,
        ref_columns=tuple(row["ref_columns"] or ()),
        definition=row["definition"] or "",
        validated=row["validated"],
    )


def _column_stats(row: dict[str, Any]) -> ColumnStats:
    def texts(value: list[str] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(value)

    freqs = row["most_common_freqs"]
    return ColumnStats(
        column=row["column"],
        null_frac=float(row["null_frac"] or 0.0),
        n_distinct=float(row["n_distinct"] or 0.0),
        avg_width=int(row["avg_width"] or 0),
        correlation=None if row["correlation"] is None else float(row["correlation"]),
        most_common_vals=texts(row["most_common_vals"]),
        most_common_freqs=None if freqs is None else tuple(float(freq) for freq in freqs),
        histogram_bounds=texts(row["histogram_bounds"]),
    )


def _notice_unreadable(parts: dict[tuple[str, str], _TableParts], role: str, role_ident: str,
                       notices: list[Notice]) -> None:
    hidden = sorted(f"{schema}.{name}" for (schema, name), part in parts.items()
                    if not part.row["readable"] and not part.column_stats)
    if hidden:
        shown = ", ".join(hidden[:5]) + (f" and {len(hidden) - 5} more" if len(hidden) > 5 else "")
        schema, name = hidden[0].split(".", 1)
        first = f"{quote_ident(schema)}.{quote_ident(name)}"
        more = " (and likewise for the others)" if len(hidden) > 1 else ""
        notices.append(Notice(
            "hidden-column-stats",
            f"column statistics of {len(hidden)} table(s) are not visible to {role} (pg_stats shows only "
            f"columns the role may SELECT): {shown}",
            f"GRANT SELECT ON {first} TO {role_ident or quote_ident(role)};{more} or collect as a role that can read them",
        ))


def _notice_locked(table_rows: list[dict[str, Any]], index_rows: list[dict[str, Any]],
                   notices: list[Notice]) -> None:
    locked = sorted({f"{row['schema']}.{row['name']}" for row in table_rows if row["locked"]}
                    | {f"{row['table_schema']}.{row['table_name']}" for row in index_rows if row["locked"]})
    if locked:
        shown = ", ".join(locked[:5]) + (f" and {len(locked) - 5} more" if len(locked) > 5 else "")
        notices.append(Notice(
            "locked-tables",
            f"{len(locked)} table(s) were locked by another session (a migration, VACUUM FULL, REINDEX…): their "
            f"sizes are estimates and index expressions, predicates and definitions read '<locked>' or '': {shown}",
            "collect again once the lock is released",
        ))


def _notice_never_analyzed(tables: dict[str, Table], notices: list[Notice]) -> None:
    never = sorted(name for name, table in tables.items() if table.kind != "p" and table.reltuples < 0)
    if never:
        shown = ", ".join(never[:5]) + (f" and {len(never) - 5} more" if len(never) > 5 else "")
        notices.append(Notice("never-analyzed", f"{len(never)} table(s) were never analyzed: {shown}",
                              "run ANALYZE on them (queryreview never does): row estimates are guesses until then"))


def quote_ident(name: str) -> str:
    """An identifier as PostgreSQL's quote_ident() would write it (for hints the user pastes)."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name.upper() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def iso_utc(value: Any) -> str | None:
    """Timestamps as ISO 8601 in UTC, so snapshots do not depend on the session's TimeZone."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    return str(value)
