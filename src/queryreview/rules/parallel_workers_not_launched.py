"""QR311 parallel-workers-not-launched: a Gather got fewer worker processes than the plan was built for."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Hit
from queryreview.plan.tree import Plan

_GATHERS = ("Gather", "Gather Merge")
_LIMITS = ("max_parallel_workers", "max_worker_processes")


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    if not plan.analyzed:
        return  # "Workers Launched" exists only with ANALYZE
    for node in plan.nodes:
        if node.node_type not in _GATHERS or node.never_executed:
            continue
        planned, launched = node.get("Workers Planned"), node.get("Workers Launched")
        if not isinstance(planned, int) or not isinstance(launched, int):
            continue
        missing = planned - launched
        elapsed = node.inclusive_time or 0.0
        if missing < settings["min_missing_workers"] or elapsed < settings["min_time_ms"]:
            continue
        alone = "the leader process did all the work alone" if launched == 0 else \
            f"{launched + 1} processes did the work planned for {planned + 1}"
        message = (
            f"{node.label()} (node {node.id}) planned {planned} parallel worker{'s' if planned != 1 else ''} but "
            f"launched {launched}: {alone}, in {elapsed:,.1f} ms"
        )
        limits = [f"{name} = {(plan.settings or {})[name]}" for name in _LIMITS if name in (plan.settings or {})]
        if limits:
            message += f" (this plan ran with {', '.join(limits)})"
        yield Hit(
            message=message,
            help=(
                "Parallel workers come from a server-wide pool (max_worker_processes, needs a restart, and "
                "max_parallel_workers) shared by all sessions: raise them if they are exhausted at busy times, or "
                "lower max_parallel_workers_per_gather so plans expect what the server can give"
            ),
            evidence={
                "node": node.id,
                "node_type": node.node_type,
                "relation": next((n.relation for n in node.walk() if n.relation), None),
                "workers_planned": planned,
                "workers_launched": launched,
                "time_ms": round(elapsed, 3),
            },
        )
