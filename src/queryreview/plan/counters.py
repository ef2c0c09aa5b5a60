"""Each plan node's own counters (buffers, temp blocks): its figures minus its children's.

EXPLAIN reports counters inclusive of a node's children. An InitPlan is a child of the node
it is attached to, but its counts show up again in the node that first needs its value (a
Filter naming ``(InitPlan 1)``), and a CTE's in the CTE Scans that pulled its rows: those
are moved so nothing is charged twice (the same attribution plan.tree uses for time).
"""

from __future__ import annotations

import re
from typing import Callable

from queryreview.plan.tree import Plan, PlanNode

_RETURNS = re.compile(r"returns (\$\d+(?:,\s*\$\d+)*)")


def number(node: PlanNode, key: str) -> float:
    value = node.get(key)
    return float(value) if isinstance(value, (int, float)) else 0.0


def own_counts(plan: Plan, fields: tuple[str, ...],
               cte_rank: Callable[[PlanNode], float] | None = None) -> dict[int, list[float]]:
    """node id -> its own value of each field; ``cte_rank`` orders a CTE's scans (first takes first)."""
    own = {node.id: [number(node, key) for key in fields] for node in plan.nodes}
    for node in plan.nodes:
        for child in node.children:
            for index, key in enumerate(fields):
                own[node.id][index] -= number(child, key)
    for node in plan.nodes:
        if node.parent_relationship != "InitPlan" or node.parent is None:
            continue
        for index, key in enumerate(fields):
            remaining = number(node, key)
            for consumer in _consumers(node, cte_rank):
                taken = min(remaining, max(0.0, own[consumer.id][index]))
                own[consumer.id][index] -= taken
                own[node.parent.id][index] += taken
                remaining -= taken
    return {key: [max(0.0, value) for value in values] for key, values in own.items()}


def _consumers(initplan: PlanNode, cte_rank: Callable[[PlanNode], float] | None) -> list[PlanNode]:
    """The nodes (below the InitPlan's owner) whose counts include the InitPlan's, most likely first."""
    owner = initplan.parent
    assert owner is not None
    inside = {id(n) for n in initplan.walk()}
    scope = [n for n in owner.walk() if id(n) not in inside and n is not owner]
    cte = initplan.cte_name
    if cte is not None:
        scans = [n for n in scope if n.node_type == "CTE Scan" and n.get("CTE Name") == cte]
        return sorted(scans, key=cte_rank, reverse=True) if cte_rank else scans
    if owner.node_type in ("Gather", "Gather Merge"):
        return []  # evaluated by the Gather itself before the workers start
    patterns = _references(initplan)
    for candidate in scope:
        text = candidate.expression_text()
        if any(pattern.search(text) for pattern in patterns):
            return [candidate]
    return []


def _references(initplan: PlanNode) -> list[re.Pattern[str]]:
    """How expressions name an InitPlan's value: ``(InitPlan 1).col1`` (PG 17+) or ``$0`` (before)."""
    name = initplan.subplan_name or ""
    returns = _RETURNS.search(name)
    if returns:
        return [re.compile(re.escape(param.strip()) + r"(?!\d)") for param in returns.group(1).split(",")]
    base = name.split(" (", 1)[0]
    return [re.compile(re.escape(f"({base})") + r"\.col\d")] if base else []
