"""QR118 negated-predicate-scan: a WHERE made only of negations (``<>``, ``NOT IN``…) scans the table."""

from __future__ import annotations

from typing import Any, Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.positions import widened_span
from queryreview.sql.predicates import columns, conjuncts, disjuncts, from_items, is_base_table, render, strip_parens

_NEG, _POS, _NEUTRAL = "negation", "positive", "neutral"


def check(stmt: Statement) -> Iterator[Hit]:
    if not _has_negation(stmt):
        return  # the common case, decided from the node index without looking at any WHERE
    cte_names = {cte.alias_or_name for cte in stmt.nodes(exp.CTE)}
    for query in stmt.nodes(exp.Select, exp.Update, exp.Delete):
        where = query.args.get("where")
        if where is None:
            continue
        local, derived = _sources(query, cte_names)
        if not local:
            continue
        parts = conjuncts(where.this)
        for join in query.args.get("joins") or ():
            parts.extend(conjuncts(join.args.get("on")))
        own = set(local) | derived
        negations = []
        positive = False
        for part in parts:
            kind = _classify(part, own)
            if kind == _POS:
                positive = True
                break
            if kind == _NEG:
                negations.append(part)
        if positive:
            continue
        on_tables = [n for n in negations if _on_base_table(n, local, derived)]
        if not on_tables:
            continue
        first = on_tables[0]
        shown = ", ".join(f"`{_describe(n)}`" for n in on_tables[:3])
        table = _table_label(first, local)
        yield Hit(
            message=(
                f"The only filters on {table} are negations ({shown}): no btree index can search for "
                "\"everything except\", so PostgreSQL reads the whole table and filters every row"
            ),
            node=first,
            span=widened_span(stmt.text, first),  # with the NOT keyword and parentheses sqlglot gives no position
            help=(
                f"Filter on the positive set instead (e.g. `IN (...)` of the wanted values), or add a partial "
                f"index `WHERE {_describe(first)}` when the rows it keeps are few"
            ),
        )


def _has_negation(stmt: Statement) -> bool:
    for kind in (exp.NEQ, exp.NullSafeNEQ, exp.Not):
        if next(stmt.nodes(kind), None) is not None:
            return True
    return any(node.args.get("negate") for kind in (exp.Like, exp.ILike) for node in stmt.nodes(kind))


def _sources(query: exp.Expression, cte_names: set[str]) -> tuple[dict[str, str], set[str]]:
    """Base tables of this query by alias -> table name, and the aliases of derived sources (CTEs, subqueries)."""
    local: dict[str, str] = {}
    derived: set[str] = set()
    for item in from_items(query):
        alias = item.alias_or_name
        if is_base_table(item) and item.name not in cte_names:
            local[alias] = item.name
        elif alias:
            derived.add(alias)
        else:
            derived.add("")  # an unnamed derived source: unqualified columns may come from it
    return local, derived


def _classify(part: Any, own: set[str]) -> str:
    node = strip_parens(part)
    negated = False
    while isinstance(node, exp.Not):
        negated = not negated
        node = strip_parens(node.this)
    if isinstance(node, exp.Or):
        kinds = {_classify(d, own) for d in disjuncts(node)}
        kind = _NEG if kinds == {_NEG} else _POS if _POS in kinds else _NEUTRAL
        return _POS if negated and kind == _NEG else kind
    if isinstance(node, (exp.Like, exp.ILike)):
        if node.args.get("negate"):
            negated = not negated
        if not _column_vs_constant(node.this, node.expression):
            return _NEUTRAL
        return _NEG if negated else _POS
    if isinstance(node, (exp.EQ, exp.NullSafeEQ, exp.NEQ, exp.NullSafeNEQ)):
        equal = isinstance(node, (exp.EQ, exp.NullSafeEQ)) != negated
        if any(_subquery_set(side) for side in (node.this, node.expression)):
            return _POS if equal else _NEUTRAL  # = ANY (SELECT …) is a semi-join; <> ALL (SELECT …) an anti-join
        if _column_vs_constant(node.this, node.expression) or _column_vs_constant(node.expression, node.this):
            return _POS if equal else _NEG
        if equal and _correlated(node, own):
            return _POS  # a correlated equality is a per-row parameter: an index can serve it
        return _NEUTRAL
    if isinstance(node, exp.In):
        if node.args.get("query") is not None:
            return _NEUTRAL if negated else _POS
        if not node.expressions or any(columns(e) for e in node.expressions):
            return _NEUTRAL if negated else _POS
        return _NEG if negated else _POS
    if isinstance(node, exp.Is):
        is_not_null = bool(node.args.get("negate")) != negated and isinstance(node.expression, exp.Null)
        return _NEUTRAL if is_not_null else _POS
    if isinstance(node, exp.Exists):
        return _NEUTRAL if negated else _POS
    if isinstance(node, (exp.Boolean, exp.Literal)):
        return _NEUTRAL
    # ranges, BETWEEN (the planner flips NOT a > b into a <= b), booleans, functions: could use an index
    return _POS


def _column_vs_constant(column_side: Any, value_side: Any) -> bool:
    """A column expression against a value known before the scan: literal, parameter, now(), scalar subquery.

    NULL is not a value: ``x <> NULL`` is never true (compare-with-null) and ``IS DISTINCT FROM NULL`` is IS NOT NULL.
    """
    if isinstance(strip_parens(value_side), exp.Null):
        return False
    return bool(columns(column_side)) and not columns(value_side)


def _subquery_set(side: Any) -> bool:
    side = strip_parens(side)
    return isinstance(side, exp.SubqueryPredicate) and side.find(exp.Query) is not None


def _correlated(node: exp.Expression, own: set[str]) -> bool:
    """An equality between a column of this query and one of an outer query (or of unknown origin)."""
    left, right = strip_parens(node.this), strip_parens(node.expression)
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return False
    if not left.table or not right.table:
        return True  # cannot tell where an unqualified column comes from: assume the index-friendly case
    return left.table not in own or right.table not in own


def _on_base_table(negation: exp.Expression, local: dict[str, str], derived: set[str]) -> bool:
    for column in negation.find_all(exp.Column):
        if column.table:
            if column.table in local:
                return True
        elif not derived:
            return True
    return False


def _table_label(negation: exp.Expression, local: dict[str, str]) -> str:
    column = negation.find(exp.Column)
    if column is not None and column.table in local:
        return f"`{local[column.table]}`"
    if len(local) == 1:
        return f"`{next(iter(local.values()))}`"
    return "these tables"


def _describe(negation: exp.Expression) -> str:
    """The negation as people write it: ``status NOT IN (...)`` rather than sqlglot's ``NOT status IN (...)``."""
    inner = strip_parens(negation)
    if isinstance(inner, exp.Not) and isinstance(inner.this, exp.In) and not inner.this.args.get("query"):
        items = ", ".join(render(item) for item in inner.this.expressions)
        return f"{render(inner.this.this)} NOT IN ({items})"
    return render(negation)
