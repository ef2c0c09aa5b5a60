"""Columns and conditions in EXPLAIN expression text (Filter, Index Cond, Sort Key…), read with sqlglot.

Shared by the plan rules: EXPLAIN prints expressions as PostgreSQL deparses them
(``((status)::text = 'open'::text)``, ``(amount > (InitPlan 1).col1)``, ``(hashed SubPlan 1)``),
and every rule should agree on which columns they name and which index would serve them.

    columns_in("((status)::text = 'open'::text)")              -> ["status"]
    tables_and_columns("(o.customer_id = c.id)")              -> [("o", "customer_id"), ("c", "id")]
    [c.kind for c in conditions("((a = 1) AND (b > $1))")]     -> ["equality", "range"]
    index_keys(conditions("((b > 2) AND (a = 1))"))           -> ["a", "b"]   (equality first)
    [k.key for k in sort_keys(["o.created_at DESC", "(lower(name))"])]  -> ["created_at", "(lower(name))"]

Everything is cached by text and never raises on odd input: text sqlglot cannot read falls
back to a tokenizer that still finds the column names (but classifies no condition).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

# EXPLAIN names subplans and initplan outputs in ways no SQL parser reads; rewrite them first.
_SUBPLAN_REF = re.compile(r"\((?:alternatives: )?(?:hashed )?SubPlan \d+(?: or hashed SubPlan \d+)?\)")
_INITPLAN_REF = re.compile(r"\(InitPlan (\d+)\)\.col(\d+)")
_SUBPLAN_MARK = "qr_subplan_result"  # a function call: not a constant, names no column
_SORT_SUFFIX = re.compile(r"\s+(?:(?:ASC|DESC)|USING\s+\S+)?(?:\s*NULLS\s+(?:FIRST|LAST))?\s*$", re.IGNORECASE)
_MAX_DEPTH = 120  # the compiled sqlglot can crash on very deep nesting: beyond this, tokenize instead
_SIMPLE_IDENT = re.compile(r"[a-z_][a-z0-9_$]*")
# Casts EXPLAIN shows on a column that are mere relabelings (an index on the column still serves).
_RELABEL_TYPES = {"TEXT", "VARCHAR", "CHAR", "BPCHAR", "NAME", "NCHAR"}
_RESERVED = frozenset("""all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time current_timestamp current_user default
deferrable desc distinct do else end except false fetch for foreign from grant group having in initially intersect
into lateral leading limit localtime localtimestamp not null offset on only or order placing primary references
returning select session_user some symmetric system_user table then to trailing true union unique user using
variadic when where window with authorization binary collation concurrently cross current_schema freeze full ilike
inner is isnull join left like natural notnull outer overlaps right similar tablesample verbose""".split())
_FALLBACK_WORDS = frozenset("""and or not is null true false any all array case when then else end in like ilike
distinct from between some exists row collate hashed subplan initplan alternatives asc desc nulls first last using
interval""".split())
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_FALLBACK_TOKEN = re.compile(rf"'(?:[^']|'')*'|::\s*{_IDENT}(?:\s+(?:varying|precision|with(?:out)?\s+time\s+zone))*"
                             rf"(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])*|({_IDENT}(?:\.{_IDENT})?)(\s*\()?")


@dataclass(frozen=True)
class Condition:
    """One AND-ed part of a condition, classified for btree index design.

    ``kind``: ``equality`` (=, IS NULL, a boolean column), ``in`` (= ANY (...)), ``range``
    (<, <=, >, >=), ``like-prefix`` (LIKE 'abc%': btree only with text_pattern_ops or the C
    collation), ``or``, or ``other`` (<>, leading-wildcard LIKE, @>, ~, column = column…).
    ``key`` is what a btree index would be built on — a (quoted when needed) column name or
    a parenthesized expression such as ``(lower(email))`` — or None when no btree serves it.
    """

    text: str
    kind: str
    key: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class SortKey:
    """One Sort Key / Group Key item: ``key`` is index-ready (column name or ``(expression)``)."""

    text: str
    key: str | None
    table: str | None  # the qualifier EXPLAIN printed (an alias), None when unqualified
    column: str | None  # set when the key is a plain column
    descending: bool = False
    nulls: str | None = None  # "FIRST" / "LAST" when printed


def quote_ident(name: str) -> str:
    """``name`` as PostgreSQL needs it in SQL: bare when lower-case and not reserved, else double-quoted."""
    if _SIMPLE_IDENT.fullmatch(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def parse_expression(text: str) -> Any:
    """The sqlglot tree of an EXPLAIN expression, or None when it cannot be read (cached)."""
    return _parse(text.strip()) if text else None


def tables_and_columns(expr_text: str) -> list[tuple[str | None, str]]:
    """(qualifier or None, column) pairs in order of first appearance, without repeats.

        tables_and_columns("((o.status = 'open'::text) AND (o.customer_id = c.id))")
        -> [("o", "status"), ("o", "customer_id"), ("c", "id")]
    """
    return list(_refs(expr_text.strip())) if expr_text else []


def columns_in(expr_text: str, table: str | None = None) -> list[str]:
    """Column names in an expression, in order, without repeats; only ``table``'s (its alias as
    printed, unqualified columns included) when given."""
    seen: dict[str, None] = {}
    for qualifier, column in tables_and_columns(expr_text):
        if table is None or qualifier is None or qualifier == table:
            seen.setdefault(column, None)
    return list(seen)


def conditions(expr_text: str, table: str | None = None) -> list[Condition]:
    """The AND-ed parts of a Filter / Index Cond / Recheck Cond, classified (see Condition).

    ``table`` is the scanned relation's alias: columns qualified with another alias are
    outer values (a parameterized nested loop), constant for the scan.
    """
    if not expr_text:
        return []
    return list(_conditions(expr_text.strip(), table))


def index_keys(conds: Iterable[Condition], leading: Iterable[str] = (), ranges: int = 1) -> list[str]:
    """Btree key columns for these conditions: ``leading`` first, then equality and IN keys, then at most
    ``ranges`` range or LIKE-prefix keys (a btree narrows its scan on one range, on the last key used).
    A LIKE-prefix key comes with ``text_pattern_ops``."""
    keys: dict[str, None] = dict.fromkeys(leading)
    for cond in conds:
        if cond.key and cond.kind in ("equality", "in"):
            keys.setdefault(cond.key, None)
    ranged = 0
    for cond in conds:
        if cond.key and cond.kind in ("range", "like-prefix") and cond.key not in keys and ranged < ranges:
            # LIKE 'abc%' uses a btree only in the C collation or with the pattern operator class
            keys[cond.key + (" text_pattern_ops" if cond.kind == "like-prefix" else "")] = None
            ranged += 1
    return list(keys)


def sort_keys(items: Iterable[str] | str | None) -> list[SortKey]:
    """Sort Key / Group Key / Presorted Key items (a list, as in FORMAT JSON) as SortKeys."""
    if not items:
        return []
    if isinstance(items, str):
        items = [items]
    return [_sort_key(item) for item in items if isinstance(item, str)]


# --- internals -------------------------------------------------------------------------------


def _prepare(text: str) -> str:
    text = _SUBPLAN_REF.sub(f"{_SUBPLAN_MARK}()", text)
    # an initplan's output is computed once before the scan: a parameter, as in PG < 17 ($0)
    return _INITPLAN_REF.sub(lambda m: f"${9000 + int(m.group(1))}", text)


def _too_deep(text: str) -> bool:
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest > _MAX_DEPTH


@lru_cache(maxsize=4096)
def _parse(text: str) -> Any:
    if not text or _too_deep(text):
        return None
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(_prepare(text), read="postgres")
    except (SqlglotError, ValueError, TypeError, RecursionError):
        return None
    from sqlglot import exp

    if isinstance(tree, (exp.Select, exp.Command)) or tree is None:  # not an expression after all
        return None
    return tree


@lru_cache(maxsize=4096)
def _refs(text: str) -> tuple[tuple[str | None, str], ...]:
    tree = _parse(text)
    if tree is None:
        return _fallback_refs(text)
    from sqlglot import exp

    seen: dict[tuple[str | None, str], None] = {}
    for node in tree.walk(bfs=False):  # depth-first: the order the text names them
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            seen.setdefault((node.table or None, node.name), None)
    return tuple(seen)


def _fallback_refs(text: str) -> tuple[tuple[str | None, str], ...]:
    """Identifiers that are neither strings, types, functions nor keywords."""
    seen: dict[tuple[str | None, str], None] = {}
    for match in _FALLBACK_TOKEN.finditer(text):
        name, call = match.group(1), match.group(2)
        if not name or call:
            continue
        parts = [_unquote(part) for part in re.findall(_IDENT, name)]
        if len(parts) == 1 and (parts[0].lower() in _FALLBACK_WORDS or parts[0].isdigit()):
            continue
        qualifier, column = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
        if column != "*":
            seen.setdefault((qualifier, column), None)
    return tuple(seen)


def _unquote(part: str) -> str:
    return part[1:-1].replace('""', '"') if part.startswith('"') else part


@lru_cache(maxsize=4096)
def _conditions(text: str, table: str | None) -> tuple[Condition, ...]:
    tree = _parse(text)
    if tree is None:
        columns = tuple(columns_in(text, table))
        return (Condition(text, "other", None, columns),) if columns else ()
    from queryreview.sql.predicates import conjuncts

    return tuple(_classify(part, table) for part in conjuncts(tree))


def _classify(node: Any, table: str | None) -> Condition:
    from sqlglot import exp

    from queryreview.sql.predicates import strip_parens

    text = node.sql(dialect="postgres")
    columns = tuple(dict.fromkeys(c.name for c in node.find_all(exp.Column) if _ours(c, table)))
    kind, key = "other", None
    if isinstance(node, exp.Or):
        kind = "or"
    elif isinstance(_boolean_column(node), exp.Column):
        column = _boolean_column(node)
        if _ours(column, table):
            kind, key = "equality", quote_ident(column.name)  # a boolean column: = true / = false
    elif isinstance(node, exp.Is):
        kind, key = "equality", _key(node.this, table)
    elif isinstance(node, (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like)) and not node.args.get("negate"):
        left, right = strip_parens(node.this), strip_parens(node.expression)
        key = _key(left, table) if _constant(right, table) else None
        if key is None and not isinstance(node, exp.Like) and _constant(left, table):
            key = _key(right, table)  # 5 < x
        if key is None:
            kind = "other"
        elif isinstance(node, exp.EQ):
            kind = "in" if isinstance(right, exp.Any) or isinstance(left, exp.Any) else "equality"
        elif isinstance(node, exp.Like):
            kind = "like-prefix" if _prefix_pattern(right) else "other"
            key = key if kind == "like-prefix" else None
        else:
            kind = "range"
    if kind == "other":
        key = None
    return Condition(text, kind, key, columns)


def _boolean_column(node: Any) -> Any:
    """``flag`` or ``NOT flag``: the column tested, else None."""
    from sqlglot import exp

    if isinstance(node, exp.Not):
        node = node.this
    node = _bare(node)
    return node if isinstance(node, exp.Column) else None


def _ours(column: Any, table: str | None) -> bool:
    return table is None or not column.table or column.table == table


def _bare(node: Any) -> Any:
    """A column under parentheses and relabeling casts (``(status)::text``) is still the column."""
    from sqlglot import exp

    while True:
        if isinstance(node, exp.Paren):
            node = node.this
        elif isinstance(node, exp.Cast) and isinstance(node.to, exp.DataType) and node.to.this.name in _RELABEL_TYPES \
                and isinstance(_peel(node.this), exp.Column):
            node = node.this
        else:
            return node


def _peel(node: Any) -> Any:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _key(node: Any, table: str | None) -> str | None:
    """Index key for the compared side: a column of ours, or an expression over our columns only."""
    from sqlglot import exp

    node = _bare(node)
    if isinstance(node, exp.Column):
        return quote_ident(node.name) if _ours(node, table) and not isinstance(node.this, exp.Star) else None
    columns = list(node.find_all(exp.Column))
    if not columns or not all(_ours(c, table) for c in columns) or _has_subplan(node):
        return None
    if not isinstance(node, (exp.Func, exp.Cast, exp.Binary, exp.Collate, exp.Dot, exp.JSONExtract,
                             exp.JSONExtractScalar, exp.Bracket)):
        return None
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.BitwiseAnd, exp.BitwiseOr,
                         exp.BitwiseXor, exp.Connector, exp.Predicate)):
        return None  # arithmetic: an index on it is possible but rarely what anyone wants
    if any(isinstance(n, (exp.AggFunc, exp.Window)) for n in node.walk()):
        return None  # sum(x), row_number() OVER (…): computed above the scan, never indexable
    simplified = node.copy().transform(_drop_relabel_and_qualifier)
    return "(" + simplified.sql(dialect="postgres", normalize_functions="lower") + ")"


def _drop_relabel_and_qualifier(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Column) and node.table:
        return exp.column(node.name, quoted=node.this.quoted if isinstance(node.this, exp.Identifier) else False)
    if isinstance(node, exp.Paren) and isinstance(_bare(node), exp.Column):
        return _bare(node).copy()
    if isinstance(node, exp.Cast) and isinstance(_bare(node), exp.Column):
        return _bare(node).copy()
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string \
            and isinstance(node.to, exp.DataType) and node.to.this.name in _RELABEL_TYPES:
        return node.this.copy()  # 'k'::text: the literal is text already
    return node


def _has_subplan(node: Any) -> bool:
    from sqlglot import exp

    return any(f.name.lower() == _SUBPLAN_MARK for f in node.find_all(exp.Anonymous))


def _constant(node: Any, table: str | None) -> bool:
    """Known before the scan reads a row: literals, parameters, initplan outputs, outer columns."""
    from sqlglot import exp

    if node is None or _has_subplan(node):
        return False
    return all(not _ours(column, table) for column in node.find_all(exp.Column)) \
        and not any(isinstance(n, exp.Rand) for n in node.walk())


def _prefix_pattern(node: Any) -> bool:
    from sqlglot import exp

    node = _peel(node)
    while isinstance(node, exp.Cast):
        node = _peel(node.this)
    return isinstance(node, exp.Literal) and node.is_string and bool(node.this) and node.this[0] not in "%_"


def _sort_key(item: str) -> SortKey:
    text = item.strip()
    upper = text.upper()
    descending = bool(re.search(r"\sDESC(\s|$)", upper))
    nulls = "FIRST" if upper.endswith("NULLS FIRST") else "LAST" if upper.endswith("NULLS LAST") else None
    expression = _SORT_SUFFIX.sub("", text) if re.search(r"\s(ASC|DESC|NULLS|USING)\b", upper) else text
    refs = tables_and_columns(expression)
    tree = _parse(expression)
    if tree is not None:
        from sqlglot import exp

        bare = _bare(tree)
        if isinstance(bare, exp.Column):
            return SortKey(text, quote_ident(bare.name), bare.table or None, bare.name, descending, nulls)
        key = _key(tree, None)
        tables = {qualifier for qualifier, _ in refs}
        return SortKey(text, key, tables.pop() if len(tables) == 1 else None, None, descending, nulls)
    if len(refs) == 1 and re.fullmatch(rf"{_IDENT}(?:\.{_IDENT})?", expression):
        qualifier, column = refs[0]
        return SortKey(text, quote_ident(column), qualifier, column, descending, nulls)
    return SortKey(text, None, None, None, descending, nulls)
