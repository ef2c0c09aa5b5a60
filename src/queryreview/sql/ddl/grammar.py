"""The statement grammar: which DDL (or transaction / SET) a statement is, read from its words."""

from __future__ import annotations

import re
import weakref
from typing import Any

from queryreview.sql.ddl.clauses import (
    TABLE_CONSTRAINT_STARTS,
    read_action,
    read_column_def,
    read_index_key,
    read_table_constraint,
)
from queryreview.sql.ddl.locks import ACCESS_EXCLUSIVE
from queryreview.sql.ddl.reader import VALUE_TRUE, Reader, Stop, option_enabled, split
from queryreview.sql.ddl.statements import Constraint, ColumnDef, Ddl
from queryreview.sql.ddl.words import Name, ident, words

_OTHER_SPAN = (0, 0)
_HEADS = frozenset({
    "ALTER", "CREATE", "DROP", "REINDEX", "VACUUM", "CLUSTER", "SET", "RESET", "BEGIN", "START",
    "COMMIT", "END", "ROLLBACK", "ABORT", "LOCK", "TRUNCATE", "REFRESH", "PREPARE", "SELECT",
})
_FIRST_WORD = re.compile(r"[A-Za-z]+")
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
MISSING = object()


def classify(stmt: Any) -> Ddl | None:
    """What ``stmt`` (a model.Statement) does, or None for statements the migration rules ignore (queries…).

    Cached per statement: every migration rule asks, the words are read once."""
    cached = _CACHE.get(stmt, MISSING)
    if cached is not MISSING:
        return cached
    ddl = classify_text(stmt.text) if stmt.kind == "sql" else None
    _CACHE[stmt] = ddl
    return ddl


def classify_text(text: str) -> Ddl | None:
    """``classify`` for a statement's text: ``classify_text("VACUUM FULL t").full`` is True."""
    first = _FIRST_WORD.match(text)
    head = first.group().upper() if first else ""
    if head not in _HEADS or head == "SELECT" and "set_config" not in text.lower():
        return None
    found = words(text)
    if not found:
        return None
    try:
        return _Parser(found).statement()
    except Stop:
        return Ddl("other", _OTHER_SPAN)


class _Parser(Reader):
    """One method per statement family; each returns a Ddl or raises Stop."""

    def statement(self) -> Ddl:
        head = self.peek()
        if head is None:
            raise Stop
        start = head.start
        if self.at("BEGIN") or self.at_seq("START", "TRANSACTION"):
            return Ddl("begin", (start, self._head_end(2 if self.at("START") else 1)))
        if self.at("COMMIT", "END"):
            if self.at_seq("COMMIT", "PREPARED"):
                return Ddl("other", _OTHER_SPAN)
            return Ddl("commit", (start, head.end), chain=self._chain())
        if self.at("ROLLBACK", "ABORT"):
            self.i += 1
            self.take("WORK", "TRANSACTION")
            if self.at("TO", "PREPARED"):
                return Ddl("other", _OTHER_SPAN)  # ROLLBACK TO SAVEPOINT keeps the block open
            return Ddl("rollback", (start, head.end), chain=self._chain())
        if self.at_seq("PREPARE", "TRANSACTION"):
            return Ddl("commit", (start, head.end))
        if self.at("SET"):
            return self._set()
        if self.at("RESET"):
            self.i += 1
            setting = self.identifier()
            return Ddl("reset", (start, self.last_end()), setting=ident(setting).lower() if setting else None)
        if self.at("SELECT"):
            return self._set_config()
        if self.at("CREATE"):
            return self._create()
        if self.at("DROP"):
            return self._drop()
        if self.at_seq("ALTER", "TABLE"):
            return self._alter_table()
        if self.at("REINDEX"):
            return self._reindex()
        if self.at("VACUUM"):
            return self._vacuum()
        if self.at("CLUSTER"):
            return self._cluster()
        if self.at("LOCK"):
            return self._lock()
        if self.at("TRUNCATE"):
            self.i += 1
            self.take("TABLE")
            return Ddl("truncate", (start, self.last_end()), tables=self._name_list())
        if self.at_seq("REFRESH", "MATERIALIZED", "VIEW"):
            self.i += 3
            concurrently = bool(self.take("CONCURRENTLY"))
            name = self.name()
            return Ddl("refresh", (start, self.last_end()), table=name, concurrently=concurrently)
        return Ddl("other", _OTHER_SPAN)

    def _head_end(self, count: int) -> int:
        self.i += count
        return self.last_end()

    def _chain(self) -> bool:
        self.i = max(self.i, 1)
        while not self.done():
            if self.take_seq("AND", "NO", "CHAIN"):
                return False
            if self.take_seq("AND", "CHAIN"):
                return True
            self.i += 1
        return False

    # SET / RESET / set_config ----------------------------------------------------------------

    def _set(self) -> Ddl:
        start = self.peek().start
        self.i += 1
        local = bool(self.take("LOCAL"))
        if not local:
            self.take("SESSION")
        if self.take_seq("TIME", "ZONE"):
            return Ddl("set", (start, self.last_end()), setting="timezone", value=self._set_value(), local=local)
        if self.at("TRANSACTION", "CONSTRAINTS", "ROLE", "AUTHORIZATION"):
            return Ddl("other", _OTHER_SPAN)
        setting = self.name()
        if setting is None:
            return Ddl("other", _OTHER_SPAN)
        if not (self.take("TO") or self.take_punct("=")):
            return Ddl("other", _OTHER_SPAN)  # SET x FROM CURRENT
        value = self._set_value()
        return Ddl("set", (start, self.last_end()), setting=".".join(setting.parts).lower(), value=value, local=local)

    def _set_value(self) -> str | None:
        word = self.peek()
        if word is None:
            return None
        if word.key in ("DEFAULT", "LOCAL"):
            self.i += 1
            return None
        text = self.items[self.i :]
        self.i = len(self.items)
        if len(text) == 1:
            return text[0].text
        return " ".join(w.text for w in text)

    def _set_config(self) -> Ddl:
        """``SELECT set_config('lock_timeout', '5s', false)`` sets a parameter like SET does."""
        for position, word in enumerate(self.items):
            if word.key != "SET_CONFIG" or position + 1 >= len(self.items):
                continue
            self.i = position + 1
            arguments = self.group() or []
            parts = split(arguments)
            if len(parts) != 3 or any(len(part) != 1 for part in parts[:2]) or parts[0][0].kind != "string":
                continue
            setting, value, is_local = parts[0][0].text.lower(), parts[1][0], parts[2]
            if value.kind not in ("string", "number"):
                continue
            local = (is_local[0].key or is_local[0].text.upper()) in VALUE_TRUE
            return Ddl("set", (word.start, self.last_end()), setting=setting, value=value.text, local=local)
        return Ddl("other", _OTHER_SPAN)

    # CREATE ----------------------------------------------------------------------------------

    def _create(self) -> Ddl:
        start = self.peek().start
        self.i += 1
        self.take_seq("OR", "REPLACE")
        if self.at("UNIQUE", "INDEX"):
            return self._create_index(start)
        temporary = False
        if self.take("GLOBAL", "LOCAL"):
            temporary = True
        if self.take("TEMP", "TEMPORARY"):
            temporary = True
        self.take("UNLOGGED")
        if self.at("TABLE"):
            return self._create_table(start, temporary)
        self.take("RECURSIVE")
        if self.take("VIEW"):
            name = self.name()
            return Ddl("create_view", (start, self.last_end()), table=name, temporary=temporary)
        if self.take_seq("MATERIALIZED", "VIEW"):
            self.take_seq("IF", "NOT", "EXISTS")
            name = self.name()
            return Ddl("create_matview", (start, self.last_end()), table=name)
        if self.take("CONSTRAINT"):
            pass
        if self.take("TRIGGER"):
            while not self.done() and not self.at("ON"):
                self.i += 1
            if self.take("ON"):
                return Ddl("create_trigger", (start, self.last_end()), table=self.name())
        return Ddl("other", _OTHER_SPAN)

    def _create_index(self, start: int) -> Ddl:
        unique = bool(self.take("UNIQUE"))
        index_word = self.take("INDEX")
        concurrently = bool(self.take("CONCURRENTLY"))
        head_end = self.last_end()
        self.take_seq("IF", "NOT", "EXISTS")
        index = None if self.at("ON") else self.name()
        if not self.take("ON"):
            return Ddl("other", _OTHER_SPAN)
        only = bool(self.take("ONLY"))
        table = self.name()
        if table is None:
            raise Stop
        method = "btree"
        if self.take("USING"):
            method = ident(self.identifier()).lower()
        keys = tuple(read_index_key(part) for part in split(self.group() or []))
        predicate = None
        while not self.done():
            if self.take("WHERE"):
                rest = self.rest()
                predicate = " ".join(w.text if w.kind != "string" else f"'{w.text}'" for w in rest)
            else:
                self.skip_one()
        return Ddl(
            "create_index", (start, head_end), table=table, index=index, concurrently=concurrently,
            only=only, unique=unique, method=method, keys=keys, predicate=predicate,
            index_word_end=index_word.end if index_word else head_end,
        )

    def _create_table(self, start: int, temporary: bool) -> Ddl:
        self.take("TABLE")
        self.take_seq("IF", "NOT", "EXISTS")
        table = self.name()
        if table is None:
            raise Stop
        head = (start, table.end)
        if self.take_seq("PARTITION", "OF"):
            parent = self.name()
            elements = self.group() or []
            constraints = tuple(c for part in split(elements) if (c := read_table_constraint(Reader(part))))
            return Ddl("create_table", head, table=table, partition_of=parent, temporary=temporary,
                       constraints=constraints)
        if self.take("OF"):
            return Ddl("create_table", head, table=table, as_query=True, temporary=temporary)
        elements = self.group()
        rest = self.rest()
        if elements is None or any(word.key == "AS" for word in rest):
            return Ddl("create_table", head, table=table, as_query=True, temporary=temporary)
        columns: list[ColumnDef] = []
        constraints: list[Constraint] = []
        like = False
        for part in split(elements):
            reader = Reader(part)
            if reader.at("LIKE"):
                like = True
                continue
            constraint = read_table_constraint(reader) if reader.at(*TABLE_CONSTRAINT_STARTS) else None
            if constraint is not None:
                constraints.append(constraint)
                continue
            column = read_column_def(Reader(part))
            if column is not None:
                columns.append(column)
                constraints.extend(column.constraints)
        partitioned = any(word.key == "PARTITION" for word in rest)
        return Ddl("create_table", head, table=table, columns=tuple(columns), constraints=tuple(constraints),
                   like=like, temporary=temporary, partitioned=partitioned)

    # DROP ------------------------------------------------------------------------------------

    def _drop(self) -> Ddl:
        start = self.peek().start
        self.i += 1
        if self.at("INDEX"):
            index_word = self.take("INDEX")
            concurrently = bool(self.take("CONCURRENTLY"))
            head_end = self.last_end()
            if_exists = self.take_seq("IF", "EXISTS")
            indexes = self._name_list()
            cascade = bool(self.take("CASCADE"))
            return Ddl("drop_index", (start, head_end), indexes=indexes, concurrently=concurrently,
                       if_exists=if_exists, cascade=cascade, index_word_end=index_word.end)
        if self.take("TABLE"):
            head_end = self.last_end()
            if_exists = self.take_seq("IF", "EXISTS")
            tables = self._name_list()
            cascade = bool(self.take("CASCADE"))
            return Ddl("drop_table", (start, head_end), tables=tables, if_exists=if_exists, cascade=cascade)
        if self.take("TRIGGER"):
            self.take_seq("IF", "EXISTS")
            self.name()
            if self.take("ON"):
                return Ddl("drop_trigger", (start, self.last_end()), table=self.name())
        return Ddl("other", _OTHER_SPAN)

    def _name_list(self) -> tuple[Name, ...]:
        found = []
        while True:
            self.take("ONLY")
            name = self.name()
            if name is None:
                break
            found.append(name)
            self.take_punct("*")
            if self.at_punct("("):
                self.group()  # VACUUM t (columns)
            if not self.take_punct(","):
                break
        return tuple(found)

    # maintenance -----------------------------------------------------------------------------

    def _reindex(self) -> Ddl:
        start = self.peek().start
        self.i += 1
        options = self.group() or []
        concurrently = option_enabled(options, "CONCURRENTLY")
        target = self.take("INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM")
        concurrently = bool(self.take("CONCURRENTLY")) or concurrently
        head_end = self.last_end()
        name = self.name()
        kind = target.key if target else ""
        return Ddl("reindex", (start, head_end), target=kind, concurrently=concurrently,
                   index=name if kind == "INDEX" else None, table=name if kind == "TABLE" else None)

    def _vacuum(self) -> Ddl:
        start = self.peek().start
        self.i += 1
        options = self.group()
        if options is not None:
            full = option_enabled(options, "FULL")
        else:
            full = False
            while self.at("FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"):
                full = full or self.key() == "FULL"
                self.i += 1
        head_end = self.last_end()
        return Ddl("vacuum", (start, head_end), full=full, tables=self._name_list())

    def _cluster(self) -> Ddl:
        start = self.peek().start
        self.i += 1
        if self.group() is None:
            self.take("VERBOSE")
        head_end = self.last_end()
        table = self.name()
        index = None
        if self.take("USING"):
            index = self.name()
        elif self.take("ON") and table is not None:  # pre-8.3 form CLUSTER index ON table
            index, table = table, self.name()
        return Ddl("cluster", (start, head_end), table=table, tables=(table,) if table else (), index=index)

    def _lock(self) -> Ddl:
        start = self.peek().start
        self.i += 1
        self.take("TABLE")
        head_end = self.last_end()
        tables = self._name_list()
        mode = ACCESS_EXCLUSIVE
        if self.take("IN"):
            mode = " ".join(w.key for w in self.until(frozenset({"MODE"})))
            self.take("MODE")
        nowait = bool(self.take("NOWAIT"))
        return Ddl("lock", (start, head_end), tables=tables, lock_mode=mode, nowait=nowait)

    # ALTER TABLE -----------------------------------------------------------------------------

    def _alter_table(self) -> Ddl:
        start = self.peek().start
        self.i += 2
        if self.at("ALL"):
            return Ddl("other", _OTHER_SPAN)
        if_exists = self.take_seq("IF", "EXISTS")
        only = bool(self.take("ONLY"))
        table = self.name()
        if table is None:
            raise Stop
        self.take_punct("*")
        head = (start, table.end)
        actions = tuple(read_action(part) for part in split(self.rest()))
        return Ddl("alter_table", head, table=table, actions=actions, if_exists=if_exists, only=only)
