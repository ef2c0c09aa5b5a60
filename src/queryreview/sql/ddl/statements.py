"""What a statement is: the dataclasses the grammar fills and the rules read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from queryreview.sql.ddl.words import Name, Word

SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


@dataclass(frozen=True)
class Reference:
    """``REFERENCES customers (id)``: the target of a foreign key."""

    table: Name
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Constraint:
    """A table constraint (``CONSTRAINT x FOREIGN KEY (a) REFERENCES …``), or one lifted from a column."""

    kind: str  # primary_key | unique | foreign_key | check | exclude | not_null
    name: str | None
    span: tuple[int, int]
    columns: tuple[str, ...] = ()
    reference: Reference | None = None
    expression: str | None = None  # CHECK (…) text, parentheses included, as words render it
    expression_span: tuple[int, int] | None = None  # where the parenthesized CHECK expression is written
    not_null_columns: tuple[str, ...] = ()  # columns a CHECK proves NOT NULL (``col IS NOT NULL`` conjuncts)
    not_valid: bool = False
    using_index: str | None = None
    from_column: bool = False  # written as a column constraint


@dataclass(frozen=True)
class ColumnDef:
    name: str
    span: tuple[int, int]  # the whole definition
    name_span: tuple[int, int]
    type: str  # as written, lower-cased, whitespace collapsed: "character varying(20)", "int[]"
    type_span: tuple[int, int]
    default: str | None = None
    default_span: tuple[int, int] | None = None  # DEFAULT … (keyword included)
    default_words: tuple[Word, ...] = ()
    generated: str | None = None  # stored | virtual | identity
    generated_span: tuple[int, int] | None = None
    not_null: bool = False
    constraints: tuple[Constraint, ...] = ()  # PRIMARY KEY / UNIQUE / REFERENCES / CHECK written on the column

    @property
    def serial(self) -> bool:
        return self.type in SERIAL_TYPES

    def constraint(self, kind: str) -> Constraint | None:
        return next((c for c in self.constraints if c.kind == kind), None)


@dataclass(frozen=True)
class Action:
    """One sub-command of ALTER TABLE (or the statement's single RENAME/SET SCHEMA/ATTACH form)."""

    kind: str
    span: tuple[int, int]
    lock: str
    column: str | None = None
    column_def: ColumnDef | None = None
    constraint: Constraint | None = None
    name: str | None = None  # constraint name (VALIDATE / DROP CONSTRAINT), new name (RENAME)
    new_type: str | None = None
    new_type_span: tuple[int, int] | None = None
    using: tuple[Word, ...] | None = None  # ALTER … TYPE … USING expression
    target: Name | None = None  # ATTACH / DETACH PARTITION
    if_exists: bool = False
    concurrently: bool = False


@dataclass(frozen=True)
class Ddl:
    """What one statement does. ``span`` covers its head (``CREATE UNIQUE INDEX``, ``ALTER TABLE orders``)."""

    kind: str
    span: tuple[int, int]
    table: Name | None = None
    tables: tuple[Name, ...] = ()  # DROP TABLE / TRUNCATE / LOCK / VACUUM / CLUSTER targets
    index: Name | None = None  # CREATE INDEX name, REINDEX INDEX target
    indexes: tuple[Name, ...] = ()  # DROP INDEX targets
    concurrently: bool = False
    if_exists: bool = False
    only: bool = False
    unique: bool = False
    temporary: bool = False
    cascade: bool = False
    nowait: bool = False
    full: bool = False  # VACUUM FULL
    method: str = "btree"
    keys: tuple[str | None, ...] = ()  # CREATE INDEX keys: column names, None for expressions
    predicate: str | None = None  # CREATE INDEX … WHERE
    index_word_end: int = 0  # CREATE/DROP INDEX: where " CONCURRENTLY" goes
    actions: tuple[Action, ...] = ()
    columns: tuple[ColumnDef, ...] = ()
    constraints: tuple[Constraint, ...] = ()  # CREATE TABLE: table constraints and lifted column ones
    partition_of: Name | None = None
    partitioned: bool = False  # CREATE TABLE … PARTITION BY
    as_query: bool = False  # CREATE TABLE … AS / typed table OF: no column list to judge
    like: bool = False
    target: str = ""  # REINDEX: INDEX | TABLE | SCHEMA | DATABASE | SYSTEM
    setting: str | None = None  # SET / RESET / set_config: parameter name, lower case
    value: str | None = None  # None: DEFAULT / RESET
    local: bool = False
    lock_mode: str | None = None  # LOCK TABLE … IN … MODE
    chain: bool = False  # COMMIT / ROLLBACK AND CHAIN

    def actions_of(self, *kinds: str) -> Iterator[Action]:
        return (action for action in self.actions if action.kind in kinds)
