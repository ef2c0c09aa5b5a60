"""QR401 n-plus-one: a single-key lookup called once per row of another query (a loop in the caller)."""

from __future__ import annotations

import bisect
import math
from typing import Any, Iterator

from queryreview.catalog import WorkloadStats
from queryreview.model import Fix, Hit
from queryreview.workload import (
    Entry, Shape, ms, number, parse, percent, quote, shape_of, share, statements, target, total_calls,
    total_exec_time,
)

# A driving query returns the parent rows the loop walks: the lookup's calls match its rows
# (an ORM identity map may skip repeated keys, hence the lower bound) and it runs far less often.
_PARENT_RATIO = (0.8, 1.05)
_PARENT_MIN_ROWS_PER_CALL = 2.0
_PARENT_CALLS_FACTOR = 10


def check(stats: WorkloadStats, settings: dict[str, Any]) -> Iterator[Hit]:
    min_calls = settings.get("min_calls") or 1
    max_rows = settings.get("max_rows_per_call") or 1.5
    min_calls_share = settings.get("min_calls_share") or 0.0
    entries = statements(stats)
    parents: list[tuple[int, Entry]] | None = None
    all_calls, all_time = total_calls(stats), total_exec_time(stats)
    for entry in entries:
        if entry.calls < min_calls or entry.rows > max_rows * entry.calls:
            continue
        shape = shape_of(entry.query)
        if not _single_key_lookup(shape):
            continue
        assert shape is not None
        if parents is None:
            parents = _parents(entries)
        parent = _driving_query(entry, parents)
        calls_share = share(entry.calls, all_calls)
        if parent is None and calls_share < min_calls_share:
            continue  # as likely one lookup per request (a session check) as a loop: not reported
        yield _hit(entry, shape, parent, calls_share, share(entry.total_exec_time, all_time), settings)


def _single_key_lookup(shape: Shape | None) -> bool:
    """A plain SELECT on tables, filtered by one `column = $n` key and not already fetching many keys."""
    return (shape is not None and shape.kind == "select" and shape.key_filter is not None and not shape.batched
            and not shape.locking and not shape.writes and bool(shape.user_tables))


def _driving_query(child: Entry, parents: list[tuple[int, Entry]]) -> Entry | None:
    """The SELECT whose returned rows the lookup's calls match best, if one matches closely."""
    rows = [row_count for row_count, _ in parents]
    low = bisect.bisect_left(rows, child.calls / _PARENT_RATIO[1])
    high = bisect.bisect_right(rows, child.calls / _PARENT_RATIO[0])
    best, best_gap = None, math.inf
    for row_count, entry in parents[low:high]:
        if entry is child or entry.calls * _PARENT_CALLS_FACTOR > child.calls:
            continue
        shape = shape_of(entry.query)
        if shape is None or shape.kind != "select" or not shape.user_tables:
            continue
        gap = abs(1 - child.calls / row_count)
        if gap < best_gap:
            best, best_gap = entry, gap
    return best


def _parents(entries: list[Entry]) -> list[tuple[int, Entry]]:
    """Statements returning several rows per call (lists a loop could walk), by rows returned."""
    found = [(entry.rows, entry) for entry in entries
             if entry.calls and entry.rows >= _PARENT_MIN_ROWS_PER_CALL * entry.calls]
    found.sort(key=lambda item: item[0])
    return found


def _hit(entry: Entry, shape: Shape, parent: Entry | None, calls_share: float, time_share: float,
         settings: dict[str, Any]) -> Hit:
    batch = max(int(settings.get("batch_size") or 100), 1)
    round_trip_ms = float(settings.get("round_trip_ms") or 0.0)
    rows_per_call = entry.rows / entry.calls
    per_call = f"{rows_per_call:.1f}" if rows_per_call >= 0.95 else f"{rows_per_call:.2f}"
    if parent is not None:
        batched_calls = parent.calls
        origin = (
            f"; its calls match the {parent.rows:,} rows returned by pg_stat_statements:{parent.queryid} "
            f"{quote(parent.query, 70)} in {parent.calls:,} call(s): a loop over those rows issues it once per row"
        )
        how = f"one batched query per run of the driving query ({batched_calls:,} instead of {entry.calls:,})"
    else:
        batched_calls = math.ceil(entry.calls / batch)
        origin = "; a loop over parent rows issuing one query per row is the usual cause"
        how = f"batching {batch} keys per query ({batched_calls:,} queries instead of {entry.calls:,})"
    if not entry.toplevel:
        origin += " (it runs nested, inside a function: the loop is in PL/pgSQL or SQL function code)"
    saved = entry.calls - batched_calls
    latency = ""
    if round_trip_ms and entry.toplevel:  # a nested loop runs inside the server: no network in between
        latency = f", ~{ms(saved * round_trip_ms)} of network latency at {number(round_trip_ms)} ms each"
    message = (
        f"N+1 query pattern: {quote(entry.query)} ran {entry.calls:,} times returning {per_call} row(s) "
        f"per call, one lookup by `{shape.key_filter}` each (mean {ms(entry.mean_exec_time)}, {percent(calls_share)} "
        f"of all calls, {percent(time_share)} of database time){origin}. {how.capitalize()} would save "
        f"{saved:,} round trips{latency}"
    ) + entry.also()
    column = shape.key_column or "the key"
    return Hit(
        message=message,
        help=(
            f"Fetch all keys at once: `WHERE {column} = ANY($1)` with an array of the parent keys, or join the table "
            "in the parent query (ORMs: eager loading such as select_related/prefetch_related, includes, joinedload)"
        ),
        fix=_fix(entry.query),
        target=target(entry),
        evidence={
            "queryid": entry.queryid, "queryids": list(entry.queryids), "calls": entry.calls, "rows": entry.rows,
            "rows_per_call": round(rows_per_call, 3), "mean_exec_time_ms": round(entry.mean_exec_time, 3),
            "calls_share": round(calls_share, 4), "time_share": round(time_share, 4),
            "key_filter": shape.key_filter, "round_trips_saved": saved,
            "driving_queryid": parent.queryid if parent is not None else None,
        },
    )


def _fix(text: str | None) -> Fix | None:
    """`column = $n` -> `column = ANY($n)`, where batching keeps the meaning (no LIMIT, grouping or DISTINCT)."""
    from sqlglot import exp

    from queryreview.sql.predicates import conjuncts, is_parameter, strip_parens

    tree = parse(text or "")
    if not isinstance(tree, exp.Select) or tree.args.get("where") is None:
        return None
    if any(tree.args.get(key) for key in ("limit", "offset", "group", "distinct", "having", "order", "fetch")):
        return None  # per-key LIMIT/aggregates change meaning when keys are batched: a LATERAL join is needed
    if tree.find(exp.AggFunc, exp.Window):
        return None
    for part in conjuncts(tree.args["where"].this):
        if not isinstance(part, exp.EQ):
            continue
        left, right = strip_parens(part.this), strip_parens(part.expression)
        for column, value in ((left, right), (right, left)):
            inner = value.this if isinstance(value, exp.Cast) else value
            if isinstance(column, exp.Column) and is_parameter(inner):
                array = inner.copy()
                if isinstance(value, exp.Cast):
                    array = exp.Cast(this=array, to=exp.DataType(this=exp.DataType.Type.ARRAY,
                                                                 expressions=[value.to.copy()], nested=True))
                part.replace(exp.EQ(this=column.copy(), expression=exp.Any(this=exp.Paren(this=array))))
                _select_key(tree, column)
                return Fix(
                    description="Fetch every key in one query: pass an array of the parent keys as the parameter "
                                "(the key column is selected so each row can be matched to its parent)",
                    sql=tree.sql(dialect="postgres"),
                )
    return None


def _select_key(select: Any, column: Any) -> None:
    """Add the key column to the select list unless it is there already (or a * covers it)."""
    from sqlglot import exp

    from queryreview.sql.predicates import unalias

    for projection in select.expressions:
        item = unalias(projection)
        if isinstance(item, exp.Star) or isinstance(item, exp.Column) and (
                isinstance(item.this, exp.Star) or item.name == column.name):
            return
    select.select(column.copy(), copy=False)
