"""QR503 concurrent-index-in-transaction: CONCURRENTLY index commands inside BEGIN … COMMIT fail."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import classify, context, statement_line

_COMMANDS = {"create_index": "CREATE INDEX", "drop_index": "DROP INDEX", "reindex": "REINDEX"}


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind not in _COMMANDS or not ddl.concurrently:
        return
    facts, position = context(raw, script)
    block = facts.block_at(position)
    if block is None:
        return
    command = _COMMANDS[ddl.kind]
    where = f" opened on line {statement_line(script, block)}" if script is not None else ""
    yield Hit(
        message=(
            f"{command} CONCURRENTLY inside a transaction block (the BEGIN{where} is still open): PostgreSQL "
            f'rejects it with "ERROR: {command} CONCURRENTLY cannot run inside a transaction block" and the '
            "whole migration rolls back"
        ),
        span=ddl.span,
        help=(f"Run {command} CONCURRENTLY outside BEGIN … COMMIT, in a migration of its own with the "
              "framework's transaction wrapping turned off"),
    )
