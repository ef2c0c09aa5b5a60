"""QR203 fk-without-index: a foreign key whose referencing columns no index leads with."""

from __future__ import annotations

import re
from typing import Any, Iterator

from queryreview.catalog import Catalog, Constraint, Index, Table
from queryreview.model import Fix, Hit
from queryreview.sql.resolve import (
    create_index_sql,
    key_columns,
    plain_keys,
    quote_ident,
    read_indexes,
    rows_text,
    table_rows,
)

_NOT_NULL = re.compile(r'\(*\s*"?([^"()\s]+)"?\s+IS\s+NOT\s+NULL\s*\)*', re.IGNORECASE)


def check(catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    min_rows = settings.get("min_rows") or 0
    for table in catalog.tables.values():
        if table.kind not in ("r", "p"):
            continue
        if table.partition_of and catalog.table(table.partition_of) is not None:
            continue  # reported once, on the partitioned parent (its index cascades to partitions)
        rows = table_rows(catalog, table)
        if rows < min_rows:
            continue
        for constraint in table.constraints:
            if constraint.kind != "f" or not constraint.columns:
                continue
            if any(_serves(index, constraint.columns) for index in read_indexes(catalog, table)):
                continue
            yield _hit(catalog, table, constraint, rows)


def _serves(index: Index, fk_columns: tuple[str, ...]) -> bool:
    """The RI lookup ``fk_col1 = $1 AND fk_col2 = $2`` can use the index: it leads with all FK columns."""
    if not index.valid or index.method not in ("btree", "hash"):
        return False
    keys = key_columns(index)
    if index.method == "hash" and keys != list(fk_columns):
        return False
    if set(keys[: len(fk_columns)]) != set(fk_columns):
        return False
    # a partial index serves the lookup only when its predicate follows from col = $1
    return index.predicate is None or _implied_by_equality(index.predicate, fk_columns)


def _implied_by_equality(predicate: str, columns: tuple[str, ...]) -> bool:
    """Only ``fk_col IS NOT NULL`` (AND-ed): PostgreSQL proves it from ``fk_col = $1``."""
    parts = re.split(r"\s+AND\s+", predicate.strip().removeprefix("(").removesuffix(")"), flags=re.IGNORECASE)
    for part in parts:
        match = _NOT_NULL.fullmatch(part.strip())
        if match is None or match.group(1) not in columns:
            return False
    return True


def _hit(catalog: Catalog, table: Table, constraint: Constraint, rows: float) -> Hit:
    columns = ", ".join(constraint.columns)
    referenced = constraint.ref_table or "?"
    ref_columns = ", ".join(constraint.ref_columns)
    sql = create_index_sql(catalog, table, plain_keys(list(constraint.columns)))
    return Hit(
        message=(
            f"{table.name}: {rows_text(rows)} rows; foreign key {constraint.name} ({columns}) -> "
            f"{referenced}({ref_columns}) has no index leading with {columns}: every DELETE or key UPDATE "
            f"on {referenced.split('.')[-1]} scans {table.name} to check it, and joins on {columns} cannot use an index"
        ),
        target=table.qualified_name,
        help=f"Index the referencing columns: {sql}",
        fix=Fix(f"Index {table.name}({columns}) for foreign key {quote_ident(constraint.name)}", sql),
    )
