"""QR102 leading-wildcard-like: ``col LIKE '%x'`` cannot use a btree index."""

from __future__ import annotations

import re
from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.predicates import columns, render, strip_parens

_WILDCARDS = ("%", "_")
_CONNECTIVES = (exp.And, exp.Or, exp.Paren, exp.Escape)
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
# Tokens sqlglot keeps no position for, so a node's span can start after them.
_OPENER = re.compile(r"(?:\b(?:cast|extract)\s*\(\s*(?:\w+\s+from\s+)?|\(\s*)$", re.IGNORECASE)


def check(stmt: Statement) -> Iterator[Hit]:
    for like in (*stmt.nodes(exp.Like), *stmt.nodes(exp.ILike)):
        if like.args.get("negate") or _negated(like):
            continue  # NOT LIKE belongs to negated-predicate-scan
        if not _filters_rows(like):
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
            span=_span(stmt.text, like),
            help=(
                f"Add a trigram index (CREATE EXTENSION IF NOT EXISTS pg_trgm; "
                f"{_trigram_index(like, subject)}), which serves {operator} '%…%' with 3+ literal "
                "characters; or anchor the pattern ('abc%'), or use full-text search for words"
            ),
        )


def _negated(like: exp.Expression) -> bool:
    parent = like.parent
    while isinstance(parent, (exp.Paren, exp.Escape)):
        parent = parent.parent
    return isinstance(parent, exp.Not)


def _filters_rows(node: exp.Expression) -> bool:
    """True when the LIKE is part of a WHERE or JOIN ... ON condition of a query."""
    child, parent = node, node.parent
    while isinstance(parent, _CONNECTIVES):
        child, parent = parent, parent.parent
    if isinstance(parent, exp.Where):
        return isinstance(parent.parent, (exp.Select, exp.Update, exp.Delete))
    return isinstance(parent, exp.Join) and child.arg_key == "on"


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
    indexed = subject.copy()
    for column in indexed.find_all(exp.Column):
        column.set("table", None)  # index expressions name bare columns
    return f"CREATE INDEX ON {_table_name(like, subject)} USING gin ({render(indexed)} gin_trgm_ops)"


def _table_name(like: exp.Expression, subject: exp.Expression) -> str:
    """The table the LIKE's column belongs to, when the query says so unambiguously."""
    query = like.parent
    while query is not None and not isinstance(query, (exp.Select, exp.Update, exp.Delete)):
        query = query.parent
    if query is None:
        return "<table>"
    sources = _sources(query)
    qualifiers = {column.table for column in columns(subject)}
    if len(qualifiers) != 1:
        return "<table>"
    qualifier = qualifiers.pop()
    if qualifier:
        table = sources.get(qualifier)
    else:
        tables = [t for t in sources.values() if t is not None]
        table = tables[0] if len(sources) == 1 and tables else None
    return table or "<table>"


def _sources(query: exp.Expression) -> dict[str, str | None]:
    """alias -> table name for base tables in this query's FROM (None for derived sources)."""
    items: list[exp.Expression] = []
    if isinstance(query, (exp.Update, exp.Delete)):
        items.append(query.this)
        items.extend(query.args.get("using") or ())
    from_ = query.args.get("from_")
    if from_ is not None:
        items.append(from_.this)
    items.extend(join.this for join in query.args.get("joins") or ())
    sources: dict[str, str | None] = {}
    for item in items:
        if item is None:
            continue
        name = item.alias_or_name
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
            table = item.copy()
            table.set("alias", None)
            sources[name] = render(table)
        else:
            sources[name] = None
    return sources


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
