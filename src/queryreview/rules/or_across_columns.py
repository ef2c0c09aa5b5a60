"""QR104 or-across-columns: ``a = 1 OR b = 2`` cannot be served by one index."""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.positions import widened_span
from queryreview.sql.predicates import column_name, columns, disjuncts, filter_owner, outer_parent, render

_CONNECTIVES = (exp.And, exp.Paren)
_MAX_SHOWN = 60


def check(stmt: Statement) -> Iterator[Hit]:
    for disjunction in stmt.nodes(exp.Or):
        if isinstance(outer_parent(disjunction), exp.Or) or filter_owner(disjunction, _CONNECTIVES) is None:
            continue
        branches = [_branch_columns(branch) for branch in disjuncts(disjunction)]
        branches = [names for names in branches if names]  # `$1 IS NULL OR …`: a switch, not a filter
        if len(branches) < 2 or set.intersection(*branches):
            continue  # one column (or one shared column) serves every branch
        names = list(dict.fromkeys(name for names in branches for name in sorted(names)))
        tables = {name.rsplit(".", 1)[0] if "." in name else "" for name in names}
        if len(tables) > 1 and "" not in tables:
            why = (
                f"spans tables {', '.join(sorted(tables))}: neither side can be filtered by an index "
                "before the join, so rows are joined first and tested afterwards"
            )
        else:
            why = (
                "cannot be answered by one index scan; PostgreSQL must combine one index per column "
                "(BitmapOr) or read the whole table"
            )
        yield Hit(
            message=f"OR across different columns ({', '.join(names)}): `{_shorten(render(disjunction))}` {why}",
            node=disjunction,
            span=widened_span(stmt.text, disjunction),
        )


def _branch_columns(branch: exp.Expression) -> set[str]:
    return {name for column in columns(branch) if (name := column_name(column))}


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
