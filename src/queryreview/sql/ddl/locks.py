"""Lock modes, what each blocks, and the table locks a statement takes (as pg_locks shows them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from queryreview.sql.ddl.statements import Action, Constraint, Ddl, Reference
    from queryreview.sql.ddl.words import Name

ACCESS_SHARE = "ACCESS SHARE"
ROW_SHARE = "ROW SHARE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
LOCK_RANK = {
    ACCESS_SHARE: 1, ROW_SHARE: 2, ROW_EXCLUSIVE: 3, SHARE_UPDATE_EXCLUSIVE: 4,
    SHARE: 5, SHARE_ROW_EXCLUSIVE: 6, EXCLUSIVE: 7, ACCESS_EXCLUSIVE: 8,
}


def blocks_traffic(lock: str | None) -> bool:
    """SHARE and stronger conflict with ROW EXCLUSIVE: they stop the application's writes (or more)."""
    return lock is not None and LOCK_RANK.get(lock, 0) >= LOCK_RANK[SHARE]


def what_it_blocks(lock: str, table: str) -> str:
    """``blocks all reads and writes on orders`` — what the lock stops while it is held or awaited."""
    if lock == ACCESS_EXCLUSIVE:
        return f"blocks all reads and writes on {table}"
    if lock == EXCLUSIVE:
        return f"blocks writes and SELECT … FOR UPDATE/SHARE on {table} (plain reads continue)"
    if lock in (SHARE, SHARE_ROW_EXCLUSIVE):
        return f"blocks writes (INSERT/UPDATE/DELETE) on {table} (reads continue)"
    return f"does not block reads or writes on {table}"


def a_lock(lock: str) -> str:
    """``an ACCESS EXCLUSIVE lock`` / ``a SHARE lock``."""
    return f"{'an' if lock[0] in 'AEIOU' else 'a'} {lock} lock"


def strongest(locks: Sequence[str]) -> str | None:
    return max(locks, key=lambda lock: LOCK_RANK.get(lock, 0)) if locks else None


@dataclass(frozen=True)
class RelationLock:
    """A lock a statement takes on a relation; ``relation`` None when text cannot name it (DROP INDEX)."""

    relation: Name | None
    lock: str
    why: str  # what takes it, for messages: "ALTER TABLE", "the new foreign key"…


def relation_locks(ddl: Ddl) -> list[RelationLock]:
    """The table-level locks ``ddl`` takes, as PostgreSQL documents them (and as pg_locks shows)."""
    kind = ddl.kind
    found: list[RelationLock] = []
    if kind == "create_index" and ddl.table is not None:
        found.append(RelationLock(ddl.table, SHARE_UPDATE_EXCLUSIVE if ddl.concurrently else SHARE, "CREATE INDEX"))
    elif kind == "drop_index":
        found.append(RelationLock(None, SHARE_UPDATE_EXCLUSIVE if ddl.concurrently else ACCESS_EXCLUSIVE, "DROP INDEX"))
    elif kind == "reindex" and ddl.target in ("INDEX", "TABLE"):
        lock = SHARE_UPDATE_EXCLUSIVE if ddl.concurrently else SHARE
        found.append(RelationLock(ddl.table, lock, "REINDEX"))
    elif kind == "alter_table" and ddl.table is not None:
        lock = strongest([action.lock for action in ddl.actions])
        if lock is not None:
            found.append(RelationLock(ddl.table, lock, "ALTER TABLE"))
        for action in ddl.actions:
            reference = _action_reference(action)
            if reference is not None:
                found.append(RelationLock(reference.table, SHARE_ROW_EXCLUSIVE, "the new foreign key"))
            if action.kind in ("attach_partition", "detach_partition") and action.target is not None:
                lock = SHARE_UPDATE_EXCLUSIVE if action.concurrently else ACCESS_EXCLUSIVE
                found.append(RelationLock(action.target, lock, action.kind.replace("_", " ").upper()))
    elif kind == "create_table":
        for constraint in ddl.constraints:
            if constraint.kind == "foreign_key" and constraint.reference is not None:
                found.append(RelationLock(constraint.reference.table, SHARE_ROW_EXCLUSIVE, "the new foreign key"))
        if ddl.partition_of is not None:
            found.append(RelationLock(ddl.partition_of, ACCESS_EXCLUSIVE, "CREATE TABLE … PARTITION OF"))
    elif kind in ("drop_table", "truncate"):
        found.extend(RelationLock(table, ACCESS_EXCLUSIVE, kind.replace("_", " ").upper()) for table in ddl.tables)
    elif kind == "vacuum" and ddl.full:
        found.extend(RelationLock(table, ACCESS_EXCLUSIVE, "VACUUM FULL") for table in ddl.tables)
    elif kind == "cluster":
        found.extend(RelationLock(table, ACCESS_EXCLUSIVE, "CLUSTER") for table in ddl.tables)
    elif kind == "lock" and not ddl.nowait and ddl.lock_mode in LOCK_RANK:
        found.extend(RelationLock(table, ddl.lock_mode, "LOCK TABLE") for table in ddl.tables)
    elif kind == "create_trigger" and ddl.table is not None:
        found.append(RelationLock(ddl.table, SHARE_ROW_EXCLUSIVE, "CREATE TRIGGER"))
    elif kind == "drop_trigger" and ddl.table is not None:
        found.append(RelationLock(ddl.table, ACCESS_EXCLUSIVE, "DROP TRIGGER"))
    elif kind == "refresh" and ddl.table is not None:
        found.append(RelationLock(ddl.table, EXCLUSIVE if ddl.concurrently else ACCESS_EXCLUSIVE, "REFRESH MATERIALIZED VIEW"))
    return found


def _action_reference(action: Action) -> Reference | None:
    if action.constraint is not None and action.constraint.kind == "foreign_key":
        return action.constraint.reference
    if action.column_def is not None:
        constraint = action.column_def.constraint("foreign_key")
        return constraint.reference if constraint is not None else None
    return None


def foreign_keys(ddl: Ddl) -> list[tuple[Name, Constraint]]:
    """New foreign keys of a CREATE TABLE or ALTER TABLE: (referencing table, constraint)."""
    if ddl.table is None:
        return []
    if ddl.kind == "create_table":
        found = list(ddl.constraints)
    else:
        found = []
        for action in ddl.actions:
            if action.constraint is not None:
                found.append(action.constraint)
            elif action.column_def is not None:
                found.extend(action.column_def.constraints)
    return [(ddl.table, c) for c in found if c.kind == "foreign_key" and c.reference is not None]
