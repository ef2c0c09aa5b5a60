"""QR204 unused-index: an index no query has scanned since the statistics were reset."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from queryreview.catalog import Catalog, Index, Table
from queryreview.model import Fix, Hit
from queryreview.sql.resolve import drop_index_sql, inherited, partitions, rows_text, table_rows, twin_index
from queryreview.workload import when


def check(catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    min_size = settings.get("min_size_bytes") or 0
    min_days = settings.get("min_stats_days") or 0
    window = _window(catalog)
    if window is not None and min_days and window[1] < min_days:
        return  # counters reset too recently to call anything unused
    for table in catalog.tables.values():
        for index in table.indexes:
            if not _droppable(index, table):
                continue
            if table.kind == "p":
                # scans count on the partitions' indexes; the partitioned index is dropped as a whole
                copies = _partition_copies(catalog, table, index)
                if copies is not None and not any(c.idx_scan for c in copies):
                    size = sum(c.size_bytes for c in copies)
                    if size > min_size:
                        yield _hit(catalog, table, index, window, size, len(copies))
            elif inherited(catalog, table, index):
                continue  # part of the parent's partitioned index: judged there, and only droppable there
            elif not index.idx_scan and index.size_bytes > min_size:
                yield _hit(catalog, table, index, window, index.size_bytes, 0)


def _droppable(index: Index, table: Table) -> bool:
    if not index.valid or index.unique or index.primary or index.constraint:
        return False
    return not any(c.name == index.name for c in table.constraints)  # an exclusion constraint not linked


def _partition_copies(catalog: Catalog, table: Table, index: Index) -> list[Index] | None:
    """Each partition's index belonging to a partitioned index; None when a partition lacks one."""
    copies = []
    for part in partitions(catalog, table):
        if part.kind == "p":
            deeper = _partition_copies(catalog, part, twin_index(part, index) or index)
            if deeper is None:
                return None
            copies.extend(deeper)
            continue
        twin = twin_index(part, index)
        if twin is None:
            return None
        copies.append(twin)
    return copies or None


def _window(catalog: Catalog) -> tuple[str, int] | None:
    """(date the counters start, days they cover) from pg_stat_database.stats_reset, if known."""
    start = when(catalog.stats_reset)
    if start is None:
        return None
    now = when(catalog.collected_at) or datetime.now(timezone.utc)  # a snapshot's window ends when it was taken
    return start.date().isoformat(), max((now - start).days, 0)


def _size(size_bytes: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if size_bytes >= scale:
            value = size_bytes / scale
            return (f"{value:.1f}" if value < 10 else f"{value:.0f}").removesuffix(".0") + f" {unit}"
    return f"{size_bytes} bytes"


def _hit(
    catalog: Catalog, table: Table, index: Index, window: tuple[str, int] | None, size: int, partitions: int
) -> Hit:
    if window is None:
        since = "no scans recorded (statistics window unknown: pg_stat_database.stats_reset is not set)"
    else:
        since = f"no scans since {window[0]} ({window[1]} days)"
    columns = ", ".join(index.columns) or "?"
    sql = drop_index_sql(table, index)
    if partitions:
        where = f"on partitioned table {table.name} ({columns}): {_size(size)} over {partitions} partitions"
        caution = ", in a quiet moment (it locks the table and its partitions briefly)"
    else:
        where = f"on {table.name} ({columns}): {_size(size)}"
        caution = ""
    return Hit(
        message=(
            f"{index.name} {where}, {since}; every write to {table.name} "
            f"({rows_text(table_rows(catalog, table))} rows) still maintains it"
        ),
        target=index.qualified_name,
        help=(
            f"Check idx_scan for {index.name} on every replica (the counter is per server) and that no "
            f"monthly job needs it, then drop it{caution}: {sql}"
        ),
        fix=Fix(f"Drop the unused index {index.name}", sql),
    )
