"""QR310 low-cache-hit: a plan node read most of its blocks from outside shared_buffers."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Hit
from queryreview.plan.counters import number, own_counts
from queryreview.plan.tree import Plan, PlanNode

_BLOCK_SIZE = 8192
_FIELDS = ("Shared Hit Blocks", "Shared Read Blocks", "Shared I/O Read Time", "I/O Read Time")


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    if not plan.analyzed or not plan.has_buffers:
        return  # per-node buffer counts exist only with EXPLAIN (ANALYZE, BUFFERS)
    block_size = _block_size(plan)
    own = own_counts(plan, _FIELDS, _cte_rank)
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


def _cte_rank(scan: PlanNode) -> float:
    """A CTE's buffers are charged to the scan that touched most blocks first."""
    return number(scan, "Shared Read Blocks") + number(scan, "Shared Hit Blocks")
