"""Fraction of a table's rows a predicate keeps, from pg_stats, as PostgreSQL's planner reckons it.

    equality_fraction(table, "status", "'open'")   # 0.02 from most_common_freqs
    range_fraction(table, "created_at", ">", "2024-06-01")

Used to order index keys (most selective equality first), to spot rare values worth a
partial index, and by the estimate costing when no what-if server is available.
Defaults are the planner's own when statistics are missing (DEFAULT_EQ_SEL 0.005,
DEFAULT_INEQ_SEL 1/3, DEFAULT_RANGE_INEQ_SEL 0.005).
"""

from __future__ import annotations

import bisect
from typing import Any

from sqlglot import exp

from queryreview.catalog import ColumnStats, Table
from queryreview.sql.predicates import strip_parens

DEFAULT_EQ = 0.005
DEFAULT_INEQ = 1 / 3
DEFAULT_RANGE = 0.005


def literal_text(node: Any) -> str | None:
    """The text of a literal value, through casts: ``CAST('1998-09-02' AS date)`` -> ``1998-09-02``; else None."""
    node = strip_parens(node)
    while isinstance(node, (exp.Cast, exp.TryCast)):
        node = strip_parens(node.this)
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    if isinstance(node, exp.Neg) and isinstance(strip_parens(node.this), exp.Literal):
        return "-" + str(strip_parens(node.this).this)
    return None


def equality_fraction(table: Table, column: str, value: str | None) -> float:
    """``column = value`` (value None: a parameter or an outer column, any value)."""
    stats = table.column_stat(column)
    if stats is None:
        return DEFAULT_EQ
    distinct = stats.distinct_values(table.rows)
    mcv = stats.most_common_vals or ()
    freqs = stats.most_common_freqs or ()
    if value is not None and mcv and value in mcv:
        return float(freqs[mcv.index(value)])
    if value is None:
        return (1.0 - stats.null_frac) / distinct if distinct >= 1 else DEFAULT_EQ
    rest = max(1.0 - sum(freqs) - stats.null_frac, 0.0)
    others = distinct - len(mcv)
    if others < 1:
        return min(rest, DEFAULT_EQ) if mcv else DEFAULT_EQ
    return min(rest / others, min(freqs) if freqs else 1.0)


def null_fraction(table: Table, column: str) -> float:
    stats = table.column_stat(column)
    return stats.null_frac if stats is not None else DEFAULT_EQ


def range_fraction(table: Table, column: str, operator: str, value: str | None) -> float:
    """``column <op> value`` from the histogram (``<``, ``<=``, ``>``, ``>=``); 1/3 when it cannot tell."""
    stats = table.column_stat(column)
    if stats is None or value is None or not stats.histogram_bounds:
        return DEFAULT_INEQ
    below = _fraction_below(stats, value)
    if below is None:
        return DEFAULT_INEQ
    keep = below if operator in ("<", "<=") else 1.0 - below
    return min(max(keep * (1.0 - stats.null_frac), 1e-4), 1.0)


def between_fraction(table: Table, column: str, low: str | None, high: str | None) -> float:
    stats = table.column_stat(column)
    if stats is None or low is None or high is None or not stats.histogram_bounds:
        return DEFAULT_RANGE
    lower, upper = _fraction_below(stats, low), _fraction_below(stats, high)
    if lower is None or upper is None:
        return DEFAULT_RANGE
    return min(max(upper - lower, 1e-4), 1.0)


def distinct_fraction(table: Table, column: str) -> float:
    """1 / distinct values: the share one value of a join or parameter picks."""
    return equality_fraction(table, column, None)


def _fraction_below(stats: ColumnStats, value: str) -> float | None:
    bounds = stats.histogram_bounds or ()
    keyed = _comparable(bounds)
    probe = _comparable((value,))
    if keyed is None or probe is None or type(keyed[0]) is not type(probe[0]):
        return None
    position = bisect.bisect_left(keyed, probe[0])
    return position / max(len(keyed) - 1, 1) if len(keyed) > 1 else 0.5


def _comparable(values: tuple[str, ...]) -> list[Any] | None:
    """Numbers as floats; anything else (ISO dates and times sort as text) as text."""
    try:
        return [float(value) for value in values]
    except (TypeError, ValueError):
        pass
    if all(isinstance(value, str) for value in values):
        return list(values)
    return None
