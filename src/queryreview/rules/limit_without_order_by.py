"""QR117 limit-without-order-by: LIMIT without ORDER BY returns arbitrary rows."""

from __future__ import annotations

import re
from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.positions import keyword_span, node_span
from queryreview.sql.predicates import aggregates_rows, feeds_exists, render, strip_parens

_KEYWORD = re.compile(r"\b(?:limit|fetch)\b", re.IGNORECASE)


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
            span=_limit_span(stmt.text, query, limit),
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
    if feeds_exists(query):
        return True  # EXISTS (SELECT … LIMIT 1): any row answers the question
    if query.args.get("locks"):
        return True  # queue claim: `… LIMIT 10 FOR UPDATE SKIP LOCKED` wants any free rows
    if isinstance(query, exp.Select):
        return _single_row_aggregate(query) or _reads_ordered_subquery(query)
    return False


def _single_row_aggregate(select: exp.Select) -> bool:
    """``SELECT count(*) … LIMIT 10`` without GROUP BY returns one row whatever the order."""
    return select.args.get("group") is None and aggregates_rows(select)


def _reads_ordered_subquery(select: exp.Select) -> bool:
    """``SELECT … FROM (SELECT … ORDER BY x) s LIMIT 10``: a plain subquery scan keeps the order."""
    from_ = select.args.get("from_")
    source = from_.this if from_ is not None else None
    if not isinstance(source, exp.Subquery) or select.args.get("joins"):
        return False
    if select.args.get("group") is not None or select.args.get("distinct") is not None:
        return False
    return source.this.args.get("order") is not None


def _limit_span(text: str, query: exp.Expression, limit: exp.Expression) -> tuple[int, int] | None:
    """The LIMIT / FETCH keyword, found in the text before the row count (or after the query body)."""
    count_span = node_span(limit)
    if count_span is not None:
        keyword = keyword_span(text, _KEYWORD, max(0, count_span[0] - 200), count_span[0], last=True)
        if keyword is not None:
            return keyword[0], count_span[1]
    body = node_span(query)
    if body is None:
        return None
    return keyword_span(text, _KEYWORD, body[1], len(text)) or body
