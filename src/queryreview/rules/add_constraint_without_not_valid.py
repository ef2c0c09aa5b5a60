"""QR507 add-constraint-without-not-valid: a new FOREIGN KEY or CHECK is validated by a full scan under lock."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import (
    ACCESS_EXCLUSIVE,
    Action,
    Constraint,
    Ddl,
    ScriptFacts,
    alter_of_existing_table,
    statement_line,
    what_it_blocks,
)
from queryreview.sql.resolve import NAMEDATALEN, quote_ident


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    found = alter_of_existing_table(raw, script)
    if found is None:
        return  # an empty table created earlier in this migration: validating it reads nothing
    ddl, facts, position = found
    table = str(ddl.table)
    for action in ddl.actions:
        if action.kind == "add_constraint" and action.constraint.kind in ("foreign_key", "check"):
            if not action.constraint.not_valid:
                yield _added(raw, ddl, action.constraint, table)
        elif action.kind == "add_column":
            yield from _added_with_column(raw, ddl, action, table)
        elif action.kind == "validate_constraint":
            hit = _validated_too_early(facts, ddl, action, position, script, table)
            if hit is not None:
                yield hit


def _added(raw: Statement, ddl: Ddl, constraint: Constraint, table: str) -> Hit:
    name = constraint.name or _default_name(ddl.table.name, constraint)
    fixed = raw.text[: constraint.span[1]] + " NOT VALID" + raw.text[constraint.span[1] :]
    if constraint.name is None:
        start = constraint.span[0]
        fixed = fixed[:start] + f"CONSTRAINT {quote_ident(name)} " + fixed[start:]
    written = raw.text[ddl.table.start : ddl.table.end]
    fix = Fix(
        "Add the constraint NOT VALID, then validate it in a separate transaction",
        f"{fixed};\nALTER TABLE {written} VALIDATE CONSTRAINT {quote_ident(name)}",
    )
    return Hit(message=_message(raw, constraint, table), span=constraint.span, fix=fix)


def _expression(raw: Statement, constraint: Constraint) -> str:
    span = constraint.expression_span
    return raw.text[span[0] : span[1]] if span else constraint.expression or ""


def _message(raw: Statement, constraint: Constraint, table: str) -> str:
    label = f"ADD CONSTRAINT {quote_ident(constraint.name)}" if constraint.name else "ADD"
    if constraint.kind == "foreign_key":
        referenced = str(constraint.reference.table) if constraint.reference else "the referenced table"
        return (
            f"{label} FOREIGN KEY without NOT VALID checks every row of {table} against {referenced} while "
            f"holding SHARE ROW EXCLUSIVE locks on both: it blocks writes (INSERT/UPDATE/DELETE) on {table} and "
            f"{referenced} for the whole scan"
        )
    return (
        f"{label} CHECK {_expression(raw, constraint)} without NOT VALID scans all of {table} while holding an "
        f"ACCESS EXCLUSIVE lock: it {what_it_blocks(ACCESS_EXCLUSIVE, table)} for the whole scan"
    )


def _added_with_column(raw: Statement, ddl: Ddl, action: Action, table: str) -> Iterator[Hit]:
    """ADD COLUMN … CHECK (…) scans the table; ADD COLUMN … REFERENCES scans it when a DEFAULT fills the column
    (a new column of NULLs needs no check). Column constraints cannot be NOT VALID: split the statement."""
    column = action.column_def
    name = quote_ident(column.name)
    for constraint in column.constraints:
        if constraint.kind == "check":
            what, against = f"CHECK {_expression(raw, constraint)}", ""
        elif constraint.kind == "foreign_key" and column.default_words and column.default_words[0].key != "NULL":
            referenced = str(constraint.reference.table)
            default = raw.text[column.default_words[0].start : column.default_words[-1].end]
            what, against = f"DEFAULT {default} REFERENCES {referenced}", f" against {referenced}"
        else:
            continue
        yield Hit(
            message=(
                f"ADD COLUMN {name} … {what} checks every row of {table}{against} while holding an ACCESS EXCLUSIVE "
                f"lock: it {what_it_blocks(ACCESS_EXCLUSIVE, table)} for the whole scan"
            ),
            span=constraint.span,
            help=("Add the column without the constraint, then ADD CONSTRAINT … NOT VALID and VALIDATE CONSTRAINT "
                  "in a separate transaction"),
        )


def _validated_too_early(facts: ScriptFacts, ddl: Ddl, action: Action, position: int, script: Script | None,
                         table: str) -> Hit | None:
    """VALIDATE CONSTRAINT in the same transaction as its ADD … NOT VALID: the ADD's lock is still held."""
    added = facts.not_valid_addition(ddl.table, action.name, position)
    block = facts.block_at(position)
    if added is None or block is None or facts.block_at(added) != block:
        return None
    line = statement_line(script, added) if script is not None else 1
    return Hit(
        message=(
            f"VALIDATE CONSTRAINT {quote_ident(action.name)} runs in the same transaction as its ADD … NOT VALID "
            f"(line {line}): the lock the ADD took on {table} is held until COMMIT, so the validating scan "
            "blocks the application just as a plain ADD CONSTRAINT would"
        ),
        span=action.span,
        help="COMMIT after the ADD … NOT VALID and validate in a later transaction (or a later migration)",
    )


def _default_name(table: str, constraint: Constraint) -> str:
    """A name in PostgreSQL's style: orders_customer_id_fkey, orders_check."""
    columns = list(constraint.columns) if constraint.kind == "foreign_key" else []
    suffix = "fkey" if constraint.kind == "foreign_key" else "check"
    name = "_".join([table, *columns, suffix])
    return name.encode()[: NAMEDATALEN - 1].decode("utf-8", "ignore")

