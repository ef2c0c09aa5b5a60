"""QR105 not-in-subquery: ``x NOT IN (SELECT …)`` is a NULL trap and cannot become an anti-join."""

from __future__ import annotations

import re
from typing import Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.predicates import columns, render, strip_parens

_QUERIES = (exp.Select, exp.Update, exp.Delete)
# Subquery clauses a plain correlation cannot carry over
_CHANGES_ROWS = ("group", "having", "limit", "offset", "fetch", "qualify", "windows", "with_")
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
# Tokens sqlglot keeps no position for, so a node's span can start after them.
_NOT_OPEN = re.compile(r"\bnot\s*\(\s*$", re.IGNORECASE)
_OPENER = re.compile(r"(?:\b(?:cast|extract)\s*\(\s*(?:\w+\s+from\s+)?|\(\s*)$", re.IGNORECASE)
_FIX_DESCRIPTION = (
    "Rewrite as NOT EXISTS, which PostgreSQL plans as an anti-join. Semantics differ on NULLs: "
    "NOT IN returns no rows at all when the subquery yields a NULL, and drops rows whose {operand} is NULL; "
    "NOT EXISTS keeps both (which is usually what was meant)"
)


def check(stmt: Statement) -> Iterator[Hit]:
    for negation in stmt.nodes(exp.Not):
        membership = strip_parens(negation.this)
        if not isinstance(membership, exp.In):
            continue
        subquery = membership.args.get("query")
        if subquery is None:
            continue  # NOT IN (1, 2, 3): a list of constants is fine
        operand = render(membership.this)
        yield Hit(
            message=(
                f"`{operand} NOT IN (SELECT …)` returns no rows at all if the subquery yields a single NULL, "
                "and PostgreSQL cannot plan it as an anti-join: it hashes the subquery result when it fits "
                "in work_mem, and otherwise re-scans the subquery for every outer row"
            ),
            node=negation,
            span=_negation_span(stmt.text, negation),
            fix=_fix(stmt, negation, membership, subquery, operand),
        )


def _fix(stmt: Statement, negation: exp.Not, membership: exp.In, subquery: exp.Expression, operand: str) -> Fix:
    description = _FIX_DESCRIPTION.format(operand=operand)
    rewritten = _not_exists(negation, membership, subquery)
    if rewritten is None:
        return Fix(description=description + ": NOT EXISTS (SELECT 1 FROM … WHERE … AND sub.col = outer.col)")
    return Fix(description=description, sql=render(_replaced(stmt.ast, negation, rewritten)))


def _not_exists(negation: exp.Not, membership: exp.In, subquery: exp.Expression) -> exp.Expression | None:
    """``NOT EXISTS (SELECT 1 FROM … WHERE <its condition> AND <its column> = <outer operand>)``, for simple cases."""
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
    correlated = select.copy()
    correlated.set("distinct", None)
    correlated.set("order", None)
    correlated.set("expressions", [exp.Literal.number(1)])
    match = exp.EQ(this=projected.copy(), expression=outer)
    where = correlated.args.get("where")
    correlated.set("where", exp.Where(this=exp.and_(where.this, match) if where is not None else match))
    return exp.Not(this=exp.Exists(this=correlated))


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
    items: list[exp.Expression] = []
    if isinstance(query, (exp.Update, exp.Delete)):
        items.append(query.this)
        items.extend(query.args.get("using") or ())
    from_ = query.args.get("from_")
    if from_ is not None:
        items.append(from_.this)
    items.extend(join.this for join in query.args.get("joins") or ())
    return {item.alias_or_name for item in items if item is not None and item.alias_or_name}


def _replaced(root: exp.Expression, target: exp.Expression, replacement: exp.Expression) -> exp.Expression:
    """A copy of ``root`` with ``target`` (a node of ``root``) replaced."""
    path = []
    node = target
    while node is not root:
        path.append((node.arg_key, node.index))
        node = node.parent
    if not path:
        return replacement
    copy = root.copy()
    node = copy
    for key, index in reversed(path):
        child = node.args[key]
        node = child[index] if index is not None else child
    node.replace(replacement)
    return copy


def _negation_span(text: str, negation: exp.Not) -> tuple[int, int] | None:
    """``x NOT IN (…)`` from x; ``NOT (x IN (…))`` from NOT (its keyword and parentheses have no position)."""
    span = _span(text, negation)
    if span is None or not isinstance(negation.this, exp.Paren):
        return span
    start, end = span
    keyword = _NOT_OPEN.search(text, 0, start)
    return (keyword.start(), _matching_close(text, end, 1)) if keyword else span


def _span(text: str, node: exp.Expression) -> tuple[int, int] | None:
    """node_span widened over the tokens sqlglot gives no position: `$`, `(`, `)`, `CAST(`, `EXTRACT(x FROM`."""
    span = node_span(node)
    if span is None:
        return None
    start, end = span
    if start > 0 and text[start - 1] == "$":
        start -= 1
    inside = _QUOTED.sub("", text[start:end])
    opened = inside.count("(") - inside.count(")")
    while opened < 0 and (opener := _OPENER.search(text, 0, start)) is not None:
        start, opened = opener.start(), opened + 1
    if opened > 0:
        end = _matching_close(text, end, opened)
    return start, end


def _matching_close(text: str, end: int, depth: int) -> int:
    """Offset just past the parenthesis that closes ``depth`` open ones, scanning from ``end``."""
    index = end
    while index < len(text) and depth > 0:
        char = text[index]
        if char == "'":
            index = text.find("'", index + 1)
            if index == -1:
                return end
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        index += 1
    return index if depth == 0 else end
