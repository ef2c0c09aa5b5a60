"""Volatile defaults and column type changes: what makes PostgreSQL rewrite a table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from queryreview.sql.ddl.reader import Reader, closes_at_end
from queryreview.sql.ddl.statements import Action, ColumnDef
from queryreview.sql.ddl.words import Word

# pg_proc.provolatile = 'v' (PostgreSQL 18, plus uuid-ossp and pgcrypto). now(), CURRENT_TIMESTAMP,
# statement_timestamp() and transaction_timestamp() are STABLE: one value for the whole ALTER.
VOLATILE_FUNCTIONS = frozenset({
    "random", "random_normal", "clock_timestamp", "timeofday", "gen_random_uuid", "uuidv4", "uuidv7",
    "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "nextval", "currval", "lastval",
    "setseed", "gen_random_bytes",
})


def volatile_call(items: Sequence[Word]) -> Word | None:
    """The first call of a known volatile function in an expression (``gen_random_uuid()``)."""
    for position, word in enumerate(items[:-1]):
        if word.kind == "word" and word.text in VOLATILE_FUNCTIONS and items[position + 1].text == "(":
            if items[position + 1].kind == "punct":
                return word
    return None


_TYPE_NAMES = {
    "int": "integer", "int4": "integer", "integer": "integer", "serial": "integer", "serial4": "integer",
    "int2": "smallint", "smallint": "smallint", "smallserial": "smallint", "serial2": "smallint",
    "int8": "bigint", "bigint": "bigint", "bigserial": "bigint", "serial8": "bigint",
    "float4": "real", "real": "real", "float8": "double precision", "double precision": "double precision",
    "float": "double precision", "numeric": "numeric", "decimal": "numeric", "dec": "numeric",
    "varchar": "character varying", "character varying": "character varying", "char varying": "character varying",
    "char": "character", "character": "character", "bpchar": "character", "text": "text",
    "bool": "boolean", "boolean": "boolean", "date": "date",
    "timestamp": "timestamp without time zone", "timestamp without time zone": "timestamp without time zone",
    "timestamptz": "timestamp with time zone", "timestamp with time zone": "timestamp with time zone",
    "time": "time without time zone", "time without time zone": "time without time zone",
    "timetz": "time with time zone", "time with time zone": "time with time zone",
    "interval": "interval", "uuid": "uuid", "json": "json", "jsonb": "jsonb", "bytea": "bytea",
    "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "macaddr8": "macaddr8", "money": "money",
    "xml": "xml", "bit": "bit", "varbit": "bit varying", "bit varying": "bit varying", "tsvector": "tsvector",
    "oid": "oid", "point": "point",
}
_INT_KEYS = frozenset({"integer", "smallint"})
# Targets some other type reaches without a rewrite (binary-coercible, or a typmod that only grows):
# any other new type rewrites the table unless the column already had it.
MAYBE_FREE_TARGETS = frozenset({
    "text", "character varying", "numeric", "bit varying", "timestamp without time zone",
    "timestamp with time zone", "time without time zone", "time with time zone", "interval", "inet",
})
_TIMESTAMPS = frozenset({"timestamp without time zone", "timestamp with time zone"})
_PRECISION_TYPES = frozenset({"time without time zone", "time with time zone", "interval"}) | _TIMESTAMPS


@dataclass(frozen=True)
class PgType:
    base: str  # canonical name ("character varying"), or the text as written when unknown
    mods: tuple[int, ...] = ()
    array: bool = False
    known: bool = True


_MODS = re.compile(r"\(([^)]*)\)")
_SPACES = re.compile(r"\s+")


def parse_type(text: str) -> PgType:
    """``varchar(20)`` -> PgType("character varying", (20,)); ``timestamp(3) with time zone`` too."""
    text = text.strip().lower()
    array = False
    if text.endswith("]") or text.endswith(" array"):
        array = True
        text = re.sub(r"(\[\d*\])+$|\s+array(\[\d*\])?$", "", text).strip()
    mods: tuple[int, ...] = ()
    match = _MODS.search(text)
    if match:
        try:
            mods = tuple(int(part) for part in match.group(1).split(",") if part.strip())
        except ValueError:
            return PgType(text, (), array, known=False)
        text = (text[: match.start()] + " " + text[match.end() :]).strip()
    text = _SPACES.sub(" ", text).removeprefix("pg_catalog.")
    base = _TYPE_NAMES.get(text)
    if base is None:
        return PgType(text, mods, array, known=False)
    if text == "float" and mods:
        base, mods = ("real" if mods[0] <= 24 else "double precision"), ()
    return PgType(base, mods, array)


def is_int4_or_smaller(type_text: str) -> bool:
    parsed = parse_type(type_text)
    return parsed.base in _INT_KEYS and not parsed.array


def type_change_rewrites(old: str, new: str, timezone_utc: bool | None = None) -> bool | None:
    """Does ``ALTER COLUMN … TYPE new`` (no USING) rewrite a column of type ``old``? None: cannot tell.

    Follows ATColumnChangeRequiresRewrite and the typmod support functions: binary-coercible
    changes (varchar -> text, cidr -> inet) and typmods that only widen (varchar(n) -> varchar(m >= n),
    numeric(p, s) -> numeric(p' >= p, s), time/timestamp/interval precision up, varbit length up)
    keep the table; timestamp <-> timestamptz keeps it only when the session TimeZone is UTC
    (PostgreSQL 12+). Array element changes always rewrite.
    """
    before, after = parse_type(old), parse_type(new)
    if not (before.known and after.known):
        return None if (before.base, before.mods, before.array) != (after.base, after.mods, after.array) else False
    if (before.base, before.mods, before.array) == (after.base, after.mods, after.array):
        return False
    if before.array or after.array:
        return True
    if before.base == after.base:
        return not _typmod_widens(before, after)
    pair = (before.base, after.base)
    if pair in (("character varying", "text"), ("cidr", "inet")):
        return False
    if pair == ("text", "character varying"):
        return bool(after.mods)
    if set(pair) == _TIMESTAMPS:
        if timezone_utc is None:
            return None
        return not timezone_utc or not _precision_widens(before.mods, after.mods)
    return True


def _typmod_widens(before: PgType, after: PgType) -> bool:
    if not after.mods:
        return before.base in ("character varying", "numeric", "bit varying") or before.base in _PRECISION_TYPES
    if not before.mods:
        return False
    if before.base in ("character varying", "bit varying"):
        return after.mods[0] >= before.mods[0]
    if before.base == "numeric":
        scale_before = before.mods[1] if len(before.mods) > 1 else 0
        scale_after = after.mods[1] if len(after.mods) > 1 else 0
        return scale_after == scale_before and after.mods[0] >= before.mods[0]
    if before.base in _PRECISION_TYPES:
        return _precision_widens(before.mods, after.mods)
    return False


def _precision_widens(before: tuple[int, ...], after: tuple[int, ...]) -> bool:
    if not after:
        return True
    if not before:
        return False
    return after[0] >= before[0]


def new_type_always_rewrites(new: str) -> bool:
    """With the old type unknown: True when no *other* type reaches ``new`` without a rewrite."""
    target = parse_type(new)
    return target.known and (target.array or target.base not in MAYBE_FREE_TARGETS)


def using_changes_value(action: Action) -> bool:
    """A USING expression other than ``col`` / ``col::type`` / ``CAST(col AS type)`` computes new
    values: the table is rewritten whatever the types."""
    if not action.using:
        return False
    items = list(action.using)
    if items and items[0].key == "CAST":
        inner = Reader(items[1:]).group() or []
        items = inner[: next((i for i, w in enumerate(inner) if w.key == "AS"), len(inner))]
    elif any(w.text == "::" for w in items):
        items = items[: next(i for i, w in enumerate(items) if w.text == "::")]
    while len(items) > 2 and items[0].text == "(" and closes_at_end(items):
        items = items[1:-1]
    return not (len(items) == 1 and items[0].kind in ("word", "quoted") and items[0].text == action.column)


def add_column_rewrite(column: ColumnDef) -> tuple[str, tuple[int, int]] | None:
    """Why ADD COLUMN rewrites the table (and where that is written), or None when it does not."""
    if column.generated == "stored":
        return ("GENERATED ALWAYS AS … STORED computes a value for every row", column.generated_span or column.span)
    if column.generated == "identity":
        return ("an identity column draws a sequence value for every row", column.generated_span or column.span)
    if column.serial:
        return (f"{column.type} draws a sequence value (nextval) for every row", column.type_span)
    if column.default_words:
        call = volatile_call(column.default_words)
        if call is not None:
            return (f"the default calls {call.text}(), which is VOLATILE: evaluated once per row",
                    column.default_span or column.span)
    return None
