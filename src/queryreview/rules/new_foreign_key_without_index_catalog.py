"""QR520 new-foreign-key-without-index-catalog: a new foreign key on an existing table that no index serves."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.catalog import Catalog, Table
from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import Constraint, Name, classify, context, foreign_keys, index_serves
from queryreview.sql.resolve import create_index_sql, key_columns, plain_keys, quote_ident, read_indexes
from queryreview.sql.resolve import rows_text, table_rows


def check(raw: Statement, script: Script, catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "alter_table":
        return
    facts, position = context(raw, script)
    min_rows = settings.get("min_rows") or 0
    for name, constraint in foreign_keys(ddl):
        if facts.created_before(name, position + 1) or not constraint.columns:
            continue  # a table this migration creates: QR517 judges it from the script alone
        table = catalog.table(name.lookup())
        if table is None:
            continue
        rows = table_rows(catalog, table)
        if rows < min_rows:
            continue
        if any(index.valid and index_serves(tuple(key_columns(index)), index.method, index.predicate, constraint.columns)
               for index in read_indexes(catalog, table)):
            continue
        if any(index_serves(index.keys, index.method, index.predicate, constraint.columns)
               for index in facts.indexes_on(name)):
            continue  # created by this migration
        yield _hit(catalog, table, name, constraint, rows)


def _hit(catalog: Catalog, table: Table, name: Name, constraint: Constraint, rows: float) -> Hit:
    columns = ", ".join(quote_ident(c) for c in constraint.columns)
    referenced = constraint.reference.table
    sql = create_index_sql(catalog, table, plain_keys(list(constraint.columns)))
    return Hit(
        message=(
            f"{table.qualified_name}: {rows_text(rows)} rows; the new foreign key ({columns}) -> {referenced} has no "
            f"index leading with {columns}, in the database or in this migration: every DELETE or key UPDATE on "
            f"{referenced} will scan {table.name} to check it, and joins on {columns} cannot use an index"
        ),
        span=constraint.span,
        help=f"Index the referencing columns first, concurrently: {sql}",
        fix=Fix(f"Index {table.name}({columns}) before adding the foreign key", sql),
        evidence={"table": table.qualified_name, "rows": rows, "columns": list(constraint.columns)},
    )
