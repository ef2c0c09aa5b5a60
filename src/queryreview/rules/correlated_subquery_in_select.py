"""QR111 correlated-subquery-in-select: a scalar subquery in the SELECT list runs once per row."""

from __future__ import annotations

import re
from functools import partial
from typing import Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import excerpt, node_span, subquery_span
from queryreview.sql.predicates import (
    aggregates_rows,
    conjuncts,
    copy_tree,
    is_constant,
    render,
    render_rewrite,
    sources,
    strip_parens,
    unalias,
)
from queryreview.sql.rewrite import counterpart

_NOT_SCALAR = (exp.Exists, exp.In, exp.Any, exp.All)
_QUOTE_LIMIT = 100
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*", re.IGNORECASE)


def check(stmt: Statement) -> Iterator[Hit]:
    by_select: dict[int, tuple[exp.Select, list[exp.Subquery]]] = {}
    for subquery in stmt.nodes(exp.Subquery):
        select = _select_list_owner(subquery)
        if select is not None:
            by_select.setdefault(id(select), (select, []))[1].append(subquery)
    for select, subqueries in by_select.values():
        outer = _source_names(select)
        if not outer or _fetches_one_row(select, outer):
            continue
        for subquery in subqueries:
            correlated = _correlation(subquery, outer)
            if correlated is None:
                continue
            span = subquery_span(stmt.text, node_span(subquery))
            yield Hit(
                message=(
                    f"`{excerpt(stmt.text, span, subquery, _QUOTE_LIMIT)}` in the SELECT list refers to "
                    f"`{render(correlated)}` of the outer query: PostgreSQL runs it as a SubPlan, "
                    "once for every row the outer query returns"
                ),
                span=span,
                help=(
                    "Join the data once instead: LEFT JOIN a GROUP BY subquery on the key, "
                    "or LEFT JOIN LATERAL to compute several values in one pass"
                ),
                fix=_fix(stmt, select, subquery, outer),
            )


def _select_list_owner(subquery: exp.Subquery) -> exp.Select | None:
    """The SELECT whose select list uses this subquery as a value (not EXISTS/IN/ANY), if any."""
    if not isinstance(subquery.this, exp.Select) or isinstance(subquery.parent, _NOT_SCALAR):
        return None
    node: exp.Expression = subquery
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Query):
        node, parent = parent, parent.parent
    if isinstance(parent, exp.Select) and node.arg_key == "expressions":
        return parent
    return None


def _source_names(select: exp.Select) -> set[str]:
    """Names by which this SELECT's FROM/JOIN items can be referenced (alias, else table name)."""
    return {name.lower() for name in sources(select) if name}


def _inner_names(subquery: exp.Subquery) -> set[str]:
    """Every name a FROM/JOIN/CTE inside the subquery defines (alias and table name both)."""
    names = set()
    for node in subquery.find_all(exp.Table, exp.TableAlias):
        if isinstance(node, exp.Table):
            names.add(node.name.lower())
            if node.alias:
                names.add(node.alias.lower())
        elif node.name:
            names.add(node.name.lower())
    return names


def _correlation(subquery: exp.Subquery, outer: set[str]) -> exp.Column | None:
    """A column inside the subquery qualified by an outer FROM item the subquery does not define."""
    inner: set[str] | None = None
    for column in subquery.find_all(exp.Column):
        qualifier = column.table.lower()
        if not qualifier or qualifier not in outer:
            continue
        if inner is None:
            inner = _inner_names(subquery)
        if qualifier not in inner:
            return column
    return None


def _fetches_one_row(select: exp.Select, outer: set[str]) -> bool:
    """``LIMIT 1`` or ``WHERE x.id = $1``: the SubPlan runs once, which is fine."""
    limit = select.args.get("limit")
    count = limit.expression if isinstance(limit, exp.Limit) else limit.args.get("count") if limit else None
    if isinstance(count, exp.Literal) and count.name == "1":
        return True
    where = select.args.get("where")
    if where is None or select.args.get("joins"):
        return False
    for part in conjuncts(where.this):
        if not isinstance(part, exp.EQ):
            continue
        for side, other in ((part.this, part.expression), (part.expression, part.this)):
            side = strip_parens(side)
            if (
                isinstance(side, exp.Column)
                and side.name.lower() == "id"
                and (not side.table or side.table.lower() in outer)
                and is_constant(other)
            ):
                return True
    return False


def _fix(stmt: Statement, select: exp.Select, subquery: exp.Subquery, outer: set[str]) -> Fix | None:
    """``(SELECT agg(x) FROM t2 WHERE t2.k = o.k)`` -> ``LEFT JOIN LATERAL (…) AS sub ON TRUE``."""
    inner = subquery.this
    if len(inner.expressions) != 1 or subquery.args.get("alias") is not None:
        return None
    projection = inner.expressions[0]
    aggregate = projection.this if isinstance(projection, exp.Alias) else projection
    if not isinstance(aggregate, exp.AggFunc) or isinstance(aggregate.parent, exp.Window):
        return None
    if any(inner.args.get(key) is not None for key in ("group", "having", "order", "limit", "offset", "distinct", "with_")):
        return None
    if any(select.args.get(key) is not None for key in ("group", "having")) or aggregates_rows(select):
        return None  # the outer query aggregates: the joined column would have to be grouped too
    if any(_is_comma_join(join) for join in select.args.get("joins") or ()):
        return None  # `FROM a, b LEFT JOIN LATERAL …` binds to b only: the lateral could not see a
    value_name = _value_name(projection, subquery, aggregate)
    qualifiers, bare_names = _references(select)
    if value_name is None or value_name.lower() in bare_names:
        return None  # an unqualified reference to that name would become ambiguous
    lateral_name = _fresh_name("sub", outer | qualifiers)
    return Fix.later(
        "Move the subquery into LEFT JOIN LATERAL: the aggregate still returns one row per outer "
        "row (0 / NULL when nothing matches), and several values from the same table can share it. "
        "For large outer results, pre-aggregate instead: LEFT JOIN (SELECT key, agg(…) … GROUP BY key) "
        "ON key = outer key lets PostgreSQL hash-join",
        partial(_lateral_rewrite, stmt.ast, select, subquery, value_name, lateral_name),
    )


def _lateral_rewrite(
    tree: exp.Expression, select: exp.Select, subquery: exp.Subquery, value_name: str, lateral_name: str
) -> str:
    root = copy_tree(tree)
    target_select = counterpart(select, root)
    target_subquery = counterpart(subquery, root)
    body = target_subquery.this  # detached from the copy by the replace below
    target_subquery.replace(exp.column(value_name, table=lateral_name))
    body.set("expressions", [exp.alias_(unalias(body.expressions[0]), value_name, copy=False)])
    lateral = exp.Lateral(
        this=exp.Subquery(this=body),
        alias=exp.TableAlias(this=exp.to_identifier(lateral_name)),
    )
    target_select.append("joins", exp.Join(this=lateral, side="LEFT", on=exp.true()))
    return render_rewrite(root)


def _value_name(projection: exp.Expression, subquery: exp.Subquery, aggregate: exp.Expression) -> str | None:
    """Keep the output column's name: the inner alias, the outer alias, or the function's name."""
    if isinstance(projection, exp.Alias):
        name = projection.alias
    elif isinstance(subquery.parent, exp.Alias):
        name = subquery.parent.alias
    else:
        name = aggregate.sql_name().lower()
    return name if _IDENTIFIER.fullmatch(name) else None


def _references(select: exp.Select) -> tuple[set[str], set[str]]:
    """Table qualifiers used anywhere in the select, and names of unqualified columns."""
    qualifiers, bare_names = set(), set()
    for column in select.find_all(exp.Column):
        if column.table:
            qualifiers.add(column.table.lower())
        else:
            bare_names.add(column.name.lower())
    return qualifiers, bare_names


def _is_comma_join(join: exp.Join) -> bool:
    return not any(join.args.get(key) for key in ("on", "using", "kind", "side", "method"))


def _fresh_name(base: str, taken: set[str]) -> str:
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}{number}"
    return name
