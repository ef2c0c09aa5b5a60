"""QR405 low-cache-hit-query: a statement reading a large share of its blocks from outside shared buffers."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.catalog import WorkloadStats
from queryreview.model import Hit
from queryreview.workload import (
    BLOCK_BYTES, Entry, blocks, is_dml, ms, percent, quote, share, size, statements, target, total_exec_time,
)


def check(stats: WorkloadStats, settings: dict[str, Any]) -> Iterator[Hit]:
    min_read_share = settings.get("min_read_share") or 0.0
    min_blocks = settings.get("min_blocks_per_call") or 1
    min_calls = settings.get("min_calls") or 1
    all_time = total_exec_time(stats)
    for entry in statements(stats):
        touched = entry.shared_blks_hit + entry.shared_blks_read
        if entry.calls < min_calls or touched < min_blocks * entry.calls or not touched:
            continue
        if share(entry.shared_blks_read, touched) < min_read_share or not is_dml(entry.query):
            continue
        yield _hit(entry, share(entry.total_exec_time, all_time))


def _hit(entry: Entry, time_share: float) -> Hit:
    touched = entry.shared_blks_hit + entry.shared_blks_read
    read_share = entry.shared_blks_read / touched
    read_per_call = entry.shared_blks_read / entry.calls
    waiting = ""
    if entry.shared_blk_read_time:
        wait_ms = entry.shared_blk_read_time / entry.calls
        waiting = (f"; waiting for those reads took {ms(wait_ms)} per call "
                   f"({percent(share(wait_ms, entry.mean_exec_time))} of its time)")
    return Hit(
        message=(
            f"{quote(entry.query)} finds only {percent(1 - read_share)} of its blocks in shared buffers: "
            f"{blocks(read_per_call)} per call come from the OS cache or disk ({entry.calls:,} calls, mean "
            f"{ms(entry.mean_exec_time)}, {percent(time_share)} of database time; "
            f"{size(entry.shared_blks_read * BLOCK_BYTES)} read in all){waiting}"
        ) + entry.also(),
        help=(
            "Make it read fewer pages: an index matching its filter, or fetching fewer rows (EXPLAIN (ANALYZE, "
            "BUFFERS) shows the node that reads); if it already reads only what it needs, its data does not stay "
            "in shared_buffers: raise shared_buffers, or warm the table with pg_prewarm"
        ),
        target=target(entry),
        evidence={
            "queryid": entry.queryid, "queryids": list(entry.queryids), "calls": entry.calls,
            "shared_blks_hit": entry.shared_blks_hit,
            "shared_blks_read": entry.shared_blks_read, "read_share": round(read_share, 4),
            "read_bytes_per_call": round(read_per_call * BLOCK_BYTES),
            "shared_blk_read_time_ms": round(entry.shared_blk_read_time, 3),
            "mean_exec_time_ms": round(entry.mean_exec_time, 3), "time_share": round(time_share, 4),
        },
    )
