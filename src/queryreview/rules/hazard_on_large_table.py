"""QR519 hazard-on-large-table: a rewrite, scan or index build under lock, on a table the catalog shows is large."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

from queryreview.catalog import Catalog, Table
from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import (
    ACCESS_EXCLUSIVE,
    SHARE,
    SHARE_ROW_EXCLUSIVE,
    Action,
    Ddl,
    Name,
    ScriptFacts,
    a_lock,
    add_column_rewrite,
    check_proves_not_null,
    classify,
    context,
    is_utc,
    new_type_always_rewrites,
    type_change_rewrites,
    using_changes_value,
    what_it_blocks,
)
from queryreview.sql.resolve import column_not_null, column_type, partitions, quote_ident, rows_text, table_rows

PAGE_BYTES = 8192
_MB = 1_000_000


@dataclass(frozen=True)
class _Hazard:
    table: Name
    work: str  # rewrite | scan | build
    what: str  # the SQL doing it, for the message
    lock: str
    span: tuple[int, int]


def check(raw: Statement, script: Script, catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None:
        return
    facts, position = context(raw, script)
    for hazard in _hazards(ddl, facts, position, catalog):
        if facts.created_before(hazard.table, position):
            continue
        table = catalog.table(hazard.table.lookup())
        if table is None:
            continue
        rows = table_rows(catalog, table)
        total, heap = _sizes(catalog, table)
        if rows < (settings.get("min_rows") or 0) and total < (settings.get("min_bytes") or 0):
            continue
        rate = float(settings.get("scan_mb_per_s" if hazard.work == "scan" else "rewrite_mb_per_s") or 50)
        work_bytes = total if hazard.work == "rewrite" else heap
        seconds = work_bytes / (rate * _MB)
        name = table.qualified_name
        yield Hit(
            message=(
                f"{name}: {rows_text(rows)} rows, {_bytes_text(total)}, {_duration(seconds)} {_NOUNS[hazard.work]} — "
                f"{hazard.what} holds {a_lock(hazard.lock)} that {what_it_blocks(hazard.lock, table.name)} "
                f"for that long (estimated at {rate:g} MB/s {_BASIS[hazard.work]})"
            ),
            span=hazard.span,
            help=_HELP[hazard.work],
            evidence={"table": name, "rows": rows, "total_bytes": total, "heap_bytes": heap, "work": hazard.work,
                      "lock": hazard.lock, "estimated_seconds": round(seconds, 1), "mb_per_s": rate},
        )


_NOUNS = {"rewrite": "rewrite", "scan": "scan", "build": "index build"}
_BASIS = {
    "rewrite": "for a rewrite of the table with its indexes",
    "scan": "for a sequential scan of the table",
    "build": "for reading and sorting the table",
}
_HELP = {
    "rewrite": ("Avoid the rewrite: a new column backfilled in batches instead of ALTER TYPE or a volatile default, "
                "pg_repack instead of VACUUM FULL or CLUSTER"),
    "scan": "Add the constraint NOT VALID and VALIDATE CONSTRAINT in a separate transaction: the scan then blocks nobody",
    "build": "Build the index with CREATE [UNIQUE] INDEX CONCURRENTLY (then ADD CONSTRAINT … USING INDEX for a key)",
}


def _hazards(ddl: Ddl, facts: ScriptFacts, position: int, catalog: Catalog) -> Iterator[_Hazard]:
    if ddl.kind == "create_index" and not ddl.concurrently and not ddl.only and ddl.table is not None:
        yield _Hazard(ddl.table, "build", "CREATE INDEX", SHARE, ddl.span)
    elif ddl.kind == "reindex" and not ddl.concurrently and ddl.table is not None:
        yield _Hazard(ddl.table, "rewrite", "REINDEX TABLE", SHARE, ddl.span)
    elif ddl.kind in ("vacuum", "cluster") and (ddl.full or ddl.kind == "cluster"):
        command = "VACUUM FULL" if ddl.kind == "vacuum" else "CLUSTER"
        for name in ddl.tables:
            yield _Hazard(name, "rewrite", command, ACCESS_EXCLUSIVE, ddl.span)
    elif ddl.kind == "alter_table" and ddl.table is not None:
        table = catalog.table(ddl.table.lookup())
        for action in ddl.actions:
            found = _action_hazard(ddl.table, table, action, facts, position, catalog)
            if found is not None:
                yield found


def _action_hazard(name: Name, table: Table | None, action: Action, facts: ScriptFacts, position: int,
                   catalog: Catalog) -> _Hazard | None:
    kind = action.kind
    if kind == "add_column":
        column = action.column_def
        rewrite = add_column_rewrite(column)
        if rewrite is not None:
            return _Hazard(name, "rewrite", f"ADD COLUMN {quote_ident(column.name)}", ACCESS_EXCLUSIVE, rewrite[1])
        for constraint in column.constraints:
            if constraint.kind in ("unique", "primary_key"):
                return _Hazard(name, "build", f"ADD COLUMN {quote_ident(column.name)} … {constraint.kind.replace('_', ' ').upper()}",
                               ACCESS_EXCLUSIVE, constraint.span)
            if constraint.kind == "check" or constraint.kind == "foreign_key" and column.default_words and \
                    column.default_words[0].key != "NULL":
                return _Hazard(name, "scan", f"ADD COLUMN {quote_ident(column.name)}", ACCESS_EXCLUSIVE, constraint.span)
        return None
    if kind == "add_constraint":
        constraint = action.constraint
        label = f"ADD CONSTRAINT {quote_ident(constraint.name)}" if constraint.name else "ADD " + constraint.kind.replace("_", " ").upper()
        if constraint.kind == "foreign_key" and not constraint.not_valid:
            return _Hazard(name, "scan", label, SHARE_ROW_EXCLUSIVE, constraint.span)
        if constraint.kind == "check" and not constraint.not_valid:
            return _Hazard(name, "scan", label, ACCESS_EXCLUSIVE, constraint.span)
        if constraint.kind in ("unique", "primary_key", "exclude") and not constraint.using_index:
            return _Hazard(name, "build", label, ACCESS_EXCLUSIVE, constraint.span)
        if constraint.kind == "not_null" and not constraint.not_valid and constraint.columns:
            if not _proven_not_null(name, table, constraint.columns[0], facts, position):
                return _Hazard(name, "scan", label, ACCESS_EXCLUSIVE, constraint.span)
        return None
    if kind == "set_not_null" and action.column:
        if not _proven_not_null(name, table, action.column, facts, position):
            return _Hazard(name, "scan", f"ALTER COLUMN {quote_ident(action.column)} SET NOT NULL", ACCESS_EXCLUSIVE,
                           action.span)
        return None
    if kind == "alter_type" and action.column:
        if _type_change_rewrites(name, table, action, facts, position, catalog):
            return _Hazard(name, "rewrite", f"ALTER COLUMN {quote_ident(action.column)} TYPE {action.new_type}",
                           ACCESS_EXCLUSIVE, action.span)
        return None
    if kind in ("set_tablespace", "set_logged", "set_access_method", "set_expression"):
        return _Hazard(name, "rewrite", "ALTER TABLE", ACCESS_EXCLUSIVE, action.span)
    return None


def _proven_not_null(name: Name, table: Table | None, column: str, facts: ScriptFacts, position: int) -> bool:
    """Already NOT NULL, or a valid CHECK proves it (in the catalog, or validated earlier in the script)."""
    if facts.proves_not_null(name, column, position):
        return True
    if table is None:
        return False
    existing = table.column(column)
    if existing is not None and column_not_null(existing):
        return True  # SET NOT NULL on a NOT NULL column does nothing
    return any(constraint.kind == "c" and constraint.validated and column in check_proves_not_null(constraint.definition)
               for constraint in table.constraints)


def _type_change_rewrites(name: Name, table: Table | None, action: Action, facts: ScriptFacts, position: int,
                          catalog: Catalog) -> bool:
    if using_changes_value(action):
        return True
    existing = table.column(action.column) if table is not None else None
    if existing is None or facts.column_added_before(name, action.column, position):
        return new_type_always_rewrites(action.new_type or "")
    utc = facts.utc_at(position)
    if utc is None:
        utc = is_utc(catalog.settings.get("TimeZone") or catalog.settings.get("timezone"))
    return type_change_rewrites(column_type(existing), action.new_type or "", utc) is True


def _sizes(catalog: Catalog, table: Table) -> tuple[int, int]:
    """(total bytes with indexes and TOAST, heap bytes) of a table, a partitioned one summed over its partitions."""
    parts = partitions(catalog, table)
    if parts:
        sizes = [_sizes(catalog, part) for part in parts]
        return sum(s[0] for s in sizes), sum(s[1] for s in sizes)
    heap = table.relpages * PAGE_BYTES if table.relpages else table.total_bytes
    return table.total_bytes, heap


def _bytes_text(size: float) -> str:
    for unit, scale in (("TB", 1024 ** 4), ("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if size >= scale:
            value = size / scale
            return (f"{value:.1f}" if value < 10 else f"{value:.0f}").removesuffix(".0") + f" {unit}"
    return f"{size:.0f} bytes"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"~{max(1, math.ceil(seconds))} s"
    if seconds < 3600:
        return f"~{math.ceil(seconds / 60)} min"
    hours = seconds / 3600
    return f"~{hours:.1f} h".replace(".0 h", " h")
