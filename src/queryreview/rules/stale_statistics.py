"""QR211 stale-statistics: a large table never analyzed, or much changed since it last was."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.catalog import Catalog, Table
from queryreview.model import Fix, Hit
from queryreview.sql.resolve import quote_qualified, rows_text, table_rows


def check(catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    min_rows = settings.get("min_rows") or 0
    max_fraction = settings.get("max_modified_fraction")
    max_fraction = 0.2 if max_fraction is None else max_fraction
    for table in catalog.tables.values():
        stats = table.stats
        if table.kind not in ("r", "p", "m") or stats is None:
            continue
        if table.partition_of and catalog.table(table.partition_of) is not None and table.kind == "p":
            continue  # a sub-partitioned level: the top parent is the one to analyze
        rows = table_rows(catalog, table)
        if rows < min_rows:
            continue
        analyzed = stats.last_analyze or stats.last_autoanalyze
        if not analyzed:
            yield _hit(table, rows, "has never been analyzed")
        elif table.kind != "p" and rows > 0 and stats.n_mod_since_analyze > max_fraction * rows:
            share = stats.n_mod_since_analyze / rows
            yield _hit(
                table,
                rows,
                f"has {stats.n_mod_since_analyze:,} rows modified since it was last analyzed ({share:.0%} of "
                f"its rows, more than {max_fraction:.0%}; last analyze {_day(analyzed)})",
            )


def _day(value: Any) -> str:
    return str(value)[:10]


def _hit(table: Table, rows: float, state: str) -> Hit:
    sql = f"ANALYZE {quote_qualified(table.qualified_name)}"
    if table.kind == "p":
        why = "autovacuum never analyzes a partitioned table itself, so its whole-table statistics stay missing"
        habit = "schedule it after bulk loads and partition changes"
    else:
        why = "the planner estimates row counts and picks plans from out-of-date statistics"
        habit = f"if it keeps happening, lower autovacuum_analyze_scale_factor for {table.name}"
    return Hit(
        message=f"{table.name}: {rows_text(rows)} rows, {state}: {why}",
        target=table.qualified_name,
        help=f"Run it yourself (queryreview never does): {sql}; {habit}",
        fix=Fix(f"Refresh {table.name}'s statistics", sql),
    )
