"""DROP INDEX recommendations: unused (QR204), duplicate (QR205) and redundant (QR206) indexes.

    recommendations = drop_recommendations(catalog)    # largest first

The three rules decide which indexes can go (and write the SQL); this module gathers their
verdicts per index and adds what the index costs: its size, and the write traffic of its
table (every insert and non-HOT update adds an entry to every index). Judged from the
catalog's usage counters alone, so ``validated_by`` is "catalog".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from queryreview.catalog import Catalog, Index, Table
from queryreview.model import Recommendation
from queryreview.sql.resolve import partitions, twin_index
from queryreview.workload import duration, number, when

VALIDATED_BY = "catalog"
_REPLICA_CAVEAT = ("idx_scan is counted per server: check that no replica and no rare job (monthly report, "
                   "batch) uses it before dropping")


def drop_recommendations(catalog: Catalog, settings: dict[str, dict[str, Any]] | None = None) -> list[Recommendation]:
    """One DROP recommendation per index the drop rules report, largest first (ties by SQL).

    Duplicates and prefixes are judged among the indexes that stay: an index covered only by
    an unused one (which is dropped) is kept. ``settings``: rule settings by rule name
    (unused-index's min_size_bytes, min_stats_days), as the engine takes them.
    """
    where = {index.qualified_name: (table, index) for table in catalog.tables.values() for index in table.indexes}
    reasons: dict[str, list[str]] = {}
    statements: dict[str, str] = {}
    unused = _hits(catalog, "QR204", settings, where)
    for name, (sql, message) in unused.items():
        statements[name] = sql
        reasons[name] = [f"unused: {message}", _REPLICA_CAVEAT]
    remaining = _without(catalog, set(unused), where)
    for code, label in (("QR205", "duplicate"), ("QR206", "redundant")):
        for name, (sql, message) in _hits(remaining, code, settings, where).items():
            statements.setdefault(name, sql)
            reasons.setdefault(name, []).append(f"{label}: {message}")
        for name, (_, message) in _hits(catalog, code, settings, where).items():
            if name in unused:  # dropped for being unused; that it is also covered is worth saying
                reasons[name].insert(-1, f"also {label}: {message}")
    days = _window_days(catalog)
    found = []
    for name, sql in statements.items():
        table, index = where[name]
        found.append(Recommendation(
            kind="drop-index",
            sql=sql,
            reason="; ".join(reasons[name]),
            table=table.qualified_name,
            size_bytes=_index_size(catalog, table, index),
            validated_by=VALIDATED_BY,
            write_overhead=_write_overhead(catalog, table, days),
        ))
    return sorted(found, key=lambda r: (-(r.size_bytes or 0), r.sql))


def _hits(catalog: Catalog, code: str, settings: dict[str, dict[str, Any]] | None,
          where: dict[str, tuple[Table, Index]]) -> dict[str, tuple[str, str]]:
    """index name -> (the rule's SQL, its message), for one drop rule's hits."""
    from queryreview.rules.registry import find_rule

    rule = find_rule(code)
    offered = {"catalog": catalog, "settings": {**rule.default_settings(), **(settings or {}).get(rule.name, {})}}
    found = {}
    for hit in rule.check(**{name: offered.get(name) for name in rule.params}):
        if hit.target in where and hit.fix is not None and hit.fix.sql:
            found.setdefault(hit.target, (hit.fix.sql, hit.message))
    return found


def _without(catalog: Catalog, dropped: set[str], where: dict[str, tuple[Table, Index]]) -> Catalog:
    """The catalog without the dropped indexes (and, for a partitioned index, its partitions' copies)."""
    gone = set()
    for name in dropped:
        table, index = where[name]
        gone |= _with_partition_copies(catalog, table, index)
    tables = {key: replace(table, indexes=tuple(i for i in table.indexes if (key, i.name) not in gone))
              for key, table in catalog.tables.items()}
    return replace(catalog, tables=tables)


def _with_partition_copies(catalog: Catalog, table: Table, index: Index) -> set[tuple[str, str]]:
    found = {(table.qualified_name, index.name)}
    for part in partitions(catalog, table):
        twin = twin_index(part, index)
        if twin is not None:
            found |= _with_partition_copies(catalog, part, twin)
    return found


def _index_size(catalog: Catalog, table: Table, index: Index) -> int:
    """The index's size; for a partitioned index, its partitions' indexes (the parent's own is empty)."""
    total = index.size_bytes
    for part in partitions(catalog, table):
        twin = twin_index(part, index)
        if twin is not None:
            total += _index_size(catalog, part, twin)
    return total


def _writes(catalog: Catalog, table: Table) -> tuple[int, int] | None:
    """(inserts + updates + deletes, inserts + non-HOT updates) since the statistics reset; partitions summed."""
    parts = partitions(catalog, table)
    if parts:
        counted = [w for w in (_writes(catalog, part) for part in parts) if w is not None]
        return (sum(w[0] for w in counted), sum(w[1] for w in counted)) if counted else None
    stats = table.stats
    if stats is None:
        return None
    writes = stats.n_tup_ins + stats.n_tup_upd + stats.n_tup_del
    entries = stats.n_tup_ins + max(stats.n_tup_upd - stats.n_tup_hot_upd, 0)
    return writes, entries


def _window_days(catalog: Catalog) -> tuple[float, str] | None:
    """(days the counters cover, their start date) from pg_stat_database.stats_reset, if known."""
    start = when(catalog.stats_reset)
    if start is None:
        return None
    end = when(catalog.collected_at) or datetime.now(timezone.utc)
    seconds = (end - start).total_seconds()
    return (seconds / 86400, start.date().isoformat()) if seconds > 0 else None


def _write_overhead(catalog: Catalog, table: Table, window: tuple[float, str] | None) -> str | None:
    counted = _writes(catalog, table)
    if counted is None:
        return None
    writes, entries = counted
    name = table.qualified_name
    if window is None or window[0] < 1 / 24:
        return (f"{name}: {number(writes)} writes (inserts, updates, deletes) since the statistics were reset "
                f"(window unknown); {number(entries)} of them (inserts and non-HOT updates) added an entry to "
                "this index")
    days, since = window
    return (f"{name}: {number(writes / days)} writes/day (inserts, updates, deletes over {duration(days * 86400)} "
            f"since {since}); {number(entries / days)}/day (inserts and non-HOT updates) add an entry to this index")
