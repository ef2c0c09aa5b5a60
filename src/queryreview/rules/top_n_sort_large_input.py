"""QR309 top-n-sort-large-input: a LIMIT query sorted its whole (large) input to keep the first rows."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import create_index, rows
from queryreview.plan.exprs import SortKey, conditions, sort_keys
from queryreview.plan.tree import Plan, PlanNode

_SCAN_CONDITIONS = ("Filter", "Index Cond", "Recheck Cond")


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    for node in plan.nodes:
        if node.node_type != "Sort" or node.never_executed or not node.children:
            continue
        limit, top = _limit_above(node)
        if node.analyzed:
            if node.get("Sort Method") != "top-N heapsort":
                continue
            child = node.children[0]
            input_rows = child.total_rows or 0.0
            returned = (limit.actual_rows or 0.0) if limit is not None else None
        else:
            # without ANALYZE: a Sort feeding a LIMIT that keeps less than half is a bounded (top-N) sort
            if limit is None or limit.plan_rows * 2 > top.plan_rows:
                continue
            input_rows, returned = top.plan_rows, limit.plan_rows
        if input_rows < settings["min_rows"]:
            continue
        yield _hit(node, input_rows, returned, estimated=not node.analyzed)


def _limit_above(node: PlanNode) -> tuple[PlanNode | None, PlanNode]:
    """(the Limit this Sort feeds, the node right under it: the Sort or a Gather Merge over it)."""
    top = node
    if top.parent is not None and top.parent.node_type == "Gather Merge":
        top = top.parent
    parent = top.parent
    return (parent if parent is not None and parent.node_type == "Limit" else None), top


def _hit(node: PlanNode, input_rows: float, returned: float | None, estimated: bool) -> Hit:
    keys = sort_keys(node.get("Sort Key"))
    order = ", ".join(node.get("Sort Key") or ()) or "the sort key"
    child = node.children[0]
    about = "about " if estimated else ""
    first = f"the first {rows(returned)}" if returned is not None else "a few"
    message = (
        f"{node.label()} (node {node.id}) read {about}{rows(input_rows)} rows from {child.label()} and sorted them "
        f"by {order} to return {first} (top-N heapsort under a LIMIT)"
    )
    if estimated:
        message += "; estimated: the plan has no ANALYZE"
    scan = _scan_for(child, keys)
    index = _index(scan, keys) if scan is not None else None
    if index and scan is child:
        help_text = (
            f"Create an index in ORDER BY order, equality-filter columns first, so the scan returns the first "
            f"rows directly and stops: {index[:-1]}"
        )
    elif index:
        help_text = (
            f"Create an index on {scan.relation} in ORDER BY order, so the planner can read it in that order, "
            f"join row by row (nested loop) and stop after the LIMIT: {index[:-1]}"
        )
    else:
        help_text = (
            f"An index on the sort key ({order}), with the equality-filter columns of the same table first, would "
            "let the plan read rows already in order and stop after the LIMIT"
        )
    return Hit(
        message=message,
        help=help_text,
        fix=Fix("Index the sort key so the first rows come straight from the index", index) if index else None,
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": scan.relation if scan is not None else None,
            "input_rows": input_rows,
            "returned_rows": returned,
            "sort_key": list(node.get("Sort Key") or ()),
            "estimated": estimated,
        },
    )


def _scan_for(child: PlanNode, keys: list[SortKey]) -> PlanNode | None:
    """The scan whose table supplies every sort key: the input itself, or the one table of a join they name."""
    if not keys or any(key.key is None for key in keys):
        return None
    qualifiers = {key.table for key in keys}
    if child.relation is not None:
        return child if qualifiers <= {None, child.alias} else None
    if None in qualifiers or len(qualifiers) != 1:
        return None  # unqualified keys over a join: cannot tell the table
    (alias,) = qualifiers
    scans = [n for n in child.walk() if n.relation is not None and n.alias == alias]
    return scans[0] if len(scans) == 1 else None


def _index(scan: PlanNode, keys: list[SortKey]) -> str | None:
    alias = scan.alias
    sort_columns = [_key_text(key) for key in keys]
    equal: list[str] = []
    for field in _SCAN_CONDITIONS:
        for cond in conditions(scan.get(field), alias):
            if cond.kind == "equality" and cond.key and cond.key not in equal \
                    and cond.key not in {key.key for key in keys}:
                equal.append(cond.key)
    return create_index(str(scan.relation), equal + sort_columns)


def _key_text(key: SortKey) -> str:
    text = str(key.key)
    if key.descending:
        text += " DESC"
    if key.nulls:
        text += f" NULLS {key.nulls}"
    return text
