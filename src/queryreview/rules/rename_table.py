"""QR510 rename-table: renaming (or moving) a table breaks the code that is running while the migration deploys."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import Ddl, Name, alter_of_existing_table
from queryreview.sql.resolve import quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    found = alter_of_existing_table(raw, script, introduced=True)
    if found is None:
        return  # created (or renamed into place) by this migration: no deployed code uses the name
    ddl, facts, position = found
    table = str(ddl.table)
    for action in ddl.actions_of("rename_table", "set_schema"):
        if _view_keeps_old_name(facts.ddls[position + 1 :], ddl.table):
            continue
        if action.kind == "rename_table":
            what = f"RENAME TO {quote_ident(action.name or '?')}"
        else:
            what = f"SET SCHEMA {quote_ident(action.name or '?')}"
        yield Hit(
            message=(
                f"ALTER TABLE {table} {what} breaks every running query and deployed application version that "
                f'still uses {table}: they fail with "relation {table} does not exist" from the moment this commits'
            ),
            span=action.span,
        )


def _view_keeps_old_name(later: list[Ddl | None], old: Name) -> bool:
    """CREATE VIEW old_name AS SELECT * FROM new_name later in the migration keeps old queries working."""
    return any(ddl is not None and ddl.kind == "create_view" and ddl.table is not None and ddl.table.matches(old)
               and not ddl.temporary for ddl in later)

