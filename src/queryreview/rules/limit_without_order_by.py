"""QR117 limit-without-order-by: LIMIT without ORDER BY returns arbitrary rows."""

from __future__ import annotations

import re
from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.predicates import render, strip_parens

_KEYWORD = re.compile(r"\b(?:limit|fetch)\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def check(stmt: Statement) -> Iterator[Hit]:
    if isinstance(stmt.ast, (exp.Update, exp.Delete)):
        return  # batching idiom: `DELETE … WHERE id IN (SELECT id … LIMIT 1000)` wants any rows
    for limit in [*stmt.nodes(exp.Limit), *stmt.nodes(exp.Fetch)]:
        query = limit.parent
        if limit.arg_key != "limit" or not isinstance(query, exp.Query) or query.args.get("order") is not None:
            continue
        count = _row_count(limit)
        if count is _NO_LIMIT or _exempt(query):
            continue
        shown = "FETCH FIRST" if isinstance(limit, exp.Fetch) else "LIMIT"
        amount = f" {render(count)}" if count is not None else ""
        yield Hit(
            message=(
                f"{shown}{amount} without ORDER BY returns whichever rows the plan produces first: "
                "the result changes with the plan, parallel workers and synchronized scans, "
                "and pages can overlap or skip rows"
            ),
            span=_keyword_span(stmt.text, query, limit),
            help="Add an ORDER BY that ends in a unique key (e.g. `ORDER BY created_at, id`)",
        )


_NO_LIMIT = object()


def _row_count(limit: exp.Expression) -> object:
    """The row count expression; _NO_LIMIT for LIMIT ALL, LIMIT NULL and LIMIT 0."""
    count = limit.args.get("count") if isinstance(limit, exp.Fetch) else limit.expression
    bare = strip_parens(count)
    if isinstance(bare, exp.Null) or (isinstance(bare, exp.Var) and bare.name.upper() == "ALL"):
        return _NO_LIMIT
    if isinstance(bare, exp.Literal) and not bare.is_string and bare.name == "0":
        return _NO_LIMIT
    return count


def _exempt(query: exp.Expression) -> bool:
    if _feeds_exists(query):
        return True  # EXISTS (SELECT … LIMIT 1): any row answers the question
    if query.args.get("locks"):
        return True  # queue claim: `… LIMIT 10 FOR UPDATE SKIP LOCKED` wants any free rows
    if isinstance(query, exp.Select):
        return _single_row_aggregate(query) or _reads_ordered_subquery(query)
    return False


def _feeds_exists(query: exp.Expression) -> bool:
    parent = query.parent
    while isinstance(parent, (exp.Subquery, exp.Paren)):
        parent = parent.parent
    return isinstance(parent, exp.Exists)


def _single_row_aggregate(select: exp.Select) -> bool:
    """``SELECT count(*) … LIMIT 10`` without GROUP BY returns one row whatever the order."""
    if select.args.get("group") is not None:
        return False
    for projection in select.expressions:
        for node in projection.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Window))):
            if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Window):
                return True
    return False


def _reads_ordered_subquery(select: exp.Select) -> bool:
    """``SELECT … FROM (SELECT … ORDER BY x) s LIMIT 10``: a plain subquery scan keeps the order."""
    from_ = select.args.get("from_")
    source = from_.this if from_ is not None else None
    if not isinstance(source, exp.Subquery) or select.args.get("joins"):
        return False
    if select.args.get("group") is not None or select.args.get("distinct") is not None:
        return False
    return source.this.args.get("order") is not None


def _keyword_span(text: str, query: exp.Expression, limit: exp.Expression) -> tuple[int, int] | None:
    """The LIMIT / FETCH keyword, found in the text before the row count (or after the query body)."""
    count_span = node_span(limit)
    if count_span is not None:
        window_start = max(0, count_span[0] - 200)
        window = _COMMENT.sub(lambda m: " " * len(m.group()), text[window_start : count_span[0]])
        matches = list(_KEYWORD.finditer(window))
        if matches:
            return window_start + matches[-1].start(), count_span[1]
    body = node_span(query)
    if body is None:
        return None
    search_from = body[1]
    window = _COMMENT.sub(lambda m: " " * len(m.group()), text[search_from:])
    match = _KEYWORD.search(window)
    if match is None:
        return body
    return search_from + match.start(), search_from + match.end()
