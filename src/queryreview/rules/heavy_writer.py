"""QR407 heavy-writer: one statement generates most of the WAL (or, without WAL figures, most row writes)."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.catalog import WorkloadStats
from queryreview.model import Hit
from queryreview.workload import Entry, ms, percent, quote, shape_of, share, size, statements, target

_WRITE_KINDS = ("insert", "update", "delete", "merge")


def check(stats: WorkloadStats, settings: dict[str, Any]) -> Iterator[Hit]:
    min_share = settings.get("min_share") or 0.0
    min_wal_bytes = (settings.get("min_wal_mb") or 0) * 1024 * 1024
    min_rows = settings.get("min_rows_written") or 1
    entries = statements(stats)
    # Top-level entries only: a function's WAL already includes its nested statements'.
    total_wal = sum(stat.wal_bytes for stat in stats.statements if stat.toplevel)
    if total_wal > 0:
        for entry in entries:
            if entry.wal_bytes >= min_wal_bytes and share(entry.wal_bytes, total_wal) >= min_share:
                yield _wal_hit(entry, total_wal)
        return
    # WAL not measured (a snapshot without the columns): rows written by DML instead.
    writers = [(entry, _written_table(entry)) for entry in entries if entry.toplevel]
    writers = [(entry, table) for entry, table in writers if table is not None]
    total_rows = sum(entry.rows for entry, _ in writers)
    for entry, table in writers:
        if entry.rows >= min_rows and share(entry.rows, total_rows) >= min_share:
            yield _rows_hit(entry, table, total_rows)


def _written_table(entry: Entry) -> str | None:
    shape = shape_of(entry.query)
    if shape is None or shape.kind not in _WRITE_KINDS or not shape.writes:
        return None
    return shape.writes[0]


def _remedies(table: str) -> str:
    return (
        f"Write less WAL: batch rows into fewer statements (multi-row INSERT, COPY), drop indexes on {table} that "
        f"no query uses (every index entry is logged too), let updates be HOT (leave room with fillfactor 80-90 "
        f"and do not change indexed columns), and make scratch or staging tables UNLOGGED"
    )


def _wal_hit(entry: Entry, total_wal: int) -> Hit:
    wal_share = share(entry.wal_bytes, total_wal)
    shape = shape_of(entry.query)
    table = shape.writes[0] if shape is not None and shape.writes else "the table"
    details = [f"{entry.calls:,} calls", f"mean {ms(entry.mean_exec_time)}"]
    if entry.rows:
        details.append(f"{size(entry.wal_bytes / entry.rows)} of WAL per row over {entry.rows:,} rows")
    if entry.wal_records and entry.wal_fpi:
        details.append(f"{percent(share(entry.wal_fpi, entry.wal_records))} of its WAL records carry full-page images")
    return Hit(
        message=(
            f"{quote(entry.query)} generated {percent(wal_share)} of the WAL of the collected statements: "
            f"{size(entry.wal_bytes)} of {size(total_wal)} ({', '.join(details)}); WAL volume drives disk writes, "
            "checkpoints, archiving and replica lag"
        ) + entry.also(),
        help=_remedies(table),
        target=target(entry),
        evidence={
            "queryid": entry.queryid, "queryids": list(entry.queryids), "wal_bytes": entry.wal_bytes,
            "wal_share": round(wal_share, 4),
            "total_wal_bytes": total_wal, "wal_records": entry.wal_records, "wal_fpi": entry.wal_fpi,
            "rows": entry.rows, "calls": entry.calls,
        },
    )


def _rows_hit(entry: Entry, table: str, total_rows: int) -> Hit:
    rows_share = share(entry.rows, total_rows)
    return Hit(
        message=(
            f"{quote(entry.query)} wrote {percent(rows_share)} of the rows written by the collected statements: "
            f"{entry.rows:,} of {total_rows:,} rows in {table} ({entry.calls:,} calls, mean "
            f"{ms(entry.mean_exec_time)}); WAL volume was not measured"
        ) + entry.also(),
        help=_remedies(table),
        target=target(entry),
        evidence={"queryid": entry.queryid, "queryids": list(entry.queryids), "rows": entry.rows,
                  "rows_share": round(rows_share, 4), "total_rows_written": total_rows, "calls": entry.calls,
                  "table": table},
    )
