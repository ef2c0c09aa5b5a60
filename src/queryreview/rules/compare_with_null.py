"""QR114 compare-with-null: ``x = NULL`` is never true, so the filter keeps no rows."""

from __future__ import annotations

import re
from typing import Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import excerpt, node_span
from queryreview.sql.predicates import outer_parent, render, strip_parens
from queryreview.sql.rewrite import counterpart

# Where ``col = NULL`` is an assignment, not a comparison.
# (UPDATE/MERGE … SET, ON CONFLICT DO UPDATE SET, SET var, ALTER … SET (opt = …), f(a => NULL))
_ASSIGNMENT_PARENTS = (exp.Update, exp.SetItem, exp.OnConflict, exp.AlterSet, exp.Kwarg, exp.PropertyEQ)
_NULL_AFTER = re.compile(r"[\s)]*(?:=|<>|!=)\s*((?:\(\s*)*)null\b", re.IGNORECASE)
_CLOSING = re.compile(r"\s*\)")
_NULL_BEFORE = re.compile(r"null\s*(?:=|<>|!=)\s*$", re.IGNORECASE)


def check(stmt: Statement) -> Iterator[Hit]:
    for null in stmt.nodes(exp.Null):  # NULL literals are rare: start from them, not from every `=`
        comparison = outer_parent(null)
        if not isinstance(comparison, (exp.EQ, exp.NEQ)):
            continue
        operand = _non_null_operand(comparison)
        if operand is None or _is_assignment(comparison):
            continue
        negated = isinstance(comparison, exp.NEQ)
        wanted = "IS NOT NULL" if negated else "IS NULL"
        span = _span(stmt.text, comparison, operand)
        quoted = excerpt(stmt.text, span, comparison)
        yield Hit(
            message=(
                f"`{quoted}` is never true: any comparison with NULL yields NULL, "
                f"so this condition keeps no rows (use `{wanted}`)"
            ),
            span=span,
            help=f"Write `{render(operand)} {wanted}`",
            fix=Fix(f"Test for NULL with {wanted}", _rewrite(stmt, comparison, operand, negated)),
        )


def _non_null_operand(comparison: exp.Expression) -> exp.Expression | None:
    """The side compared with a NULL literal, or None when neither (or both) side is NULL."""
    left, right = comparison.this, comparison.expression
    left_null = isinstance(strip_parens(left), exp.Null)
    right_null = isinstance(strip_parens(right), exp.Null)
    if left_null == right_null:
        return None
    return left if right_null else right


def _is_assignment(comparison: exp.Expression) -> bool:
    return isinstance(comparison.parent, _ASSIGNMENT_PARENTS)


def _span(text: str, comparison: exp.Expression, operand: exp.Expression) -> tuple[int, int] | None:
    """Cover ``col = NULL`` including the unpositioned operator and NULL keyword."""
    span = node_span(operand)
    if span is None:
        return node_span(comparison)
    start, end = span
    depth = _paren_depth(operand)  # `(x) = NULL`: the operand's own parentheses carry no position
    for _ in range(depth):
        before = text[:start].rstrip()
        if not before.endswith("("):
            break
        start = len(before) - 1
    if operand is comparison.expression:
        for _ in range(depth):
            closing = _CLOSING.match(text, end)
            if closing is None:
                break
            end = closing.end()
    if operand is comparison.this:
        match = _NULL_AFTER.match(text, end)
        if match:
            end = match.end()
            for _ in range(match.group(1).count("(")):  # `(x) = (NULL)`: include the NULL's parentheses
                closing = _CLOSING.match(text, end)
                if closing is None:
                    break
                end = closing.end()
    else:
        match = _NULL_BEFORE.search(text, max(0, start - 40), start)
        if match:
            start = match.start()
    return start, end


def _paren_depth(node: exp.Expression) -> int:
    depth = 0
    while isinstance(node, exp.Paren):
        depth, node = depth + 1, node.this
    return depth


def _rewrite(stmt: Statement, comparison: exp.Expression, operand: exp.Expression, negated: bool) -> str:
    root = stmt.ast.copy()
    target = counterpart(comparison, root)
    test = exp.Is(this=counterpart(operand, root).copy(), expression=exp.Null())
    if negated:
        test.set("negate", True)
    if target is root:
        return render(test)
    target.replace(test)
    return render(root)
