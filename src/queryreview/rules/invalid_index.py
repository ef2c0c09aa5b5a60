"""QR207 invalid-index: an index left invalid by a failed CREATE/REINDEX ... CONCURRENTLY."""

from __future__ import annotations

import re
from typing import Iterator

from queryreview.catalog import Catalog, Index, Table
from queryreview.model import Fix, Hit
from queryreview.sql.resolve import quote_qualified

# REINDEX CONCURRENTLY builds <name>_ccnew and renames the old one <name>_ccold; a failure leaves them behind
_LEFTOVER = re.compile(r"_cc(new|old)\d*$")
REINDEX_CONCURRENTLY = 120000


def check(catalog: Catalog) -> Iterator[Hit]:
    for table in catalog.tables.values():
        for index in table.indexes:
            if not index.valid:
                yield _hit(catalog, table, index)


def _hit(catalog: Catalog, table: Table, index: Index) -> Hit:
    name = quote_qualified(index.qualified_name)
    if table.kind == "p":
        return Hit(
            message=(
                f"{index.name} on partitioned table {table.name} ({', '.join(index.columns)}) is invalid: "
                f"some partitions have no index attached to it (CREATE INDEX ON ONLY without ATTACH), so "
                f"new partitions and unique guarantees do not cover the whole table"
            ),
            target=index.qualified_name,
            help=(
                "Create the index CONCURRENTLY on each partition that lacks it, then "
                f"ALTER INDEX {name} ATTACH PARTITION <partition index>; it turns valid when all are attached"
            ),
        )
    enforces = " It is unique, so it still rejects duplicate keys." if index.unique else ""
    message = (
        f"{index.name} on {table.name} ({', '.join(index.columns)}) is invalid: a CREATE INDEX or "
        f"REINDEX ... CONCURRENTLY failed part-way; the planner never uses it but every write still "
        f"maintains it.{enforces}"
    )
    if _LEFTOVER.search(index.name):
        sql = f"DROP INDEX CONCURRENTLY {name}"
        return Hit(
            message=message,
            target=index.qualified_name,
            help=f"It is a leftover of a failed REINDEX CONCURRENTLY (the original index still exists): {sql}",
            fix=Fix(f"Drop the leftover {index.name}", sql),
        )
    if catalog.server_version_num and catalog.server_version_num < REINDEX_CONCURRENTLY:
        create = _concurrent_create(index)
        sql = f"DROP INDEX CONCURRENTLY {name};\n{create}" if create else f"DROP INDEX CONCURRENTLY {name}"
        return Hit(
            message=message,
            target=index.qualified_name,
            help=f"Drop it and build it again, concurrently: {sql}",
            fix=Fix(f"Rebuild {index.name}", sql),
        )
    sql = f"REINDEX INDEX CONCURRENTLY {name}"
    return Hit(
        message=message,
        target=index.qualified_name,
        help=(
            f"Rebuild it (unless a CREATE INDEX CONCURRENTLY is running right now: see "
            f"pg_stat_progress_create_index): {sql}; or drop it with DROP INDEX CONCURRENTLY {name}"
        ),
        fix=Fix(f"Rebuild {index.name}", sql),
    )


def _concurrent_create(index: Index) -> str | None:
    """The index's definition (pg_get_indexdef) made concurrent, when the catalog has it."""
    match = re.match(r"\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)", index.definition or "", re.IGNORECASE)
    if match is None:
        return None
    unique = "UNIQUE " if match.group(1) else ""
    return f"CREATE {unique}INDEX CONCURRENTLY {index.definition[match.end():]}"
