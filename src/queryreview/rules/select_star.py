"""QR101 select-star: ``SELECT *`` reads and ships every column."""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.predicates import feeds_exists


def check(stmt: Statement) -> Iterator[Hit]:
    for select in stmt.nodes(exp.Select):
        stars = [star for projection in select.expressions if (star := _star(projection)) is not None]
        if not stars or feeds_exists(select):
            continue  # EXISTS (SELECT * …) reads no columns
        for star in stars:
            table = f"{star.table}." if isinstance(star, exp.Column) and star.table else ""
            yield Hit(
                message=(
                    f"SELECT {table}* fetches every column: it defeats index-only scans, "
                    "reads TOASTed columns and breaks when columns are added"
                ),
                node=star,
                help="List the columns the caller uses",
            )


def _star(projection: exp.Expression) -> exp.Expression | None:
    """``*`` or ``t.*`` in a select list."""
    if isinstance(projection, exp.Star):
        return projection
    if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
        return projection
    return None
