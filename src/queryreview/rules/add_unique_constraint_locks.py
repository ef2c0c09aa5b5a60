"""QR508 add-unique-constraint-locks: ADD UNIQUE / PRIMARY KEY builds its index under ACCESS EXCLUSIVE."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import ACCESS_EXCLUSIVE, Constraint, Ddl, alter_of_existing_table, what_it_blocks
from queryreview.sql.resolve import NAMEDATALEN, quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    found = alter_of_existing_table(raw, script)
    if found is None:
        return
    ddl, facts, position = found
    table = str(ddl.table)
    for action in ddl.actions:
        constraints = [action.constraint] if action.constraint is not None else (
            list(action.column_def.constraints) if action.column_def is not None else [])
        for constraint in constraints:
            if constraint.kind not in ("unique", "primary_key") or constraint.using_index or not constraint.columns:
                continue
            yield _hit(raw, ddl, constraint, table, from_column=action.kind == "add_column")


def _hit(raw: Statement, ddl: Ddl, constraint: Constraint, table: str, from_column: bool) -> Hit:
    columns = ", ".join(quote_ident(c) for c in constraint.columns)
    kind = "PRIMARY KEY" if constraint.kind == "primary_key" else "UNIQUE"
    label = f"ADD CONSTRAINT {quote_ident(constraint.name)} {kind}" if constraint.name else f"ADD {kind}"
    extra = " (and scans it to make the key columns NOT NULL)" if constraint.kind == "primary_key" else ""
    message = (
        f"{label} ({columns}) builds its unique index while holding an ACCESS EXCLUSIVE lock on {table}{extra}: "
        f"it {what_it_blocks(ACCESS_EXCLUSIVE, table)} for the whole index build"
    )
    if from_column:
        return Hit(message=message, span=constraint.span,
                   help=f"Add the column first, then CREATE UNIQUE INDEX CONCURRENTLY and ADD CONSTRAINT … {kind} USING INDEX")
    return Hit(message=message, span=constraint.span, fix=_fix(raw, ddl, constraint, kind))


def _fix(raw: Statement, ddl: Ddl, constraint: Constraint, kind: str) -> Fix:
    table = raw.text[ddl.table.start : ddl.table.end]
    name = constraint.name or _default_name(ddl.table.name, constraint)
    index = quote_ident(name)
    columns = ", ".join(quote_ident(c) for c in constraint.columns)
    sql = (f"CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table} ({columns});\n"
           f"ALTER TABLE {table} ADD CONSTRAINT {index} {kind} USING INDEX {index}")
    return Fix("Build the unique index concurrently, then attach it as the constraint (a brief lock)", sql)


def _default_name(table: str, constraint: Constraint) -> str:
    """PostgreSQL's choice: orders_pkey, orders_email_key."""
    parts = [table, "pkey"] if constraint.kind == "primary_key" else [table, *constraint.columns, "key"]
    return "_".join(parts).encode()[: NAMEDATALEN - 1].decode("utf-8", "ignore")

