"""Wording and SQL shared by the plan rules: index statements, counts, the plan's scans.

    create_index("public.orders", ["status", "created_at"])
        -> "CREATE INDEX CONCURRENTLY ON public.orders (status, created_at);"
"""

from __future__ import annotations

from queryreview.plan.exprs import quote_ident
from queryreview.plan.tree import PlanNode

# Nodes that pass their input's rows through unchanged in order and number (for "the scan under this sort").
PASS_THROUGH = frozenset(("Gather", "Gather Merge", "Result", "Materialize", "Memoize", "Subquery Scan"))


def qualified(relation: str) -> str:
    """``schema.table`` or ``table`` as SQL, each part quoted when needed."""
    return ".".join(quote_ident(part) for part in relation.split(".", 1))


def create_index(relation: str, keys: list[str], concurrently: bool = True) -> str:
    """A CREATE INDEX statement on ``keys`` (already SQL: quoted columns or parenthesized expressions)."""
    how = "CREATE INDEX CONCURRENTLY" if concurrently else "CREATE INDEX"
    return f"{how} ON {qualified(relation)} ({', '.join(keys)});"


def rows(value: float) -> str:
    """A row count for a message: ``49,500``; fractions only below 10 (``0.25``)."""
    if value < 10 and value != int(value):
        return f"{value:.2f}"
    return f"{value:,.0f}"


def percent(fraction: float) -> str:
    """``99%``; never rounds a part up to 100% or down to 0%."""
    if 0.995 <= fraction < 1:
        return ">99%"
    if 0 < fraction < 0.005:
        return "<1%"
    return f"{fraction:.0%}"


def about(value: float) -> str:
    """An inferred count to two significant figures: ``about 29,000`` rather than a false ``29,147``."""
    if value < 100:
        return f"{value:,.0f}"
    digits = len(str(int(value))) - 2
    return f"{round(value, -digits):,.0f}"


def time_note(node: PlanNode, total_time: float | None) -> str:
    """`` (14.1 ms, 99% of the execution time)`` for the node's own time when the plan was timed, else empty."""
    if node.exclusive_time is None or not total_time:
        return ""
    return f" ({node.exclusive_time:,.1f} ms, {percent(node.exclusive_time / total_time)} of the execution time)"


def input_scan(node: PlanNode) -> PlanNode | None:
    """The single-table scan feeding ``node`` through pass-through nodes only (None for joins etc.)."""
    flow = [c for c in node.children if not c.is_subplan]
    current = flow[0] if len(flow) == 1 else None
    while current is not None:
        if current.relation:
            return current
        flow = [c for c in current.children if not c.is_subplan]
        if current.node_type not in PASS_THROUGH or len(flow) != 1:
            return None
        current = flow[0]
    return None
