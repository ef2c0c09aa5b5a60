"""Clauses inside CREATE TABLE and ALTER TABLE: column definitions, constraints, ALTER TABLE actions."""

from __future__ import annotations

from typing import Sequence

from queryreview.sql.ddl.locks import ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE
from queryreview.sql.ddl.reader import Reader, closes_at_end, names, span_of, split_and
from queryreview.sql.ddl.statements import Action, ColumnDef, Constraint, Reference
from queryreview.sql.ddl.words import Word, ident, render_words, words


def read_index_key(part: Sequence[Word]) -> str | None:
    """A CREATE INDEX key: the column name, or None for an expression."""
    if not part or part[0].kind not in ("word", "quoted"):
        return None
    if len(part) > 1 and part[1].kind == "punct":
        return None  # lower(email), a.b, a + b
    return part[0].text


TABLE_CONSTRAINT_STARTS = ("CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "FOREIGN", "EXCLUDE")
_COLUMN_STOPS = frozenset({
    "CONSTRAINT", "NOT", "NULL", "CHECK", "DEFAULT", "GENERATED", "UNIQUE", "PRIMARY", "REFERENCES",
    "COLLATE", "COMPRESSION", "STORAGE", "DEFERRABLE", "INITIALLY", "ENFORCED",
})


def _skip_index_parameters(reader: Reader) -> None:
    while True:
        if reader.take("INCLUDE") or reader.take("WITH"):
            reader.group()
        elif reader.take_seq("USING", "INDEX", "TABLESPACE"):
            reader.identifier()
        elif reader.take_seq("NULLS", "NOT", "DISTINCT") or reader.take_seq("NULLS", "DISTINCT"):
            pass
        else:
            return


def _references(reader: Reader) -> Reference | None:
    """After REFERENCES: the target, and past MATCH / ON DELETE / ON UPDATE clauses."""
    table = reader.name()
    if table is None:
        return None
    columns = names(reader.group())
    while True:
        if reader.take("MATCH"):
            reader.identifier()
        elif reader.take_seq("ON", "DELETE") or reader.take_seq("ON", "UPDATE"):
            if reader.take("SET"):
                reader.take("NULL", "DEFAULT")
                reader.group()
            elif not reader.take_seq("NO", "ACTION"):
                reader.take("RESTRICT", "CASCADE")
        else:
            return Reference(table, columns)


def _constraint_tail(reader: Reader) -> bool:
    """DEFERRABLE / INITIALLY … / NOT VALID / [NOT] ENFORCED / NO INHERIT after a constraint; True if NOT VALID."""
    not_valid = False
    while True:
        if reader.take_seq("NOT", "VALID"):
            not_valid = True
        elif reader.take_seq("NOT", "DEFERRABLE") or reader.take_seq("NOT", "ENFORCED") or reader.take_seq("NO", "INHERIT"):
            pass
        elif reader.take("DEFERRABLE", "ENFORCED"):
            pass
        elif reader.take("INITIALLY"):
            reader.take("DEFERRED", "IMMEDIATE")
        else:
            return not_valid


def read_table_constraint(reader: Reader) -> Constraint | None:
    first = reader.peek()
    if first is None:
        return None
    name = None
    if reader.take("CONSTRAINT"):
        name = ident(reader.identifier())
    columns: tuple[str, ...] = ()
    reference = None
    expression = None
    not_null_columns: tuple[str, ...] = ()
    using_index = None
    expression_span = None
    if reader.take("CHECK"):
        kind = "check"
        opening = reader.peek()
        inner = reader.group() or []
        expression = _check_text(inner)
        expression_span = (opening.start, reader.last_end()) if opening is not None else None
        not_null_columns = not_null_columns_of(inner)
    elif reader.take_seq("NOT", "NULL"):
        kind = "not_null"
        columns = (ident(reader.identifier()),)
    elif reader.at("UNIQUE") or reader.at_seq("PRIMARY", "KEY"):
        kind = "unique" if reader.take("UNIQUE") else "primary_key"
        if kind == "primary_key":
            reader.take_seq("PRIMARY", "KEY")
        reader.take_seq("NULLS", "NOT", "DISTINCT") or reader.take_seq("NULLS", "DISTINCT")
        if reader.take_seq("USING", "INDEX"):
            using_index = ident(reader.identifier())
        else:
            columns = names(reader.group())
            _skip_index_parameters(reader)
    elif reader.at("EXCLUDE") and (reader.key(1) == "USING" or reader.peek(1) is not None and reader.peek(1).text == "("):
        reader.take("EXCLUDE")
        kind = "exclude"
        if reader.take("USING"):
            reader.identifier()
        reader.group()
        _skip_index_parameters(reader)
        if reader.take("WHERE"):
            reader.group()
    elif reader.take_seq("FOREIGN", "KEY"):
        kind = "foreign_key"
        columns = names(reader.group())
        if reader.take("REFERENCES"):
            reference = _references(reader)
    else:
        return None
    not_valid = _constraint_tail(reader)
    return Constraint(kind, name, (first.start, reader.last_end()), columns, reference, expression,
                      expression_span, not_null_columns, not_valid, using_index)


def _check_text(inner: Sequence[Word]) -> str:
    return "(" + render_words(inner) + ")"


def not_null_columns_of(inner: Sequence[Word]) -> tuple[str, ...]:
    """Columns a CHECK expression proves NOT NULL: its top-level ``col IS NOT NULL`` conjuncts."""
    found = []
    for conjunct in split_and(inner):
        while len(conjunct) > 2 and conjunct[0].text == "(" and closes_at_end(conjunct):
            conjunct = conjunct[1:-1]
        keys = [w.key for w in conjunct]
        if len(conjunct) >= 4 and keys[-3:] == ["IS", "NOT", "NULL"] and conjunct[0].kind in ("word", "quoted"):
            # col IS NOT NULL, or table.col IS NOT NULL
            head = conjunct[:-3]
            if len(head) == 1 or len(head) == 3 and head[1].text == ".":
                found.append(head[-1].text)
    return tuple(found)


def read_column_def(reader: Reader) -> ColumnDef | None:
    name_word = reader.identifier()
    if name_word is None:
        return None
    type_words = reader.until(_COLUMN_STOPS)
    if not type_words:
        return None
    type_text = render_words(type_words)
    default = None
    default_span = None
    default_words: tuple[Word, ...] = ()
    generated = None
    generated_span = None
    not_null = False
    constraints: list[Constraint] = []
    name = None
    while not reader.done():
        start_word = reader.peek()
        start = start_word.start
        if reader.take("CONSTRAINT"):
            name = ident(reader.identifier())
            continue
        if reader.take_seq("NOT", "NULL"):
            not_null = True
        elif reader.take("NULL"):
            pass
        elif reader.take("CHECK"):
            opening = reader.peek()
            inner = reader.group() or []
            expression_span = (opening.start, reader.last_end()) if opening is not None else None
            reader.take_seq("NO", "INHERIT")
            constraints.append(Constraint("check", name, (start, reader.last_end()), (name_word.text,),
                                          expression=_check_text(inner), expression_span=expression_span,
                                          not_null_columns=not_null_columns_of(inner), from_column=True))
        elif reader.take("DEFAULT"):
            if reader.at("NULL"):
                expression = [reader.peek()]
                reader.i += 1
            else:  # up to the next constraint keyword: DEFAULT 0 NOT NULL
                expression = reader.until(_COLUMN_STOPS)
            default_words = tuple(expression)
            default = render_words(expression) if expression else None
            default_span = (start, expression[-1].end if expression else start_word.end)
        elif reader.take("GENERATED"):
            if not reader.take("ALWAYS"):
                reader.take_seq("BY", "DEFAULT")
            reader.take("AS")
            if reader.take("IDENTITY"):
                generated = "identity"
                reader.group()
            else:
                reader.group()
                generated = "stored" if reader.take("STORED") else "virtual"
                reader.take("VIRTUAL")
            generated_span = (start, reader.last_end())
        elif reader.take("UNIQUE") or reader.take_seq("PRIMARY", "KEY"):
            kind = "unique" if start_word.key == "UNIQUE" else "primary_key"
            _skip_index_parameters(reader)
            constraints.append(Constraint(kind, name, (start, reader.last_end()), (name_word.text,), from_column=True))
        elif reader.take("REFERENCES"):
            reference = _references(reader)
            if reference is not None:
                constraints.append(Constraint("foreign_key", name, (start, reader.last_end()), (name_word.text,),
                                              reference, from_column=True))
        elif reader.take("COLLATE", "COMPRESSION", "STORAGE"):
            reader.name()
        else:
            _constraint_tail(reader)  # DEFERRABLE, INITIALLY …, [NOT] ENFORCED
            if reader.peek() is start_word:
                reader.skip_one()
            continue
        name = None
    end = reader.items[-1].end if reader.items else name_word.end
    return ColumnDef(
        name=name_word.text, span=(name_word.start, end), name_span=(name_word.start, name_word.end),
        type=type_text, type_span=span_of(type_words), default=default, default_span=default_span,
        default_words=default_words, generated=generated, generated_span=generated_span, not_null=not_null,
        constraints=tuple(constraints),
    )


# -- ALTER TABLE actions ----------------------------------------------------------------------------


def read_action(part: Sequence[Word]) -> Action:
    reader = Reader(part)
    span = span_of(part)
    if reader.take("ADD"):
        if reader.at(*TABLE_CONSTRAINT_STARTS) or reader.at_seq("NOT", "NULL"):
            constraint = read_table_constraint(reader)
            if constraint is not None:
                lock = SHARE_ROW_EXCLUSIVE if constraint.kind == "foreign_key" else ACCESS_EXCLUSIVE
                return Action("add_constraint", span, lock, constraint=constraint, name=constraint.name)
        reader.take("COLUMN")
        reader.take_seq("IF", "NOT", "EXISTS")
        column = read_column_def(reader)
        if column is None:
            return Action("other", span, ACCESS_EXCLUSIVE)
        return Action("add_column", span, ACCESS_EXCLUSIVE, column=column.name, column_def=column)
    if reader.take("DROP"):
        if reader.take("CONSTRAINT"):
            if_exists = reader.take_seq("IF", "EXISTS")
            return Action("drop_constraint", span, ACCESS_EXCLUSIVE, name=ident(reader.identifier()), if_exists=if_exists)
        reader.take("COLUMN")
        if_exists = reader.take_seq("IF", "EXISTS")
        return Action("drop_column", span, ACCESS_EXCLUSIVE, column=ident(reader.identifier()), if_exists=if_exists)
    if reader.take("ALTER"):
        if reader.take("CONSTRAINT"):
            return Action("alter_constraint", span, ACCESS_EXCLUSIVE, name=ident(reader.identifier()))
        reader.take("COLUMN")
        column = ident(reader.identifier())
        return _alter_column(reader, span, column)
    if reader.take("VALIDATE"):
        reader.take("CONSTRAINT")
        return Action("validate_constraint", span, SHARE_UPDATE_EXCLUSIVE, name=ident(reader.identifier()))
    if reader.at("ENABLE", "DISABLE"):
        trigger = any(word.key == "TRIGGER" for word in part[:3])
        return Action("trigger" if trigger else "other", span, SHARE_ROW_EXCLUSIVE if trigger else ACCESS_EXCLUSIVE)
    if reader.take_seq("CLUSTER", "ON") or reader.take_seq("SET", "WITHOUT", "CLUSTER"):
        return Action("cluster_on", span, SHARE_UPDATE_EXCLUSIVE)
    if reader.take("SET"):
        if reader.at("LOGGED", "UNLOGGED"):
            return Action("set_logged", span, ACCESS_EXCLUSIVE)
        if reader.take("TABLESPACE"):
            return Action("set_tablespace", span, ACCESS_EXCLUSIVE)
        if reader.take_seq("ACCESS", "METHOD"):
            return Action("set_access_method", span, ACCESS_EXCLUSIVE)
        if reader.take("SCHEMA"):
            return Action("set_schema", span, ACCESS_EXCLUSIVE, name=ident(reader.identifier()))
        if reader.at_punct("("):
            return Action("set_storage", span, SHARE_UPDATE_EXCLUSIVE)
        return Action("other", span, ACCESS_EXCLUSIVE)
    if reader.take("RESET"):
        return Action("set_storage", span, SHARE_UPDATE_EXCLUSIVE)
    if reader.take("RENAME"):
        if reader.take("TO"):
            return Action("rename_table", span, ACCESS_EXCLUSIVE, name=ident(reader.identifier()))
        if reader.take("CONSTRAINT"):
            return Action("rename_constraint", span, ACCESS_EXCLUSIVE, name=ident(reader.identifier()))
        reader.take("COLUMN")
        column = ident(reader.identifier())
        reader.take("TO")
        return Action("rename_column", span, ACCESS_EXCLUSIVE, column=column, name=ident(reader.identifier()))
    if reader.take_seq("ATTACH", "PARTITION"):
        return Action("attach_partition", span, SHARE_UPDATE_EXCLUSIVE, target=reader.name())
    if reader.take_seq("DETACH", "PARTITION"):
        target = reader.name()
        concurrently = bool(reader.take("CONCURRENTLY", "FINALIZE"))
        lock = SHARE_UPDATE_EXCLUSIVE if concurrently else ACCESS_EXCLUSIVE
        return Action("detach_partition", span, lock, target=target, concurrently=concurrently)
    return Action("other", span, ACCESS_EXCLUSIVE)


def _alter_column(reader: Reader, span: tuple[int, int], column: str) -> Action:
    if reader.take_seq("SET", "DATA", "TYPE") or reader.take("TYPE"):
        type_words = reader.until(frozenset({"COLLATE", "USING"}))
        using = None
        if reader.take("COLLATE"):
            reader.name()
        if reader.take("USING"):
            using = tuple(reader.rest())
        new_type = render_words(type_words)
        return Action("alter_type", span, ACCESS_EXCLUSIVE, column=column, new_type=new_type,
                      new_type_span=span_of(type_words), using=using)
    if reader.take_seq("SET", "NOT", "NULL"):
        return Action("set_not_null", span, ACCESS_EXCLUSIVE, column=column)
    if reader.take_seq("DROP", "NOT", "NULL"):
        return Action("drop_not_null", span, ACCESS_EXCLUSIVE, column=column)
    if reader.take_seq("SET", "DEFAULT"):
        return Action("set_default", span, ACCESS_EXCLUSIVE, column=column)
    if reader.take_seq("DROP", "DEFAULT"):
        return Action("drop_default", span, ACCESS_EXCLUSIVE, column=column)
    if reader.take_seq("SET", "EXPRESSION"):
        return Action("set_expression", span, ACCESS_EXCLUSIVE, column=column)
    if reader.take_seq("SET", "STATISTICS") or reader.at_seq("SET") and reader.peek(1) is not None and reader.peek(1).text == "(":
        return Action("set_statistics", span, SHARE_UPDATE_EXCLUSIVE, column=column)
    if reader.take("RESET"):
        return Action("set_statistics", span, SHARE_UPDATE_EXCLUSIVE, column=column)
    return Action("alter_column", span, ACCESS_EXCLUSIVE, column=column)


def check_proves_not_null(definition: str) -> tuple[str, ...]:
    """Columns a catalog CHECK constraint definition (``CHECK ((status IS NOT NULL))``) proves NOT NULL."""
    found = words(definition) or []
    reader = Reader(found)
    if not reader.take("CHECK"):
        return ()
    return not_null_columns_of(reader.group() or [])
