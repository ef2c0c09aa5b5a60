"""QR505 alter-column-type-rewrite: ALTER COLUMN … TYPE that rewrites the table and rebuilds its indexes."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import ACCESS_EXCLUSIVE, alter_of_existing_table, new_type_always_rewrites, using_changes_value
from queryreview.sql.ddl import what_it_blocks
from queryreview.sql.resolve import quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    found = alter_of_existing_table(raw, script)
    if found is None:
        return
    ddl, facts, position = found
    table = str(ddl.table)
    for action in ddl.actions_of("alter_type"):
        computed = using_changes_value(action)
        if not computed and not new_type_always_rewrites(action.new_type or ""):
            continue  # varchar(n) -> text and friends may keep the table: only a catalog can tell (QR519)
        why = "its USING expression computes a new value for every row" if computed else (
            f"no other type becomes {action.new_type} without converting every value")
        yield Hit(
            message=(
                f"ALTER COLUMN {quote_ident(action.column)} TYPE {action.new_type} rewrites all of {table} and "
                f"rebuilds its indexes ({why}), under an ACCESS EXCLUSIVE lock that "
                f"{what_it_blocks(ACCESS_EXCLUSIVE, table)} until it ends"
            ),
            span=action.span,
        )

