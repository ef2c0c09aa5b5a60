"""QR509 rename-column: renaming a column breaks the code that is running while the migration deploys."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import alter_of_existing_table
from queryreview.sql.resolve import quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    found = alter_of_existing_table(raw, script, introduced=True)
    if found is None:
        return  # a table this migration created (or renamed into place): no deployed code uses it yet
    ddl, facts, position = found
    table = str(ddl.table)
    for action in ddl.actions_of("rename_column"):
        if facts.column_added_before(ddl.table, action.column, position):
            continue
        old, new = quote_ident(action.column), quote_ident(action.name or "?")
        yield Hit(
            message=(
                f"RENAME COLUMN {old} TO {new} on {table} breaks every running query and deployed application "
                f'version that still uses {old}: they fail with "column {old} does not exist" from the moment '
                "this commits until the new code is everywhere"
            ),
            span=action.span,
        )

