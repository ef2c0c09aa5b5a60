"""QR504 add-column-volatile-default: ADD COLUMN that must compute a value per row rewrites the table."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import (
    ACCESS_EXCLUSIVE,
    Action,
    Ddl,
    add_column_rewrite,
    alter_of_existing_table,
    what_it_blocks,
)
from queryreview.sql.resolve import quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    found = alter_of_existing_table(raw, script)
    if found is None:
        return  # rewriting a table created earlier in this migration costs nothing
    ddl, facts, position = found
    table = str(ddl.table)
    for action in ddl.actions_of("add_column"):
        column = action.column_def
        found = add_column_rewrite(column)
        if found is None:
            continue
        reason, span = found
        yield Hit(
            message=(
                f"ADD COLUMN {quote_ident(column.name)} rewrites all of {table}: {reason}. The rewrite holds an "
                f"ACCESS EXCLUSIVE lock that {what_it_blocks(ACCESS_EXCLUSIVE, table)} until every row is "
                "copied and every index rebuilt"
            ),
            span=span,
            help=_help(column),
            fix=_fix(raw, ddl, action),
        )


def _help(column) -> str:
    if column.generated == "stored":
        return ("Add a plain nullable column, fill it by trigger for new rows and in batches for old ones "
                "(PostgreSQL 18: a VIRTUAL generated column needs no rewrite)")
    if column.generated == "identity" or column.serial:
        return ("Add a nullable bigint column, give new rows a sequence default with ALTER COLUMN … SET DEFAULT "
                "nextval(…) (no rewrite), and backfill existing rows in batches")
    return ("Add the column without the volatile default, then ALTER COLUMN … SET DEFAULT for new rows "
            "(no rewrite), and backfill existing rows in batches")


def _fix(raw: Statement, ddl: Ddl, action: Action) -> Fix | None:
    column = action.column_def
    if column.generated is not None or column.serial or column.default_span is None:
        return None
    table = raw.text[ddl.table.start : ddl.table.end]
    name = raw.text[column.name_span[0] : column.name_span[1]]
    type_text = raw.text[column.type_span[0] : column.type_span[1]]
    default_words = column.default_words
    default = raw.text[default_words[0].start : default_words[-1].end]
    lines = [
        f"ALTER TABLE {table} ADD COLUMN {name} {type_text};",
        f"ALTER TABLE {table} ALTER COLUMN {name} SET DEFAULT {default};",
        f"-- then backfill in batches: UPDATE {table} SET {name} = {default} WHERE {name} IS NULL AND <key range>;",
    ]
    if column.not_null:
        lines.append(f"-- then NOT NULL via ADD CONSTRAINT … CHECK ({name} IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT")
    return Fix("Add the column without a volatile default, default new rows, backfill old ones in batches",
               "\n".join(lines))

