"""QR113 large-in-list: ``col IN (v1, …, v500)`` plans slowly and floods pg_stat_statements."""

from __future__ import annotations

import re
from typing import Any, Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.predicates import is_constant, parameter_number, render
from queryreview.sql.rewrite import counterpart

_CLOSING_PAREN = re.compile(r"\s*\)")
_SHOWN_ITEMS = 3


def check(stmt: Statement, settings: dict[str, Any]) -> Iterator[Hit]:
    if isinstance(stmt.ast, (exp.Create, exp.Alter)):
        return  # CHECK constraints, partial-index predicates, views: no parameters to bind there
    max_items = int(settings.get("max_items") or 50)
    next_parameter: int | None = None
    for in_ in stmt.nodes(exp.In):
        items = in_.expressions
        if len(items) <= max_items or not all(is_constant(item) for item in items):
            continue
        negated = isinstance(in_.parent, exp.Not)
        keyword = "NOT IN" if negated else "IN"
        quoted = f"{render(in_.this)} {keyword} ({', '.join(render(i) for i in items[:_SHOWN_ITEMS])}, …)"
        fix = None
        if not isinstance(in_.this, exp.Tuple):
            if next_parameter is None:
                next_parameter = _next_parameter(stmt)
            if next_parameter:
                fix = _fix(stmt, in_, negated, next_parameter, len(items))
        yield Hit(
            message=(
                f"`{quoted}` lists {len(items)} values: every value is planned as a separate "
                "constant, and each list length is a new pg_stat_statements entry"
            ),
            span=_span(stmt.text, in_),
            help=f"Pass one array parameter: `{render(in_.this)} {'<> ALL' if negated else '= ANY'}($n)`",
            fix=fix,
        )


def _next_parameter(stmt: Statement) -> int:
    """One past the highest ``$n``; 0 when the statement uses another placeholder style."""
    if next(stmt.nodes(exp.Placeholder), None) is not None:
        return 0
    numbers = [parameter_number(parameter) for parameter in stmt.nodes(exp.Parameter)]
    return max((number for number in numbers if number is not None), default=0) + 1


def _fix(stmt: Statement, in_: exp.In, negated: bool, next_parameter: int, count: int) -> Fix:
    root = stmt.ast.copy()
    target = counterpart(in_.parent if negated else in_, root)
    column = counterpart(in_.this, root).copy()
    renumber, number = _renumbering(stmt, in_, next_parameter)
    array = exp.Paren(this=exp.Parameter(this=exp.Literal.number(number)))
    if negated:
        replacement: exp.Expression = exp.NEQ(this=column, expression=exp.All(this=array))
        form = f"<> ALL(${number})"
    else:
        replacement = exp.EQ(this=column, expression=exp.Any(this=array))
        form = f"= ANY(${number})"
    if target is root:
        root = replacement
    else:
        target.replace(replacement)
        for parameter in root.find_all(exp.Parameter):
            old = parameter_number(parameter)
            if old in renumber:
                parameter.set("this", exp.Literal.number(renumber[old]))
    description = (
        f"Bind the {count} values as one array parameter ${number} and compare with {form}; "
        "the statement text (and its plan and pg_stat_statements entry) no longer depends on the list length"
    )
    if any(old != new for old, new in renumber.items()):
        description += "; the parameters after the list are renumbered: " + ", ".join(
            f"${old} -> ${new}" for old, new in sorted(renumber.items()) if old != new
        )
    return Fix(description, render(root))


def _renumbering(stmt: Statement, in_: exp.In, next_parameter: int) -> tuple[dict[int, int], int]:
    """New numbers for the remaining ``$n`` and the array's own number.

    Parameters used only inside the list disappear; leaving a gap would make PostgreSQL
    fail with "could not determine data type of parameter". The array takes the place of
    the first of them and later parameters shift down. Without any, the array is appended.
    """
    listed = {parameter_number(item) for item in in_.expressions if isinstance(item, exp.Parameter)} - {None}
    elsewhere = {parameter_number(p) for p in stmt.nodes(exp.Parameter) if not _inside(p, in_)}
    gone = listed - elsewhere
    if not gone:
        return {}, next_parameter
    slot = min(gone)
    renumber = {}
    for old in sorted(elsewhere - {None}):
        shift = sum(1 for number in gone if number < old)
        renumber[old] = old - shift + (1 if old > slot else 0)
    return renumber, slot


def _inside(node: exp.Expression, ancestor: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _span(text: str, in_: exp.In) -> tuple[int, int] | None:
    span = node_span(in_)
    if span is None:
        return None
    start, end = span
    match = _CLOSING_PAREN.match(text, end)
    return start, match.end() if match else end
