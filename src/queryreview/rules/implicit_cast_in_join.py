"""QR122 implicit-cast-in-join: a join compares a bare column with a cast or function of another table's column."""

from __future__ import annotations

from typing import Any, Iterator

from sqlglot import exp
from sqlglot.tokens import TokenType

from queryreview.model import Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.predicates import conjuncts, render, strip_parens, wrapped_join_key
from queryreview.sql.tokens import tokens as statement_tokens

# Only equalities are checked (wrapped_join_key): range joins on expressions are common on
# purpose (date buckets) and rarely indexable anyway.


def check(stmt: Statement) -> Iterator[Hit]:
    if not _compares_with_function(stmt):
        return  # the common case, decided from the node index without collecting any join condition
    for query in stmt.nodes(exp.Select, exp.Update, exp.Delete):
        parts = list(_join_conditions(query))
        found = [(part, mismatch) for part in parts if (mismatch := wrapped_join_key(part)) is not None]
        if not found:
            continue
        linked = _linked_pairs(parts)
        for _part, (bare, wrapped, inner) in found:
            if frozenset((bare.table, inner.table)) in linked:
                continue  # a plain key equality joins these tables already: this is only a residual filter
            yield Hit(
                message=(
                    f"Join compares column `{render(bare)}` with `{render(wrapped)}`: an index on "
                    f"`{render(inner)}` cannot serve it and the expression has no statistics, so PostgreSQL "
                    "computes it for every row and falls back to a hash join or nested loop over the whole table"
                ),
                node=wrapped,
                span=_operand_span(stmt, bare, wrapped),
            )


def _compares_with_function(stmt: Statement) -> bool:
    """Whether any equality has a cast or function on one side: wrapped_join_key finds nothing otherwise."""
    for kind in (exp.EQ, exp.NullSafeEQ):
        for comparison in stmt.nodes(kind):
            if isinstance(strip_parens(comparison.this), exp.Func):
                return True
            if isinstance(strip_parens(comparison.expression), exp.Func):
                return True
    return False


def _linked_pairs(parts: list[exp.Expression]) -> set[frozenset[str]]:
    """Pairs of tables already joined by a bare ``a.x = b.y``."""
    pairs = set()
    for part in parts:
        part = strip_parens(part)
        if isinstance(part, exp.EQ):
            left, right = strip_parens(part.this), strip_parens(part.expression)
            if isinstance(left, exp.Column) and isinstance(right, exp.Column) and left.table and right.table:
                pairs.add(frozenset((left.table, right.table)))
    return pairs


def _join_conditions(query: exp.Expression) -> Iterator[exp.Expression]:
    """Conjuncts of each JOIN ... ON, then the WHERE conjuncts (which only count when they link two tables)."""
    for join in query.args.get("joins") or ():
        yield from conjuncts(join.args.get("on"))
    where = query.args.get("where")
    if where is not None:
        yield from conjuncts(where.this)


def _operand_span(stmt: Statement, bare: exp.Column, wrapped: exp.Expression) -> tuple[int, int] | None:
    """The wrapped side as written, ``(e.payload->>'id')::int`` included: sqlglot positions only its column."""
    bare_span, wrapped_span = node_span(bare), node_span(wrapped)
    if bare_span is None or wrapped_span is None:
        return None
    tokens = statement_tokens(stmt)
    equals = [i for i, t in enumerate(tokens) if t.token_type == TokenType.EQ]
    if wrapped_span[0] > bare_span[0]:  # bare = wrapped: the operand starts right after `=`
        after = [i for i in equals if tokens[i].start >= bare_span[1]]
        if not after or after[0] + 1 >= len(tokens):
            return None
        first = after[0] + 1
        last = max(i for i, t in enumerate(tokens) if t.start < wrapped_span[1])
        last = _close(tokens, first, last, TokenType)
        return tokens[first].start, tokens[last].end + 1
    before = [i for i in equals if tokens[i].end < bare_span[0]]  # wrapped = bare: it ends right before `=`
    if not before or before[-1] == 0:
        return None
    last = before[-1] - 1
    first = min(i for i, t in enumerate(tokens) if t.start >= wrapped_span[0])
    balance = _balance(tokens[first : last + 1], TokenType)
    while balance < 0 and first > 0 and tokens[first - 1].token_type == TokenType.L_PAREN:
        first, balance = first - 1, balance + 1
    if first > 0 and tokens[first].token_type == TokenType.L_PAREN and tokens[first - 1].text.upper() in ("CAST", "TRY_CAST"):
        first -= 1
    return tokens[first].start, tokens[last].end + 1


def _balance(tokens: list[Any], token_type: Any) -> int:
    opened = sum(1 for t in tokens if t.token_type in (token_type.L_PAREN, token_type.L_BRACKET))
    closed = sum(1 for t in tokens if t.token_type in (token_type.R_PAREN, token_type.R_BRACKET))
    return opened - closed


def _close(tokens: list[Any], first: int, last: int, token_type: Any) -> int:
    """Extend ``last`` over what the operand still owns: open parentheses, ``::type``, ``->> 'key'``."""
    arrows = {token_type.ARROW, token_type.DARROW, token_type.HASH_ARROW, token_type.DHASH_ARROW}
    openers = (token_type.L_PAREN, token_type.L_BRACKET)
    while True:
        balance = _balance(tokens[first : last + 1], token_type)
        while balance > 0 and last + 1 < len(tokens):
            last += 1
            kind = tokens[last].token_type
            balance += 1 if kind in openers else -1 if kind in (token_type.R_PAREN, token_type.R_BRACKET) else 0
        following = tokens[last + 1].token_type if last + 1 < len(tokens) else None
        if following == token_type.DCOLON and last + 2 < len(tokens):
            last += 2  # `::` and the type name; a following (n) or [] is taken by the balance loop
            if last + 1 < len(tokens) and tokens[last + 1].token_type in openers:
                last += 1
        elif following in arrows and last + 2 < len(tokens):
            last += 2
        else:
            return last
