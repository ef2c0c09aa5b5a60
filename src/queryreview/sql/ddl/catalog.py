"""Catalog objects named by DDL: the index a DROP INDEX means, and the index that would take its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from queryreview.sql.resolve import index_signature, key_columns

if TYPE_CHECKING:
    from queryreview.catalog import Catalog, Index, Table
    from queryreview.sql.ddl.words import Name


def find_index(catalog: Catalog, name: Name) -> tuple[Table, Index] | None:
    """The index called ``name``: in its schema, or in the first schema of the search_path that has one."""
    schemas = [name.schema] if name.schema else list(catalog.search_path)
    for schema in schemas:
        for table in catalog.tables.values():
            for index in table.indexes:
                if index.name == name.name and index.schema == schema:
                    return table, index
    return None


def successor(table: Table, dropped: Index) -> Index | None:
    """A valid index of the same table, same method and predicate, whose keys start with the dropped
    index's keys (a duplicate, or ``(a, b)`` for a dropped ``(a)``): the scans can move there."""
    keys = key_columns(dropped)
    signature = index_signature(dropped)
    for other in table.indexes:
        if other.name == dropped.name or not other.valid or other.method != dropped.method:
            continue
        if (other.predicate or "") != (dropped.predicate or ""):
            continue
        if key_columns(other)[: len(keys)] == keys or index_signature(other) == signature:
            return other
    return None


def leads_with(table: Table, column: str, besides: Index) -> Index | None:
    """Another valid btree index of ``table`` whose first key is ``column``."""
    for other in table.indexes:
        if other.name != besides.name and other.valid and other.method == "btree" and key_columns(other)[:1] == [column]:
            return other
    return None
