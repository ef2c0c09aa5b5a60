"""QR208 table-without-primary-key: an ordinary or partitioned table with no primary key."""

from __future__ import annotations

from typing import Iterator

from queryreview.catalog import Catalog, Index, Table
from queryreview.model import Fix, Hit
from queryreview.sql.resolve import (
    column_not_null,
    key_columns,
    key_orders,
    quote_ident,
    quote_qualified,
    rows_text,
    table_rows,
)


def check(catalog: Catalog) -> Iterator[Hit]:
    for table in catalog.tables.values():
        if table.kind not in ("r", "p") or _has_primary_key(table):
            continue
        if table.partition_of and catalog.table(table.partition_of) is not None:
            continue  # a partition gets its key from the parent; the parent is the one reported
        yield _hit(catalog, table)


def _has_primary_key(table: Table) -> bool:
    return any(c.kind == "p" for c in table.constraints) or any(i.primary for i in table.indexes)


def _promotable(table: Table) -> Index | None:
    """A unique index ``ADD PRIMARY KEY USING INDEX`` accepts: valid btree, plain ascending NOT NULL columns."""
    for index in table.indexes:
        if not (index.unique and index.valid and index.method == "btree") or index.predicate or index.include:
            continue
        if any(opclass for opclass in index.opclasses):
            continue
        if any(descending or nulls_first for _, descending, nulls_first in key_orders(index)):
            continue  # a primary key's index must use the default sort order
        columns = [table.column(name) for name in key_columns(index)]
        if columns and all(column is not None and column_not_null(column) for column in columns):
            return index
    return None


def _hit(catalog: Catalog, table: Table) -> Hit:
    rows = rows_text(table_rows(catalog, table))
    what = "partitioned table" if table.kind == "p" else "table"
    message = (
        f"{table.name}: {rows} rows, {what} without a primary key: logical replication cannot replicate its "
        f"UPDATEs and DELETEs (REPLICA IDENTITY), tools and ORMs cannot address single rows, "
        f"and duplicates can creep in"
    )
    candidate = _promotable(table) if table.kind == "r" else None
    if candidate is None:
        return Hit(
            message=message,
            target=table.qualified_name,
            help=f"Add a primary key on the column(s) that identify a row, or an identity column: "
            f"ALTER TABLE {quote_qualified(table.qualified_name)} ADD PRIMARY KEY (...)",
        )
    constraint = f"{table.name}_pkey"[:63]
    sql = (
        f"ALTER TABLE {quote_qualified(table.qualified_name)} ADD CONSTRAINT {quote_ident(constraint)} "
        f"PRIMARY KEY USING INDEX {quote_ident(candidate.name)}"
    )
    return Hit(
        message=(
            f"{message}. Unique index {candidate.name} ({', '.join(candidate.columns)}) is on NOT NULL columns "
            f"and can become it"
        ),
        target=table.qualified_name,
        help=f"Promote the unique NOT NULL index to the primary key (a brief ACCESS EXCLUSIVE lock, no rebuild): {sql}",
        fix=Fix(f"Make {candidate.name} the primary key", sql),
    )
