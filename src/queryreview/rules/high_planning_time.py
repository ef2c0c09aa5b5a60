"""QR312 high-planning-time: planning the query took longer than running it."""

from __future__ import annotations

import re
from typing import Any, Iterator

from queryreview.model import Hit
from queryreview.plan.tree import Plan

_JOINS = ("Nested Loop", "Hash Join", "Merge Join")
_APPENDS = ("Append", "Merge Append")
_MANY_PARTITIONS = 20
_MANY_TABLES = 8  # the default join_collapse_limit / from_collapse_limit
_LONG_LIST = 100
_ARRAY_LITERAL = re.compile(r"'\{([^}']*)\}'")
_JOIN_SETTINGS = ("join_collapse_limit", "from_collapse_limit", "geqo_threshold", "geqo")


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    planning, execution = plan.planning_time, plan.execution_time
    if planning is None or execution is None:
        return  # both times come with EXPLAIN ANALYZE only
    if planning < settings["min_planning_ms"] or planning < execution:
        return
    causes, advice = _causes(plan)
    message = f"Planning took {planning:,.1f} ms, more than executing the plan ({execution:,.1f} ms)"
    if causes:
        message += ": " + "; ".join(causes)
    advice.append("use prepared statements so the plan is reused across executions (plan_cache_mode decides "
                  "between custom and generic plans)")
    help_text = "; ".join(advice)
    yield Hit(
        message=message,
        help=help_text[0].upper() + help_text[1:],
        evidence={
            "node": plan.root.id,
            "node_type": plan.root.node_type,
            "relation": None,
            "planning_time_ms": planning,
            "execution_time_ms": execution,
        },
    )


def _causes(plan: Plan) -> tuple[list[str], list[str]]:
    """What made planning expensive, read off the plan's shape, and what to do about each."""
    causes: list[str] = []
    advice: list[str] = []
    widest = max((node for node in plan.nodes if node.node_type in _APPENDS),
                 key=lambda node: _append_width(node), default=None)
    if widest is not None and _append_width(widest) >= _MANY_PARTITIONS:
        causes.append(f"{widest.label()} (node {widest.id}) combines {_append_width(widest):,} scans, one per "
                      "partition the planner had to plan")
        advice.append("let the planner prune partitions: filter on the partition key with constants or "
                      "parameters, or use fewer, larger partitions")
    tables = sum(1 for node in plan.nodes if node.node_type in _JOINS) + 1
    if tables >= _MANY_TABLES:
        changed = [f"{name} = {value}" for name, value in (plan.settings or {}).items() if name in _JOIN_SETTINGS]
        causes.append(f"{tables} tables joined" + (f" with {', '.join(changed)}" if changed else "")
                      + ": the join-order search grows exponentially with the tables it may reorder")
        advice.append("keep join_collapse_limit and from_collapse_limit at 8 or lower (or fix the join order "
                      "and set join_collapse_limit = 1) so the planner searches fewer join orders")
    longest = _longest_list(plan)
    if longest >= _LONG_LIST:
        causes.append(f"a list of {longest:,} values in one condition")
        advice.append("pass long value lists as one array parameter (= ANY($1)) or join a VALUES list or "
                      "temporary table")
    return causes, advice


def _append_width(node: Any) -> int:
    removed = node.get("Subplans Removed")
    return len(node.children) + (removed if isinstance(removed, int) else 0)


def _longest_list(plan: Plan) -> int:
    longest = 0
    for node in plan.nodes:
        for key in ("Filter", "Index Cond", "Recheck Cond", "Hash Cond", "Join Filter"):
            text = node.get(key)
            if isinstance(text, str) and "'{" in text:
                for match in _ARRAY_LITERAL.finditer(text):
                    longest = max(longest, match.group(1).count(",") + 1)
    return longest
