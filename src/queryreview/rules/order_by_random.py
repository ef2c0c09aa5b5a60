"""QR107 order-by-random: ``ORDER BY random() LIMIT n`` sorts every row to pick a few."""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.positions import widened_span
from queryreview.sql.predicates import from_items, is_base_table, render


def check(stmt: Statement) -> Iterator[Hit]:
    for rand in stmt.nodes(exp.Rand):
        ordered = rand.find_ancestor(exp.Ordered, exp.Select, exp.Window, exp.AggFunc)
        if not isinstance(ordered, exp.Ordered) or not isinstance(ordered.parent, exp.Order):
            continue
        query = ordered.parent.parent
        if not isinstance(query, (exp.Select, exp.SetOperation)):
            continue  # ORDER BY inside a window or an aggregate
        limit = query.args.get("limit")
        if limit is None or not _reads_a_table(query):
            continue  # shuffling a whole result, or a handful of generated rows, is not sampling
        yield Hit(
            message=(
                f"`ORDER BY {render(ordered.this)}` with {_limit_text(limit)} computes random() for every "
                "row, sorts them all and keeps a few: the cost grows with the table, not with the sample"
            ),
            node=ordered,
            span=_span(stmt.text, ordered),
        )


def _limit_text(limit: exp.Expression) -> str:
    if isinstance(limit, exp.Fetch):
        count = limit.args.get("count")
        return f"FETCH FIRST {render(count)}" if count is not None else "FETCH FIRST"
    return f"LIMIT {render(limit.expression)}" if limit.expression is not None else "LIMIT"


def _reads_a_table(query: exp.Expression) -> bool:
    selects = [query] if isinstance(query, exp.Select) else list(query.find_all(exp.Select))
    for select in selects:
        for item in from_items(select):
            tables = [item] if isinstance(item, exp.Table) else list(item.find_all(exp.Table))
            if any(is_base_table(table) for table in tables):
                return True
    return False


def _span(text: str, ordered: exp.Ordered) -> tuple[int, int] | None:
    """``random()``: sqlglot positions the name only; take in its empty argument list."""
    span = widened_span(text, ordered)
    if span is None:
        return None
    start, end = span
    rest = text[end:].lstrip()
    if rest.startswith("("):
        closing = text.find(")", end)
        if closing != -1 and not text[end:closing].strip(" \t\r\n("):
            end = closing + 1
    return start, end
