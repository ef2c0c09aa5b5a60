"""QR210 seq-scan-heavy-table: a large table read mostly by sequential scans."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.catalog import Catalog, Table
from queryreview.model import Hit
from queryreview.sql.resolve import rows_text, table_rows


def check(catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    min_rows = settings.get("min_rows") or 0
    min_seq_scans = settings.get("min_seq_scans") or 1
    ratio = settings.get("ratio") or 1
    for table in catalog.tables.values():
        stats = table.stats
        if table.kind not in ("r", "m") or stats is None or stats.seq_scan < min_seq_scans:
            continue
        rows = table_rows(catalog, table)
        per_scan = stats.seq_tup_read / stats.seq_scan
        # per_scan >= min_rows: the scans read the table through, they are not LIMIT 1 probes
        if rows < min_rows or per_scan < min_rows:
            continue
        if stats.seq_tup_read < ratio * max(stats.idx_tup_fetch or 0, 1):
            continue
        yield _hit(table, rows, per_scan)


def _hit(table: Table, rows: float, per_scan: float) -> Hit:
    stats = table.stats
    assert stats is not None
    if stats.idx_scan is None:
        index_side = "it has no index scans at all (no usable index)"
    else:
        index_side = f"index scans: {stats.idx_scan:,}, fetching {stats.idx_tup_fetch or 0:,} rows"
    return Hit(
        message=(
            f"{table.name}: {rows_text(rows)} rows, read mostly by sequential scans: seq_scan {stats.seq_scan:,}, "
            f"seq_tup_read {stats.seq_tup_read:,} (~{rows_text(per_scan)} rows per scan); {index_side}"
        ),
        target=table.qualified_name,
        help=(
            f"Find the statements that scan {table.name} (`queryreview audit`, or pg_stat_statements by "
            f"shared_blks_read) and index their filters; reports and pg_dump scan whole tables too"
        ),
    )
