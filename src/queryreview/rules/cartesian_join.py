"""QR109 cartesian-join: two FROM items joined with no condition linking them."""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.predicates import columns, conjuncts, is_base_table, is_constant, strip_parens, table_name


def check(stmt: Statement) -> Iterator[Hit]:
    one_row_ctes: set[str] | None = None
    for select in stmt.nodes(exp.Select):
        joins = select.args.get("joins")
        from_ = select.args.get("from_")
        if not joins or from_ is None or not any(_unconditioned(join) for join in joins):
            continue
        if one_row_ctes is None:
            one_row_ctes = {cte.alias for cte in stmt.nodes(exp.CTE) if _one_row(cte.this)}
        yield from _check_select(select, from_.this, joins, one_row_ctes)


def _check_select(
    select: exp.Select, first: exp.Expression, joins: list[exp.Join], one_row_ctes: set[str]
) -> Iterator[Hit]:
    items = [first, *(join.this for join in joins)]
    aliases = {item.alias_or_name: index for index, item in enumerate(items) if item.alias_or_name}
    links = _Links(len(items))
    single_rows = set()
    for condition in _conditions(select, joins):
        _link(condition, aliases, links)
        single_rows.update(_pinned_by_id(condition, aliases))
    for position, join in enumerate(joins, start=1):
        if join.args.get("using") or join.args.get("method"):
            for earlier in range(position):
                links.union(position, earlier)  # USING / NATURAL: linked to the left side
    relations = [
        index for index, item in enumerate(items)
        if index not in single_rows and _is_relation(item, one_row_ctes)
    ]
    for position, join in enumerate(joins, start=1):
        if position not in relations or not _unconditioned(join):
            continue
        earlier = [index for index in relations if index < position]
        if not earlier or any(links.find(index) == links.find(position) for index in earlier):
            continue
        left, right = _describe(items[earlier[0]]), _describe(items[position])
        yield Hit(
            message=(
                f"Cartesian product: {right} is joined to {left} ({_join_kind(join)}) with no condition linking "
                f"them, so every row of {left} is paired with every row of {right}"
            ),
            node=join.this,
        )


def _unconditioned(join: exp.Join) -> bool:
    """A comma join, CROSS JOIN or JOIN … ON true (not USING / NATURAL, which carry their condition)."""
    if join.args.get("using") or join.args.get("method"):
        return False
    on = join.args.get("on")
    if on is None:
        return True
    on = strip_parens(on)
    return isinstance(on, exp.Boolean) and bool(on.this)


def _join_kind(join: exp.Join) -> str:
    if join.args.get("on") is not None:
        return "JOIN … ON true"
    if (join.args.get("kind") or "").upper() == "CROSS":
        return "CROSS JOIN"
    return "comma join"


def _conditions(select: exp.Select, joins: list[exp.Join]) -> Iterator[exp.Expression]:
    where = select.args.get("where")
    if where is not None:
        yield from conjuncts(where.this)
    for join in joins:
        on = join.args.get("on")
        if on is not None:
            yield from conjuncts(on)


def _link(condition: exp.Expression, aliases: dict[str, int], links: _Links) -> None:
    """Join every FROM item a condition mentions (also through subqueries: EXISTS (… a.x … b.y) links a and b)."""
    local = columns(condition)
    unqualified = any(not column.table for column in local)
    touched = {aliases[c.table] for c in condition.find_all(exp.Column) if c.table in aliases}
    if unqualified and (len(local) > 1 or touched):
        touched = set(range(len(links.parent)))  # `customer_id = id`: cannot tell which items, assume linked
    touched_list = sorted(touched)
    for index in touched_list[1:]:
        links.union(touched_list[0], index)


def _pinned_by_id(condition: exp.Expression, aliases: dict[str, int]) -> set[int]:
    """``o.id = $1``: that item contributes a single row, so pairing it with another costs nothing."""
    if not isinstance(condition, exp.EQ):
        return set()
    for side, other in ((condition.this, condition.expression), (condition.expression, condition.this)):
        side = strip_parens(side)
        if isinstance(side, exp.Column) and side.name == "id" and side.table in aliases and is_constant(other):
            return {aliases[side.table]}
    return set()


def _is_relation(item: exp.Expression, one_row_ctes: set[str]) -> bool:
    """A FROM item that can hold many rows: a table or a multi-row subquery (not a function, VALUES, LATERAL)."""
    if isinstance(item, exp.Table):
        if not is_base_table(item):
            return False  # generate_series(…), unnest(…) and other set-returning functions
        return not (not item.db and item.name in one_row_ctes)
    if isinstance(item, exp.Subquery):
        return not _one_row(item.this)
    return False


def _one_row(query: exp.Expression) -> bool:
    """SELECT without FROM, an aggregate without GROUP BY, LIMIT 1, or a one-row VALUES."""
    query = strip_parens(query)
    if isinstance(query, exp.Subquery):
        return _one_row(query.this)
    if isinstance(query, exp.Values):
        return len(query.expressions) == 1
    if not isinstance(query, exp.Select):
        return False
    if query.args.get("from_") is None:
        return True
    limit = query.args.get("limit")
    if isinstance(limit, exp.Limit) and isinstance(limit.expression, exp.Literal) and limit.expression.this == "1":
        return True
    if query.args.get("group"):
        return False
    return bool(query.expressions) and all(
        projection.find(exp.AggFunc) is not None and projection.find(exp.Window) is None
        for projection in query.expressions
    )


def _describe(item: exp.Expression) -> str:
    if isinstance(item, exp.Table):
        return f"{table_name(item)} {item.alias}" if item.alias else table_name(item)
    return f"subquery {item.alias}" if item.alias else "a subquery"


class _Links:
    """Union-find over FROM item positions."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, index: int) -> int:
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def union(self, left: int, right: int) -> None:
        self.parent[self.find(left)] = self.find(right)
