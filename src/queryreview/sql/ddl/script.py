"""What came before in the same script: transaction blocks, lock_timeout, new tables, indexes, NOT NULL proofs."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Sequence

from queryreview.sql.ddl.grammar import MISSING, classify
from queryreview.sql.ddl.locks import RelationLock, blocks_traffic, relation_locks
from queryreview.sql.ddl.statements import Constraint, Ddl
from queryreview.sql.ddl.words import Name


@dataclass(frozen=True)
class ScriptIndex:
    """An index the script creates: CREATE INDEX, or a PRIMARY KEY / UNIQUE constraint."""

    table: Name
    keys: tuple[str | None, ...]
    method: str = "btree"
    predicate: str | None = None
    at: int = 0  # statement index
    name: str | None = None


@dataclass(frozen=True)
class NotNullProof:
    """A valid constraint proving ``column`` NOT NULL (a CHECK with ``col IS NOT NULL``, or a NOT NULL
    constraint), valid from statement ``valid_from`` until ``valid_until`` (dropped), exclusive."""

    table: Name
    column: str
    name: str | None
    valid_from: int | None  # None: added NOT VALID and not validated (yet)
    valid_until: int | None = None


@dataclass
class ScriptFacts:
    ddls: list[Ddl | None]
    open_begin: list[int | None]  # the BEGIN whose block is open when statement i runs
    lock_timeout: list[bool]  # a non-zero lock_timeout is in force when statement i runs
    timezone_utc: list[bool | None]  # the session TimeZone is UTC (None: not set by the script)
    created: list[tuple[Name, int]] = field(default_factory=list)  # relations the script creates
    introduced: list[tuple[Name, int]] = field(default_factory=list)  # created, or renamed to
    indexes: list[ScriptIndex] = field(default_factory=list)
    proofs: list[NotNullProof] = field(default_factory=list)
    added_not_valid: list[tuple[Name, str | None, int]] = field(default_factory=list)  # (table, constraint, at)
    added_columns: list[tuple[Name, str, int]] = field(default_factory=list)  # ADD COLUMN (table, column, at)
    _first_unprotected: int | None | object = MISSING

    def created_before(self, name: Name | None, index: int) -> bool:
        """The script created this relation before statement ``index``: it is new, empty and unused."""
        return name is not None and any(at < index and made.matches(name) for made, at in self.created)

    def introduced_before(self, name: Name | None, index: int) -> bool:
        """No deployed code can use this name yet: the script created it, or renamed something to it."""
        return name is not None and any(at < index and made.matches(name) for made, at in self.introduced)

    def block_at(self, index: int) -> int | None:
        """The statement index of the BEGIN whose transaction block is open at statement ``index``."""
        return self.open_begin[index] if 0 <= index < len(self.open_begin) else None

    def timeout_at(self, index: int) -> bool:
        return self.lock_timeout[index] if 0 <= index < len(self.lock_timeout) else False

    def utc_at(self, index: int) -> bool | None:
        return self.timezone_utc[index] if 0 <= index < len(self.timezone_utc) else None

    def column_added_before(self, table: Name, column: str, index: int) -> bool:
        return any(at < index and name == column and added.matches(table) for added, name, at in self.added_columns)

    def not_valid_addition(self, table: Name, constraint: str | None, index: int) -> int | None:
        """Where the script added constraint ``constraint`` of ``table`` NOT VALID before statement ``index``."""
        found = [at for added, name, at in self.added_not_valid
                 if at < index and name is not None and name == constraint and added.matches(table)]
        return found[-1] if found else None

    def index_table(self, index_name: str, before: int) -> Name | None:
        """The table of an index this script created (by name) before statement ``before``."""
        found = [index.table for index in self.indexes if index.name == index_name and index.at < before]
        return found[-1] if found else None

    def indexes_on(self, table: Name) -> list[ScriptIndex]:
        return [index for index in self.indexes if index.table.matches(table)]

    def proves_not_null(self, table: Name, column: str, index: int) -> bool:
        return any(
            proof.column == column and proof.table.matches(table)
            and proof.valid_from is not None and proof.valid_from < index
            and (proof.valid_until is None or index < proof.valid_until)
            for proof in self.proofs
        )

    def locked_relation(self, ddl: Ddl, lock: RelationLock, position: int) -> Name | None:
        """The relation a lock falls on; for DROP INDEX / REINDEX INDEX, the table of an index the script created."""
        if lock.relation is not None:
            return lock.relation
        names = ddl.indexes or ((ddl.index,) if ddl.index is not None else ())
        tables = [self.index_table(name.name, position) for name in names]
        return tables[0] if tables and all(t is not None for t in tables) and all(
            self.created_before(t, position) for t in tables) else None

    def first_unprotected_lock(self) -> int | None:
        """The first statement taking a traffic-blocking lock on an existing table while no
        lock_timeout is in force."""
        if self._first_unprotected is MISSING:
            self._first_unprotected = None
            for position, ddl in enumerate(self.ddls):
                if ddl is None or self.lock_timeout[position]:
                    continue
                if any(blocks_traffic(lock.lock) and not self.created_before(self.locked_relation(ddl, lock, position), position)
                       for lock in relation_locks(ddl)):
                    self._first_unprotected = position
                    break
        return self._first_unprotected  # type: ignore[return-value]


_FACTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ZERO = re.compile(r"^\s*0+(\.0*)?\s*(us|ms|s|min|h|d)?\s*$", re.IGNORECASE)
_UTC_ZONES = frozenset({"utc", "etc/utc", "gmt", "etc/gmt", "uct", "etc/uct", "zulu", "etc/zulu", "universal",
                        "etc/universal", "z", "greenwich", "etc/greenwich", "+00", "-00", "0"})


def script_facts(script: Any) -> ScriptFacts:
    """Facts about ``script`` (a model.Script), computed once for all the rules that ask."""
    cached = _FACTS.get(script)
    if cached is None:
        cached = compute_facts([classify(stmt) for stmt in script.statements])
        _FACTS[script] = cached
    return cached


def context(stmt: Any, script: Any) -> tuple[ScriptFacts, int]:
    """The facts of ``stmt``'s script and its position there (a script of its own when it has none)."""
    if script is not None and 0 <= stmt.index < len(script.statements) and script.statements[stmt.index] is stmt:
        return script_facts(script), stmt.index
    return compute_facts([classify(stmt)]), 0


@dataclass
class _Setting:
    """A session setting across transaction boundaries: SET LOCAL ends with the block, SET is undone by ROLLBACK."""

    session: Any = None
    local: Any = MISSING
    saved: Any = None

    def current(self) -> Any:
        return self.session if self.local is MISSING else self.local

    def set(self, value: Any, local: bool, in_block: bool) -> None:
        if local:
            if in_block:
                self.local = value  # outside a block SET LOCAL only warns and does nothing
        else:
            self.session, self.local = value, MISSING

    def begin(self) -> None:
        self.saved = self.session

    def end(self, committed: bool) -> None:
        if not committed:
            self.session = self.saved
        self.local = MISSING


def compute_facts(ddls: list[Ddl | None]) -> ScriptFacts:
    facts = ScriptFacts(ddls, [], [], [])
    in_block: int | None = None
    lock_timeout = _Setting(False)
    timezone = _Setting(None)
    settings = {"lock_timeout": lock_timeout, "timezone": timezone}
    for position, ddl in enumerate(ddls):
        facts.open_begin.append(in_block)
        facts.lock_timeout.append(bool(lock_timeout.current()))
        facts.timezone_utc.append(timezone.current())
        if ddl is None:
            continue
        kind = ddl.kind
        if kind == "begin" and in_block is None:
            in_block = position
            for setting in settings.values():
                setting.begin()
        elif kind in ("commit", "rollback"):
            for setting in settings.values():
                setting.end(kind == "commit")
                if ddl.chain:
                    setting.begin()
            in_block = position if ddl.chain and in_block is not None else None
        elif kind in ("set", "reset") and ddl.setting in settings:
            setting = settings[ddl.setting]
            value = _setting_value(ddl.setting, ddl.value if kind == "set" else None)
            setting.set(value, ddl.local, in_block is not None)
        elif kind == "reset" and ddl.setting == "all":
            lock_timeout.set(False, False, in_block is not None)
            timezone.set(None, False, in_block is not None)
        _record_relations(facts, ddl, position)
    return facts


def _setting_value(setting: str, value: str | None) -> Any:
    if setting == "lock_timeout":
        return value is not None and not _ZERO.match(value)
    return is_utc(value)


def is_utc(zone: str | None) -> bool | None:
    """Whether a TimeZone setting is UTC (zero offset, no daylight saving); None when unknown."""
    if zone is None:
        return None
    return zone.strip().lower() in _UTC_ZONES


def _record_relations(facts: ScriptFacts, ddl: Ddl, position: int) -> None:
    kind = ddl.kind
    if kind in ("create_table", "create_matview") and ddl.table is not None:
        facts.created.append((ddl.table, position))
        facts.introduced.append((ddl.table, position))
        for constraint in ddl.constraints:
            _record_constraint(facts, ddl.table, constraint, position)
    elif kind == "create_index" and ddl.table is not None and not ddl.only:
        name = ddl.index.name if ddl.index is not None else None
        facts.indexes.append(ScriptIndex(ddl.table, ddl.keys, ddl.method, ddl.predicate, position, name))
    elif kind == "alter_table" and ddl.table is not None:
        for action in ddl.actions:
            if action.constraint is not None:
                _record_constraint(facts, ddl.table, action.constraint, position)
                if action.constraint.not_valid:
                    facts.added_not_valid.append((ddl.table, action.constraint.name, position))
            elif action.column_def is not None:
                facts.added_columns.append((ddl.table, action.column_def.name, position))
                for constraint in action.column_def.constraints:
                    _record_constraint(facts, ddl.table, constraint, position)
            elif action.kind == "validate_constraint":
                _validate(facts, ddl.table, action.name, position)
            elif action.kind == "drop_constraint":
                _drop_proofs(facts, ddl.table, action.name, position)
            elif action.kind == "rename_table" and action.name:
                renamed = Name(ddl.table.parts[:-1] + (action.name,), action.span[0], action.span[1])
                facts.introduced.append((renamed, position))
                if facts.created_before(ddl.table, position + 1):
                    facts.created.append((renamed, position))


def _record_constraint(facts: ScriptFacts, table: Name, constraint: Constraint, position: int) -> None:
    if constraint.kind in ("primary_key", "unique") and constraint.columns:
        facts.indexes.append(ScriptIndex(table, constraint.columns, "btree", None, position, constraint.name))
    proven = constraint.not_null_columns if constraint.kind == "check" else ()
    if constraint.kind == "not_null":
        proven = constraint.columns
    for column in proven:
        # NOT VALID proves nothing until VALIDATE CONSTRAINT (recorded then)
        facts.proofs.append(NotNullProof(table, column, constraint.name, None if constraint.not_valid else position))


def _validate(facts: ScriptFacts, table: Name, name: str | None, position: int) -> None:
    for number, proof in enumerate(facts.proofs):
        if proof.name == name and proof.table.matches(table) and proof.valid_from is None:
            facts.proofs[number] = NotNullProof(proof.table, proof.column, proof.name, position, proof.valid_until)


def _drop_proofs(facts: ScriptFacts, table: Name, name: str | None, position: int) -> None:
    for number, proof in enumerate(facts.proofs):
        if proof.name == name and proof.table.matches(table) and proof.valid_until is None:
            facts.proofs[number] = NotNullProof(proof.table, proof.column, proof.name, proof.valid_from, position)


_IS_NOT_NULL = re.compile(r'"?([^"\s()]+)"?\s+is\s+not\s+null', re.IGNORECASE)


def index_serves(keys: Sequence[str | None], method: str, predicate: str | None, columns: Sequence[str]) -> bool:
    """An index whose leading keys are exactly ``columns`` (any order) serves the foreign-key lookup
    ``col1 = $1 AND col2 = $2``; a partial one only when its predicate is ``col IS NOT NULL``
    (PostgreSQL proves that from the equality), as QR203 judges catalog indexes."""
    if method not in ("btree", "hash"):
        return False
    leading = list(keys[: len(columns)])
    if None in leading or len(leading) != len(columns) or set(leading) != set(columns):
        return False
    if method == "hash" and len(keys) != 1:
        return False
    if predicate is None:
        return True
    for part in re.split(r"\s+and\s+", predicate, flags=re.IGNORECASE):
        match = _IS_NOT_NULL.fullmatch(part.strip().strip("()").strip())
        if match is None or match.group(1) not in columns:
            return False
    return True


def statement_line(script: Any, index: int) -> int:
    """1-based line of statement ``index`` of a script, for messages that point back at it."""
    statement = script.statements[index]
    return statement.source.position(statement.start)[0]


def alter_of_existing_table(stmt: Any, script: Any, *, introduced: bool = False) -> tuple[Any, ScriptFacts, int] | None:
    """(ddl, facts, position) for an ALTER TABLE of a table that existed before this script, else None.

    A table created earlier in the script does not count (it is empty); with ``introduced``,
    neither does one renamed into place (no deployed code uses its name yet).
    """
    ddl = classify(stmt)  # cached per statement: the cheap first test for the rules calling this
    if ddl is None or ddl.kind != "alter_table" or ddl.table is None:
        return None
    facts, position = context(stmt, script)
    seen_here = facts.introduced_before if introduced else facts.created_before
    if seen_here(ddl.table, position):
        return None
    return ddl, facts, position
