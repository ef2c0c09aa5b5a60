"""QR315 cte-scan-large: a materialized CTE is rescanned per row, or filtered after the fact."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Hit
from queryreview.plan.advice import about, percent, rows
from queryreview.plan.tree import Plan, PlanNode

# CTE queries PostgreSQL can never inline: NOT MATERIALIZED does not apply to them.
_NOT_INLINABLE = ("Recursive Union", "ModifyTable")


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    ctes = {node.cte_name: node for node in plan.nodes if node.cte_name is not None}
    references: dict[str, int] = {}
    for node in plan.nodes:
        if node.node_type == "CTE Scan":
            references[node.get("CTE Name")] = references.get(node.get("CTE Name"), 0) + 1
    for node in plan.nodes:
        if node.node_type != "CTE Scan" or node.never_executed:
            continue
        cte = ctes.get(node.get("CTE Name"))
        if cte is None or cte.node_type in _NOT_INLINABLE:
            continue
        found = _measure(node, cte) if node.analyzed else _estimate(node, cte)
        if found is None:
            continue
        scans, per_scan, kept, estimated = found
        repeated = scans >= 2 and per_scan >= settings["min_rows"]
        read = scans * per_scan
        filtered = bool(node.get("Filter")) and per_scan >= settings["min_rows"] \
            and read > 0 and (read - kept) / read >= settings["min_removed_share"]
        if repeated or filtered:
            yield _hit(node, cte, scans, per_scan, kept, estimated, repeated, references.get(node.get("CTE Name"), 1))


def _measure(node: PlanNode, cte: PlanNode) -> tuple[float, float, float, bool] | None:
    """(scans, rows read per scan, rows kept in all, estimated?) from EXPLAIN ANALYZE."""
    loops = node.loops
    kept = node.total_rows or 0.0
    read = kept + (node.rows_removed_by_filter or 0.0)
    return float(loops), read / loops if loops else 0.0, kept, False


def _estimate(node: PlanNode, cte: PlanNode) -> tuple[float, float, float, bool] | None:
    """The same from the planner's estimates (a plan without ANALYZE)."""
    scans = max(node.estimated_loops, 1.0)
    return scans, cte.plan_rows, node.plan_rows * scans, True


def _hit(node: PlanNode, cte: PlanNode, scans: float, per_scan: float, kept: float, estimated: bool,
         repeated: bool, references: int) -> Hit:
    name = node.get("CTE Name")
    approx = "about " if estimated else ""
    if repeated:
        # EXPLAIN shows per-loop averages: totals over many loops are approximate
        count = about if scans > 1 else rows
        message = (
            f"{node.label()} (node {node.id}) scanned the materialized CTE {name} {approx}{rows(scans)} times, "
            f"reading about {count(scans * per_scan)} rows in all ({count(per_scan)} per scan) to return "
            f"about {count(kept)}: a materialized CTE has no indexes, so every lookup reads all of it"
        )
    else:
        message = (
            f"{node.label()} (node {node.id}) read {approx}{rows(per_scan)} rows of the materialized CTE {name} "
            f"and its Filter {node.get('Filter')} kept {approx}{rows(kept)} "
            f"({percent(kept / per_scan if per_scan else 0.0)}): the condition was applied after the CTE was "
            "computed in full, not pushed into its query"
        )
    if estimated:
        message += " (estimated: the plan has no ANALYZE)"
    help_text = (
        f"Let PostgreSQL inline the CTE — WITH {name} AS NOT MATERIALIZED (…) (PG 12+), or a subquery — so the "
        "condition reaches the underlying tables and their indexes"
    )
    if references > 1:
        help_text += f" (each of its {references} references then runs its own query, with its own filter)"
    if repeated:
        help_text += "; or rewrite the per-row lookup as a join or GROUP BY over the CTE"
    return Hit(
        message=message,
        help=help_text,
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": None,
            "cte": name,
            "cte_node": cte.id,
            "scans": scans,
            "rows_per_scan": per_scan,
            "rows_kept": kept,
            "estimated": estimated,
        },
    )
