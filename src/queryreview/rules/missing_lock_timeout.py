"""QR513 missing-lock-timeout: a lock that blocks traffic, taken with no lock_timeout: the lock-queue outage."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import a_lock, blocks_traffic, classify, context, relation_locks, what_it_blocks


def check(raw: Statement, script: Script, settings: dict[str, Any]) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None:
        return
    facts, position = context(raw, script)
    if facts.first_unprotected_lock() != position:
        return  # reported once per script, at the first statement that needs the timeout
    lock = next(lock for lock in relation_locks(ddl)
                if blocks_traffic(lock.lock) and not facts.created_before(facts.locked_relation(ddl, lock, position), position))
    table = str(lock.relation) if lock.relation is not None else _index_table(ddl)
    timeout = str(settings.get("lock_timeout") or "5s")
    yield Hit(
        message=(
            f"{lock.why} takes {a_lock(lock.lock)} on {table}, which {what_it_blocks(lock.lock, table)}, and no "
            "lock_timeout is set earlier in this migration: if any transaction holds a lock on it, this statement "
            f"waits, and every query on {table} that arrives meanwhile queues behind it: waiting for the lock alone "
            "can stall the application"
        ),
        span=ddl.span,
        help=(f"Set lock_timeout first (SET lock_timeout = '{timeout}', or SET LOCAL inside the transaction) "
              "and retry the migration when it times out"),
        fix=Fix(f"Give up after {timeout} instead of queueing every query behind the lock",
                f"SET lock_timeout = '{timeout}';\n{raw.text}"),
    )


def _index_table(ddl) -> str:
    names = ", ".join(str(name) for name in ddl.indexes) or (str(ddl.index) if ddl.index else "")
    return f"the table of {names}" if names else "the table"
