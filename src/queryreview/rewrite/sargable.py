"""QR103's sargable rewrites, offered only where the column's and the values' types make them exact.

The rule rewrites ``date(ts) = X`` to a half-open range, ``extract(year from ts) = Y`` to a
year's range, ``col + k > X`` to ``col > X - k`` and ``coalesce(c, v) = w`` to a test on
``c``. Each is exact only for some types: a range over a text column compares strings,
``x + 0.1`` in floating point does not undo exactly, adding a day or a month to a
``timestamptz`` is not a fixed shift across daylight-saving changes. So a rewrite is offered
only when the catalog (or the function itself) pins the types down; otherwise it is listed
as rejected, with what would make it safe.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlglot import exp

from queryreview.catalog import Catalog
from queryreview.model import Hit, Statement
from queryreview.rewrite.common import (
    EQUIVALENT,
    SMALL_INTEGER_TYPES,
    Candidate,
    base_type,
    column_facts,
    is_date_or_timestamp,
    is_exact_number,
    main_table,
    truth_context,
)
from queryreview.sql.predicates import columns, is_parameter, render, strip_parens

_COMPARISONS = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
# Interval units that are a fixed number of microseconds (days, weeks, months and years are not, in a time zone)
_FIXED_UNITS = frozenset("""microsecond microseconds us usec usecs millisecond milliseconds ms msec msecs second seconds
sec secs s minute minutes min mins m hour hours hr hrs h""".split())
_UNIT_WORD = re.compile(r"[a-z]+")
_TITLE = "non-sargable predicate → sargable range"


def non_sargable_predicate(stmt: Statement, hit: Hit, catalog: Catalog | None) -> Candidate | None:
    comparison = hit.node
    if hit.fix is None or not hit.fix.sql or not isinstance(comparison, _COMPARISONS):
        return None
    wrapped, bounds = _wrapped(comparison)
    if wrapped is None:
        return None
    table = main_table(comparison, catalog)
    verdict = _verdict(stmt, comparison, wrapped, bounds, catalog)
    if verdict.startswith("not offered"):
        return Candidate("QR103", _TITLE, hit.fix.sql, table=table, reason="", rejected=verdict)
    return Candidate("QR103", _TITLE, hit.fix.sql, table=table,
                     reason=f"{hit.fix.description}. {EQUIVALENT}: {verdict}")


def _wrapped(comparison: exp.Expression) -> tuple[Any, list[Any]]:
    """(the side that wraps a column, the values it is compared with)."""
    if isinstance(comparison, exp.Between):
        return strip_parens(comparison.this), [comparison.args.get("low"), comparison.args.get("high")]
    left, right = strip_parens(comparison.this), strip_parens(comparison.expression)
    if not isinstance(left, exp.Column) and columns(left):
        return left, [right]
    if not isinstance(right, exp.Column) and columns(right):
        return right, [left]
    return None, []


def _verdict(stmt: Statement, comparison: exp.Expression, wrapped: Any, bounds: list[Any],
             catalog: Catalog | None) -> str:
    """Why the rewrite is exact, or "not offered: …"."""
    if isinstance(wrapped, (exp.TimestampTrunc, exp.DateTrunc, exp.Date)) or _is_date_cast(wrapped):
        return _day(stmt, wrapped, bounds, catalog)
    if isinstance(wrapped, exp.Extract):
        return _year(stmt, wrapped, catalog)
    if isinstance(wrapped, (exp.Add, exp.Sub)):
        return _arithmetic(stmt, wrapped, bounds, catalog)
    if isinstance(wrapped, exp.Coalesce):
        return _coalesce(stmt, comparison, wrapped, bounds, catalog)
    return "not offered: no exactness argument for this kind of expression"


def _is_date_cast(node: Any) -> bool:
    return isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DATE)


def _needs_catalog(column: str, what: str) -> str:
    return f"not offered: needs a database catalog to confirm that {column} is {what}"


def _day(stmt: Statement, wrapped: Any, bounds: list[Any], catalog: Catalog | None) -> str:
    column = strip_parens(wrapped.this)
    name = render(column)
    facts = column_facts(stmt, catalog, column)
    if facts is not None and not is_date_or_timestamp(facts.type):
        return f"not offered: {name} is {facts.type}, and a range over it would not compare as dates"
    if facts is None and not isinstance(wrapped, (exp.TimestampTrunc, exp.DateTrunc)):
        # date(text_col) and text_col::date are valid casts: only the catalog can tell
        return _needs_catalog(name, "a date or timestamp (a range over a text column compares strings)")
    kinds = [_date_value(bound) for bound in bounds]
    if None in kinds:
        return ("not offered: a compared value is not known to be a date (a literal 'YYYY-MM-DD', a $n parameter, "
                "current_date or a date cast); with a time of day in it the range would start at that time")
    note = " (with $n bound to a date, as the original compares it)" if "parameter" in kinds else ""
    return f"{name} is a date or timestamp, and the range covers exactly the same days{note}"


def _date_value(node: Any) -> str | None:
    node = strip_parens(node)
    if is_parameter(node):
        return "parameter"
    if isinstance(node, exp.Literal) and node.is_string and _DATE_TEXT.fullmatch(node.name):
        return "date"
    if isinstance(node, exp.CurrentDate) or _is_date_cast(node):
        return "date"
    if isinstance(node, (exp.Add, exp.Sub)):
        base, offset = strip_parens(node.this), strip_parens(node.expression)
        if (isinstance(base, exp.CurrentDate) or _is_date_cast(base)) and isinstance(offset, exp.Literal) \
                and offset.is_int:
            return "date"
    return None


def _year(stmt: Statement, wrapped: exp.Extract, catalog: Catalog | None) -> str:
    column = strip_parens(wrapped.expression)
    name = render(column)
    facts = column_facts(stmt, catalog, column)
    if facts is None:
        return _needs_catalog(name, "a date or timestamp (extract works on intervals too)")
    if not is_date_or_timestamp(facts.type):
        return f"not offered: {name} is {facts.type}, not a date or timestamp"
    return f"{name} is {facts.type}, and the year's range holds exactly the rows whose year matches"


def _arithmetic(stmt: Statement, wrapped: exp.Expression, bounds: list[Any], catalog: Catalog | None) -> str:
    left, right = strip_parens(wrapped.this), strip_parens(wrapped.expression)
    column, offset = (left, right) if isinstance(left, exp.Column) else (right, left)
    name = render(column)
    facts = column_facts(stmt, catalog, column)
    if facts is None:
        return _needs_catalog(name, "of an exact type (integer, numeric, timestamptz): floating-point arithmetic "
                              "does not undo exactly")
    kind = base_type(facts.type)
    if isinstance(offset, exp.Literal) and not offset.is_string:
        if kind == "date" and offset.is_int:
            return _typed_bounds(name, kind, bounds, (exp.CurrentDate,), exp.DataType.Type.DATE)
        if not is_exact_number(kind):
            return f"not offered: {name} is {facts.type}: arithmetic on it does not undo exactly"
        for bound in bounds:
            bound = strip_parens(bound)
            if is_parameter(bound) and kind not in SMALL_INTEGER_TYPES:
                return (f"not offered: `$n - {render(offset)}` would make the parameter an integer, "
                        f"narrower than {name}'s {facts.type}")
            if not is_parameter(bound) and not _numeric_constant(bound):
                return "not offered: the compared value is not a number literal or parameter"
        return f"{name} is {facts.type}: adding and subtracting a constant undo each other exactly"
    if isinstance(offset, exp.Interval):
        if not _fixed_interval(offset):
            return (f"not offered: `{render(offset)}` is not a fixed length of time (a day, month or year depends "
                    "on the date and on daylight-saving changes), so moving it to the other side is not exact")
        if kind in ("timestamptz", "timestamp with time zone"):
            return _typed_bounds(name, kind, bounds, (exp.CurrentTimestamp,), exp.DataType.Type.TIMESTAMPTZ)
        if kind in ("timestamp", "timestamp without time zone"):
            return _typed_bounds(name, kind, bounds, (exp.Localtimestamp,), exp.DataType.Type.TIMESTAMP)
        return f"not offered: {name} is {facts.type}, not a timestamp"
    return "not offered: the offset is neither a number nor an interval literal"


def _typed_bounds(name: str, kind: str, bounds: list[Any], functions: tuple[type, ...],
                  cast: exp.DataType.Type) -> str:
    """Bounds of the column's own type, so the arithmetic moved to them is the same arithmetic."""
    for bound in bounds:
        bound = strip_parens(bound)
        if isinstance(bound, functions) or (isinstance(bound, exp.Cast) and bound.to.is_type(cast)):
            continue
        return (f"not offered: `{render(bound)}` is not known to be a {kind} (for example "
                f"`$1::{kind}`), and arithmetic on another type may not undo exactly")
    return f"{name} is {kind} and the compared values are too: the shift is exact"


def _fixed_interval(interval: exp.Interval) -> bool:
    unit = interval.args.get("unit")
    words = [unit.name.lower()] if unit is not None else _UNIT_WORD.findall(interval.this.name.lower())
    return all(word in _FIXED_UNITS for word in words)


def _numeric_constant(node: Any) -> bool:
    node = strip_parens(node)
    if isinstance(node, exp.Neg):
        return _numeric_constant(node.this)
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        return _numeric_constant(node.this) and _numeric_constant(node.expression)
    return isinstance(node, exp.Literal) and not node.is_string


def _coalesce(stmt: Statement, comparison: exp.Expression, wrapped: exp.Coalesce, bounds: list[Any],
              catalog: Catalog | None) -> str:
    column = strip_parens(wrapped.this)
    default, value = strip_parens(wrapped.expressions[0]), strip_parens(bounds[0])
    if render(default) == render(value):
        return f"coalesce({render(column)}, v) = v is true exactly when {render(column)} = v or it is NULL"
    # The rule then drops the NULL case: right only if the fallback cannot equal the value,
    # and only where a NULL result counts as false.
    facts = column_facts(stmt, catalog, column)
    if facts is None:
        return _needs_catalog(render(column), "of a type where the fallback and the value are distinct")
    if not _distinct_literals(default, value, base_type(facts.type)):
        return (f"not offered: the fallback {render(default)} may equal {render(value)} for {facts.type}, and "
                f"then rows where {render(column)} is NULL would be lost")
    if not truth_context(comparison):
        return ("not offered: the comparison is used where NULL and false differ (under NOT, in a CASE or the "
                "select list)")
    return (f"the fallback {render(default)} never equals {render(value)}, so rows where {render(column)} is NULL "
            "never matched")


def _distinct_literals(default: Any, value: Any, kind: str) -> bool:
    if not isinstance(default, exp.Literal) or not isinstance(value, exp.Literal):
        return False
    if is_exact_number(kind) and not default.is_string and not value.is_string:
        try:
            return Decimal(default.name) != Decimal(value.name)
        except InvalidOperation:
            return False
    if kind in ("text", "character varying", "varchar") and default.is_string and value.is_string:
        return default.name != value.name
    return False
