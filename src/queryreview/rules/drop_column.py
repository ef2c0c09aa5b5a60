"""QR511 drop-column: dropping a column breaks the code that still reads or writes it."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import alter_of_existing_table
from queryreview.sql.resolve import quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    found = alter_of_existing_table(raw, script, introduced=True)
    if found is None:
        return
    ddl, facts, position = found
    table = str(ddl.table)
    for action in ddl.actions_of("drop_column"):
        if not action.column or facts.column_added_before(ddl.table, action.column, position):
            continue  # a column this migration added: nothing uses it yet
        column = quote_ident(action.column)
        yield Hit(
            message=(
                f"DROP COLUMN {column} on {table} breaks every running query and deployed application version "
                f"that still reads or writes {column} (ORMs that list every column, or cached prepared "
                "statements with SELECT *, fail too), and the data cannot come back with a rollback"
            ),
            span=action.span,
        )

