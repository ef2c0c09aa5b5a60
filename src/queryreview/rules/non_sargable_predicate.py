"""QR103 non-sargable-predicate: a function, cast or arithmetic on a column hides it from its index."""

from __future__ import annotations

from functools import partial
from typing import Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import widened_span
from queryreview.sql.predicates import (
    columns,
    copy_tree,
    filter_owner,
    is_base_table,
    is_parameter,
    render,
    render_rewrite,
    sources,
    strip_parens,
    table_name,
    wrapped_join_key,
)
from queryreview.sql.rewrite import replaced, unqualified

_Sources = dict[str, exp.Expression]  # alias -> FROM item of one query level
_Rewrite = tuple[str, exp.Expression]  # (fix description, sargable condition)

_COMPARISONS = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
# `a > b` read from the other side is `b < a`
_FLIPPED = {exp.EQ: exp.EQ, exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.DPipe)
# Operators that reach *into* a value: json/array access. Indexing those is a
# different story (expression or GIN indexes), not a wrapped column.
_ACCESSORS = (exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBExtract, exp.JSONBExtractScalar, exp.Bracket, exp.Dot)
_NOT_WRAPPERS = (exp.AggFunc, exp.Exists, exp.Unnest, *_ACCESSORS)
_WRAPPERS = (exp.Func, exp.AtTimeZone, *_ARITHMETIC)
_CONNECTIVES = (exp.And, exp.Or, exp.Not, exp.Paren)
_QUERIES = (exp.Select, exp.Update, exp.Delete)
_ONE_DAY = "1 day"


def check(stmt: Statement) -> Iterator[Hit]:
    sources_of: dict[int, _Sources] = {}  # per query: several comparisons often share one
    for kind in (*_COMPARISONS, exp.Between, exp.In):
        for comparison in stmt.nodes(kind):
            if not _may_wrap(comparison) or _joins_through_cast(comparison):
                continue
            query = _filter_owner(comparison)
            if query is None:
                continue
            query_sources = sources_of.get(id(query))
            if query_sources is None:
                query_sources = sources_of[id(query)] = sources(query)
            found = _wrapped_side(comparison, query_sources)
            if found is None:
                continue
            wrapped, column = found
            yield _hit(stmt, comparison, wrapped, column, query_sources)


def _may_wrap(comparison: exp.Expression) -> bool:
    """Cheap pre-check: does a side that could hide a column look like a function, cast or arithmetic?"""
    side = strip_parens(comparison.this)
    if isinstance(side, _WRAPPERS) and not isinstance(side, _NOT_WRAPPERS):
        return True
    if isinstance(comparison, (exp.Between, exp.In)):
        return False
    side = strip_parens(comparison.expression)
    return isinstance(side, _WRAPPERS) and not isinstance(side, _NOT_WRAPPERS)


def _joins_through_cast(comparison: exp.Expression) -> bool:
    """``o.id = i.order_ref::bigint``: a join key cast to match another table's column is
    implicit-cast-in-join's (QR122) to report, with the advice that fits a join."""
    return isinstance(comparison, exp.EQ) and wrapped_join_key(comparison) is not None


def _filter_owner(node: exp.Expression) -> exp.Expression | None:
    """The SELECT/UPDATE/DELETE whose WHERE or JOIN ... ON this predicate belongs to, else None."""
    owner = filter_owner(node, _CONNECTIVES)
    return owner if isinstance(owner, _QUERIES) else None


def _local_columns(node: exp.Expression, sources: _Sources) -> list[exp.Column]:
    """Columns of this query level (qualified by one of its aliases, or unqualified)."""
    return [c for c in columns(node) if not c.table or c.table in sources]


def _wrapped_side(comparison: exp.Expression, sources: _Sources) -> tuple[exp.Expression, exp.Column] | None:
    """(the wrapped expression, its column) when one side hides a column and the other is indexable against."""
    if isinstance(comparison, exp.Between):
        others = [comparison.args.get("low"), comparison.args.get("high")]
        candidates = [(comparison.this, others)]
    elif isinstance(comparison, exp.In):
        if comparison.args.get("query") is not None or not comparison.expressions:
            return None
        candidates = [(comparison.this, list(comparison.expressions))]
    else:
        candidates = [(comparison.this, [comparison.expression]), (comparison.expression, [comparison.this])]
    for side, others in candidates:
        column = _hidden_column(side, sources)
        if column is None:
            continue
        if all(o is not None and not _local_columns(o, sources) for o in others):
            return strip_parens(side), column
        if len(others) == 1 and _joins_other_table(side, column, others[0]):
            return strip_parens(side), column
    return None


def _hidden_column(side: exp.Expression | None, sources: _Sources) -> exp.Column | None:
    """The single base-table column a function/cast/arithmetic wraps, if that is what ``side`` is."""
    side = strip_parens(side)
    if side is None or isinstance(side, exp.Column):
        return None
    is_wrapper = isinstance(side, _WRAPPERS) and not isinstance(side, _NOT_WRAPPERS)
    if not is_wrapper or side.find(*_ACCESSORS, exp.Select) is not None:
        return None
    local = _local_columns(side, sources)
    if len({(c.table, c.name) for c in local}) != 1:
        return None  # no column (constant-folded) or several (a computed value, not a hidden column)
    column = local[0]
    if column.table:
        return column if is_base_table(sources.get(column.table)) else None
    if any(column.name in _declared_columns(item) for item in sources.values() if not is_base_table(item)):
        return None  # `FROM generate_series(...) AS s(day)`: a computed column, no index to lose
    return column if any(is_base_table(item) for item in sources.values()) else None


def _declared_columns(item: exp.Expression) -> set[str]:
    alias = item.args.get("alias")
    return {c.name for c in alias.columns} if isinstance(alias, exp.TableAlias) else set()


def _joins_other_table(side: exp.Expression, column: exp.Column, other: exp.Expression) -> bool:
    """``date(o.created_at) >= s.day``: a join key hidden by a function or cast (not arithmetic: ``a.x = b.y + 1``
    still lets a nested loop probe the index on a.x). Equalities of this shape are QR122's: see _joins_through_cast."""
    other = strip_parens(other)
    if not isinstance(other, exp.Column) or isinstance(strip_parens(side), _ARITHMETIC):
        return False
    return bool(column.table and other.table and column.table != other.table)


def _hit(
    stmt: Statement, comparison: exp.Expression, wrapped: exp.Expression, column: exp.Column, sources: _Sources
) -> Hit:
    joined = isinstance(comparison, _COMPARISONS) and all(
        isinstance(strip_parens(side), exp.Column) or strip_parens(side) is wrapped
        for side in (comparison.this, comparison.expression)
    )
    what = _describe(wrapped)
    name = render(column)
    fix = _fix(stmt, comparison, wrapped, column)
    return Hit(
        message=(
            f"Non-sargable predicate: `{render(comparison)}` applies {what} to column {name}, so an index "
            f"on {name} cannot be used and the expression is computed for every row"
        ),
        node=comparison,
        span=widened_span(stmt.text, comparison),
        help=_help(wrapped, column, sources, joined),
        fix=fix,
    )


def _describe(wrapped: exp.Expression) -> str:
    if isinstance(wrapped, exp.Cast):
        return f"a cast to {render(wrapped.to)}"
    if isinstance(wrapped, exp.DPipe):
        return "a concatenation"
    if isinstance(wrapped, _ARITHMETIC):
        return "arithmetic"
    if isinstance(wrapped, exp.AtTimeZone):
        return "AT TIME ZONE"
    text = render(wrapped)
    name = text.split("(", 1)[0].strip().lower()
    return f"{name}()" if name.replace("_", "").isalnum() else "an expression"


def _help(wrapped: exp.Expression, column: exp.Column, sources: _Sources, joined: bool) -> str:
    name = column.name
    if _day_column(wrapped) is not None:
        return f"Compare {name} itself against a half-open range: {name} >= X AND {name} < X + interval '1 day'"
    if isinstance(wrapped, (exp.Lower, exp.Upper)):
        table = _table_name(column, sources)
        function = "lower" if isinstance(wrapped, exp.Lower) else "upper"
        return (
            f"Create an expression index that matches the predicate exactly: "
            f"CREATE INDEX ON {table} ({function}({name})); or store the column as citext"
        )
    if isinstance(wrapped, exp.Coalesce):
        return f"Test the column directly ({name} = X OR {name} IS NULL), or make {name} NOT NULL with a default"
    if isinstance(wrapped, exp.Cast):
        if joined:
            return "Give both join columns the same type (or cast the other side, not this column) so its index applies"
        return f"Cast the value, not the column ({name} = $1::<type of {name}>), so the column's index applies"
    if isinstance(wrapped, (exp.Add, exp.Sub)):
        return f"Move the arithmetic to the other side so that {name} stands alone"
    return (
        f"Rewrite the condition on the bare column {name} (a range, or the inverse computation on the value "
        f"side); or, if the expression is immutable, index exactly it: ({render_rewrite(unqualified(wrapped))})"
    )


def _table_name(column: exp.Column, sources: _Sources) -> str:
    item = sources.get(column.table) if column.table else None
    if item is None and not column.table:
        tables = [i for i in sources.values() if is_base_table(i)]
        item = tables[0] if len(sources) == 1 and tables else None
    return table_name(item) if is_base_table(item) else "<table>"


# --- rewrites ---------------------------------------------------------------------------


def _fix(stmt: Statement, comparison: exp.Expression, wrapped: exp.Expression, column: exp.Column) -> Fix | None:
    replacement = _sargable(comparison, wrapped)
    if replacement is None:
        return None
    description, condition = replacement
    if isinstance(condition, (exp.And, exp.Or)) and isinstance(comparison.parent, (exp.Or, exp.Not, exp.And)):
        if isinstance(condition, exp.Or) or not isinstance(comparison.parent, exp.And):
            condition = exp.Paren(this=condition)
    root = stmt.ast
    return Fix.later(description, lambda: render_rewrite(replaced(root, comparison, condition)))


def _oriented(comparison: exp.Expression, wrapped: exp.Expression) -> tuple[type, list[exp.Expression]] | None:
    """(operator, bounds) with the wrapped side on the left: ``X = f(col)`` reads as ``f(col) = X``."""
    if isinstance(comparison, exp.Between):
        return exp.Between, [comparison.args["low"], comparison.args["high"]]
    if isinstance(comparison, exp.In):
        return None
    if strip_parens(comparison.this) is wrapped:
        return type(comparison), [comparison.expression]
    return _FLIPPED[type(comparison)], [comparison.this]


def _sargable(comparison: exp.Expression, wrapped: exp.Expression) -> _Rewrite | None:
    oriented = _oriented(comparison, wrapped)
    if oriented is None:
        return None
    operator, bounds = oriented
    day_column = _day_column(wrapped)
    if day_column is not None:
        return _day_range(operator, bounds, day_column)
    if isinstance(wrapped, exp.Extract):
        return _year_range(operator, bounds, wrapped)
    if isinstance(wrapped, (exp.Add, exp.Sub)):
        return _moved_arithmetic(operator, bounds, wrapped)
    if isinstance(wrapped, exp.Coalesce):
        return _coalesce_test(operator, bounds, wrapped)
    return None


def _day_column(wrapped: exp.Expression) -> exp.Column | None:
    """The column of ``date(col)``, ``col::date`` or ``date_trunc('day', col)``."""
    inner = None
    if isinstance(wrapped, exp.Date) and not wrapped.expressions and not wrapped.args.get("zone"):
        inner = wrapped.this
    elif isinstance(wrapped, exp.Cast) and wrapped.to.is_type(exp.DataType.Type.DATE):
        inner = wrapped.this
    elif isinstance(wrapped, (exp.TimestampTrunc, exp.DateTrunc)) and not wrapped.args.get("zone"):
        unit = wrapped.args.get("unit")
        if unit is not None and unit.name.lower() == "day":
            inner = wrapped.this
    inner = strip_parens(inner)
    return inner if isinstance(inner, exp.Column) else None


def _day_bound(value: exp.Expression) -> exp.Expression:
    """``X + interval '1 day'``, X cast to date where PostgreSQL cannot infer its type.

    ``'2024-01-01' + interval '1 day'`` and ``$1 + interval '1 day'`` read X as an interval.
    """
    value = strip_parens(value)
    if is_parameter(value) or (isinstance(value, exp.Literal) and value.is_string):
        value = exp.Cast(this=copy_tree(value), to=exp.DataType.build("date"))
    else:
        value = copy_tree(value)
    return exp.Add(this=value, expression=exp.Interval(this=exp.Literal.string(_ONE_DAY)))


def _day_range(operator: type, bounds: list[exp.Expression], column: exp.Column) -> _Rewrite | None:
    col = partial(copy_tree, column)
    if operator is exp.EQ:
        low = bounds[0]
        condition = exp.and_(
            exp.GTE(this=col(), expression=copy_tree(low)), exp.LT(this=col(), expression=_day_bound(low))
        )
    elif operator is exp.Between:
        low, high = bounds
        condition = exp.and_(
            exp.GTE(this=col(), expression=copy_tree(low)), exp.LT(this=col(), expression=_day_bound(high))
        )
    elif operator is exp.GTE:
        condition = exp.GTE(this=col(), expression=copy_tree(bounds[0]))
    elif operator is exp.LT:
        condition = exp.LT(this=col(), expression=copy_tree(bounds[0]))
    elif operator is exp.GT:
        condition = exp.GTE(this=col(), expression=_day_bound(bounds[0]))
    elif operator is exp.LTE:
        condition = exp.LT(this=col(), expression=_day_bound(bounds[0]))
    else:
        return None
    return (
        f"Compare {render(column)} against a half-open range of days instead of truncating it "
        "(same rows; the column's index now applies)",
        condition,
    )


def _year_range(operator: type, bounds: list[exp.Expression], wrapped: exp.Extract) -> _Rewrite | None:
    column = strip_parens(wrapped.expression)
    year = strip_parens(bounds[0])
    if (
        operator is not exp.EQ
        or not isinstance(column, exp.Column)
        or wrapped.this.name.lower() != "year"
        or not (isinstance(year, exp.Literal) and year.is_int)
    ):
        return None
    value = int(year.this)
    condition = exp.and_(
        exp.GTE(this=copy_tree(column), expression=exp.Literal.string(f"{value:04d}-01-01")),
        exp.LT(this=copy_tree(column), expression=exp.Literal.string(f"{value + 1:04d}-01-01")),
    )
    return f"Compare {render(column)} against the year's range instead of extracting the year", condition


def _moved_arithmetic(operator: type, bounds: list[exp.Expression], wrapped: exp.Expression) -> _Rewrite | None:
    left, right = strip_parens(wrapped.this), strip_parens(wrapped.expression)
    if isinstance(left, exp.Column) and _typed_constant(right):
        column, offset = left, right
        undo = exp.Sub if isinstance(wrapped, exp.Add) else exp.Add
    elif isinstance(wrapped, exp.Add) and isinstance(right, exp.Column) and _typed_constant(left):
        column, offset = right, left
        undo = exp.Sub
    else:
        return None
    numeric_offset = isinstance(offset, exp.Literal) and not offset.is_string
    if not numeric_offset and any(_untyped(b) for b in bounds):
        return None  # `$1 - interval '1 day'` would make $1 an interval
    moved = [undo(this=copy_tree(b), expression=copy_tree(offset)) for b in bounds]
    if operator is exp.Between:
        condition = exp.Between(this=copy_tree(column), low=moved[0], high=moved[1])
    else:
        condition = operator(this=copy_tree(column), expression=moved[0])
    description = f"Move the arithmetic to the constant side so that {render(column)} stands alone"
    if numeric_offset and any(is_parameter(b) for b in bounds):
        description += (
            f" (the parameter is now typed by `{render(moved[0])}`: cast it if {column.name} is not an integer)"
        )
    return description, condition


def _coalesce_test(operator: type, bounds: list[exp.Expression], wrapped: exp.Coalesce) -> _Rewrite | None:
    """``coalesce(c, v) = w`` is ``c = w OR c IS NULL`` when v = w, and ``c = w`` otherwise (literals only)."""
    column = strip_parens(wrapped.this)
    fallback = wrapped.expressions
    if operator is not exp.EQ or not isinstance(column, exp.Column) or len(fallback) != 1:
        return None
    default, value = strip_parens(fallback[0]), strip_parens(bounds[0])
    literals = (exp.Literal, exp.Boolean)
    if not isinstance(default, literals) or not isinstance(value, literals):
        return None
    condition: exp.Expression = exp.EQ(this=copy_tree(column), expression=copy_tree(value))
    if render(default) == render(value):
        condition = exp.or_(condition, exp.Is(this=copy_tree(column), expression=exp.Null()))
    return f"Test {render(column)} directly, with NULL handled explicitly (same rows)", condition


def _typed_constant(node: exp.Expression) -> bool:
    return isinstance(node, (exp.Literal, exp.Interval, exp.Cast)) and not columns(node) and not _untyped(node)


def _untyped(node: exp.Expression) -> bool:
    """A value whose type PostgreSQL infers from context: a bare parameter or a quoted literal."""
    node = strip_parens(node)
    return is_parameter(node) or (isinstance(node, exp.Literal) and node.is_string)
