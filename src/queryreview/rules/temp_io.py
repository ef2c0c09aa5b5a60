"""QR314 temp-io: a plan node wrote temporary files because its data outgrew work_mem."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.memory import format_kb, hash_mem_multiplier, setting_value, work_mem_kb
from queryreview.plan.counters import number, own_counts
from queryreview.plan.tree import Plan, PlanNode

_BLOCK_SIZE = 8192
_FIELDS = ("Temp Written Blocks", "Temp Read Blocks")
# In memory a tuplestore (Materialize, CTE, window partition, function result) takes a little more
# than its temporary file (measured: 19,236 kB in memory for a 14,454 kB spill); sorts and hash
# tables about three times as much (see QR304 / QR305).
_MEMORY_PER_DISK = {"tuplestore": 1.5, "sort": 3.0, "hash": 3.0}
_WHAT = {
    "Materialize": ("tuplestore", "its materialized rows"),
    "CTE Scan": ("tuplestore", "the CTE's materialized result"),
    "WindowAgg": ("tuplestore", "the window's partition buffer"),
    "Function Scan": ("tuplestore", "the function's result set"),
    "Table Function Scan": ("tuplestore", "the function's result set"),
    "Recursive Union": ("tuplestore", "the recursive query's working table"),
    "Sort": ("sort", "the sort"),
    "Incremental Sort": ("sort", "the sort"),
    "Aggregate": ("sort", "the aggregate's own sort (DISTINCT or ORDER BY inside an aggregate)"),
    "SetOp": ("hash", "the set operation's groups"),
    "Hash": ("hash", "the hash table"),
    "Hash Join": ("hash", "the outer side's hash batches"),
}


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    if not plan.analyzed or not any("Temp Written Blocks" in node.raw for node in plan.nodes):
        return  # temp blocks are counted only with EXPLAIN (ANALYZE, BUFFERS)
    block_kb = _block_size(plan) / 1024
    own = own_counts(plan, _FIELDS)
    for node in plan.nodes:
        written, read = own[node.id]
        if node.never_executed or written < settings["min_temp_blocks"]:
            continue
        if not settings["report_sort_and_hash"] and _reported_elsewhere(node):
            continue
        yield _hit(plan, node, written, read, block_kb)


def _reported_elsewhere(node: PlanNode) -> bool:
    """Spills QR304 sort-spill-to-disk and QR305 hash-spill already report, with their own sizing."""
    if node.node_type in ("Sort", "Incremental Sort"):
        return True
    if node.node_type == "Hash" or (node.node_type == "Aggregate" and node.get("Strategy") in ("Hashed", "Mixed")):
        return True
    return node.node_type == "Hash Join" and any(child.node_type == "Hash" for child in node.children)


def _hit(plan: Plan, node: PlanNode, written: float, read: float, block_kb: float) -> Hit:
    kind, what = _WHAT.get(node.node_type, ("tuplestore", "its intermediate rows"))
    if node.node_type == "Aggregate" and node.get("Strategy") in ("Hashed", "Mixed"):
        kind, what = "hash", "the aggregate's hash table"
    written_kb = written * block_kb
    needed_kb = written_kb * _MEMORY_PER_DISK[kind]
    if kind == "hash":
        needed_kb /= hash_mem_multiplier(plan)  # hash nodes may use work_mem x hash_mem_multiplier
    value = setting_value(needed_kb)
    current = work_mem_kb(plan)
    message = (
        f"{node.label()} (node {node.id}) wrote {written:,.0f} temporary blocks ({format_kb(written_kb)}) "
        f"to disk: {what} outgrew work_mem"
        + (f" ({plan.setting('work_mem') or format_kb(current)})" if current else "")
    )
    if read > written:
        message += f", and read {read:,.0f} blocks ({format_kb(read * block_kb)}) back"
    help_text = (
        f"Give this query about {format_kb(needed_kb)} of work_mem so it stays in memory: SET work_mem = '{value}' "
        "for the transaction (SET LOCAL) or the role, not server-wide (each sort, hash and tuplestore of "
        "every session may use that much)"
    )
    if node.node_type == "CTE Scan":
        help_text += "; or, if the CTE is cheap to recompute, let the planner inline it (NOT MATERIALIZED, PG 12+)"
    elif node.node_type == "Materialize":
        help_text += "; or index the inner side's join key so nothing needs materializing"
    return Hit(
        message=message,
        help=help_text,
        fix=Fix(f"Raise work_mem for this query to about {value}", f"SET work_mem = '{value}';"),
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": node.relation,
            "temp_written_blocks": written,
            "temp_read_blocks": read,
            "temp_written_kb": written_kb,
            "work_mem_kb": current,
            "suggested_work_mem": value,
        },
    )


def _block_size(plan: Plan) -> int:
    value = plan.setting("block_size")
    return int(value) if value and value.isdigit() else _BLOCK_SIZE
