"""QR515 int-primary-key: a new table keyed by a 4-byte (or 2-byte) integer runs out of keys."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.ddl import ColumnDef, Ddl, classify, is_int4_or_smaller, parse_type
from queryreview.sql.resolve import quote_ident

_WIDER = {"serial": "bigserial", "serial4": "bigserial", "smallserial": "bigserial", "serial2": "bigserial"}
_LIMIT = {"integer": "2,147,483,647", "smallint": "32,767"}


def check(raw: Statement) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "create_table" or ddl.temporary or ddl.table is None:
        return
    column = _key_column(ddl)
    if column is None or not is_int4_or_smaller(column.type):
        return
    generated = _generated(column)
    base = parse_type(column.type).base
    if not generated and (base == "smallint" or _is_foreign_key(ddl, column.name)):
        return  # a small code table, or a 1:1 child keyed by its parent's key: the parent decides the range
    wider = _WIDER.get(column.type, "bigint")
    fixed = raw.text[: column.type_span[0]] + wider + raw.text[column.type_span[1] :]
    yield Hit(
        message=(
            f"Primary key {quote_ident(column.name)} of {ddl.table} is {column.type}: "
            f"{'its sequence' if generated else 'it'} runs out at {_LIMIT[base]}, and widening it later rewrites "
            f"{ddl.table} and every table whose foreign keys reference it, each under an ACCESS EXCLUSIVE lock"
        ),
        span=column.type_span,
        fix=Fix(f"Make the key {wider}", fixed),
    )


def _key_column(ddl: Ddl) -> ColumnDef | None:
    """The column of a single-column primary key (composite keys of join tables are not judged)."""
    keys = [c for c in ddl.constraints if c.kind == "primary_key"]
    if len(keys) != 1 or len(keys[0].columns) != 1:
        return None
    return next((column for column in ddl.columns if column.name == keys[0].columns[0]), None)


def _generated(column: ColumnDef) -> bool:
    if column.serial or column.generated == "identity":
        return True
    return any(word.text == "nextval" for word in column.default_words)


def _is_foreign_key(ddl: Ddl, name: str) -> bool:
    return any(c.kind == "foreign_key" and c.columns == (name,) for c in ddl.constraints)
