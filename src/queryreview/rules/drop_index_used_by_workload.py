"""QR518 drop-index-used-by-workload: the migration drops an index the database's statistics show in use."""

from __future__ import annotations

from typing import Iterator

from queryreview.catalog import Catalog
from queryreview.model import Hit, Statement
from queryreview.sql.ddl import classify
from queryreview.sql.ddl.catalog import find_index, successor
from queryreview.sql.resolve import rows_text, table_rows


def check(raw: Statement, catalog: Catalog) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "drop_index":
        return
    for name in ddl.indexes:
        found = find_index(catalog, name)
        if found is None:
            continue
        table, index = found
        if index.idx_scan <= 0 or index.primary or index.constraint:
            continue  # unused here, or backing a constraint (DROP INDEX would fail anyway)
        if successor(table, index) is not None:
            continue  # another index leads with the same keys: the scans move there
        window = f"since {catalog.stats_reset}" if catalog.stats_reset else "since the statistics were last reset"
        rows = rows_text(table_rows(catalog, table))
        yield Hit(
            message=(
                f"{index.name} on {table.qualified_name} ({rows} rows) served {index.idx_scan:,} index scans "
                f"{window} (pg_stat_user_indexes): the queries behind them lose it when this runs and fall back to "
                f"other plans, often sequential scans of {table.name}"
            ),
            span=name.span,
            evidence={"index": index.qualified_name, "table": table.qualified_name, "idx_scan": index.idx_scan,
                      "stats_reset": catalog.stats_reset},
        )
