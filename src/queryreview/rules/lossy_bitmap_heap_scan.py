"""QR307 lossy-bitmap-heap-scan: the bitmap outgrew work_mem, so whole pages were rechecked."""

from __future__ import annotations

import math
from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import create_index
from queryreview.plan.exprs import conditions, index_keys
from queryreview.plan.memory import format_kb, setting_value, work_mem_kb
from queryreview.plan.tree import Plan, PlanNode

# A TIDBitmap page entry (PagetableEntry, 48 bytes on 64-bit builds) plus two hash-table pointers:
# tbm_calculate_entries() divides work_mem by this to get the pages a bitmap can track exactly.
_BYTES_PER_PAGE = 64


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    if not plan.analyzed:
        return  # heap block counts exist only with ANALYZE
    for node in plan.nodes:
        if node.node_type != "Bitmap Heap Scan" or node.never_executed:
            continue
        lossy = int(node.get("Lossy Heap Blocks") or 0)
        exact = int(node.get("Exact Heap Blocks") or 0)
        # "Rows Removed by Index Recheck" is shown per loop; block counts are totals
        removed = float(node.get("Rows Removed by Index Recheck") or 0) * node.loops
        if lossy < settings["min_lossy_blocks"] or removed < settings["min_rows_removed"]:
            continue
        yield _hit(plan, node, lossy, exact, removed)


def _hit(plan: Plan, node: PlanNode, lossy: int, exact: int, removed: float) -> Hit:
    current_kb = work_mem_kb(plan)
    pages = lossy + exact
    needed_kb = math.ceil(pages * _BYTES_PER_PAGE / 1024)
    # room for the hash table to double before it lossifies again, and more than today's setting
    value = setting_value(max(2 * needed_kb, 2 * (current_kb or 0)))
    set_sql = f"SET work_mem = '{value}';"
    condition = node.get("Recheck Cond") or "the index condition"
    message = (
        f"{node.label()} (node {node.id}): {lossy:,} of {pages:,} heap blocks were lossy — the bitmap outgrew "
        f"work_mem{_current(plan, current_kb)} and kept only page numbers for them — so every row on those pages "
        f"was rechecked against {condition} and {removed:,.0f} rows were thrown away"
    )
    help_text = (
        f"Give the bitmap memory for all {pages:,} pages (about {format_kb(needed_kb)}): {set_sql[:-1]} for this "
        "query or role; or make the condition more selective so the bitmap covers fewer pages"
    )
    keys = index_keys(conditions(node.get("Recheck Cond")))
    if _and_of_indexes(node) and len(keys) > 1:
        index = create_index(node.relation, keys[:3])[:-1]
        help_text += f" — one index on all the columns replaces the combined bitmaps: {index}"
    return Hit(
        message=message,
        help=help_text,
        fix=Fix(f"Raise work_mem so the bitmap tracks all {pages:,} pages exactly", set_sql),
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": node.relation,
            "lossy_heap_blocks": lossy,
            "exact_heap_blocks": exact,
            "rows_removed_by_recheck": removed,
            "work_mem_kb": current_kb,
            "suggested_work_mem": value,
        },
    )


def _and_of_indexes(node: PlanNode) -> bool:
    """A BitmapAnd intersects big bitmaps from several indexes; one multicolumn index yields the small one."""
    return any(child.node_type == "BitmapAnd" for child in node.children)


def _current(plan: Plan, current_kb: float | None) -> str:
    """`` (64kB)`` as the plan's SETTINGS give it; empty when the plan did not say."""
    if current_kb is None:
        return ""
    return f" ({plan.setting('work_mem') or format_kb(current_kb)})"
