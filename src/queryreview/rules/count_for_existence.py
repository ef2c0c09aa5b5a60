"""QR110 count-for-existence: ``count(*) > 0`` counts every match to learn whether one exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import excerpt, node_span, subquery_span
from queryreview.sql.predicates import conjuncts, outer_parent, render, strip_parens, unalias
from queryreview.sql.rewrite import conjoin, counterpart

# (operator, constant) meaning "at least one" / "none", with count() on the left.
_EXISTS = {(exp.GT, "0"), (exp.GTE, "1"), (exp.NEQ, "0")}
_NOT_EXISTS = {(exp.EQ, "0"), (exp.LT, "1"), (exp.LTE, "0")}
_FLIPPED = {exp.GT: exp.LT, exp.LT: exp.GT, exp.GTE: exp.LTE, exp.LTE: exp.GTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}
_QUOTE_LIMIT = 120
_COMPARISONS = (exp.GT, exp.GTE, exp.NEQ, exp.EQ, exp.LT, exp.LTE)
# Clauses that make "the counted rows" more than FROM + WHERE: no mechanical rewrite then.
_KEEPS_FIX_AWAY = ("limit", "offset", "order", "qualify", "windows", "having", "distinct", "group")


@dataclass
class _Count:
    count: exp.Count
    filter: exp.Expression | None  # count(*) FILTER (WHERE …)
    subquery: exp.Subquery | None  # (SELECT count(*) FROM …) form
    select: exp.Select  # the SELECT whose rows are counted


def check(stmt: Statement) -> Iterator[Hit]:
    for count in stmt.nodes(exp.Count):  # counts are rare: start from them, not from every comparison
        comparison = _enclosing_comparison(count)
        if comparison is None:
            continue
        found = _existence_test(comparison)
        if found is None:
            continue
        counted, exists = found
        if counted.subquery is None and not _bare_count_is_existence(comparison, counted):
            continue
        span = _span(stmt.text, comparison)
        quoted = excerpt(stmt.text, span, comparison, _QUOTE_LIMIT)
        question = "whether one exists" if exists else "whether there are none"
        rewrite = _rewrite(stmt, comparison, counted, exists)
        yield Hit(
            message=(
                f"`{quoted}` counts every matching row just to learn {question}; "
                "EXISTS stops at the first row"
            ),
            span=span,
            help=f"Use {'EXISTS' if exists else 'NOT EXISTS'} (SELECT 1 FROM … WHERE …)",
            fix=Fix(
                f"{'EXISTS' if exists else 'NOT EXISTS'} returns as soon as one row matches "
                "instead of counting all of them",
                rewrite,
            )
            if rewrite
            else None,
        )


def _enclosing_comparison(count: exp.Count) -> exp.Expression | None:
    """The comparison a count (or its ``(SELECT count(*) …)`` subquery) is an operand of."""
    node: exp.Expression = count
    if isinstance(node.parent, exp.Filter):
        node = node.parent
    if isinstance(node.parent, exp.Alias):
        node = node.parent
    if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
        node = node.parent.parent  # the Subquery around `SELECT count(*) …`
        if not isinstance(node, exp.Subquery):
            return None
    parent = outer_parent(node)
    return parent if isinstance(parent, _COMPARISONS) else None


def _existence_test(comparison: exp.Expression) -> tuple[_Count, bool] | None:
    """(the count, True for "exists" / False for "none") when comparison is count-vs-0/1."""
    operator = type(comparison)
    counted = _counted(comparison.this)
    constant = comparison.expression
    if counted is None:
        counted = _counted(comparison.expression)
        constant = comparison.this
        operator = _FLIPPED[operator]
    if counted is None:
        return None
    constant = strip_parens(constant)
    if not isinstance(constant, exp.Literal) or constant.is_string:
        return None
    key = (operator, constant.name)
    if key in _EXISTS:
        return counted, True
    if key in _NOT_EXISTS:
        return counted, False
    return None


def _counted(node: Any) -> _Count | None:
    node = strip_parens(node)
    if isinstance(node, exp.Subquery):
        select = node.this
        if not isinstance(select, exp.Select) or len(select.expressions) != 1:
            return None
        if any(select.args.get(key) is not None for key in ("group", "having", "distinct")):
            return None
        inner = _counted(unalias(select.expressions[0]))
        if inner is None or inner.subquery is not None:
            return None
        return _Count(inner.count, inner.filter, node, select)
    count_filter = None
    if isinstance(node, exp.Filter):
        count_filter, node = node.expression, node.this
    if not isinstance(node, exp.Count):
        return None
    select = node.parent_select
    if select is None:
        return None
    return _Count(node, count_filter, None, select)


def _bare_count_is_existence(comparison: exp.Expression, counted: _Count) -> bool:
    """``SELECT count(*) > 0 FROM t WHERE …``: in the select list of an ungrouped query.

    ``HAVING count(*) > 0`` and per-group counts are not existence tests.
    """
    select = counted.select
    if select.args.get("group") is not None or select.args.get("from_") is None:
        return False
    node: exp.Expression = comparison
    while node.parent is not select:
        node = node.parent
        if node is None or isinstance(node, (exp.Window, exp.Subquery, exp.Select)):
            return False
    return node.arg_key == "expressions"


def _rewrite(stmt: Statement, comparison: exp.Expression, counted: _Count, exists: bool) -> str | None:
    select = counted.select
    if any(select.args.get(key) is not None for key in _KEEPS_FIX_AWAY):
        return None
    if counted.subquery is None and (len(select.expressions) != 1 or unalias(select.expressions[0]) is not comparison):
        return None  # other select-list items need the aggregate: help only
    condition = _non_null_condition(counted)
    if condition is False:
        return None
    root = stmt.ast.copy()
    target_select = counterpart(select, root)
    probe = target_select  # reused: the subquery is replaced, or the outer select emptied below
    if counted.subquery is None:
        probe = exp.Select()
        for key, value in list(target_select.args.items()):
            if key not in ("with_", "expressions") and value is not None:
                target_select.set(key, None)
                probe.set(key, value)
    probe.set("expressions", [exp.Literal.number(1)])
    if condition is not None:
        where = probe.args.get("where")
        existing = conjuncts(where.this) if where is not None else []
        probe.set("where", exp.Where(this=conjoin(existing + conjuncts(condition))))
    test: exp.Expression = exp.Exists(this=probe)
    if not exists:
        test = exp.Not(this=test)
    if counted.subquery is not None:
        target = counterpart(comparison, root)
        if target is root:
            return render(test)
        target.replace(test)
        return render(root)
    # SELECT count(*) > 0 [AS x] FROM … WHERE …  ->  SELECT EXISTS (SELECT 1 FROM … WHERE …) [AS x]
    projection = target_select.expressions[0]
    new_projection = exp.alias_(test, projection.alias, copy=False) if isinstance(projection, exp.Alias) else test
    target_select.set("expressions", [new_projection])
    return render(root)


def _non_null_condition(counted: _Count) -> exp.Expression | None | bool:
    """What makes a row count: FILTER condition and/or ``x IS NOT NULL`` for count(x).

    None when every row counts, False when it cannot be said simply.
    """
    argument = counted.count.this
    parts: list[exp.Expression] = []
    if counted.filter is not None:
        parts.append(counted.filter.this)
    if isinstance(argument, exp.Distinct):
        if len(argument.expressions) != 1:
            return False
        argument = argument.expressions[0]
    if argument is not None and not isinstance(argument, exp.Star) and not _is_non_null_literal(argument):
        if argument.find(exp.AggFunc, exp.Subquery) is not None:
            return False
        parts.append(exp.Is(this=argument.copy(), expression=exp.Null(), negate=True))
    if not parts:
        return None
    return conjoin([part.copy() for part in parts])


def _is_non_null_literal(node: exp.Expression) -> bool:
    node = strip_parens(node)
    return isinstance(node, (exp.Literal, exp.Boolean))


def _span(text: str, comparison: exp.Expression) -> tuple[int, int] | None:
    """The comparison, widened to the parentheses of a ``(SELECT count(*) …)`` operand."""
    parts = []
    for operand in (comparison.this, comparison.expression):
        span = node_span(operand)
        if span is None:
            continue
        if isinstance(strip_parens(operand), exp.Subquery):
            span = subquery_span(text, span)
        parts.append(span)
    if not parts:
        return None
    return min(s for s, _ in parts), max(e for _, e in parts)
