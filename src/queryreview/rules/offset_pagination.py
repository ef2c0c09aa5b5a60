"""QR106 offset-pagination: a large or unbounded OFFSET reads and discards every skipped row."""

from __future__ import annotations

import re
from typing import Any, Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import close_parens, widened_span
from queryreview.sql.predicates import parameter_number, render, render_rewrite, strip_parens
from queryreview.sql.rewrite import replaced

_KEYWORD = re.compile(r"\boffset[\s(]*$", re.IGNORECASE)
_NOT_KEYSET = ("group", "having", "distinct", "qualify")


def check(stmt: Statement, settings: dict[str, Any]) -> Iterator[Hit]:
    configured = settings.get("max_offset")
    max_offset = 1000 if configured is None else int(configured)
    for offset in stmt.nodes(exp.Offset):
        value = strip_parens(offset.expression)
        if value is None:
            continue
        if isinstance(value, exp.Literal) and value.is_int:
            if int(value.this) <= max_offset:
                continue
            size = f"OFFSET {value.this} reads and throws away {int(value.this):,} rows before returning any"
        elif value.find(exp.Parameter, exp.Placeholder) is not None:
            size = (
                f"OFFSET {render(value)} reads and throws away every skipped row, "
                "so each page costs more than the one before"
            )
        else:
            continue  # OFFSET floor(random() * n) and other computed values: not pagination
        yield Hit(
            message=f"Offset pagination: {size}; deep pages get linearly slower",
            span=_span(stmt.text, offset),
            fix=_keyset(stmt, offset),
        )


def _span(text: str, offset: exp.Offset) -> tuple[int, int] | None:
    """From the OFFSET keyword (which has no position of its own) to the end of its value, ``OFFSET ($1)`` whole."""
    span = widened_span(text, offset)
    if span is None:
        return None
    start, end = span
    keyword = _KEYWORD.search(text, 0, start)
    if keyword is None:
        return span
    return keyword.start(), close_parens(text, end, keyword.group().count("("))


def _keyset(stmt: Statement, offset: exp.Offset) -> Fix | None:
    """``WHERE (order columns) > ($n, …)`` in place of OFFSET, for a uniform ASC or DESC ORDER BY on columns."""
    select = offset.parent
    if not isinstance(select, exp.Select) or any(select.args.get(key) for key in _NOT_KEYSET):
        return None
    order = select.args.get("order")
    ordered = order.expressions if order is not None else []
    if not ordered or any(not isinstance(o.this, exp.Column) for o in ordered):
        return None
    descending = {bool(o.args.get("desc")) for o in ordered}
    if len(descending) != 1 or any(_explicit_nulls(o) for o in ordered):
        return None
    if _sorts_by_output_alias(select, ordered) or select.find(exp.AggFunc, exp.Window) is not None:
        return None
    keys = [o.this for o in ordered]
    numbers = _free_parameter_numbers(stmt, offset, len(keys))
    values = [exp.Parameter(this=exp.Literal.number(n)) for n in numbers]
    operator = exp.LT if descending.pop() else exp.GT
    if len(keys) == 1:
        condition = operator(this=keys[0].copy(), expression=values[0])
    else:
        condition = operator(
            this=exp.Tuple(expressions=[k.copy() for k in keys]), expression=exp.Tuple(expressions=values)
        )
    root = stmt.ast
    placeholders = ", ".join(render(v) for v in values)
    return Fix.later(
        (
            f"Keyset pagination template: pass the previous page's last ({', '.join(render(k) for k in keys)}) "
            f"as {placeholders} (omit the condition for the first page). The ORDER BY must be "
            "unique (end it with the primary key) and its columns NOT NULL; an index on the ORDER BY columns "
            "makes every page as cheap as the first"
        ),
        lambda: render_rewrite(replaced(root, select, _with_condition(select, condition))),
    )


def _explicit_nulls(ordered: exp.Ordered) -> bool:
    """NULLS FIRST/LAST other than PostgreSQL's default (last for ASC, first for DESC)."""
    nulls_first = bool(ordered.args.get("nulls_first"))
    return nulls_first != bool(ordered.args.get("desc"))


def _sorts_by_output_alias(select: exp.Select, ordered: list[exp.Ordered]) -> bool:
    """ORDER BY total where total is `sum(…) AS total`: WHERE cannot see output names."""
    aliases = {
        projection.alias: projection.this
        for projection in select.expressions
        if isinstance(projection, exp.Alias)
    }
    for item in ordered:
        column = item.this
        aliased = aliases.get(column.name)
        if not column.table and aliased is not None and not (
            isinstance(aliased, exp.Column) and aliased.name == column.name
        ):
            return True
    return False


def _free_parameter_numbers(stmt: Statement, offset: exp.Offset, count: int) -> list[int]:
    """Parameter numbers for the template: the lowest ones unused once OFFSET is gone (no gaps for PREPARE)."""
    inside_offset = {id(p) for p in offset.find_all(exp.Parameter)}
    used = {parameter_number(p) for p in stmt.nodes(exp.Parameter) if id(p) not in inside_offset}
    numbers: list[int] = []
    candidate = 1
    while len(numbers) < count:
        if candidate not in used:
            numbers.append(candidate)
        candidate += 1
    return numbers


def _with_condition(select: exp.Select, condition: exp.Expression) -> exp.Select:
    copy = select.copy()
    copy.set("offset", None)
    return copy.where(condition, copy=False)
