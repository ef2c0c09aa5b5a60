"""QR308 index-only-scan-heap-fetches: an Index Only Scan visited the table anyway (stale visibility map)."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import qualified
from queryreview.plan.tree import Plan


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    if not plan.analyzed:
        return  # Heap Fetches exist only with ANALYZE
    for node in plan.nodes:
        if node.node_type != "Index Only Scan" or node.never_executed:
            continue
        # Heap Fetches is a total over all loops; rows and rows removed by filter are per loop
        fetches = float(node.get("Heap Fetches") or 0)
        rows = ((node.actual_rows or 0.0) + float(node.get("Rows Removed by Filter") or 0)) * node.loops
        if fetches < settings["min_heap_fetches"] or fetches < settings["min_fraction"] * rows:
            continue
        table = qualified(node.relation) if node.relation else "the table"
        share = fetches / rows if rows else 1.0
        vacuum = f"VACUUM (ANALYZE) {table};"
        yield Hit(
            message=(
                f"{node.label()} (node {node.id}) made {fetches:,.0f} heap fetches for {rows:,.0f} rows "
                f"({share:.0%}): the visibility map does not mark those pages of {table} all-visible, so the "
                "'index-only' scan read the table for them like a plain Index Scan"
            ),
            help=(
                f"Run {vacuum[:-1]} to set the visibility map, and let autovacuum keep up with this table's "
                f"changes: ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.02, "
                "autovacuum_vacuum_insert_scale_factor = 0.02)"
            ),
            fix=Fix(f"Vacuum {table} so its pages are marked all-visible", vacuum),
            evidence={
                "node": node.id,
                "node_type": node.node_type,
                "relation": node.relation,
                "index": node.index_name,
                "heap_fetches": fetches,
                "rows": rows,
                "fraction": round(share, 3),
            },
        )
