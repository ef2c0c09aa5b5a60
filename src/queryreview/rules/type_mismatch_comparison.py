"""QR209 type-mismatch-comparison: a value of another type family makes PostgreSQL cast the column."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator

from sqlglot import exp

from queryreview.catalog import Catalog, Index
from queryreview.model import Fix, Hit, Statement
from queryreview.sql.predicates import is_constant, render, strip_parens
from queryreview.sql.resolve import (
    ColumnRef,
    column_type,
    key_columns,
    read_indexes,
    resolver_for,
    rows_text,
    table_rows,
)

_FAMILIES = {
    "int": {"smallint", "integer", "bigint", "int", "int2", "int4", "int8", "smallserial", "serial", "bigserial"},
    "numeric": {"numeric", "decimal"},
    "float": {"real", "double precision", "float4", "float8", "float"},
    "text": {"text"},
    "varchar": {"character varying", "varchar"},
    "bpchar": {"character", "char", "bpchar"},
}
_TYPE_FAMILY = {name: family for family, names in _FAMILIES.items() for name in names}
_DTYPE_FAMILY = {
    "DECIMAL": "numeric",
    "DOUBLE": "float",
    "FLOAT": "float",
    "TEXT": "text",
    "VARCHAR": "varchar",
    "CHAR": "bpchar",
    "BPCHAR": "bpchar",
    "INT": "int",
    "BIGINT": "int",
    "SMALLINT": "int",
}
# (column family, value family) -> the type PostgreSQL compares in; the column is cast to it.
# Checked on PostgreSQL 15 with EXPLAIN: everything else either has a cross-type operator in
# the column's btree operator family (int4 = int8, float4 = numeric, timestamp = timestamptz,
# date = timestamp, text = varchar, bpchar = varchar) or is an error (text = integer, uuid = text).
_CASTS_COLUMN = {
    ("int", "numeric"): "numeric",
    ("int", "float"): "double precision",
    ("numeric", "float"): "double precision",
    ("bpchar", "text"): "text",
    ("varchar", "bpchar"): "bpchar",
}
_COMPARISONS = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def check(stmt: Statement, catalog: Catalog) -> Iterator[Hit]:
    resolver = resolver_for(stmt, catalog)
    for node in stmt.nodes(*_COMPARISONS, exp.In, exp.Between):
        if node.arg_key == "expressions" and isinstance(node.parent, (exp.Update, exp.OnConflict)):
            continue  # SET col = value is an assignment (an assignment cast), not a comparison
        for column, values in _operands(node):
            typed = [(value, family) for value in values if (family := _value_family(value)) is not None]
            if not typed:
                continue  # the common case: nothing typed against the column, no need to resolve it
            ref = resolver.resolve(column)
            if ref is None or ref.table is None:
                continue
            column_family = _column_family(ref)
            for value, value_family in typed:
                compared_as = _CASTS_COLUMN.get((column_family or "", value_family))
                if compared_as is None:
                    continue
                index = _index_on(read_indexes(catalog, ref.table), ref.column)
                if index is not None:
                    yield _hit(stmt, catalog, node, ref, value, compared_as, index)
                break


def _operands(node: exp.Expression) -> Iterator[tuple[exp.Expression, list[exp.Expression]]]:
    """(bare column, values compared with it) for each orientation of a comparison."""
    if isinstance(node, exp.In):
        if isinstance(strip_parens(node.this), exp.Column) and not node.args.get("query"):
            yield strip_parens(node.this), list(node.expressions)
        return
    if isinstance(node, exp.Between):
        if isinstance(strip_parens(node.this), exp.Column):
            yield strip_parens(node.this), [node.args["low"], node.args["high"]]
        return
    for column, value in ((node.this, node.expression), (node.expression, node.this)):
        column, value = strip_parens(column), strip_parens(value)
        if isinstance(column, exp.Column):
            if isinstance(value, exp.Any):  # col = ANY($1::numeric[])
                value = strip_parens(value.this)
            yield column, [value]


def _column_family(ref: ColumnRef) -> str | None:
    assert ref.table is not None
    column = ref.table.column(ref.column)
    if column is None:
        return None
    text = column_type(column)
    if text.endswith("]"):
        return None  # arrays compare element-wise: out of scope
    return _TYPE_FAMILY.get(re.sub(r"\s*\(.*\)$", "", text))


def _value_family(value: Any) -> str | None:
    value = strip_parens(value)
    if isinstance(value, exp.Neg):
        value = strip_parens(value.this)
    if isinstance(value, exp.Literal) and not value.is_string:
        return "numeric" if re.search(r"[.eE]", value.this) else None
    if isinstance(value, (exp.Cast, exp.TryCast)) and is_constant(value.this):
        return _dtype_family(value.args.get("to"))
    if isinstance(value, exp.Array):
        families = {_value_family(item) for item in value.expressions}
        return "numeric" if "numeric" in families else None
    return None


def _dtype_family(data_type: Any) -> str | None:
    if not isinstance(data_type, exp.DataType):
        return None
    name = getattr(data_type.this, "name", str(data_type.this))
    if name == "ARRAY" and data_type.expressions:
        return _dtype_family(data_type.expressions[0])  # $1::numeric[] inside ANY(...)
    return _DTYPE_FAMILY.get(name)


def _index_on(indexes: list[Index], column: str) -> Index | None:
    for index in indexes:
        if index.valid and column in key_columns(index):
            return index
    return None


def _hit(
    stmt: Statement,
    catalog: Catalog,
    node: exp.Expression,
    ref: ColumnRef,
    value: exp.Expression,
    compared_as: str,
    index: Index,
) -> Hit:
    table = ref.table
    assert table is not None
    declared = column_type(table.column(ref.column))  # type: ignore[arg-type]
    message = (
        f"`{render(node)}` compares {declared} column {table.name}.{ref.column} with a {compared_as} value: "
        f"PostgreSQL casts the column to {compared_as} on every row, so index {index.name} cannot be used "
        f"({table.name}: {rows_text(table_rows(catalog, table))} rows)"
    )
    whole = _integral_literal(value)
    if whole is not None:
        fixed = _replace(stmt, value, exp.Literal.number(whole))
        return Hit(
            message=message,
            node=node,
            help=f"Write the value as an integer: {whole}",
            fix=Fix(f"Compare {ref.column} with {whole}", fixed),
        )
    if isinstance(strip_parens(value), (exp.Literal, exp.Neg)):
        help_ = (
            f"Compare with a value of the column's type ({declared}): an integer column never equals a "
            f"fraction; round a bound instead (`> 1.5` is `>= 2`)"
        )
    else:
        help_ = f"Cast the value to the column's type, not to another: `$1::{declared}`, or no cast at all"
    return Hit(message=message, node=node, help=help_)


def _integral_literal(value: Any) -> str | None:
    """``1.0`` / ``1e3`` / ``-2.00`` -> their integer text; None for ``1.5`` and non-literals."""
    value = strip_parens(value)
    negative = isinstance(value, exp.Neg)
    literal = strip_parens(value.this) if negative else value
    if not isinstance(literal, exp.Literal) or literal.is_string:
        return None
    try:
        number = Decimal(literal.this)
    except InvalidOperation:
        return None
    if number != number.to_integral_value():
        return None
    return str(-int(number) if negative else int(number))


def _replace(stmt: Statement, old: exp.Expression, new: exp.Expression) -> str | None:
    """The statement with ``old`` replaced, as PostgreSQL text (the tree is copied, never changed)."""
    if stmt.ast is None:
        return None
    order = [id(n) for n in stmt.ast.walk()]
    try:
        position = order.index(id(strip_parens(old)))
    except ValueError:
        return None
    copy = stmt.ast.copy()
    target = list(copy.walk())[position]
    target.replace(new)
    return copy.sql(dialect="postgres")
