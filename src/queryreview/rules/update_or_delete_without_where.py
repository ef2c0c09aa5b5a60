"""QR108 update-or-delete-without-where: UPDATE/DELETE that touches every row of a table."""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.predicates import render, strip_parens, table_name


def check(stmt: Statement) -> Iterator[Hit]:
    for command in (*stmt.nodes(exp.Update), *stmt.nodes(exp.Delete)):
        target = command.this
        if not isinstance(target, exp.Table):
            continue
        where = command.args.get("where")
        if where is not None and not _always_true(where.this):
            continue
        table = table_name(target)
        clause = "no WHERE clause" if where is None else f"WHERE {render(where.this)}, which is always true"
        joined = command.args.get("from_") is not None or bool(command.args.get("using"))
        if isinstance(command, exp.Update):
            effect = (
                "rewrites every row (a new row version for each, every index updated, the whole table in WAL, "
                "all rows locked until commit)"
            )
            if joined:
                effect += "; the FROM list is joined without a condition, so each row gets an arbitrary match"
            verb = "UPDATE"
        else:
            effect = "deletes every row one by one (WAL for each, dead tuples for VACUUM, all rows locked until commit)"
            if joined:
                effect += "; the USING list adds no condition"
            verb = "DELETE FROM"
        yield Hit(message=f"{verb} {table} has {clause}: it {effect}", node=target)


def _always_true(condition: exp.Expression) -> bool:
    """``WHERE true`` or ``WHERE 1 = 1``: a WHERE clause in name only."""
    condition = strip_parens(condition)
    if isinstance(condition, exp.Boolean):
        return bool(condition.this)
    if isinstance(condition, exp.EQ):
        left, right = strip_parens(condition.this), strip_parens(condition.expression)
        return isinstance(left, exp.Literal) and isinstance(right, exp.Literal) and left == right
    return False
