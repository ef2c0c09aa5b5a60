"""QR205 duplicate-index: two indexes on one table with the same definition."""

from __future__ import annotations

from typing import Iterator

from queryreview.catalog import Catalog, Index, Table
from queryreview.model import Fix, Hit
from queryreview.sql.resolve import drop_index_sql, index_signature, inherited, quote_ident, quote_qualified


def check(catalog: Catalog) -> Iterator[Hit]:
    for table in catalog.tables.values():
        groups: dict[tuple, list[Index]] = {}
        for index in table.indexes:
            if index.valid and not inherited(catalog, table, index):  # invalid ones are QR207's
                groups.setdefault(index_signature(index), []).append(index)
        for twins in groups.values():
            if len(twins) < 2:
                continue
            keep = min(twins, key=_keep_rank)
            for index in sorted(twins, key=lambda i: i.name):
                if index is not keep:
                    yield _hit(table, index, keep)  # a partition's copies go with the parent's index


def _keep_rank(index: Index) -> tuple:
    """Keep the primary key, then a constraint's index, then a unique one, then the most scanned."""
    return (not index.primary, index.constraint is None, not index.unique, -index.idx_scan, index.name)


def _role(index: Index) -> str:
    if index.primary:
        return "the primary key"
    if index.constraint:
        return f"constraint {index.constraint}"
    return "a unique index" if index.unique else "an index"


def _hit(table: Table, index: Index, keep: Index) -> Hit:
    columns = ", ".join(index.columns)
    message = (
        f"{index.name} on {table.name} ({columns}) duplicates {keep.name} ({_role(keep)}): same method, "
        f"columns, operator classes, INCLUDE and predicate; every write maintains both"
    )
    if index.constraint:
        sql = f"ALTER TABLE {quote_qualified(table.qualified_name)} DROP CONSTRAINT {quote_ident(index.constraint)}"
        help_ = (
            f"Drop constraint {index.constraint} (its index is {index.name}) if nothing depends on it: {sql} "
            f"— a foreign key referencing it blocks the drop; ALTER TABLE takes an ACCESS EXCLUSIVE lock"
        )
        return Hit(message=message, target=index.qualified_name, help=help_, fix=Fix(f"Drop {index.constraint}", sql))
    sql = drop_index_sql(table, index)
    # a foreign key may reference a table through a plain unique index: then the drop fails, harmlessly
    caveat = " (it fails if a foreign key depends on this unique index)" if index.unique else ""
    return Hit(
        message=message,
        target=index.qualified_name,
        help=f"Drop the duplicate, keep {keep.name}: {sql}{caveat}",
        fix=Fix(f"Drop {index.name}, keep {keep.name}", sql),
    )
