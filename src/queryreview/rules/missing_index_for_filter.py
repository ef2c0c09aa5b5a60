"""QR201 missing-index-for-filter: a large table filtered or joined on columns no index leads with."""

from __future__ import annotations

from typing import Any, Iterator

from sqlglot import exp

from queryreview.catalog import Catalog, ColumnStats, Index, Table
from queryreview.model import Fix, Hit, Statement
from queryreview.sql.predicates import render
from queryreview.sql.resolve import (
    EQUALITY,
    JOIN,
    NULL,
    RANGE,
    Filter,
    OrderKey,
    Resolver,
    Source,
    create_index_sql,
    filters,
    key_columns,
    order_keys,
    plain_keys,
    read_indexes,
    resolver_for,
    rows_text,
    single_value,
    sort_index_keys,
    table_rows,
)

_INDEXABLE = ("r", "p", "m")


def check(stmt: Statement, catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    min_rows = settings.get("min_rows") or 0
    max_selectivity = settings.get("max_selectivity")
    max_selectivity = 1.0 if max_selectivity is None else max_selectivity
    resolver = resolver_for(stmt, catalog)
    reported: set[tuple] = set()
    for node in stmt.nodes(exp.Select, exp.Update, exp.Delete):
        by_source: dict[Source, list[Filter]] = {}
        for found in filters(resolver, resolver.scope(node)):
            by_source.setdefault(found.ref.source, []).append(found)
        filtered = {source for source, found in by_source.items() if any(f.kind != JOIN for f in found)}
        for source, found in by_source.items():
            if not filtered - {source}:
                # nothing else narrows the join: a hash join over both tables beats index probes
                found = [f for f in found if f.kind != JOIN]
                if not found:
                    continue
            table = source.table
            if table is None or table.kind not in _INDEXABLE:
                continue  # views and foreign tables cannot be indexed
            rows = table_rows(catalog, table)
            if rows < min_rows or _served(read_indexes(catalog, table), found):
                continue
            selectivity = _selectivity(table, rows, found)
            if selectivity is not None and selectivity > max_selectivity:
                continue  # the filter keeps too many rows for an index scan to win
            columns = list(dict.fromkeys(f.ref.column for f in found))
            key = (table.qualified_name, tuple(columns))
            if key not in reported:
                reported.add(key)
                yield _hit(catalog, table, rows, found, columns, _limited_order(resolver, node, source))


def _served(indexes: list[Index], found: list[Filter]) -> bool:
    """Some valid index leads with a filtered column (partial indexes count: see the rule's why)."""
    kinds: dict[str, set[str]] = {}
    for item in found:
        kinds.setdefault(item.ref.column, set()).add(item.kind)
    for index in indexes:
        keys = key_columns(index)
        if not index.valid or not keys or keys[0] not in kinds:
            continue
        if index.method == "hash" and not kinds[keys[0]] & {EQUALITY, JOIN}:
            continue  # hash indexes serve only =
        return True
    return False


def _selectivity(table: Table, rows: float, found: list[Filter]) -> float | None:
    """Estimated fraction of rows the equality filters keep (independence, as the planner assumes), or None."""
    fraction = 1.0
    for item in found:
        if item.kind in (RANGE, JOIN):
            return None
        stat = table.column_stat(item.ref.column)
        if stat is None:
            return None
        part = _equality_selectivity(stat, rows, item)
        if part is None:
            return None
        fraction *= part
    return fraction


def _equality_selectivity(stat: ColumnStats, rows: float, item: Filter) -> float | None:
    if item.kind == NULL:
        return stat.null_frac
    distinct = stat.distinct_values(rows)
    if distinct <= 0:
        return None
    text = _literal_text(item.value)
    if text is not None and stat.most_common_vals and stat.most_common_freqs:
        for value, freq in zip(stat.most_common_vals, stat.most_common_freqs):
            if value == text:
                return freq
        rest = 1.0 - sum(stat.most_common_freqs) - stat.null_frac
        others = distinct - len(stat.most_common_vals)
        return max(rest, 0.0) / others if others > 0 else 0.0
    count = len(item.node.expressions) if isinstance(item.node, exp.In) else 1
    return min(1.0, count / distinct)


def _limited_order(resolver: Resolver, node: exp.Expression, source: Source) -> list[OrderKey] | None:
    """ORDER BY keys of a LIMITed SELECT when they all sort this source: the index can serve them too."""
    if not isinstance(node, exp.Select) or node.args.get("limit") is None:
        return None
    keys = order_keys(resolver, resolver.scope(node))
    if not keys or any(key.ref.source is not source for key in keys):
        return None
    return keys


def _literal_text(value: Any) -> str | None:
    if isinstance(value, exp.Literal):
        return value.this
    if isinstance(value, exp.Boolean):
        return "t" if value.this else "f"
    return None


def _hit(
    catalog: Catalog, table: Table, rows: float, found: list[Filter], columns: list[str], order: list[OrderKey] | None
) -> Hit:
    equal = [f.ref.column for f in found if f.kind in (EQUALITY, NULL, JOIN)]
    if order and all(single_value(f) for f in found):
        keys = sort_index_keys(equal, order)  # WHERE a = $1 ORDER BY b LIMIT n: (a, b) serves both
    else:
        names = list(dict.fromkeys(equal))
        names += [f.ref.column for f in found if f.kind == RANGE and f.ref.column not in names][:1]
        keys = plain_keys(names)
    sql = create_index_sql(catalog, table, keys)
    filtered = [c for c in columns if any(f.ref.column == c and f.kind != JOIN for f in found)]
    joined = [c for c in columns if c not in filtered]
    how = []
    if filtered:
        how.append("filtered on " + ", ".join(filtered))
    if joined:
        how.append("joined on " + ", ".join(joined))
    which = "it" if len(columns) == 1 else "any of them"
    return Hit(
        message=(
            f"{table.name}: {rows_text(rows)} rows, {' and '.join(how)} (`{render(found[0].node)}`) but no index "
            f"leads with {which}: each execution reads the whole table"
        ),
        node=found[0].node,
        help=f"Add an index: {sql}",
        fix=Fix(f"Index {table.name} on {', '.join(key[0] for key in keys)}", sql),
    )
