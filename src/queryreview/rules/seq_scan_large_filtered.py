"""QR301 seq-scan-large-filtered: a Seq Scan reads a large table to keep a small part of it."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import about, create_index, percent, rows, time_note
from queryreview.plan.exprs import conditions, index_keys
from queryreview.plan.tree import Plan, PlanNode

# Without ANALYZE the rows a Seq Scan reads are not printed; they are inferred from its cost
# (pages x seq_page_cost + rows x per-row CPU cost). Assuming 40 rows per page (about 200-byte
# rows) errs low for the usual narrower rows, so the inferred count understates, never inflates.
_ASSUMED_ROWS_PER_PAGE = 40.0
_DEFAULT_COSTS = {"seq_page_cost": 1.0, "cpu_tuple_cost": 0.01, "cpu_operator_cost": 0.0025}


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    for node in plan.nodes:
        if node.node_type != "Seq Scan" or not node.get("Filter") or node.never_executed or not node.relation:
            continue
        counts = _actual(node) if node.analyzed else _estimated(node, plan)
        if counts is None:
            continue
        scanned, returned = counts
        removed_fraction = 1.0 - returned / scanned if scanned else 0.0
        if scanned < settings["min_rows"] or removed_fraction < settings["min_removed_fraction"]:
            continue
        keys = index_keys(conditions(node.get("Filter"), node.alias))
        if not keys:
            continue  # nothing a btree serves (OR, leading-wildcard LIKE, <>): no index to name
        yield _hit(plan, node, scanned, returned, removed_fraction, keys)


def _actual(node: PlanNode) -> tuple[float, float] | None:
    returned = node.total_rows or 0.0
    removed = node.rows_removed_by_filter
    if removed is None:
        return None
    return returned + removed, returned


def _estimated(node: PlanNode, plan: Plan) -> tuple[float, float] | None:
    """(rows read, rows kept) as the planner expects them, the rows read inferred from the cost."""
    costs = {name: _setting(plan, name, default) for name, default in _DEFAULT_COSTS.items()}
    operators = max(1, len(conditions(node.get("Filter"), node.alias)))
    cpu_per_row = costs["cpu_tuple_cost"] + operators * costs["cpu_operator_cost"]
    divisor = _parallel_divisor(node) if node.get("Parallel Aware") else 1.0
    per_row = costs["seq_page_cost"] / _ASSUMED_ROWS_PER_PAGE + cpu_per_row / divisor
    scanned = node.total_cost / per_row
    returned = node.plan_rows * divisor
    return (scanned, min(returned, scanned)) if scanned > 0 else None


def _parallel_divisor(node: PlanNode) -> float:
    """The planner's share of rows per process: workers + what the leader contributes (costsize.c)."""
    gather = node.parent
    while gather is not None and gather.node_type not in ("Gather", "Gather Merge"):
        gather = gather.parent
    workers = float(gather.get("Workers Planned", 0) or 0) if gather is not None else 0.0
    return workers + max(0.0, 1.0 - 0.3 * workers)


def _setting(plan: Plan, name: str, default: float) -> float:
    try:
        return float(plan.setting(name) or default)
    except ValueError:
        return default


def _hit(plan: Plan, node: PlanNode, scanned: float, returned: float, removed_fraction: float,
         keys: list[str]) -> Hit:
    filter_text = node.get("Filter")
    statement = create_index(node.relation or "", keys)
    if node.analyzed:
        message = (f"{node.label()} (node {node.id}) read {rows(scanned)} rows and its filter {filter_text} "
                   f"removed {rows(scanned - returned)} of them ({percent(removed_fraction)}) to return "
                   f"{rows(returned)}{time_note(node, plan.total_time)}: the whole table is read to find a "
                   f"small part of it")
    else:
        message = (f"{node.label()} (node {node.id}) is expected to read about {about(scanned)} rows (inferred from "
                   f"its cost: the plan was not run with ANALYZE) and its filter {filter_text} to keep "
                   f"{rows(returned)} of them ({percent(removed_fraction)} removed): the whole table is read to "
                   f"find a small part of it")
    return Hit(
        message=message,
        help=f"Index the filter columns so PostgreSQL reads only the matching rows: {statement}",
        fix=Fix("Create an index serving the filter (CONCURRENTLY does not block writes; check first that no "
                "equivalent index exists, or the planner may have found it too unselective)", statement),
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": node.relation,
            "filter": filter_text,
            "rows_scanned": round(scanned),
            "rows_returned": round(returned),
            "removed_fraction": round(removed_fraction, 4),
            "estimated": not node.analyzed,
            "index_keys": keys,
        },
    )
