"""``x NOT IN (SELECT y FROM … WHERE w)`` as a correlated ``NOT EXISTS`` probe.

Shared by QR105's fix and the rewrite recommendations, which add NULL guards to it:

    found = anti_join(negation, membership, subquery)
    found.not_exists()                    # NOT EXISTS (SELECT 1 FROM … WHERE w AND y = outer.x)
    found.probe(exp.Is(this=found.projected.copy(), expression=exp.Null()))   # … WHERE w AND y IS NULL
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from queryreview.sql.predicates import columns, sources, strip_parens

_QUERIES = (exp.Select, exp.Update, exp.Delete)
# Subquery clauses a plain correlation cannot carry over
_CHANGES_ROWS = ("group", "having", "limit", "offset", "fetch", "qualify", "windows", "with_")


@dataclass(frozen=True)
class AntiJoin:
    """The parts of a NOT IN subquery: its SELECT (in the original tree), its one output, the outer operand."""

    select: exp.Select
    projected: exp.Expression  # the subquery's output expression, as written inside it
    outer: exp.Expression  # the outer operand, every column qualified so that it binds to the outer row

    def probe(self, condition: exp.Expression | None) -> exp.Select:
        """``SELECT 1 FROM … WHERE <the subquery's WHERE> AND condition`` (a new tree)."""
        probe = self.select.copy()
        probe.set("distinct", None)
        probe.set("order", None)
        probe.set("expressions", [exp.Literal.number(1)])
        where = probe.args.get("where")
        if condition is not None:
            probe.set("where", exp.Where(this=exp.and_(where.this, condition) if where is not None else condition))
        return probe

    def match(self) -> exp.Expression:
        """``y = outer.x``: the correlation."""
        return exp.EQ(this=self.projected.copy(), expression=self.outer.copy())

    def not_exists(self) -> exp.Expression:
        return exp.Not(this=exp.Exists(this=self.probe(self.match())))


def anti_join(negation: exp.Expression, membership: exp.In, subquery: exp.Expression) -> AntiJoin | None:
    """The parts of ``NOT (x IN (subquery))`` for a single-column subquery over a FROM, else None."""
    select = strip_parens(subquery.this if isinstance(subquery, exp.Subquery) else subquery)
    if not isinstance(select, exp.Select) or len(select.expressions) != 1 or select.args.get("from_") is None:
        return None
    if any(select.args.get(key) for key in _CHANGES_ROWS):
        return None
    projected = select.expressions[0]
    projected = projected.this if isinstance(projected, exp.Alias) else projected
    if projected.find(exp.AggFunc, exp.Window, exp.Star) is not None:
        return None
    outer = _qualified_operand(negation, membership.this, _aliases(select))
    if outer is None:
        return None
    return AntiJoin(select=select, projected=projected, outer=outer)


def _qualified_operand(
    negation: exp.Expression, operand: exp.Expression, inner_aliases: set[str]
) -> exp.Expression | None:
    """The outer operand with every column qualified, so that inside the subquery it still means the outer row."""
    operand = strip_parens(operand)
    if isinstance(operand, exp.Tuple) or operand.find(exp.Select) is not None:
        return None
    found = columns(operand)
    if not found:
        return None
    query = negation.parent
    while query is not None and not isinstance(query, _QUERIES):
        query = query.parent
    if query is None:
        return None
    outer_aliases = _aliases(query)
    qualified = operand.copy()
    for column in columns(qualified):
        if not column.table:
            if len(outer_aliases) != 1:
                return None  # cannot tell which outer table the column belongs to
            column.set("table", exp.to_identifier(next(iter(outer_aliases))))
        if column.table in inner_aliases:
            return None  # the subquery reuses the outer name: a qualified reference would bind inside
    return qualified


def _aliases(query: exp.Expression) -> set[str]:
    return {name for name in sources(query) if name}
