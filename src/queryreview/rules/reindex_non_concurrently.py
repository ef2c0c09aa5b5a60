"""QR521 reindex-non-concurrently: REINDEX without CONCURRENTLY stalls queries on the table."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import classify, context


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "reindex" or ddl.concurrently or not ddl.target:
        return
    facts, position = context(raw, script)
    if ddl.table is not None and facts.created_before(ddl.table, position):
        return
    if ddl.target == "INDEX":
        where = f"the table of {ddl.index}" if ddl.index else "the index's table"
    elif ddl.target == "TABLE":
        where = str(ddl.table)
    else:
        where = f"every table of the {ddl.target.lower()}"
    fix = None
    if ddl.target != "SYSTEM":  # REINDEX SYSTEM cannot run concurrently
        fixed = raw.text[: ddl.span[1]] + " CONCURRENTLY" + raw.text[ddl.span[1] :]
        fix = Fix("Rebuild concurrently (PostgreSQL 12+, outside any transaction block)", fixed)
    yield Hit(
        message=(
            f"REINDEX {ddl.target} without CONCURRENTLY holds a SHARE lock on {where}, which blocks writes, and an "
            "ACCESS EXCLUSIVE lock on each index it rebuilds; the planner locks every index of a table it plans "
            "for, so nearly every query on the table waits until the rebuild ends"
        ),
        span=ddl.span,
        fix=fix,
    )
