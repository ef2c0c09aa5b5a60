"""QR403 read-replica-candidate: most database time goes to plain reads a replica could serve."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.catalog import WorkloadStats
from queryreview.model import Hit
from queryreview.workload import Entry, ms, percent, quote, shape_of, share, statements, total_exec_time


def check(stats: WorkloadStats, settings: dict[str, Any]) -> Iterator[Hit]:
    min_read_share = settings.get("min_read_share") or 0.0
    min_database_ms = 1000.0 * (settings.get("min_database_time_s") or 0)
    top = max(int(settings.get("top") or 5), 1)
    all_time = total_exec_time(stats)
    if all_time <= 0 or all_time < min_database_ms:
        return
    # Top-level time only, as in the total: a nested statement's time is inside its caller's.
    readers = [entry for entry in statements(_top_level(stats)) if _replica_safe(entry)]
    read_time = sum(entry.total_exec_time for entry in readers)
    read_share = share(read_time, all_time)
    if read_share < min_read_share:
        return
    readers.sort(key=lambda entry: entry.total_exec_time, reverse=True)
    heaviest = readers[:top]
    listing = "; ".join(
        f"pg_stat_statements:{entry.queryid} {quote(entry.query, 70)} "
        f"{percent(share(entry.total_exec_time, all_time))} ({entry.calls:,} calls, mean {ms(entry.mean_exec_time)})"
        for entry in heaviest
    )
    hidden = ""
    if stats.hidden_exec_time > 0:
        hidden = f"; another {ms(stats.hidden_exec_time)} of other roles' statements is hidden by privileges"
    yield Hit(
        message=(
            f"Read-only statements take {percent(read_share)} of database time ({ms(read_time)} of {ms(all_time)}"
            f"{hidden}): a read replica could carry them. Heaviest {len(heaviest)} of {len(readers)}: {listing}"
        ),
        help=(
            "Send these reads to a streaming replica through a read-only connection pool; keep on the primary the "
            "reads that must see the same transaction's or request's own writes (replicas lag)"
        ),
        target="database",
        evidence={
            "read_share": round(read_share, 4),
            "read_exec_time_ms": round(read_time, 3),
            "total_exec_time_ms": round(all_time, 3),
            "statements": [
                {"queryid": entry.queryid, "queryids": list(entry.queryids),
                 "time_share": round(share(entry.total_exec_time, all_time), 4),
                 "calls": entry.calls, "mean_exec_time_ms": round(entry.mean_exec_time, 3)}
                for entry in heaviest
            ],
        },
    )


def _top_level(stats: WorkloadStats) -> WorkloadStats:
    return WorkloadStats(statements=[stat for stat in stats.statements if stat.toplevel])


def _replica_safe(entry: Entry) -> bool:
    """A SELECT of user tables that writes nothing, locks no rows and calls no function that could write.

    Texts that do not parse count as writers: the share is then an underestimate, never an overestimate.
    """
    shape = shape_of(entry.query)
    return shape is not None and shape.read_only and not shape.opaque_sources and bool(shape.user_tables)
