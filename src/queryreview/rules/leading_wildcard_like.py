"""QR102 leading-wildcard-like: ``col LIKE '%x'`` cannot use a btree index."""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.positions import widened_span
from queryreview.sql.predicates import (
    columns,
    filter_owner,
    is_base_table,
    outer_parent,
    render,
    render_rewrite,
    sources,
    strip_parens,
    table_name,
)
from queryreview.sql.rewrite import unqualified

_WILDCARDS = ("%", "_")
_CONNECTIVES = (exp.And, exp.Or, exp.Paren, exp.Escape)


def check(stmt: Statement) -> Iterator[Hit]:
    for like in (*stmt.nodes(exp.Like), *stmt.nodes(exp.ILike)):
        if like.args.get("negate") or isinstance(outer_parent(like, (exp.Paren, exp.Escape)), exp.Not):
            continue  # NOT LIKE belongs to negated-predicate-scan
        if filter_owner(like, _CONNECTIVES) is None:
            continue  # a LIKE computed in a SELECT list or a partial-index predicate: no scan to speed up
        subject = like.this
        if subject is None or not columns(subject):
            continue  # `$1 LIKE col || '%'` and friends: nothing indexable on the left
        leading = _leading_text(like.expression)
        if leading is None or not leading.startswith(_WILDCARDS):
            continue
        if isinstance(like.expression, exp.Literal) and not leading.strip("%_"):
            continue  # LIKE '%' matches every non-NULL value: no index could help
        operator = "ILIKE" if isinstance(like, exp.ILike) else "LIKE"
        yield Hit(
            message=(
                f"Leading wildcard: `{render(like)}` starts its pattern with `{leading[0]}`, so a btree "
                f"index on {render(subject)} cannot narrow the search and every row is read and matched"
            ),
            node=like,
            span=widened_span(stmt.text, like),
            help=(
                f"Add a trigram index (CREATE EXTENSION IF NOT EXISTS pg_trgm; "
                f"{_trigram_index(like, subject)}), which serves {operator} '%…%' with 3+ literal "
                "characters; or anchor the pattern ('abc%'), or use full-text search for words"
            ),
        )


def _leading_text(pattern: exp.Expression | None) -> str | None:
    """The known start of a pattern: a literal, or the leftmost literal of a concatenation; None if unknown."""
    pattern = strip_parens(pattern)
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        return pattern.this
    if isinstance(pattern, exp.DPipe):
        return _leading_text(pattern.this)
    if isinstance(pattern, exp.Concat) and pattern.expressions:
        return _leading_text(pattern.expressions[0])
    if isinstance(pattern, exp.Cast):
        return _leading_text(pattern.this)
    return None


def _trigram_index(like: exp.Expression, subject: exp.Expression) -> str:
    indexed = unqualified(subject)  # a copy: rendered as it is
    return f"CREATE INDEX ON {_table_name(like, subject)} USING gin ({render_rewrite(indexed)} gin_trgm_ops)"


def _table_name(like: exp.Expression, subject: exp.Expression) -> str:
    """The table the LIKE's column belongs to, when the query says so unambiguously."""
    query = like.parent
    while query is not None and not isinstance(query, (exp.Select, exp.Update, exp.Delete)):
        query = query.parent
    if query is None:
        return "<table>"
    names = _table_names(query)
    qualifiers = {column.table for column in columns(subject)}
    if len(qualifiers) != 1:
        return "<table>"
    qualifier = qualifiers.pop()
    if qualifier:
        table = names.get(qualifier)
    else:
        tables = [t for t in names.values() if t is not None]
        table = tables[0] if len(names) == 1 and tables else None
    return table or "<table>"


def _table_names(query: exp.Expression) -> dict[str, str | None]:
    """alias -> table name for base tables in this query's FROM (None for derived sources)."""
    return {name: table_name(item) if is_base_table(item) else None for name, item in sources(query).items()}
