"""QR404 temp-spill-heavy-query: a statement writing many temporary blocks per call (work_mem spills)."""

from __future__ import annotations

import math
from typing import Any, Iterator

from queryreview.catalog import WorkloadStats
from queryreview.model import Hit
from queryreview.workload import (
    BLOCK_BYTES, Entry, blocks, is_dml, ms, percent, quote, share, size, statements, target, total_exec_time,
)


def check(stats: WorkloadStats, settings: dict[str, Any]) -> Iterator[Hit]:
    min_blocks = settings.get("min_temp_blocks_per_call") or 1
    min_calls = settings.get("min_calls") or 1
    all_time = total_exec_time(stats)
    for entry in statements(stats):
        if entry.calls < min_calls or entry.temp_blks_written < min_blocks * entry.calls:
            continue
        if not is_dml(entry.query):
            continue  # CREATE INDEX, CLUSTER, VACUUM sort in maintenance_work_mem; COPY does not sort
        yield _hit(entry, share(entry.total_exec_time, all_time))


def _hit(entry: Entry, time_share: float) -> Hit:
    per_call = entry.temp_blks_written / entry.calls
    spill_bytes = per_call * BLOCK_BYTES
    timing = ""
    if entry.temp_blk_write_time:
        write_ms = entry.temp_blk_write_time / entry.calls
        timing = (f"; writing them took {ms(write_ms)} per call "
                  f"({percent(share(write_ms, entry.mean_exec_time))} of its time)")
    suggestion = _work_mem(spill_bytes)
    return Hit(
        message=(
            f"{quote(entry.query)} writes {blocks(per_call)} of temporary files per call ({entry.calls:,} calls, mean "
            f"{ms(entry.mean_exec_time)}, {percent(time_share)} of database time; "
            f"{size(entry.temp_blks_written * BLOCK_BYTES)} written in all){timing}: a sort, hash or materialize "
            f"step does not fit in work_mem and spills to disk"
        ) + entry.also(),
        help=(
            "Find the spilling node with EXPLAIN (ANALYZE, BUFFERS) (`Sort Method: external merge`, a Hash with "
            "`Batches` > 1): an index delivering rows in the needed order, or fewer and narrower rows, removes the "
            f"spill; otherwise raise work_mem for this statement only (`SET LOCAL work_mem = '{suggestion}'` in its "
            "transaction, roughly twice the spill), not server-wide: every sort and hash of every connection may "
            "use that much"
        ),
        target=target(entry),
        evidence={
            "queryid": entry.queryid, "queryids": list(entry.queryids), "calls": entry.calls,
            "temp_blks_written": entry.temp_blks_written,
            "temp_blks_written_per_call": round(per_call, 1), "temp_bytes_per_call": round(spill_bytes),
            "mean_exec_time_ms": round(entry.mean_exec_time, 3), "time_share": round(time_share, 4),
            "suggested_work_mem": suggestion,
        },
    )


def _work_mem(spill_bytes: float) -> str:
    """Twice the spill, rounded up to a power of two of megabytes (in memory, rows take more room than on disk)."""
    megabytes = max(2 * spill_bytes / (1024 * 1024), 1)
    value = 2 ** math.ceil(math.log2(megabytes))
    return f"{value // 1024}GB" if value >= 1024 else f"{value}MB"
