"""QR202 missing-index-for-order-limit: ORDER BY ... LIMIT on a large table with no index in that order."""

from __future__ import annotations

from typing import Any, Iterator

from sqlglot import exp

from queryreview.catalog import Catalog, Index, Table
from queryreview.model import Fix, Hit, Statement
from queryreview.sql.predicates import render
from queryreview.sql.resolve import (
    Filter,
    OrderKey,
    Source,
    create_index_sql,
    filters,
    key_columns,
    key_orders,
    order_keys,
    read_indexes,
    resolver_for,
    rows_text,
    single_value,
    sort_index_keys,
    table_rows,
)


def check(stmt: Statement, catalog: Catalog, settings: dict[str, Any]) -> Iterator[Hit]:
    min_rows = settings.get("min_rows") or 0
    max_sort_rows = settings.get("max_sort_rows") or 0
    resolver = resolver_for(stmt, catalog)
    for select in stmt.nodes(exp.Select):
        limit = select.args.get("limit")
        if limit is None or select.args.get("order") is None or _whole_set_needed(select):
            continue
        scope = resolver.scope(select)
        keys = order_keys(resolver, scope)
        if not keys:
            continue
        source = keys[0].ref.source
        table = source.table
        if table is None or table.kind not in ("r", "p", "m") or source.join is not None:
            continue  # only the driving (FROM) table's order can come from an index; views have none
        if any(key.ref.source is not source for key in keys):
            continue  # keys over several tables: no one index returns that order
        rows = table_rows(catalog, table)
        if rows < min_rows:
            continue
        everything = filters(resolver, scope)
        equal = list(dict.fromkeys(f.ref.column for f in everything if f.ref.source is source and single_value(f)))
        sort = [key for key in keys if key.ref.column not in equal]
        if not sort or _unique_lookup(table, equal):
            continue  # constant sort keys, or at most one row
        if _joined_to_one_row(everything, source):
            continue  # the plan starts from that row, not from an ordered walk of this table
        indexes = read_indexes(catalog, table)
        if any(_serves(index, equal, sort) for index in indexes):
            continue
        if _small_groups(table, indexes, rows, equal, max_sort_rows):
            continue
        yield _hit(catalog, table, rows, select, keys, equal)


def _whole_set_needed(select: exp.Select) -> bool:
    """GROUP BY, DISTINCT, aggregates and window functions consume every row before the LIMIT."""
    if select.args.get("group") or select.args.get("distinct"):
        return True
    return any(projection.find(exp.AggFunc, exp.Window) is not None for projection in select.expressions)


def _serves(index: Index, equal: list[str], sort: list[OrderKey]) -> bool:
    """The btree yields rows in ``sort`` order once the equality columns are fixed (forwards or backwards)."""
    if not index.valid or index.method != "btree":
        return False
    position = 0
    direction: bool | None = None  # True: scanned forwards, False: backwards
    for column, descending, nulls_first in key_orders(index):
        if position < len(sort) and column == sort[position].ref.column:
            key = sort[position]
            forwards = (key.descending, key.nulls_first) == (descending, nulls_first)
            backwards = (key.descending, key.nulls_first) == (not descending, not nulls_first)
            if not forwards and not backwards or direction is not None and direction != forwards:
                return False
            direction = forwards
            position += 1
        elif position == len(sort) or column not in equal:
            break
    return position == len(sort)


def _joined_to_one_row(found: list[Filter], source: Source) -> bool:
    """Another FROM item is pinned to one row by equalities on a unique index (``JOIN users u ... WHERE u.id = $1``)."""
    equal: dict[Source, list[str]] = {}
    for item in found:
        if item.ref.source is not source and single_value(item):
            equal.setdefault(item.ref.source, []).append(item.ref.column)
    return any(other.table is not None and _unique_lookup(other.table, columns) for other, columns in equal.items())


def _unique_lookup(table: Table, equal: list[str]) -> bool:
    return any(
        index.unique and index.valid and not index.predicate and set(key_columns(index)) <= set(equal)
        for index in table.indexes
        if index.columns
    )


def _small_groups(table: Table, indexes: list[Index], rows: float, equal: list[str], max_sort_rows: int) -> bool:
    """An index finds the equal rows and statistics say there are few of them: sorting them is cheap."""
    if not equal or not max_sort_rows:
        return False
    if not any(index.valid and key_columns(index)[:1] and key_columns(index)[0] in equal for index in indexes):
        return False
    matching = rows
    for column in equal:
        stat = table.column_stat(column)
        distinct = stat.distinct_values(rows) if stat is not None else 0
        if distinct <= 0:
            return False
        matching /= distinct
    return matching <= max_sort_rows


def _hit(
    catalog: Catalog, table: Table, rows: float, select: exp.Select, keys: list[OrderKey], equal: list[str]
) -> Hit:
    order = select.args["order"]
    index_keys = sort_index_keys(equal, keys)
    sql = create_index_sql(catalog, table, index_keys)
    limit_text = " " + render(select.args["limit"]).strip()
    where = f" for each {', '.join(equal)}" if equal else ""
    return Hit(
        message=(
            f"{table.name}: {rows_text(rows)} rows, `{render(order).strip()}{limit_text}` has no index "
            f"returning rows in that order{where}: PostgreSQL reads every matching row and sorts them to keep a few"
        ),
        node=order,
        help=f"Add an index in the sort order: {sql}",
        fix=Fix(f"Index {table.name} on {', '.join(key[0] for key in index_keys)}", sql),
    )
