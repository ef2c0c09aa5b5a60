"""QR406 high-planning-time-query: planning a statement costs as much as running it (track_planning on)."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.catalog import WorkloadStats
from queryreview.model import Hit
from queryreview.workload import Entry, ms, percent, quote, share, statements, target

# Fewer plans than calls (by this factor) means plans are already reused (prepared statements).
_REUSED = 0.5


def check(stats: WorkloadStats, settings: dict[str, Any]) -> Iterator[Hit]:
    min_plan_ms = settings.get("min_plan_ms") or 0.0
    min_plans = settings.get("min_plans") or 1
    for entry in statements(stats):
        # plans and total_plan_time stay 0 unless pg_stat_statements.track_planning is on
        if entry.plans < min_plans or entry.total_plan_time <= 0 or not entry.calls:
            continue
        mean_plan = entry.total_plan_time / entry.plans
        if mean_plan < min_plan_ms or mean_plan < entry.mean_exec_time:
            continue
        yield _hit(entry, mean_plan)


def _hit(entry: Entry, mean_plan: float) -> Hit:
    planning_share = share(entry.total_plan_time, entry.total_plan_time + entry.total_exec_time)
    reused = entry.plans < _REUSED * entry.calls
    if reused:
        how_often = f"planned {entry.plans:,} times for {entry.calls:,} calls: plans are already reused"
        help_text = (
            "It is prepared already, yet re-planned often: custom plans are chosen over the generic one; try "
            "`SET plan_cache_mode = force_generic_plan` for its session or role, and cut what makes planning "
            "expensive (many partitions without pruning, many joins: join_collapse_limit, many indexes)"
        )
    else:
        how_often = f"planned on every call ({entry.plans:,} plans for {entry.calls:,} calls)"
        help_text = (
            "Prepare it once per connection and reuse it (server-side prepared statements; through PgBouncer 1.21+ "
            "set max_prepared_statements) so PostgreSQL can switch to a cached generic plan, with "
            "`plan_cache_mode = force_generic_plan` if it keeps choosing custom plans; planning cost grows with "
            "partitions, joins (join_collapse_limit) and indexes"
        )
    return Hit(
        message=(
            f"{quote(entry.query)} spends {ms(mean_plan)} planning per plan against {ms(entry.mean_exec_time)} "
            f"executing per call, {how_often}; planning is {percent(planning_share)} of its time "
            f"({ms(entry.total_plan_time)} in all)"
        ) + entry.also(),
        help=help_text,
        target=target(entry),
        evidence={
            "queryid": entry.queryid, "queryids": list(entry.queryids), "calls": entry.calls, "plans": entry.plans,
            "mean_plan_time_ms": round(mean_plan, 3), "mean_exec_time_ms": round(entry.mean_exec_time, 3),
            "total_plan_time_ms": round(entry.total_plan_time, 3), "planning_share": round(planning_share, 4),
        },
    )
