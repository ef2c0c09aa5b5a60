"""QR310 low-cache-hit: a plan node read most of its blocks from outside shared_buffers."""

from __future__ import annotations

import re
from typing import Any, Iterator

from queryreview.model import Hit
from queryreview.plan.tree import Plan, PlanNode

_BLOCK_SIZE = 8192
_FIELDS = ("Shared Hit Blocks", "Shared Read Blocks", "Shared I/O Read Time", "I/O Read Time")
_RETURNS = re.compile(r"returns (\$\d+(?:,\s*\$\d+)*)")


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    if not plan.analyzed or not plan.has_buffers:
        return  # per-node buffer counts exist only with EXPLAIN (ANALYZE, BUFFERS)
    block_size = _block_size(plan)
    own = _exclusive(plan)
    for node in plan.nodes:
        if node.never_executed:
            continue
        hit, read, read_time = own[node.id][0], own[node.id][1], own[node.id][2] + own[node.id][3]
        if read < settings["min_blocks_read"] or read < settings["min_read_share"] * (hit + read):
            continue
        megabytes = read * block_size / (1024 * 1024)
        message = (
            f"{node.label()} (node {node.id}) read {read:,.0f} blocks ({megabytes:,.1f} MB) from outside "
            f"shared_buffers (the OS cache or disk): {read / (hit + read):.0%} of the {hit + read:,.0f} blocks "
            "it touched"
        )
        if read_time:
            message += f", {read_time:,.1f} ms waiting for reads"
        yield Hit(
            message=message,
            help=(
                f"If repeated runs stay cold, the data is not in PostgreSQL's cache: read less (an index that "
                f"serves the filter, fewer rows or columns{' from ' + node.relation if node.relation else ''}), "
                "or give shared_buffers more memory; a first run after a restart is cold by nature (pg_prewarm)"
            ),
            evidence={
                "node": node.id,
                "node_type": node.node_type,
                "relation": node.relation,
                "shared_read_blocks": read,
                "shared_hit_blocks": hit,
                "read_mb": round(megabytes, 1),
                "read_time_ms": round(read_time, 3) if read_time else None,
            },
        )


def _block_size(plan: Plan) -> int:
    value = (plan.settings or {}).get("block_size")
    return int(value) if isinstance(value, str) and value.isdigit() else _BLOCK_SIZE


def _exclusive(plan: Plan) -> dict[int, list[float]]:
    """Each node's own buffer figures: its counts minus its children's.

    An InitPlan is a child of the node it is attached to, but its buffers are counted again
    in the node that first needs its value (a Filter naming ``(InitPlan 1)``); a CTE's in
    the CTE Scans that pulled its rows. Those are moved so nothing is charged twice (the same
    attribution plan.tree uses for time).
    """
    own = {node.id: [_number(node, key) for key in _FIELDS] for node in plan.nodes}
    for node in plan.nodes:
        for child in node.children:
            for index, key in enumerate(_FIELDS):
                own[node.id][index] -= _number(child, key)
    for node in plan.nodes:
        if node.parent_relationship != "InitPlan" or node.parent is None:
            continue
        for index, key in enumerate(_FIELDS):
            remaining = _number(node, key)
            for consumer in _consumers(node):
                taken = min(remaining, max(0.0, own[consumer.id][index]))
                own[consumer.id][index] -= taken
                own[node.parent.id][index] += taken
                remaining -= taken
    return {key: [max(0.0, value) for value in values] for key, values in own.items()}


def _consumers(initplan: PlanNode) -> list[PlanNode]:
    """The nodes (below the InitPlan's owner) whose counts include the InitPlan's, most likely first."""
    owner = initplan.parent
    assert owner is not None
    inside = {id(n) for n in initplan.walk()}
    scope = [n for n in owner.walk() if id(n) not in inside and n is not owner]
    cte = initplan.cte_name
    if cte is not None:
        scans = [n for n in scope if n.node_type == "CTE Scan" and n.get("CTE Name") == cte]
        return sorted(scans, key=lambda n: _number(n, "Shared Read Blocks") + _number(n, "Shared Hit Blocks"),
                      reverse=True)
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


def _number(node: PlanNode, key: str) -> float:
    value = node.get(key)
    return float(value) if isinstance(value, (int, float)) else 0.0
