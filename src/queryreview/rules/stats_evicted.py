"""QR408 stats-evicted: the pg_stat_statements window is incomplete (evictions) or short (a recent reset)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from queryreview.catalog import WorkloadStats
from queryreview.model import Hit
from queryreview.workload import duration, when

# Without a dealloc counter (pg_stat_statements 1.8), a view this full has very likely evicted entries.
_FULL = 0.95


def check(stats: WorkloadStats, settings: dict[str, Any]) -> Iterator[Hit]:
    min_window_hours = settings.get("min_window_hours") or 0
    start = when(stats.stats_reset)
    end = when(stats.collected_at) or datetime.now(timezone.utc)  # a live check: now
    window_s = max((end - start).total_seconds(), 0.0) if start is not None else None
    if stats.dealloc:
        yield _evictions(stats, window_s)
    elif stats.dealloc is None and stats.max_entries and stats.entries >= _FULL * stats.max_entries:
        yield _full(stats)
    if window_s is not None and window_s < min_window_hours * 3600:
        yield _short_window(stats, window_s, min_window_hours)


def _raise_max(stats: WorkloadStats) -> str:
    bigger = f" (to {2 * stats.max_entries:,} or more)" if stats.max_entries else ""
    return (
        f"Raise pg_stat_statements.max{bigger} in postgresql.conf and restart, then reset the statistics "
        "(SELECT pg_stat_statements_reset();) so the next window is complete; many entries differing only in "
        "literals or IN-list lengths also fill it (parameterize them)"
    )


def _evictions(stats: WorkloadStats, window_s: float | None) -> Hit:
    since = f" since {stats.stats_reset}" if stats.stats_reset else ""
    rate = ""
    if window_s:
        rate = f", about {stats.dealloc / (window_s / 3600):,.1f} per hour over {duration(window_s)}"
    sizes = [f"pg_stat_statements.max = {stats.max_entries:,}"] if stats.max_entries else []
    if stats.entries:
        sizes.append(f"{stats.entries:,} entries for this database")
    room = f" ({'; '.join(sizes)})" if sizes else ""
    return Hit(
        message=(
            f"pg_stat_statements ran out of room and evicted its least-used entries {stats.dealloc:,} times{since}"
            f"{rate}{room}: the window is incomplete, so rarely run statements may be missing and their time is "
            "not in the totals"
        ),
        help=_raise_max(stats),
        target="database",
        evidence={"dealloc": stats.dealloc, "stats_reset": stats.stats_reset, "max_entries": stats.max_entries,
                  "entries": stats.entries, "window_seconds": round(window_s) if window_s is not None else None},
    )


def _full(stats: WorkloadStats) -> Hit:
    return Hit(
        message=(
            f"pg_stat_statements is full ({stats.entries:,} entries for this database, pg_stat_statements.max = "
            f"{stats.max_entries:,}): it has "
            "very likely evicted entries (this version does not count evictions), so the window may be incomplete"
        ),
        help=_raise_max(stats),
        target="database",
        evidence={"entries": stats.entries, "max_entries": stats.max_entries},
    )


def _short_window(stats: WorkloadStats, window_s: float, min_hours: float) -> Hit:
    return Hit(
        message=(
            f"pg_stat_statements was reset {duration(window_s)} before collection ({stats.stats_reset}): a window "
            f"shorter than {min_hours:g} h can miss daily jobs and peaks, and every share of time describes only "
            "that period"
        ),
        help=(
            "Collect again after at least a full day (better a full business cycle) of normal traffic, and do not "
            "reset the statistics just before a review"
        ),
        target="database",
        evidence={"stats_reset": stats.stats_reset, "window_seconds": round(window_s)},
    )
