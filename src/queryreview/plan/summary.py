"""Per-node analysis of a plan for reports: a JSON-ready table and a compact text tree.

    rows = node_table(plan)                    # list of dicts, one per node (the JSON "plans" key)
    print(render_tree(plan, width=100))        # indented tree: self time/cost, share, rows, loops

The top offenders are the nodes with the largest share of the plan's own time (or cost
without ANALYZE); they are starred in text and listed by id in JSON.
"""

from __future__ import annotations

from typing import Any

from queryreview.plan.tree import Plan, PlanNode

TOP_OFFENDERS = 3
MIN_OFFENDER_SHARE = 0.10  # a node under 10% of the total is never an offender
MISESTIMATE_MARK = 10.0  # rows off by this factor get a "!" in the text tree
MAX_TREE_LINES = 60  # larger plans show their significant nodes only
MIN_SHOWN_SHARE = 0.01
_SGR = {"bold": "1", "dim": "2", "red": "31", "yellow": "33", "cyan": "36"}


def offenders(plan: Plan) -> list[PlanNode]:
    """The nodes taking the largest share of the plan, largest first (at most three, each >= 10%)."""
    ranked = sorted((n for n in plan.nodes if n.share >= MIN_OFFENDER_SHARE), key=lambda n: n.share, reverse=True)
    return ranked[:TOP_OFFENDERS]


def plan_document(plan: Plan, name: str) -> dict[str, Any]:
    """The JSON ``plans`` entry for one plan (documented in docs/json-schema.md)."""
    return {
        "name": name,
        "analyzed": plan.analyzed,
        "timed": plan.timed,
        "buffers": plan.has_buffers,
        "planning_time_ms": plan.planning_time,
        "execution_time_ms": plan.execution_time,
        "total_cost": plan.total_cost,
        "share_of": "time" if plan.timed and plan.total_time else "cost",
        "query": plan.query,
        "top_nodes": [node.id for node in offenders(plan)],
        "nodes": node_table(plan),
    }


def node_table(plan: Plan) -> list[dict[str, Any]]:
    """One dict per node, in pre-order (ids are 1-based positions)."""
    return [_node_row(node) for node in plan.nodes]


def _node_row(node: PlanNode) -> dict[str, Any]:
    return {
        "id": node.id,
        "parent": node.parent.id if node.parent is not None else None,
        "depth": node.depth,
        "node_type": node.node_type,
        "label": node.label(),
        "relation": node.relation,
        "index": node.index_name,
        "subplan": node.subplan_name,
        "parent_relationship": node.parent_relationship,
        "startup_cost": node.startup_cost,
        "total_cost": node.total_cost,
        "exclusive_cost": round(node.exclusive_cost, 2),
        "estimated_rows": node.plan_rows,
        "estimated_loops": node.estimated_loops,
        "actual_rows": node.actual_rows,
        "total_rows": node.total_rows,
        "loops": node.loops if node.analyzed else None,
        "estimate_factor": _round(node.estimate_factor),
        "inclusive_time_ms": _round(node.inclusive_time, 3),
        "exclusive_time_ms": _round(node.exclusive_time, 3),
        "share": round(node.share, 4),
        "processes": node.processes,
        "never_executed": node.never_executed,
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# --- text ------------------------------------------------------------------------------------


def render_tree(plan: Plan, name: str = "plan", width: int = 100, color: bool = False) -> str:
    """The plan as an indented tree with one line per node, fitting ``width`` columns."""
    paint = _painter(color)
    timed = plan.timed and bool(plan.total_time)
    top = {node.id: rank for rank, node in enumerate(offenders(plan), 1)}
    lines = [paint(_headline(plan, name), "bold")]
    numbers_width = 53 if plan.analyzed else 29
    id_width = max(3, len(str(len(plan.nodes))))
    label_width = max(20, width - numbers_width - id_width - 2)
    head = f"  {'#':>{id_width}} {'node':<{label_width}}" + (
        f" {'self ms' if timed else 'self cost':>9} {'share':>6} {'rows':>8} {'est':>8} {'err':>6} {'loops':>6}"
        if plan.analyzed else f" {'self cost':>9} {'share':>6} {'est rows':>9}")
    lines.append(paint(head.rstrip(), "dim"))
    shown = _shown_nodes(plan, top)
    hidden = 0
    for node in plan.nodes:
        if node.id not in shown:
            hidden += 1
            continue
        lines.append(_node_line(node, plan, id_width, label_width, timed, top, paint))
    if hidden:
        lines.append(paint(f"  … {hidden:,} more node{'s' if hidden != 1 else ''}, each under "
                           f"{MIN_SHOWN_SHARE:.0%} of the {'time' if timed else 'cost'}", "dim"))
    if top:
        ranked = ", ".join(f"#{node_id}" for node_id in top)
        lines.append(paint(f"  * top offender{'s' if len(top) > 1 else ''} by own "
                           f"{'time' if timed else 'cost'}: {ranked}", "dim"))
    return "\n".join(lines) + "\n"


def _headline(plan: Plan, name: str) -> str:
    parts = []
    if plan.execution_time is not None:
        parts.append(f"execution {_ms(plan.execution_time)}")
    if plan.planning_time is not None:
        parts.append(f"planning {_ms(plan.planning_time)}")
    parts.append(f"cost {plan.total_cost:,.0f}")
    parts.append(f"{len(plan.nodes):,} node{'s' if len(plan.nodes) != 1 else ''}")
    if not plan.analyzed:
        parts.append("estimates only (no ANALYZE)")
    elif not plan.timed:
        parts.append("no timing (TIMING OFF)")
    return f"Plan {name}: " + ", ".join(parts)


def _shown_nodes(plan: Plan, top: dict[int, int]) -> set[int]:
    if len(plan.nodes) <= MAX_TREE_LINES:
        return {node.id for node in plan.nodes}
    shown: set[int] = set()
    wanted = [n for n in plan.nodes if n.id in top] + sorted(
        (n for n in plan.nodes if n.share >= MIN_SHOWN_SHARE), key=lambda n: n.share, reverse=True)
    for node in wanted:
        chain = []
        current: PlanNode | None = node
        while current is not None and current.id not in shown:
            chain.append(current.id)
            current = current.parent
        if len(shown) + len(chain) > MAX_TREE_LINES and node.id not in top:
            break
        shown.update(chain)
    return shown


def _node_line(node: PlanNode, plan: Plan, id_width: int, label_width: int, timed: bool, top: dict[int, int],
               paint) -> str:
    mark = "*" if node.id in top else " "
    indent = "  " * min(node.depth, 12) + ("-> " if node.depth else "")
    prefix = f"[{node.subplan_name.split(' (', 1)[0]}] " if node.subplan_name else ""
    label = _fit(indent + prefix + node.label(), label_width)
    own = _ms(node.exclusive_time, unit=False) if timed else f"{node.exclusive_cost:,.0f}"
    share = f"{node.share:.0%}" if node.share >= 0.005 else ""
    if node.never_executed:
        numbers = f" {'':>9} {'':>6} {'—':>8} {_rows(node.plan_rows):>8} {'':>6} {'0':>6}  never executed"
    elif plan.analyzed:
        factor = node.estimate_factor
        err = "" if factor is None or factor < 1.5 else f"{factor:,.0f}x" if factor >= 10 else f"{factor:.1f}x"
        early = (node.actual_rows or 0.0) < node.plan_rows and node.may_stop_early  # a Limit stopped it: expected
        if factor is not None and factor >= MISESTIMATE_MARK and not early:
            err = "!" + err
        numbers = (f" {own:>9} {share:>6} {_rows(node.actual_rows):>8} {_rows(node.plan_rows):>8} "
                   f"{err:>6} {_count(node.loops):>6}")
    else:
        numbers = f" {own:>9} {share:>6} {_rows(node.plan_rows):>9}"
    line = f"{mark} {node.id:>{id_width}} {label:<{label_width}}{numbers}".rstrip()
    if node.id in top:
        return paint(line, "bold red" if top[node.id] == 1 else "bold yellow")
    if node.never_executed:
        return paint(line, "dim")
    return line


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _ms(value: float | None, unit: bool = True) -> str:
    if value is None:
        return ""
    if value >= 10_000:
        text = f"{value / 1000:,.1f} s" if unit else f"{value:,.0f}"
    elif value >= 100:
        text = f"{value:,.0f}" + (" ms" if unit else "")
    elif value >= 10:
        text = f"{value:.1f}" + (" ms" if unit else "")
    else:
        text = f"{value:.2f}" + (" ms" if unit else "")
    return text


def _rows(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 1e9:
        return f"{value / 1e9:.1f}G"
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 100_000:
        return f"{value / 1e3:.0f}k"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:.2f}"


def _count(value: int) -> str:
    return _rows(float(value))


def _painter(color: bool):
    def paint(text: str, style: str) -> str:
        if not color or not text:
            return text
        return f"\x1b[{';'.join(_SGR[word] for word in style.split())}m{text}\x1b[0m"

    return paint
