"""Small sqlglot helpers shared by rules: rendering, conjuncts, constants, columns.

Rules import these instead of re-walking trees by hand, so that every rule agrees on
what "a constant", "a filter" or "a column" is.
"""

from __future__ import annotations

from typing import Any, Iterator

from sqlglot import exp


def render(node: exp.Expression) -> str:
    """PostgreSQL text of a node (``$1`` placeholders stay ``$1``)."""
    return node.sql(dialect="postgres")


def strip_parens(node: Any) -> Any:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def conjuncts(condition: Any) -> list[exp.Expression]:
    """The AND-ed parts of a condition, parentheses removed: ``a AND (b AND c)`` -> [a, b, c]."""
    condition = strip_parens(condition)
    if condition is None:
        return []
    if isinstance(condition, exp.And):
        return conjuncts(condition.this) + conjuncts(condition.expression)
    return [condition]


def disjuncts(condition: Any) -> list[exp.Expression]:
    """The OR-ed parts of a condition: ``a OR (b OR c)`` -> [a, b, c]."""
    condition = strip_parens(condition)
    if condition is None:
        return []
    if isinstance(condition, exp.Or):
        return disjuncts(condition.this) + disjuncts(condition.expression)
    return [condition]


def is_parameter(node: Any) -> bool:
    """``$1``, ``:name`` or ``%(name)s`` style bind parameters."""
    return isinstance(strip_parens(node), (exp.Parameter, exp.Placeholder))


def is_constant(node: Any) -> bool:
    """A literal, NULL, parameter, or a cast/sign/array of those: a value known before the scan."""
    node = strip_parens(node)
    if isinstance(node, (exp.Literal, exp.Null, exp.Boolean, exp.Parameter, exp.Placeholder)):
        return True
    if isinstance(node, (exp.Cast, exp.Neg, exp.TryCast)):
        return is_constant(node.this)
    if isinstance(node, exp.Interval):
        return is_constant(node.this)
    if isinstance(node, (exp.Array, exp.Tuple)):
        return all(is_constant(item) for item in node.expressions)
    if isinstance(node, (exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentTime)):
        return True
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in ("now", "current_date"):
        return True
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.DPipe)):
        return is_constant(node.this) and is_constant(node.expression)
    return False


def columns(node: Any) -> list[exp.Column]:
    """Column references under a node (not descending into subqueries)."""
    found = []
    for descendant in node.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Select)) and n is not node):
        if isinstance(descendant, exp.Column) and not isinstance(descendant.this, exp.Star):
            found.append(descendant)
    return found


def column_name(node: Any) -> str | None:
    """``table.column`` or ``column`` for a bare column reference, else None."""
    node = strip_parens(node)
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
        return f"{node.table}.{node.name}" if node.table else node.name
    return None


def filters(select: exp.Select) -> Iterator[tuple[exp.Expression, str]]:
    """Each conjunct of WHERE and of every JOIN ... ON, with where it came from ("where" or "join")."""
    where = select.args.get("where")
    if where is not None:
        for part in conjuncts(where.this):
            yield part, "where"
    for join in select.args.get("joins") or ():
        on = join.args.get("on")
        if on is not None:
            for part in conjuncts(on):
                yield part, "join"


def tables(select: exp.Select) -> list[exp.Table]:
    """Tables in this SELECT's FROM and JOINs (not in subqueries)."""
    found = []
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None and isinstance(from_.this, exp.Table):
        found.append(from_.this)
    for join in select.args.get("joins") or ():
        if isinstance(join.this, exp.Table):
            found.append(join.this)
    return found


def enclosing_select(node: exp.Expression) -> exp.Select | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    return parent
