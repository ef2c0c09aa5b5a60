"""QR402 cache-candidate: a hot read-only SELECT over tables that almost never change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from queryreview.catalog import Catalog, Table, WorkloadStats
from queryreview.model import Hit
from queryreview.sql.resolve import rows_text
from queryreview.workload import (
    Entry, Shape, ms, percent, quote, shape_of, share, statements, target, total_calls, total_exec_time,
)


@dataclass(frozen=True)
class _Churn:
    """Row writes against scans of one table, since its statistics were reset."""

    table: Table
    writes: int
    scans: int

    @property
    def per_scan(self) -> float:
        return self.writes / self.scans


def check(stats: WorkloadStats, catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    min_time_share = settings.get("min_time_share") or 0.0
    min_calls_share = settings.get("min_calls_share") or 0.0
    min_calls = settings.get("min_calls") or 1
    max_rows = settings.get("max_rows_per_call") or 100
    max_writes = settings.get("max_writes_per_read")
    max_writes = 0.001 if max_writes is None else max_writes
    all_time, all_calls = total_exec_time(stats), total_calls(stats)
    for entry in statements(stats):
        if entry.calls < min_calls or entry.rows > max_rows * entry.calls:
            continue
        time_share, calls_share = share(entry.total_exec_time, all_time), share(entry.calls, all_calls)
        if time_share < min_time_share and calls_share < min_calls_share:
            continue  # not hot
        shape = shape_of(entry.query)
        if not _cacheable(shape):
            continue
        assert shape is not None
        churn = _churn(shape, catalog)
        if churn is None or any(item.per_scan > max_writes for item in churn):
            continue
        yield _hit(entry, churn, time_share, calls_share)


def _cacheable(shape: Shape | None) -> bool:
    """A plain read of known tables whose result depends only on its parameters and the data."""
    return (shape is not None and shape.read_only and not shape.volatile and not shape.opaque_sources
            and bool(shape.reads) and shape.user_tables == shape.reads)


def _churn(shape: Shape, catalog: Catalog) -> list[_Churn] | None:
    """Writes and scans of every table read; None when one is unknown (a view, no statistics, never scanned)."""
    found = []
    for name in shape.reads:
        table = catalog.table(name)
        if table is None or table.stats is None or table.kind not in ("r", "m"):
            return None
        stats = table.stats
        scans = stats.seq_scan + (stats.idx_scan or 0)
        if scans <= 0:
            return None
        found.append(_Churn(table, stats.n_tup_ins + stats.n_tup_upd + stats.n_tup_del, scans))
    return found


def _hit(entry: Entry, churn: list[_Churn], time_share: float, calls_share: float) -> Hit:
    tables = "; ".join(
        f"{item.table.qualified_name}: {item.writes:,} row writes against {rows_text(item.scans)} scans"
        for item in churn
    )
    busiest = max(churn, key=lambda item: item.per_scan)
    if busiest.writes == 0:
        freshness = "no writes at all since the statistics were reset"
        ttl = "a long TTL (hours) or invalidation on the rare write keeps it correct"
    else:
        reads_per_write = busiest.scans / busiest.writes
        freshness = f"about one row write per {rows_text(reads_per_write)} reads of {busiest.table.name}"
        ttl = ("a TTL of minutes, or invalidating on write, keeps it fresh while still serving almost every "
               "call from the cache")
    return Hit(
        message=(
            f"Cache candidate: {quote(entry.query)} is hot ({entry.calls:,} calls, {percent(calls_share)} of all "
            f"calls, {percent(time_share)} of database time, mean {ms(entry.mean_exec_time)}, "
            f"{entry.rows / entry.calls:.1f} rows per call) and reads only rarely written tables ({tables}). "
            f"A cache in front of it would take up to {entry.calls:,} calls and {ms(entry.total_exec_time)} "
            f"({percent(time_share)} of database time) off the server"
        ) + entry.also(),
        help=(
            f"Cache its result in the application or a shared cache, keyed by the parameters: {freshness}, so "
            f"{ttl}"
        ),
        target=target(entry),
        evidence={
            "queryid": entry.queryid, "queryids": list(entry.queryids), "calls": entry.calls, "rows": entry.rows,
            "total_exec_time_ms": round(entry.total_exec_time, 3), "time_share": round(time_share, 4),
            "calls_share": round(calls_share, 4),
            "tables": {item.table.qualified_name: {"row_writes": item.writes, "scans": item.scans}
                       for item in churn},
        },
    )
