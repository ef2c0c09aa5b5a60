"""Small sqlglot helpers shared by rules: rendering, conjuncts, constants, columns, FROM items.

Rules import these instead of re-walking trees by hand, so that every rule agrees on
what "a constant", "a filter", "a column" or "a base table" is.
"""

from __future__ import annotations

import threading
from copy import deepcopy
from typing import Any, Iterator

from sqlglot import exp
from sqlglot.expressions.core import Expr
from sqlglot.helper import name_sequence

_QUERIES = (exp.Select, exp.Update, exp.Delete)
# Functions that do not hide a column from an index: aggregates, windows, and ANY/ALL/subquery predicates.
_NOT_KEY_WRAPPERS = (exp.AggFunc, exp.Window, exp.SubqueryPredicate)
_PER_THREAD = threading.local()  # a sqlglot Generator holds per-generation state


def render(node: exp.Expression) -> str:
    """PostgreSQL text of a node (``$1`` placeholders stay ``$1``): ``node.sql(dialect="postgres")``, faster.

    sqlglot's sql() builds a dialect and a generator per call and deep-copies the node
    (the generator may transform what it renders); here the generator is built once per
    thread and the copy is ``copy_tree``'s.
    """
    created: list[Any] = []
    sql = render_rewrite(_copy(node, created))
    for copied in created:  # the copy is garbage now: unlinked, reference counting frees it (no cyclic GC)
        copied.parent = None
    return sql


def render_rewrite(tree: exp.Expression) -> str:
    """``render`` of a tree made for the output (a rewritten copy that nothing reads afterwards): without
    the defensive copy, which for a whole statement costs as much as generating its SQL."""
    generator = getattr(_PER_THREAD, "generator", None)
    if generator is None:
        from sqlglot.dialects.dialect import Dialect

        generator = _PER_THREAD.generator = Dialect.get_or_raise("postgres").generator()
    generator._next_name = name_sequence("_t")  # names for anonymous aliases start afresh, as with a new generator
    return generator.generate(tree, copy=False)


def copy_tree(node: exp.Expression) -> exp.Expression:
    """A deep copy of ``node``: the same tree as ``node.copy()``, in about half the time.

    sqlglot's copy runs every node's position dict and comment list through ``copy.deepcopy``;
    they hold only numbers and strings, so plain copies of them are as good.
    """
    return _copy(node, None)


def _copy(node: exp.Expression, created: list[Any] | None) -> exp.Expression:
    """copy_tree, listing the nodes it makes in ``created`` (when given)."""
    root = node.__class__()
    pending = [(node, root)]
    pop, push = pending.pop, pending.append
    while pending:
        source, target = pop()
        if created is not None:
            created.append(target)
        if source.comments is not None:
            target.comments = list(source.comments)
        if source._type is not None:
            target._type = deepcopy(source._type)
        if source._meta is not None:
            target._meta = dict(source._meta)
        if source._hash is not None:
            target._hash = source._hash
        args = target.args
        for key, value in source.args.items():
            if isinstance(value, Expr):
                child = value.__class__()
                child.parent, child.arg_key = target, key
                push((value, child))
                args[key] = child
            elif type(value) is list:
                items: list[Any] = []
                for item in value:
                    if isinstance(item, Expr):
                        child = item.__class__()
                        child.parent, child.arg_key, child.index = target, key, len(items)
                        push((item, child))
                    else:
                        child = item
                    items.append(child)
                args[key] = items
            else:
                args[key] = value
    return root


def strip_parens(node: Any) -> Any:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def conjuncts(condition: Any) -> list[exp.Expression]:
    """The AND-ed parts of a condition, parentheses removed: ``a AND (b AND c)`` -> [a, b, c]."""
    return _flattened(condition, exp.And)


def disjuncts(condition: Any) -> list[exp.Expression]:
    """The OR-ed parts of a condition: ``a OR (b OR c)`` -> [a, b, c]."""
    return _flattened(condition, exp.Or)


def _flattened(condition: Any, connective: type) -> list[exp.Expression]:
    parts = []
    pending = [condition]
    while pending:
        node = strip_parens(pending.pop())
        if isinstance(node, connective):
            pending.append(node.expression)
            pending.append(node.this)  # popped first: parts stay in written order
        elif node is not None:
            parts.append(node)
    return parts


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


def unalias(node: Any) -> Any:
    """The expression behind ``expr AS name``."""
    return node.this if isinstance(node, exp.Alias) else node


def from_items(query: exp.Expression) -> list[exp.Expression]:
    """What a SELECT/UPDATE/DELETE reads, in written order: the UPDATE/DELETE target and USING list,
    the FROM item, then each JOIN's item (tables, subqueries, functions; not descending into them)."""
    items: list[exp.Expression] = []
    if isinstance(query, (exp.Update, exp.Delete)):
        items.append(query.this)
        items.extend(query.args.get("using") or ())
    from_ = query.args.get("from_") or query.args.get("from")
    if from_ is not None:
        items.append(from_.this)
    items.extend(join.this for join in query.args.get("joins") or ())
    # sqlglot reads `DELETE ROM t …` as a multi-table DELETE whose target is False: keep only nodes
    return [item for item in items if isinstance(item, exp.Expression)]


def sources(query: exp.Expression) -> dict[str, exp.Expression]:
    """alias (else table name) -> FROM item, for this query level: see ``from_items``."""
    return {item.alias_or_name: item for item in from_items(query)}


def is_base_table(item: Any) -> bool:
    """A FROM item naming a table (or view), not a set-returning function like ``generate_series(…)``."""
    return isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier)


def table_name(table: exp.Table) -> str:
    """The table as written, without its alias: ``public.orders`` for ``public.orders AS o``."""
    bare = copy_tree(table)
    bare.set("alias", None)
    return render_rewrite(bare)


def parameter_number(parameter: Any) -> int | None:
    """n of a ``$n`` parameter; None for other placeholders."""
    number = parameter.this.name if isinstance(parameter.this, exp.Literal) else ""
    return int(number) if number.isdigit() else None


def outer_parent(node: exp.Expression, transparent: tuple[type, ...] = (exp.Paren,)) -> Any:
    """The nearest ancestor that is not one of ``transparent``: ``NOT ((x LIKE y))`` -> the NOT, for x LIKE y."""
    parent = node.parent
    while isinstance(parent, transparent):
        parent = parent.parent
    return parent


def filter_owner(node: exp.Expression, connectives: tuple[type, ...]) -> Any:
    """What ``node`` filters when it is (a part, through ``connectives``, of) a WHERE or JOIN … ON condition:
    the SELECT/UPDATE/DELETE owning the WHERE, or the node holding the JOIN (a SELECT, or the first
    FROM item in ``UPDATE … FROM a JOIN b ON …``); else None.

    ``connectives`` says which parents keep it a row filter: (exp.And, exp.Paren) for a
    conjunct, adding exp.Or or exp.Not for any part of the condition.
    """
    child, parent = node, node.parent
    while isinstance(parent, connectives):
        child, parent = parent, parent.parent
    if isinstance(parent, exp.Where):
        return parent.parent if isinstance(parent.parent, _QUERIES) else None
    if isinstance(parent, exp.Join) and child.arg_key == "on":
        return parent.parent
    return None


def feeds_exists(query: exp.Expression) -> bool:
    """``EXISTS (SELECT …)``: the query's rows are never read, only whether there is one."""
    return isinstance(outer_parent(query, (exp.Subquery, exp.Paren)), exp.Exists)


def aggregates_rows(select: exp.Select) -> bool:
    """The select list has an aggregate of this level (not a window's, not a subquery's)."""
    for projection in select.expressions:
        for node in projection.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Window))):
            if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Window):
                return True
    return False


def wrapped_join_key(comparison: Any) -> tuple[exp.Column, exp.Expression, exp.Column] | None:
    """(bare column, cast/function side, the column it wraps) for an equality that joins two tables
    through a cast or function on one side: ``a.id = b.ref::int``, ``upper(b.code) = a.code``.

    Both columns must be qualified and name different tables; the wrapped side must hold
    columns of one table only. ``lower(a.x) = lower(b.x)`` (same shape both sides) is not one.
    """
    comparison = strip_parens(comparison)
    if not isinstance(comparison, (exp.EQ, exp.NullSafeEQ)):
        return None
    left, right = strip_parens(comparison.this), strip_parens(comparison.expression)
    for bare, wrapped in ((left, right), (right, left)):
        if not isinstance(bare, exp.Column) or not bare.table:
            continue
        inner = _wrapped_column(wrapped)
        if inner is not None and inner.table and inner.table != bare.table:
            return bare, wrapped, inner
    return None


def _wrapped_column(node: Any) -> exp.Column | None:
    """The column under a cast or function, when all its columns belong to one table: ``b.ref::int``, ``upper(b.code)``."""
    if not isinstance(node, exp.Func) or isinstance(node, _NOT_KEY_WRAPPERS) or node.find(exp.Select):
        return None
    found = columns(node)
    if not found or len({column.table for column in found}) != 1:
        return None
    return found[0]
