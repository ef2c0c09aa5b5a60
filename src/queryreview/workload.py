"""What the workload rules (QR4xx) share: pg_stat_statements entries merged per statement text, the shape
of a statement read from its normalized text, and how numbers are written in messages.

    for entry in statements(stats):
        shape = shape_of(entry.query)        # None when the text is missing or does not parse
        if shape is not None and shape.read_only: ...

Shapes are cached by text (immutable facts, not trees), so rules asking about the same
statement parse it once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from queryreview.catalog import QueryStat, WorkloadStats

BLOCK_BYTES = 8192  # PostgreSQL's default block size; pg_stat_statements counts blocks
QUERY_TEXT_LIMIT = 90

# -- entries ------------------------------------------------------------------------------------------

# Not summed when entries merge: identity, and figures that do not add up.
_KEPT = frozenset(("queryid", "query", "toplevel", "user", "database", "stats_since",
                   "mean_exec_time", "min_exec_time", "max_exec_time", "stddev_exec_time"))


@dataclass(frozen=True)
class Entry(QueryStat):
    """One statement as the application sends it: pg_stat_statements entries of the same text merged.

    ``queryid`` is the entry with the most time (what findings point at); ``queryids`` all of them.
    """

    queryids: tuple[int, ...] = ()

    def also(self) -> str:
        """A note for messages when several entries were merged, else ''."""
        others = [str(queryid) for queryid in self.queryids if queryid != self.queryid]
        if not others:
            return ""
        return (f" [{len(self.queryids)} pg_stat_statements entries share this text (parameter types or "
                f"search_path differ); also {', '.join(others[:5])}{', …' if len(others) > 5 else ''}]")


def statements(stats: WorkloadStats) -> list[Entry]:
    """The collected entries merged per statement, counters summed.

    The view has one entry per queryid, user and top-level flag, and one text can have
    several queryids (a parameter sent as smallint one time and integer the next plans as a
    different tree): for the application it is one statement, so they are summed. Entries
    without a queryid (hidden by privileges) are left out; entries without a text stay on
    their own. ``toplevel`` is True when any part ran top-level; ``mean_exec_time`` is
    recomputed, min/max/stddev are not kept.
    """
    cached = _LAST_MERGE
    if cached and cached[0] is stats and cached[1] is stats.statements and cached[2] == len(stats.statements):
        return cached[3]  # every workload rule of a review asks for the same workload
    groups: dict[tuple, list[QueryStat]] = {}
    for stat in stats.statements:
        if stat.queryid is None:
            continue
        key = ("text", stat.query) if stat.query else ("id", stat.queryid)
        groups.setdefault(key, []).append(stat)
    merged = [_merge(parts) for parts in groups.values()]
    _LAST_MERGE[:] = [stats, stats.statements, len(stats.statements), merged]
    return merged


_LAST_MERGE: list[Any] = []  # [workload, its statements list, their count, entries]
_STAT_FIELDS = tuple(f.name for f in fields(QueryStat))


def _merge(parts: list[QueryStat]) -> Entry:
    time_by_id: dict[int, float] = {}
    for part in parts:
        time_by_id[part.queryid] = time_by_id.get(part.queryid, 0.0) + part.total_exec_time + part.calls * 1e-9
    leader = max(time_by_id, key=lambda queryid: time_by_id[queryid])
    first = parts[0]
    values = {name: getattr(first, name) for name in _STAT_FIELDS}
    for part in parts[1:]:
        for name, value in values.items():
            if name in _KEPT:
                continue
            theirs = getattr(part, name)
            if _number(value) and _number(theirs):
                values[name] = value + theirs
            elif value is None and _number(theirs):
                values[name] = theirs
        values["toplevel"] = values["toplevel"] or part.toplevel
        if values["user"] != part.user:
            values["user"] = None
    values["queryid"] = leader
    values["mean_exec_time"] = values["total_exec_time"] / values["calls"] if values["calls"] else 0.0
    return Entry(**values, queryids=tuple(time_by_id))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def total_exec_time(stats: WorkloadStats) -> float:
    """Database time in ms: top-level entries only (nested time is inside its caller's)."""
    collected = sum(s.total_exec_time for s in stats.statements if s.toplevel)
    return max(stats.total_exec_time, collected)


def total_calls(stats: WorkloadStats) -> int:
    collected = sum(s.calls for s in stats.statements if s.toplevel)
    return max(stats.total_calls, collected)


def share(part: float, whole: float) -> float:
    return min(part / whole, 1.0) if whole > 0 else 0.0


def target(stat: QueryStat) -> str:
    return f"pg_stat_statements:{stat.queryid}"


# -- statement shape -----------------------------------------------------------------------------------

# Functions that write, lock, or change server state: such a SELECT is not read-only.
_SIDE_EFFECT_NAMES = frozenset("""nextval setval currval lastval txid_current pg_current_xact_id pg_notify
set_config pg_terminate_backend pg_cancel_backend pg_reload_conf pg_rotate_logfile pg_switch_wal
pg_create_restore_point pg_stat_statements_reset pg_stat_reset pg_sleep pg_logical_emit_message
pg_drop_replication_slot pg_replication_slot_advance pg_file_write pg_promote""".split())
_SIDE_EFFECT_PREFIXES = ("pg_advisory", "pg_try_advisory", "lo_", "dblink", "pg_create_", "pg_stat_reset")
# Results that change from one call to the next without any write (a cache would freeze them).
_VOLATILE_NAMES = frozenset("random clock_timestamp timeofday gen_random_uuid uuid_generate_v4 setseed".split())
# Built-ins sqlglot leaves as anonymous functions that are known not to write. Anything else
# anonymous may be a user-defined function, which may write: not vouched for.
_READ_ONLY_NAMES = frozenset("""age similarity word_similarity strict_word_similarity cardinality current_setting
clock_timestamp statement_timestamp timeofday now unaccent levenshtein soundex difference metaphone dmetaphone
initcap btrim ltrim rtrim lpad rpad translate chr ascii octet_length bit_length char_length character_length
sign trunc mod power sqrt cbrt exp ln log log10 width_bucket isfinite justify_days justify_hours
justify_interval setweight strip numnode querytree num_nulls num_nonnulls row_to_json hashtext
format_type obj_description col_description has_table_privilege has_schema_privilege current_database
current_schema pg_backend_pid pg_size_pretty pg_relation_size pg_total_relation_size pg_table_size
pg_indexes_total_size pg_database_size pg_column_size pg_typeof every bool_and bool_or mode
percentile_cont percentile_disc nextafter lower_inc upper_inc isempty range_merge multirange
cosine_distance l2_distance inner_product l1_distance vector_dims vector_norm hamming_distance
jaccard_distance subvector binary_quantize gen_random_bytes crypt digest hmac""".split())
_READ_ONLY_NAMES |= frozenset("""int4range int8range numrange tsrange tstzrange daterange datemultirange
reverse repeat starts_with parse_ident sha224 sha256 sha384 sha512 overlay inet_client_addr inet_server_addr
host masklen network netmask broadcast set_masklen abbrev first_value last_value nth_value lag lead ntile
cume_dist percent_rank dense_rank rank row_number corr stddev stddev_pop stddev_samp variance var_pop
var_samp akeys avals skeys svals hstore_to_json decode encode convert convert_from convert_to unnest
session_user current_user""".split())
_READ_ONLY_PREFIXES = ("st_", "json", "array_", "ts_", "to_", "regexp_", "string_", "pg_get_", "date_", "make_",
                       "plainto_", "phraseto_", "websearch_", "tsvector_", "tsquery_", "quote_", "generate_",
                       "xml", "uuid_", "range_", "covar_", "regr_", "bit_", "current_", "justify_")
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*", re.S)
_FIRST_WORD = re.compile(r"\s*\(*\s*([A-Za-z]+)")
_DML_WORDS = frozenset("select with insert update delete merge values table".split())


@dataclass(frozen=True)
class Shape:
    """What a statement text does, as far as its parse tree says."""

    kind: str  # select (SELECT, set operations, VALUES, TABLE), insert, update, delete, merge, other
    reads: tuple[str, ...] = ()  # base tables read, named as PostgreSQL folds them ("orders", "public.orders")
    writes: tuple[str, ...] = ()  # tables written: DML targets, data-modifying CTEs included
    locking: bool = False  # FOR UPDATE / FOR SHARE
    into: bool = False  # SELECT … INTO creates a table
    side_effects: tuple[str, ...] = ()  # functions that write, lock or change state
    unknown_functions: tuple[str, ...] = ()  # possibly user-defined: may write
    volatile: tuple[str, ...] = ()  # results change per call without a write
    opaque_sources: bool = False  # a FROM item is a function: tables read are unknown
    key_filter: str | None = None  # top-level `column = $n` of a single SELECT, rendered
    key_column: str | None = None
    batched: bool = False  # top-level `= ANY($n)` / `IN (…)` on parameters: already fetches many keys

    @property
    def read_only(self) -> bool:
        """A plain read: no writes, no row locks, no side-effect or unknown functions, no SELECT INTO."""
        return (self.kind == "select" and not self.writes and not self.locking and not self.into
                and not self.side_effects and not self.unknown_functions)

    @property
    def user_tables(self) -> tuple[str, ...]:
        """Tables read outside the system catalogs (monitoring queries read only those)."""
        return tuple(t for t in self.reads if not t.startswith(_SYSTEM_SCHEMAS) and not t.startswith("pg_"))


def is_dml(text: str | None) -> bool:
    """Cheap: does the text start (after comments) with a DML keyword (not CREATE INDEX, VACUUM, COPY…)?"""
    if not text:
        return False
    match = _FIRST_WORD.match(_COMMENT.sub(" ", text[:2000]))
    return match is not None and match.group(1).lower() in _DML_WORDS


def shape_of(text: str | None) -> Shape | None:
    """The shape of a pg_stat_statements text; None when missing or not parseable (rules then skip it)."""
    if not text:
        return None
    return _shape(text)


@lru_cache(maxsize=8192)
def _shape(text: str) -> Shape | None:
    tree = parse(text)
    if tree is None:
        return None
    try:
        return _describe(tree)
    except Exception:  # noqa: BLE001 - an unexpected tree: skip the statement rather than fail the rule
        return None


def parse(text: str) -> Any:
    """A fresh parse tree of a pg_stat_statements text (postgres dialect), or None when it does not parse."""
    from queryreview.sql.parse import parse_text

    return parse_text(text)


def _describe(tree: Any) -> Shape:
    from sqlglot import exp

    kinds = {exp.Insert: "insert", exp.Update: "update", exp.Delete: "delete", exp.Merge: "merge"}
    kind = kinds.get(type(tree))
    if kind is None:
        kind = "select" if isinstance(tree, (exp.Query, exp.Values)) else "other"
    by_type: dict[type, list[Any]] = {}
    for node in tree.walk():
        by_type.setdefault(type(node), []).append(node)

    cte_names = {cte.alias_or_name.lower() for cte in by_type.get(exp.CTE, ())}
    write_targets = []
    for dml in (exp.Insert, exp.Update, exp.Delete, exp.Merge):
        for node in by_type.get(dml, ()):
            target = node.this.this if isinstance(node.this, exp.Schema) else node.this
            if isinstance(target, exp.Table):
                write_targets.append(target)
    target_ids = {id(t) for t in write_targets}
    for into_clause in by_type.get(exp.Into, ()):
        target_ids.update(id(t) for t in into_clause.find_all(exp.Table))  # SELECT … INTO creates it
    reads, opaque = [], False
    for table in by_type.get(exp.Table, ()):
        if id(table) in target_ids:
            continue
        if not isinstance(table.this, exp.Identifier):
            opaque = True  # FROM some_function(…)
            continue
        name = _table_name(table)
        if "." not in name and name in cte_names:
            continue
        reads.append(name)
    into = any(isinstance(select.args.get("into"), exp.Into) for select in by_type.get(exp.Select, ()))
    locking = any(select.args.get("locks") for select in by_type.get(exp.Select, ()))

    side_effects, unknown, volatile = [], [], []
    for node in by_type.get(exp.Anonymous, ()):
        name = str(node.this).lower()
        if name in _SIDE_EFFECT_NAMES or name.startswith(_SIDE_EFFECT_PREFIXES):
            side_effects.append(name)
        elif name not in _READ_ONLY_NAMES and not name.startswith(_READ_ONLY_PREFIXES):
            unknown.append(name)
        if name in _VOLATILE_NAMES:
            volatile.append(name)
    volatile.extend("random" for _ in by_type.get(exp.Rand, ()))
    volatile.extend("gen_random_uuid" for _ in by_type.get(exp.Uuid, ()))
    key_filter, key_column, batched = _lookup(tree) if isinstance(tree, exp.Select) else (None, None, False)
    return Shape(
        kind=kind,
        reads=tuple(dict.fromkeys(reads)),
        writes=tuple(dict.fromkeys(_table_name(t) for t in write_targets)),
        locking=bool(locking),
        into=into,
        side_effects=tuple(dict.fromkeys(side_effects)),
        unknown_functions=tuple(dict.fromkeys(unknown)),
        volatile=tuple(dict.fromkeys(volatile)),
        opaque_sources=opaque,
        key_filter=key_filter,
        key_column=key_column,
        batched=batched,
    )


def _table_name(table: Any) -> str:
    """``Orders`` -> ``orders``, ``"Orders"`` -> ``Orders``, ``app.orders`` -> ``app.orders``."""
    from sqlglot import exp

    parts = []
    for part in (table.args.get("db"), table.this):
        if isinstance(part, exp.Identifier):
            parts.append(part.this if part.quoted else part.this.lower())
    return ".".join(parts)


def _lookup(select: Any) -> tuple[str | None, str | None, bool]:
    """(first `column = $n` of the top-level WHERE, that column, whether a conjunct fetches a list of keys)."""
    from sqlglot import exp

    from queryreview.sql.predicates import column_name, conjuncts, is_parameter, render, strip_parens

    where = select.args.get("where")
    if where is None:
        return None, None, False
    found: tuple[str | None, str | None] = (None, None)
    batched = False
    for part in conjuncts(where.this):
        if isinstance(part, exp.In):
            batched = True
        elif isinstance(part, exp.EQ):
            left, right = strip_parens(part.this), strip_parens(part.expression)
            if isinstance(left, exp.Any) or isinstance(right, exp.Any):
                batched = True
                continue
            for column, value in ((left, right), (right, left)):
                value = value.this if isinstance(value, exp.Cast) else value
                if found[0] is None and isinstance(column, exp.Column) and is_parameter(value):
                    found = (render(part), column_name(column))
    return found[0], found[1], batched


# -- words and numbers ----------------------------------------------------------------------------------


def quote(text: str | None, limit: int = QUERY_TEXT_LIMIT) -> str:
    """A statement text on one line, shortened, in backticks."""
    if not text:
        return "(query text not available)"
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return f"`{flat}`"


def ms(value: float) -> str:
    """Milliseconds as a person reads them: 0.21 ms, 812 ms, 4.2 s, 3.5 min, 2.1 h."""
    if value < 1:
        return f"{value:.2f} ms"
    if value < 10:
        return f"{value:.1f} ms"
    if value < 999.5:
        return f"{value:.0f} ms"
    seconds = value / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def size(byte_count: float) -> str:
    """Bytes as 512 bytes, 3.8 kB, 97 MB, 12.4 GB (powers of 1024, as PostgreSQL's pg_size_pretty)."""
    value = float(byte_count)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            if unit == "bytes":
                return f"{value:.0f} bytes"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1024
    return f"{byte_count} bytes"


def blocks(count: float) -> str:
    """Blocks with their size: ``12,400 blocks (97 MB)``."""
    return f"{count:,.0f} blocks ({size(count * BLOCK_BYTES)})"


def percent(fraction: float) -> str:
    value = round(100 * fraction, 1)
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")


def when(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp (UTC when no offset is given), or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def duration(seconds: float) -> str:
    """40 s, 3 min, 5.5 h, 2.0 days."""
    if seconds < 60:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
