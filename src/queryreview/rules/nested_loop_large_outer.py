"""QR306 nested-loop-large-outer: a Nested Loop ran its inner side once per outer row, thousands of times."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import create_index, qualified, rows
from queryreview.plan.exprs import conditions, index_keys, tables_and_columns
from queryreview.plan.tree import Plan, PlanNode

# Nodes between a Nested Loop and the scan that does the inner side's work.
_PASS_THROUGH = {"Materialize", "Memoize", "Sort", "Hash", "Result", "Incremental Sort"}


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    total_time = plan.total_time
    if not plan.analyzed or not total_time:
        return  # loop counts exist only with ANALYZE
    for node in plan.nodes:
        if node.node_type != "Nested Loop" or node.never_executed or len(node.children) < 2:
            continue
        outer, inner = _outer_inner(node)
        runs = _inner_runs(inner)
        if runs < settings["min_loops"]:
            continue
        loop_time = (node.inclusive_time or 0.0) - (outer.inclusive_time or 0.0)
        share = min(1.0, loop_time / total_time)
        if share < settings["min_share"] or loop_time < settings["min_time_ms"]:
            continue
        yield _hit(plan, node, outer, inner, runs, loop_time, share)


def _outer_inner(node: PlanNode) -> tuple[PlanNode, PlanNode]:
    outer = next((c for c in node.children if c.parent_relationship == "Outer"), node.children[0])
    inner = next((c for c in node.children if c.parent_relationship == "Inner"), node.children[1])
    return outer, inner


def _inner_runs(inner: PlanNode) -> int:
    """How often the inner side really executed: a Memoize answers repeats from its cache."""
    if inner.node_type == "Memoize" and inner.children:
        return inner.children[0].loops
    return inner.loops


def _inner_scan(inner: PlanNode) -> PlanNode | None:
    node = inner
    while node.relation is None and node.node_type in _PASS_THROUGH and len(node.children) == 1:
        node = node.children[0]
    return node if node.relation else None


def _hit(plan: Plan, node: PlanNode, outer: PlanNode, inner: PlanNode, runs: int,
         loop_time: float, share: float) -> Hit:
    scan = _inner_scan(inner)
    inner_rows = inner.actual_rows or 0.0
    inner_text = inner.label() if scan is None or scan is inner else f"{inner.label()} of {scan.label()}"
    message = (
        f"{node.label()} (node {node.id}): its inner side, {inner_text}, ran {runs:,} times "
        f"(once per outer row from {outer.label()}) and the loop took {loop_time:,.1f} ms, "
        f"{share:.0%} of execution time"
    )
    removed = node.get("Rows Removed by Join Filter")
    if removed:
        message += f"; the Join Filter {node.get('Join Filter')} threw away {removed * node.loops:,.0f} row pairs"
    elif inner_rows > 1:
        message += f", {inner_rows:,.0f} rows each time"
    advice: list[str] = []
    fix_sql = None
    # per loop on both sides: below a Gather the estimate is per process, and so is Actual Rows
    estimated, actual = outer.plan_rows, outer.actual_rows or 0.0
    if actual >= 10 * max(estimated, 1.0):
        plural = "s" if estimated != 1 else ""
        message += f". The planner expected {rows(estimated)} outer row{plural} but got {rows(actual)}"
        tables = _relations(outer)
        if tables:
            fix_sql = "\n".join(f"ANALYZE {table};" for table in tables)
            advice.append(f"refresh the statistics ({', '.join('ANALYZE ' + table for table in tables)}) so the "
                          "planner sees the real row count and can choose a hash join")
    keys, hashable = _inner_keys(node, scan)
    if scan is not None and scan.relation and not scan.get("Index Cond") and keys:
        index = create_index(scan.relation, keys)
        advice.append(f"index the inner side's join key so each run is a lookup instead of a full pass: {index[:-1]}"
                      + ("" if hashable else " (a join on ranges cannot be hashed or merged)"))
        fix_sql = fix_sql or index
    forced = [name for name in ("enable_hashjoin", "enable_mergejoin") if (plan.settings or {}).get(name) == "off"]
    if forced:
        advice.insert(0, f"this plan ran with {' and '.join(name + ' = off' for name in forced)}, which ruled out "
                         "the other join methods: turn them back on")
    elif not advice:
        advice.append("with this many outer rows a hash join reads the inner table once: check why the planner "
                      "preferred the loop (row estimates, a join condition that cannot be hashed)")
    return Hit(
        message=message,
        help=_sentence(advice),
        fix=Fix("Help the planner avoid thousands of inner runs", fix_sql) if fix_sql else None,
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": scan.relation if scan else None,
            "inner_node": inner.id,
            "inner_runs": runs,
            "loop_time_ms": round(loop_time, 3),
            "share": round(share, 3),
            "outer_rows": actual,
            "outer_rows_estimated": estimated,
        },
    )


def _relations(node: PlanNode) -> list[str]:
    """Tables scanned under a node, in plan order, without repeats."""
    seen: list[str] = []
    for child in node.walk():
        if child.relation and qualified(child.relation) not in seen:
            seen.append(qualified(child.relation))
    return seen


def _inner_keys(node: PlanNode, scan: PlanNode | None) -> tuple[list[str], bool]:
    """Index keys for the inner table's conditions (equality first, then ranges; outer columns count
    as constants), and whether some equality compares it with an outer column (a hash join could serve)."""
    if scan is None:
        return [], False
    alias = scan.alias
    found = [cond for text in (node.get("Join Filter"), scan.get("Filter"), scan.get("Index Cond"))
             for cond in conditions(text, alias)]
    hashable = any(
        cond.kind == "equality"
        and any(qualifier not in (None, alias) for qualifier, _ in tables_and_columns(cond.text))
        for cond in found
    )
    return index_keys(found)[:3], hashable


def _sentence(parts: list[str]) -> str:
    text = "; or ".join(parts)
    return text[0].upper() + text[1:]
