"""QR506 set-not-null-full-scan: SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import ACCESS_EXCLUSIVE, alter_of_existing_table, what_it_blocks
from queryreview.sql.resolve import NAMEDATALEN, quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    found = alter_of_existing_table(raw, script)
    if found is None:
        return
    ddl, facts, position = found
    table = str(ddl.table)
    for action in ddl.actions:
        if action.kind == "set_not_null":
            column, what = action.column, f"ALTER COLUMN {quote_ident(action.column)} SET NOT NULL"
        elif action.kind == "add_constraint" and action.constraint.kind == "not_null" and not action.constraint.not_valid:
            column, what = action.constraint.columns[0], f"ADD CONSTRAINT … NOT NULL {quote_ident(action.constraint.columns[0])}"
        else:
            continue
        if not column or facts.proves_not_null(ddl.table, column, position):
            continue  # a validated CHECK (col IS NOT NULL) earlier in the script: PostgreSQL 12+ skips the scan
        yield Hit(
            message=(
                f"{what} scans all of {table} for NULLs while holding an ACCESS EXCLUSIVE lock: it "
                f"{what_it_blocks(ACCESS_EXCLUSIVE, table)} for the whole scan"
            ),
            span=action.span,
            fix=_recipe(raw.text[ddl.table.start : ddl.table.end], ddl.table.name, column),
        )


def _recipe(table: str, table_name: str, column: str) -> Fix:
    name = quote_ident(_constraint_name(table_name, column))
    col = quote_ident(column)
    sql = "\n".join([
        f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({col} IS NOT NULL) NOT VALID;",
        f"ALTER TABLE {table} VALIDATE CONSTRAINT {name};",
        f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL;",
        f"ALTER TABLE {table} DROP CONSTRAINT {name}",
    ])
    return Fix("Prove NOT NULL with a validated CHECK constraint first (each statement in its own transaction)", sql)


def _constraint_name(table: str, column: str) -> str:
    name = f"{table}_{column}_not_null"
    while len(name.encode()) > NAMEDATALEN - 1:
        table = table[:-1]
        name = f"{table}_{column}_not_null"
    return name

