"""QR206 redundant-index: a btree whose keys are a leading prefix of a wider btree's keys."""

from __future__ import annotations

from typing import Iterator

from queryreview.catalog import Catalog, Index, Table
from queryreview.model import Fix, Hit
from queryreview.sql.resolve import drop_index_sql, index_signature, inherited, key_columns


def check(catalog: Catalog) -> Iterator[Hit]:
    for table in catalog.tables.values():
        btrees = [index for index in table.indexes if index.valid and index.method == "btree"]
        for narrow in btrees:
            if narrow.unique or narrow.primary or narrow.constraint:
                continue  # it enforces something the wider index does not
            if inherited(catalog, table, narrow):
                continue  # a partition's copy of the parent's index: reported (and dropped) there
            wider = _wider(narrow, btrees)
            if wider is not None:
                yield _hit(table, narrow, wider)


def _wider(narrow: Index, btrees: list[Index]) -> Index | None:
    """The widest btree that serves every scan ``narrow`` serves (the one left if all prefixes go), or None."""
    _, keys, include, predicate = index_signature(narrow)
    found = []
    for other in btrees:
        _, other_keys, other_include, other_predicate = index_signature(other)
        if other is narrow or len(other_keys) <= len(keys) or other_predicate != predicate:
            continue
        if other_keys[: len(keys)] != keys:  # same columns, opclasses, collations and order
            continue
        # INCLUDE columns the wider index lacks may be what keeps narrow's scans index-only
        if not include <= set(key_columns(other)) | other_include:
            continue
        found.append(other)
    return min(found, key=lambda i: (-len(i.columns), i.name)) if found else None


def _hit(table: Table, narrow: Index, wider: Index) -> Hit:
    sql = drop_index_sql(table, narrow)
    narrow_keys = ", ".join(narrow.columns)
    return Hit(
        message=(
            f"{narrow.name} on {table.name} ({narrow_keys}) is a leading prefix of {wider.name} "
            f"({', '.join(wider.columns)}): any scan on ({narrow_keys}) can use {wider.name}, "
            f"and every write maintains both"
        ),
        target=narrow.qualified_name,
        help=(
            f"Drop the narrower index: {sql} (check pg_stat_user_indexes first: it is smaller, "
            f"so some plans may prefer it)"
        ),
        fix=Fix(f"Drop {narrow.name}, covered by {wider.name}", sql),
    )
