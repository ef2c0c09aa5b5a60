"""QR522 drop-index-needed-by-workload: statements of the workload filter on the column a dropped index leads with."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.catalog import Catalog, WorkloadStats
from queryreview.model import Hit, Statement
from queryreview.sql.ddl import classify
from queryreview.sql.ddl.catalog import find_index, leads_with, successor
from queryreview.sql.resolve import key_columns, rows_text, table_rows
from queryreview.workload import Entry, ms, quote, statements

_SHOWN = 3


def check(raw: Statement, catalog: Catalog, stats: WorkloadStats) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "drop_index":
        return
    for name in ddl.indexes:
        found = find_index(catalog, name)
        if found is None:
            continue
        table, index = found
        if index.primary or index.constraint or successor(table, index) is not None:
            continue
        keys = key_columns(index)
        if not keys or table.column(keys[0]) is None and table.columns:
            continue  # an expression key: which statements use it is not a column question
        column = keys[0]
        if leads_with(table, column, index) is not None:
            continue  # statements on that column keep an index leading with it
        users = _users(catalog, stats).get((table.qualified_name, column), [])
        if not users:
            continue
        users.sort(key=lambda entry: entry.total_exec_time, reverse=True)
        listed = "; ".join(
            f"queryid {entry.queryid} ({entry.calls:,} calls, mean {ms(entry.mean_exec_time)}): {quote(entry.query)}"
            for entry in users[:_SHOWN])
        more = f"; and {len(users) - _SHOWN} more" if len(users) > _SHOWN else ""
        noun = "statement" if len(users) == 1 else "statements"
        yield Hit(
            message=(
                f"{index.name} is the only index of {table.qualified_name} ({rows_text(table_rows(catalog, table))} "
                f"rows) leading with {column}, and {len(users)} {noun} of the workload filter, join or sort on "
                f"{table.name}.{column}: {listed}{more}. Without it they are planned with other indexes or "
                f"sequential scans of {table.name}"
            ),
            span=name.span,
            evidence={"index": index.qualified_name, "table": table.qualified_name, "column": column,
                      "queryids": [entry.queryid for entry in users]},
        )


_CACHE: list[Any] = []  # [stats, catalog, {(table, column): [entries]}]


def _users(catalog: Catalog, stats: WorkloadStats) -> dict[tuple[str, str], list[Entry]]:
    """Which workload statements filter, join or sort on which catalog column: read once per review."""
    if _CACHE and _CACHE[0] is stats and _CACHE[1] is catalog:
        return _CACHE[2]
    from sqlglot import exp

    from queryreview.sql.resolve import Resolver, filters, order_keys
    from queryreview.workload import parse

    found: dict[tuple[str, str], list[Entry]] = {}
    for entry in statements(stats):
        tree = parse(entry.query) if entry.query else None
        if tree is None:
            continue
        resolver = Resolver(catalog)
        columns: set[tuple[str, str]] = set()
        try:
            for node in tree.walk():
                if not isinstance(node, (exp.Select, exp.Update, exp.Delete)):
                    continue
                scope = resolver.scope(node)
                refs = [item.ref for item in filters(resolver, scope)]
                refs += [key.ref for key in (order_keys(resolver, scope) or [])[:1]]
                columns.update((ref.table.qualified_name, ref.column) for ref in refs if ref.table is not None)
        except Exception:  # noqa: BLE001 - a tree the resolver does not expect: skip that statement
            continue
        for key in columns:
            found.setdefault(key, []).append(entry)
    _CACHE[:] = [stats, catalog, found]
    return found
