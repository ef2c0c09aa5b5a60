"""What the rewrite checks share: a candidate rewrite, where NULL and false mean the same, column facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from queryreview.catalog import Catalog
from queryreview.model import Statement
from queryreview.sql.predicates import from_items, is_base_table, strip_parens, table_name
from queryreview.sql.resolve import ColumnRef, column_not_null, column_type, resolver_for

EQUIVALENT = "Same rows as the original (equivalence property-tested on PostgreSQL, NULLs and duplicates included)"
TEMPLATE = "Template, not an equivalent rewrite"
_QUERIES = (exp.Select, exp.Update, exp.Delete)


@dataclass(frozen=True)
class Candidate:
    """One rewrite of one statement, before costing.

    ``rejected`` says why it is not offered (it is then listed as "considered, rejected");
    ``sql`` may still hold the rewrite for the reader to judge.
    """

    code: str  # the finding's rule code (QR105…)
    title: str  # "NOT IN → NOT EXISTS"
    sql: str | None
    reason: str
    table: str | None = None
    template: bool = False  # not equivalent by construction (keyset pagination)
    rejected: str | None = None


def truth_context(node: exp.Expression) -> bool:
    """Only whether ``node`` is true matters, not whether it is false or NULL: it is reached from a
    WHERE, HAVING or JOIN … ON through AND, OR and parentheses only (not NOT, CASE, the select list)."""
    child, parent = node, node.parent
    while isinstance(parent, (exp.And, exp.Or, exp.Paren)):
        child, parent = parent, parent.parent
    if isinstance(parent, (exp.Where, exp.Having)):
        return True
    return isinstance(parent, exp.Join) and child.arg_key == "on"


@dataclass(frozen=True)
class ColumnFacts:
    """A bare column resolved to a catalog table: its type (lower case, as format_type prints it) and
    whether it can be NULL where it is read (NOT NULL, and not on the nullable side of an outer join)."""

    table: str
    type: str
    not_null: bool


def column_facts(stmt: Statement, catalog: Catalog | None, node: Any) -> ColumnFacts | None:
    """Facts of ``node`` when it is a bare column the catalog knows, else None."""
    column = strip_parens(node)
    if catalog is None or not isinstance(column, exp.Column):
        return None
    resolver = resolver_for(stmt, catalog)
    ref = resolver.resolve(column)
    if ref is None or ref.table is None:
        return None
    definition = ref.table.column(ref.column)
    if definition is None:
        return None
    not_null = column_not_null(definition) and not _outer_joined(ref)
    return ColumnFacts(ref.table.qualified_name, column_type(definition), not_null)


def _outer_joined(ref: ColumnRef) -> bool:
    """May an outer join fill this source's columns with NULLs? (Conservative: any RIGHT/FULL join in its scope.)"""
    join = ref.source.join
    if join is not None and (join.side or "").upper() in ("LEFT", "FULL"):
        return True
    scope_node = ref.source.node.parent
    while scope_node is not None and not isinstance(scope_node, _QUERIES):
        scope_node = scope_node.parent
    joins = scope_node.args.get("joins") or () if scope_node is not None else ()
    return any((other.side or "").upper() in ("RIGHT", "FULL") for other in joins)


INTEGER_TYPES = frozenset({"smallint", "integer", "bigint", "int2", "int4", "int8", "int", "serial", "bigserial",
                           "smallserial"})
# Integer types a `$n - 1` (an integer parameter) covers
SMALL_INTEGER_TYPES = frozenset({"smallint", "integer", "int2", "int4", "int", "serial", "smallserial"})


def base_type(type_name: str) -> str:
    """``numeric(10,2)`` -> ``numeric``, ``character varying(20)`` -> ``character varying``."""
    return type_name.split("(", 1)[0].strip()


def is_date_or_timestamp(type_name: str) -> bool:
    return base_type(type_name) in ("date", "timestamp", "timestamp without time zone", "timestamptz",
                                    "timestamp with time zone")


def is_exact_number(type_name: str) -> bool:
    return base_type(type_name) in INTEGER_TYPES | {"numeric", "decimal"}


def main_table(node: exp.Expression | None, catalog: Catalog | None) -> str | None:
    """The first table read by the query ``node`` is in (or is: a statement's root), schema-qualified when the
    catalog knows it."""
    query = node
    while isinstance(query, (exp.Union, exp.Except, exp.Intersect, exp.Insert, exp.Subquery)):
        query = query.args.get("expression") if isinstance(query, exp.Insert) else query.this
    while query is not None and not isinstance(query, _QUERIES):
        query = query.parent
    if query is None:
        return None
    for item in from_items(query):
        if is_base_table(item):
            name = table_name(item)
            found = catalog.table(name) if catalog is not None else None
            return found.qualified_name if found is not None else name
    return None
