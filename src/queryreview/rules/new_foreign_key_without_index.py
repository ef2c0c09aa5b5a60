"""QR517 new-foreign-key-without-index: a foreign key on a table this migration creates, with no index for it."""

from __future__ import annotations

from typing import Iterator

from queryreview.catalog import Table
from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import Constraint, Name, ScriptFacts, classify, context, foreign_keys, index_serves
from queryreview.sql.resolve import index_name, quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind not in ("create_table", "alter_table") or ddl.temporary:
        return
    facts, position = context(raw, script)
    for table, constraint in foreign_keys(ddl):
        # only where the script shows every index: on a table it creates (an existing table may have one: QR520)
        if not facts.created_before(table, position + 1) or not constraint.columns:
            continue
        if _served(facts, table, constraint):
            continue
        yield _hit(raw, table, constraint)


def _served(facts: ScriptFacts, table: Name, constraint: Constraint) -> bool:
    """Any index the migration creates on the table (before or after the key) leads with the key's columns."""
    return any(index_serves(index.keys, index.method, index.predicate, constraint.columns)
               for index in facts.indexes_on(table))


def _hit(raw: Statement, table: Name, constraint: Constraint) -> Hit:
    columns = ", ".join(quote_ident(c) for c in constraint.columns)
    reference = constraint.reference
    target = f"{reference.table}({', '.join(quote_ident(c) for c in reference.columns)})" if reference.columns else str(reference.table)
    name = index_name(None, Table(schema=table.schema or "public", name=table.name), list(constraint.columns))
    written = raw.text[table.start : table.end] if table.start < len(raw.text) else str(table)
    sql = f"CREATE INDEX {quote_ident(name)} ON {written} ({columns})"
    return Hit(
        message=(
            f"Foreign key ({columns}) of {table} -> {target} has no index leading with {columns}: every DELETE or "
            f"key UPDATE on {reference.table} scans {table} to check it, and joins from {reference.table} to {table} "
            "cannot use an index"
        ),
        span=constraint.span,
        help=f"Index the referencing columns in the same migration: {sql}",
        fix=Fix(f"Index {table}({columns}) (the table is new: no CONCURRENTLY needed)", sql),
    )
