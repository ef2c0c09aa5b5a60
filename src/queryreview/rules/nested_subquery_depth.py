"""QR119 nested-subquery-depth: subqueries nested deeper than ``max_depth`` levels."""

from __future__ import annotations

from typing import Any, Iterator

from sqlglot import exp
from sqlglot.tokens import TokenType

from queryreview.model import Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.tokens import tokens

DEFAULT_MAX_DEPTH = 3


def check(stmt: Statement, settings: dict[str, Any]) -> Iterator[Hit]:
    max_depth = int(settings.get("max_depth") or DEFAULT_MAX_DEPTH)
    if stmt.nesting_depth <= max_depth:
        return  # each subquery level opens a parenthesis: too few of them to be too deep
    levels = [(select, *_depth(select)) for select in stmt.nodes(exp.Select)]
    too_deep = [(select, depth, marker) for select, depth, marker in levels if depth > max_depth]
    if not too_deep:
        return
    select, depth, marker = too_deep[0]  # once per statement, at the first level past the limit
    deepest = max(level for _, level, _ in too_deep)
    more = f", {deepest} at the deepest" if deepest > depth else ""
    yield Hit(
        message=(
            f"Subquery nested {depth} levels deep (limit {max_depth}{more}): PostgreSQL stops pulling such "
            "subqueries up into joins (from_collapse_limit, EXISTS/IN under OR or aggregates), so each level "
            "is planned on its own, often as a per-row SubPlan, and the query is hard to read and tune"
        ),
        node=marker,
        span=_parenthesised(stmt, select),
    )


def _depth(select: exp.Select) -> tuple[int, exp.Expression]:
    """How many subquery levels enclose ``select`` (CTE bodies add none), and its own subquery node."""
    depth = 0
    marker: exp.Expression = select
    child: exp.Expression = select
    parent = select.parent
    while parent is not None:
        if _opens_level(parent, child):
            if depth == 0:
                marker = parent
            depth += 1
        child, parent = parent, parent.parent
    return depth, marker


def _opens_level(node: exp.Expression, child: exp.Expression) -> bool:
    if isinstance(node, exp.Subquery):
        # parentheses around a UNION branch, around a whole statement, or doubled, are not a level
        return node.parent is not None and not isinstance(node.parent, (exp.SetOperation, exp.Subquery, exp.Paren))
    # EXISTS (SELECT …), ARRAY(SELECT …) and ANY/ALL (SELECT …) may hold the SELECT without a Subquery node
    holders = (exp.Exists, exp.Array, exp.SubqueryPredicate)
    return isinstance(node, holders) and isinstance(child, (exp.Select, exp.SetOperation))


def _parenthesised(stmt: Statement, select: exp.Select) -> tuple[int, int] | None:
    """From the ``(`` that opens the subquery to the ``)`` that closes it."""
    span = node_span(select)
    if span is None:
        return None
    found = tokens(stmt)
    keyword = max((i for i, t in enumerate(found) if t.token_type == TokenType.SELECT and t.start <= span[0]),
                  default=None)
    if keyword is None:
        return None
    opener = keyword - 1
    if opener < 0 or found[opener].token_type != TokenType.L_PAREN:
        return found[keyword].start, span[1]
    depth = 0
    for token in found[opener:]:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return found[opener].start, token.end + 1
    return found[opener].start, span[1]
