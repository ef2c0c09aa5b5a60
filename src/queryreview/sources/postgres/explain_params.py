"""The ``$n`` parameters of a collected statement: what they are compared with, and stand-in values.

    text = spaced_parameters("SELECT * FROM t WHERE a IN ($1,$2)")    # sqlglot needs "$1, $2"
    text, notes = repair_typed_literals("SELECT * FROM t WHERE d > DATE $1")  # -> "... d > $1::DATE"
    targets = parameter_targets(tree)          # {1: Target(role="eq", relations=("t",), column="a"), ...}
    facts = column_facts(session, targets, with_values=True)
    values = representative_values(targets, facts, types)

pg_stat_statements texts are not always SQL sqlglot (or PostgreSQL) reads as they are:
``IN ($1,$2)`` stops sqlglot's tokenizer (it takes ``$1,$`` for a dollar-quote tag), and a
typed literal (``DATE '2024-01-01'``, ``interval '1 day'``) is normalized to ``DATE $1``,
which is not SQL at all. Both are repaired here, outside strings and comments, before the
text is proved safe (guard.py proves the repaired text, which is the one sent).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from queryreview.sql.params import spaced_parameters  # noqa: F401  (re-exported: explain repairs texts with it)
from queryreview.sql.predicates import from_items, is_base_table, parameter_number, table_name


# Type names PostgreSQL accepts in a typed literal (``DATE '…'``), lower case.
_LITERAL_TYPES = frozenset({
    "date", "time", "timetz", "timestamp", "timestamptz", "interval", "int", "int2", "int4", "int8", "integer",
    "smallint", "bigint", "numeric", "decimal", "real", "float", "float4", "float8", "bool", "boolean", "text",
    "varchar", "char", "bpchar", "name", "bytea", "json", "jsonb", "uuid", "inet", "cidr", "macaddr", "money",
    "xml", "tsquery", "tsvector", "oid", "regclass", "point",
})
_INTERVAL_FIELDS = frozenset({"year", "month", "day", "hour", "minute", "second"})

_EQUALITY = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.Like, exp.ILike)
_RANGE = (exp.GT, exp.GTE, exp.LT, exp.LTE)
_WRAPPERS = (exp.Paren, exp.Cast, exp.Neg)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)

# Values for parameters no column explains, by pg_type.typcategory (N numeric, B boolean, S string).
_DEFAULTS_BY_CATEGORY = {"N": "1", "B": "true", "S": "a"}
_LIMIT_VALUE, _OFFSET_VALUE = "20", "0"


@dataclass(frozen=True)
class Target:
    """What parameter $n is compared with: a column (of one of ``relations``), or a LIMIT/OFFSET."""

    role: str  # eq | range | low | high | array | operand (of + - * / %) | limit | offset | value
    relations: tuple[str, ...] = ()  # candidate tables, as written (quoted where needed)
    column: str | None = None
    cast: str | None = None  # explicit ``$n::type`` in the text


@dataclass(frozen=True)
class ColumnFacts:
    """One column, read from the catalog and pg_stats."""

    relation: str
    column: str
    type_oid: int
    type_name: str
    array_oid: int
    category: str
    most_common_vals: tuple[Any, ...] = ()
    histogram_bounds: tuple[Any, ...] = ()


# -- text repairs -----------------------------------------------------------------------------------


def repair_typed_literals(text: str) -> tuple[str, list[str]]:
    """``DATE $1`` -> ``$1::DATE`` (pg_stat_statements' normalization of ``DATE '…'``), with what changed.

    ``<type> $n`` is never valid SQL otherwise, so the rewrite cannot change a valid statement.
    An interval's field (``interval $2 day``) is dropped: a plan does not depend on it.
    """
    from sqlglot.dialects.postgres import Postgres

    try:
        tokens = Postgres().tokenize(text)
    except Exception:  # the guard will refuse what sqlglot cannot read
        return text, []
    edits: list[tuple[int, int, str]] = []
    for index in range(1, len(tokens) - 1):
        dollar, number = tokens[index], tokens[index + 1]
        if dollar.text != "$" or number.start != dollar.end + 1 or not number.text.isdigit():
            continue
        first = _typed_literal_start(tokens, index - 1)
        if first is None:
            continue
        type_text = text[tokens[first].start : tokens[index - 1].end + 1]
        end = number.end + 1
        following = index + 2
        if (type_text.lower() == "interval" and following < len(tokens)
                and tokens[following].text.lower() in _INTERVAL_FIELDS):
            end = tokens[following].end + 1
            if (following + 2 < len(tokens) and tokens[following + 1].text.lower() == "to"
                    and tokens[following + 2].text.lower() in _INTERVAL_FIELDS):
                end = tokens[following + 2].end + 1
        replacement = f"${number.text}::{type_text}"
        edits.append((tokens[first].start, end, replacement))
    notes = []
    for start, end, replacement in reversed(edits):
        notes.append(f"{' '.join(text[start:end].split())} read as {replacement}")
        text = text[:start] + replacement + text[end:]
    return text, list(reversed(notes))


def _typed_literal_start(tokens: list, last: int) -> int | None:
    """Index of the first token of a type name ending at ``tokens[last]``, or None."""
    word = tokens[last].text.lower()
    if word == "zone" and last >= 3 and tokens[last - 1].text.lower() == "time" \
            and tokens[last - 2].text.lower() in ("with", "without") \
            and tokens[last - 3].text.lower() in ("time", "timestamp"):
        return last - 3
    if word == "precision" and last >= 1 and tokens[last - 1].text.lower() == "double":
        return last - 1
    if word == "varying" and last >= 1 and tokens[last - 1].text.lower() in ("character", "char"):
        return last - 1
    if word in _LITERAL_TYPES and tokens[last].text not in ("(", ")"):
        return last
    return None


# -- what each parameter is compared with -----------------------------------------------------------


def parameter_count(text: str) -> int:
    """Highest ``$n`` in the text's code (not in strings or comments); 0 without parameters."""
    from sqlglot.dialects.postgres import Postgres

    highest = 0
    tokens = Postgres().tokenize(text)
    for dollar, number in zip(tokens, tokens[1:]):
        if dollar.text == "$" and number.start == dollar.end + 1 and number.text.isdigit():
            highest = max(highest, int(number.text))
    return highest


def parameter_targets(tree: exp.Expression) -> dict[int, Target]:
    """For each ``$n`` (first occurrence that says something), the column or clause it feeds."""
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    targets: dict[int, Target] = {}
    for parameter in tree.find_all(exp.Parameter):
        number = parameter_number(parameter)
        if number is None or (number in targets and targets[number].column is not None):
            continue
        target = _target(parameter, cte_names)
        if target is not None and (number not in targets or target.column is not None):
            targets[number] = target
    return targets


def _target(parameter: exp.Expression, cte_names: set[str]) -> Target | None:
    node, cast, role = parameter, None, None
    while isinstance(node.parent, _WRAPPERS + _ARITHMETIC):
        if isinstance(node.parent, exp.Cast) and cast is None:
            cast = node.parent.to.sql(dialect="postgres")
        if isinstance(node.parent, _ARITHMETIC):
            role = "operand"  # ``col = $1 + $2``: the column's type, but not its values
        node = node.parent
    parent = node.parent
    if role is None and (isinstance(parent, exp.Any)
                         or (isinstance(parent, exp.Anonymous) and parent.name.upper() == "ALL")):
        role, node, parent = "array", parent, parent.parent
    if isinstance(parent, exp.Limit) or isinstance(parent, exp.Fetch):
        return Target("limit", cast=cast)
    if isinstance(parent, exp.Offset):
        return Target("offset", cast=cast)
    if isinstance(parent, exp.Between) and node is not parent.this:
        kind = role or ("low" if node is parent.args.get("low") else "high")
        return _column_target(kind, parent.this, cast, cte_names)
    if isinstance(parent, exp.In) and node is not parent.this:
        return _column_target(role or "eq", parent.this, cast, cte_names)
    if isinstance(parent, _EQUALITY + _RANGE):
        other = parent.expression if node is parent.this else parent.this
        kind = role or ("range" if isinstance(parent, _RANGE) else "eq")
        return _column_target(kind, other, cast, cte_names)
    if isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values) \
            and isinstance(parent.parent.parent, exp.Insert):
        return _insert_target(parent.parent.parent, parent.expressions.index(node), cast, cte_names)
    return Target("value", cast=cast)


def _column_target(role: str, other: Any, cast: str | None, cte_names: set[str]) -> Target:
    while isinstance(other, _WRAPPERS):
        other = other.this
    if not isinstance(other, exp.Column) or isinstance(other.this, exp.Star):
        return Target("value", cast=cast)
    scope = other.parent
    while scope is not None and not isinstance(scope, (exp.Select, exp.Update, exp.Delete)):
        scope = scope.parent
    relations: tuple[str, ...] = ()
    if scope is not None:
        items = [item for item in from_items(scope) if _is_catalog_table(item, cte_names)]
        if other.table:
            items = [item for item in from_items(scope) if item.alias_or_name == other.table]
            items = [item for item in items if _is_catalog_table(item, cte_names)]
        relations = tuple(dict.fromkeys(table_name(item) for item in items))
    return Target(role, relations, other.name, cast)


def _insert_target(insert: exp.Insert, position: int, cast: str | None, cte_names: set[str]) -> Target:
    schema = insert.this
    if not isinstance(schema, exp.Schema) or position >= len(schema.expressions):
        return Target("value", cast=cast)
    table = schema.this
    if not _is_catalog_table(table, cte_names):
        return Target("value", cast=cast)
    return Target("eq", (table_name(table),), schema.expressions[position].name, cast)


def _is_catalog_table(item: Any, cte_names: set[str]) -> bool:
    return is_base_table(item) and not (not item.db and item.name in cte_names)


# -- catalog facts and stand-in values ------------------------------------------------------------

_FACTS_SQL = """
SELECT w.ord, w.relation, w.attname, a.atttypid::int AS type_oid, format_type(a.atttypid, a.atttypmod) AS type_name,
       t.typarray::int AS array_oid, t.typcategory::text AS category,
       CASE WHEN %(with_values)s THEN (SELECT array_to_json(s.most_common_vals)::text FROM pg_stats s
             WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
             ORDER BY s.inherited DESC LIMIT 1) END AS most_common_vals,
       CASE WHEN %(with_values)s THEN (SELECT array_to_json(s.histogram_bounds)::text FROM pg_stats s
             WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
             ORDER BY s.inherited DESC LIMIT 1) END AS histogram_bounds
FROM unnest(%(relations)s::text[], %(columns)s::text[]) WITH ORDINALITY AS w(relation, attname, ord)
JOIN pg_class c ON c.oid = to_regclass(w.relation)
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.attname AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
ORDER BY w.ord
"""


def column_facts(session, targets: dict[int, Target], with_values: bool) -> dict[int, ColumnFacts]:
    """Type (and, with_values, pg_stats values) of each target's column; a column two tables have is skipped."""
    pairs = sorted({(relation, target.column) for target in targets.values() if target.column
                    for relation in target.relations})
    if not pairs:
        return {}
    rows = session.fetch_all(_FACTS_SQL, {"with_values": with_values, "relations": [p[0] for p in pairs],
                                          "columns": [p[1] for p in pairs]})
    found: dict[tuple[str, str], ColumnFacts] = {}
    for row in rows:
        found[(row["relation"], row["attname"])] = ColumnFacts(
            relation=row["relation"], column=row["attname"], type_oid=row["type_oid"], type_name=row["type_name"],
            array_oid=row["array_oid"], category=row["category"],
            most_common_vals=_json_values(row["most_common_vals"]),
            histogram_bounds=_json_values(row["histogram_bounds"]),
        )
    facts = {}
    for number, target in targets.items():
        matches = [found[(relation, target.column)] for relation in target.relations
                   if (relation, target.column) in found]
        if len(matches) == 1:  # unqualified and in two tables: PostgreSQL would say ambiguous
            facts[number] = matches[0]
    return facts


def _json_values(text: str | None) -> tuple[Any, ...]:
    if not text:
        return ()
    # Numbers stay as PostgreSQL printed them: float() would turn 0.1 into 0.1000000000000000055…
    return tuple(json.loads(text, parse_float=str, parse_int=str))


def cast_types(count: int, targets: dict[int, Target], facts: dict[int, ColumnFacts], needed: set[int]) -> list[int]:
    """Type OIDs for $1..$count: for each ``needed`` one the compared column's type (its array type
    for ``= ANY($n)``), else text (25); 0 (let the server infer) for the others."""
    types = []
    for number in range(1, count + 1):
        fact, target = facts.get(number), targets.get(number)
        if number not in needed:
            types.append(0)
        elif fact is not None and target is not None:
            types.append(fact.array_oid if target.role == "array" else fact.type_oid)
        else:
            types.append(25)  # text
    return types


def representative_values(count: int, targets: dict[int, Target], facts: dict[int, ColumnFacts],
                          categories: dict[int, str]) -> tuple[list[str], list[str], list[int]]:
    """A value for each $1..$count from pg_stats, and where each came from; ``missing`` lists the rest.

    Equality: the most common value (else the middle histogram bound); ranges: the middle
    histogram bound; BETWEEN: the first and third quartile bounds; LIMIT 20, OFFSET 0; a
    parameter no column explains: a plain value of its type (1, true, 'a').
    """
    values: list[str] = []
    sources: list[str] = []
    missing: list[int] = []
    for number in range(1, count + 1):
        target, fact = targets.get(number), facts.get(number)
        value, source = _value_for(target, fact, categories.get(number))
        if value is None:
            missing.append(number)
            value, source = "", "none"
        values.append(value)
        sources.append(f"${number}: {source}")
    return values, sources, missing


def _value_for(target: Target | None, fact: ColumnFacts | None, category: str | None) -> tuple[str | None, str]:
    if target is not None and target.role == "limit":
        return _LIMIT_VALUE, f"LIMIT {_LIMIT_VALUE}"
    if target is not None and target.role == "offset":
        return _OFFSET_VALUE, f"OFFSET {_OFFSET_VALUE}"
    if fact is not None and target is not None and target.role != "operand":
        where = f"{fact.relation}.{fact.column}"
        mcv, bounds = fact.most_common_vals, fact.histogram_bounds
        picked = None
        if target.role in ("low", "high") and bounds:
            picked = (bounds[len(bounds) // 4] if target.role == "low" else bounds[(3 * len(bounds)) // 4],
                      f"{'first' if target.role == 'low' else 'third'} quartile of {where}")
        elif target.role == "range" and bounds:
            picked = (bounds[len(bounds) // 2], f"median of {where}")
        elif mcv:
            picked = (mcv[0], f"most common value of {where}")
        elif bounds:
            picked = (bounds[len(bounds) // 2], f"median of {where}")
        if picked is not None:
            text = _as_text(picked[0])
            if text is not None:
                return (_array_literal([text]) if target.role == "array" else text), picked[1]
    if fact is not None:
        category = category or fact.category
    if category in _DEFAULTS_BY_CATEGORY and not (target is not None and target.role == "array"):
        value = _DEFAULTS_BY_CATEGORY[category]
        return value, f"no statistics, used {value!r}"
    return None, "none"


def _as_text(value: Any) -> str | None:
    """A pg_stats value (from array_to_json) as the text PostgreSQL reads back."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        items = [_as_text(item) for item in value]
        return None if any(item is None for item in items) else _array_literal(items)  # type: ignore[arg-type]
    return json.dumps(value)  # json / jsonb values


def _array_literal(items: list[str]) -> str:
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"
