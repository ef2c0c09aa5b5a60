"""Resolve a statement's table aliases and column references to catalog tables.

Used by the schema rules that look at a statement against a catalog (QR201, QR202,
QR209), plus the few DDL-text helpers their fixes need (identifier quoting, index
names that PostgreSQL would accept).

    resolver = resolver_for(stmt, catalog)
    ref = resolver.resolve(column_node)   # ColumnRef(source=<o: public.orders>, column="status") or None

Resolution follows PostgreSQL's rules closely enough to be safe, and gives up (None)
rather than guess: a qualified ``o.status`` binds to the FROM item named ``o`` in the
nearest scope that has one; an unqualified ``status`` binds to the one FROM item of
the nearest scope known to have such a column (valid SQL cannot have two), and is
unresolved when two do, or when none does but a FROM item of that scope has columns we
cannot know (a function, a table missing from the catalog) — then it may be that one's,
or an outer query's. CTE names shadow catalog tables; derived tables expose their
projection names; a column of an outer query binds there (correlation).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Iterator

from sqlglot import exp

from queryreview.catalog import Catalog, Column, Index, Table
from queryreview.sql.predicates import conjuncts, is_constant, strip_parens

SCOPE_TYPES = (exp.Select, exp.Update, exp.Delete)


@dataclass(frozen=True, eq=False)
class Source:
    """One FROM item of a scope: a catalog table, or something whose columns we may know."""

    alias: str
    node: exp.Expression
    table: Table | None = None
    columns: frozenset[str] | None = None  # None: unknown
    join: exp.Join | None = None  # the JOIN that brought it in (None for FROM, UPDATE/DELETE targets, USING)

    def __repr__(self) -> str:
        what = self.table.qualified_name if self.table is not None else "derived"
        return f"<{self.alias}: {what}>"


@dataclass(frozen=True)
class ColumnRef:
    source: Source
    column: str

    @property
    def table(self) -> Table | None:
        return self.source.table


@dataclass(eq=False)
class Scope:
    node: exp.Expression
    sources: dict[str, Source] = field(default_factory=dict)
    parent: Scope | None = None
    filters: list[Filter] | None = None  # cached by filters()


def ident(node: Any) -> str:
    """An identifier's name as PostgreSQL folds it: unquoted names are lower-cased."""
    if isinstance(node, exp.Identifier):
        return node.this if node.quoted else node.this.lower()
    if node is None:
        return ""
    return str(node).lower()


class Resolver:
    """Scopes of one statement, built lazily and cached by node."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._scopes: dict[int, Scope] = {}
        self._refs: dict[tuple[int, int], ColumnRef | None] = {}

    def scope(self, node: exp.Expression) -> Scope:
        """The scope of a SELECT, UPDATE or DELETE node."""
        key = id(node)
        scope = self._scopes.get(key)
        if scope is None:
            parent_node = _enclosing_scope_node(node)
            parent = self.scope(parent_node) if parent_node is not None else None
            scope = Scope(node=node, parent=parent)
            for source in self._sources(node):
                scope.sources.setdefault(source.alias, source)
            self._scopes[key] = scope
        return scope

    def scope_of(self, node: exp.Expression) -> Scope | None:
        """The scope a node (a column, a predicate) is evaluated in."""
        owner = _enclosing_scope_node(node)
        return self.scope(owner) if owner is not None else None

    def resolve(self, column: Any, scope: Scope | None = None) -> ColumnRef | None:
        """The FROM item and column a bare column reference binds to, or None when unsure."""
        column = strip_parens(column)
        if not isinstance(column, exp.Column) or isinstance(column.this, exp.Star):
            return None
        key = (id(column), id(scope))
        if key not in self._refs:
            self._refs[key] = self._resolve(column, scope or self.scope_of(column))
        return self._refs[key]

    def _resolve(self, column: exp.Column, scope: Scope | None) -> ColumnRef | None:
        name = ident(column.this)
        qualifier = ident(column.args.get("table")) if column.args.get("table") else ""
        schema = ident(column.args.get("db")) if column.args.get("db") else ""
        while scope is not None:
            if qualifier:
                source = scope.sources.get(qualifier)
                if source is not None and (not schema or source.table is not None and source.table.schema == schema):
                    if source.columns is not None and name not in source.columns:
                        return None
                    return ColumnRef(source, name)
            else:
                holders = [s for s in scope.sources.values() if s.columns is not None and name in s.columns]
                if len(holders) == 1:
                    return ColumnRef(holders[0], name)
                if holders or any(s.columns is None for s in scope.sources.values()):
                    return None  # ambiguous, or a FROM item we cannot see into may hold it
            scope = scope.parent
        return None

    # -- building scopes -------------------------------------------------------------

    def _sources(self, node: exp.Expression) -> Iterator[Source]:
        if isinstance(node, exp.Select):
            from_ = node.args.get("from_") or node.args.get("from")
            if from_ is not None:
                yield from self._source(from_.this, None)
            for join in node.args.get("joins") or ():
                yield from self._source(join.this, join)
        elif isinstance(node, exp.Update):
            yield from self._source(node.this, None)
            from_ = node.args.get("from_") or node.args.get("from")
            if from_ is not None:
                yield from self._source(from_.this, None)
            for join in node.args.get("joins") or ():
                yield from self._source(join.this, join)
        elif isinstance(node, exp.Delete):
            yield from self._source(node.this, None)
            for item in node.args.get("using") or ():
                yield from self._source(item, None)

    def _source(self, item: Any, join: exp.Join | None) -> Iterator[Source]:
        alias_node = item.args.get("alias") if isinstance(item, exp.Expression) else None
        alias = ident(alias_node.this) if isinstance(alias_node, exp.TableAlias) and alias_node.this else ""
        renamed = bool(isinstance(alias_node, exp.TableAlias) and alias_node.columns)
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
            name = ident(item.this)
            schema = ident(item.args.get("db")) if item.args.get("db") else ""
            alias = alias or name
            cte = None if schema else _visible_cte(item, name)
            if renamed:
                yield Source(alias, item, None, frozenset(ident(c) for c in alias_node.columns), join)
            elif cte is not None:
                yield Source(alias, item, None, _output_names(cte.this), join)
            else:
                table = self.catalog.table(f"{schema}.{name}" if schema else name)
                known = frozenset(c.name for c in table.columns) if table is not None and table.columns else None
                yield Source(alias, item, table, known, join)
        elif isinstance(item, exp.Subquery):
            names = frozenset(ident(c) for c in alias_node.columns) if renamed else _output_names(item.this)
            yield Source(alias or f"?{id(item)}", item, None, names, join)  # PostgreSQL 16+: alias optional
        elif isinstance(item, exp.Expression):
            # functions, VALUES, LATERAL, parenthesized joins: columns unknown unless the alias lists them
            names = frozenset(ident(c) for c in alias_node.columns) if renamed else None
            yield Source(alias or f"?{id(item)}", item, None, names, join)


def _enclosing_scope_node(node: exp.Expression) -> exp.Expression | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, SCOPE_TYPES):
        parent = parent.parent
    return parent


def _visible_cte(node: exp.Expression, name: str) -> exp.CTE | None:
    """The CTE called ``name`` visible from ``node`` (nearest WITH first).

    A non-recursive CTE is not visible in its own body: ``WITH orders AS (SELECT ... FROM
    orders)`` reads the real table.
    """
    inside: set[int] = set()
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.CTE):
            inside.add(id(parent))
        with_ = parent.args.get("with_") or parent.args.get("with")
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if ident(cte.args["alias"].this) != name:
                    continue
                if id(cte) not in inside or with_.args.get("recursive"):
                    return cte
        parent = parent.parent
    return None


def _output_names(query: Any) -> frozenset[str] | None:
    """Column names a subquery or CTE exposes, or None when a star or an unnamed expression hides one."""
    while isinstance(query, (exp.Union, exp.Intersect, exp.Except)):
        query = query.this
    query = strip_parens(query)
    if isinstance(query, exp.Subquery):
        return _output_names(query.this)
    if not isinstance(query, exp.Select):
        return None
    names = set()
    for projection in query.expressions:
        if isinstance(projection, exp.Star) or isinstance(getattr(projection, "this", None), exp.Star):
            return None
        if isinstance(projection, exp.Alias):
            names.add(ident(projection.args.get("alias")))
        elif isinstance(projection, exp.Column):
            names.add(ident(projection.this))
        else:
            return None  # count(*) is named "count", 1 "?column?": not worth guessing
    return frozenset(names)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def resolver_for(stmt: Any, catalog: Catalog) -> Resolver:
    """One resolver per (statement, catalog), shared by the rules that run on it."""
    cached = _CACHE.get(stmt)
    if cached is None or cached.catalog is not catalog:
        cached = Resolver(catalog)
        _CACHE[stmt] = cached
    return cached


# -- sargable filters ---------------------------------------------------------------

EQUALITY = "eq"  # col = value, col IN (values), col = ANY(value)
NULL = "null"  # col IS NULL
RANGE = "range"  # <, <=, >, >=, BETWEEN
JOIN = "join"  # inner side of JOIN ... ON: col = other_table.col

_RANGE_OPS = (exp.GT, exp.GTE, exp.LT, exp.LTE)


@dataclass(frozen=True)
class Filter:
    """A predicate an index on ``ref.column`` could serve, and the conjunct it came from."""

    ref: ColumnRef
    kind: str
    node: exp.Expression
    value: exp.Expression | None = None  # the compared value (equality and range), for selectivity


def filters(resolver: Resolver, scope: Scope) -> list[Filter]:
    """Sargable conjuncts of a scope's WHERE and JOIN ... ON, each bound to one catalog table.

    Only bare columns count (a function or cast around the column is QR103's business);
    the value side must be known before the scan: a constant, a parameter, or a column of
    an outer query. An equality between columns of two FROM items is a JOIN filter for
    the side(s) a nested loop could probe: both sides of an inner join (``JOIN ... ON``
    or a comma join's WHERE), only the joined side of a LEFT JOIN.
    """
    if scope.filters is not None:
        return scope.filters
    node = scope.node
    found: list[Filter] = []
    inner = {id(s) for s in scope.sources.values() if not _outer_joined(s)}
    where = node.args.get("where")
    if where is not None:
        for part in conjuncts(where.this):
            for item in _classify(resolver, scope, part, inner):
                # LEFT JOIN t ... WHERE t.col IS NULL is an anti-join, not a filter on t's scan
                if id(item.ref.source) in inner or item.kind not in (NULL, JOIN):
                    found.append(item)
    for join in node.args.get("joins") or ():
        on = join.args.get("on")
        side = (join.args.get("side") or "").upper()
        if on is None or side in ("RIGHT", "FULL"):
            continue
        joined = next((s for s in scope.sources.values() if s.join is join), None)
        probed = {id(joined)} if side == "LEFT" else inner
        for part in conjuncts(on):
            for item in _classify(resolver, scope, part, probed):
                # ON conditions of a LEFT JOIN filter only the joined table
                if side != "LEFT" or item.ref.source is joined:
                    found.append(item)
    scope.filters = found
    return found


def _outer_joined(source: Source) -> bool:
    return source.join is not None and (source.join.args.get("side") or "").upper() in ("LEFT", "FULL")


def _classify(resolver: Resolver, scope: Scope, part: exp.Expression, probed: set[int]) -> Iterator[Filter]:
    """Filters of one conjunct; ``probed``: ids of the sources a column equality is a JOIN filter for."""
    part = strip_parens(part)
    if isinstance(part, exp.EQ):
        joins = []
        for column, value in ((part.this, part.expression), (part.expression, part.this)):
            ref = _local_column(resolver, scope, column)
            if ref is None:
                continue
            value = strip_parens(value)
            if isinstance(value, exp.Any):
                if _is_value(resolver, scope, value.this):
                    yield Filter(ref, EQUALITY, part, None)
                    return
            elif _is_value(resolver, scope, value):
                yield Filter(ref, EQUALITY, part, value)
                return
            elif id(ref.source) in probed:
                other = _local_column(resolver, scope, value)
                if other is not None and other.source is not ref.source:
                    joins.append(Filter(ref, JOIN, part, None))
        yield from joins
    elif isinstance(part, _RANGE_OPS):
        for column, value in ((part.this, part.expression), (part.expression, part.this)):
            ref = _local_column(resolver, scope, column)
            if ref is not None and _is_value(resolver, scope, value):
                yield Filter(ref, RANGE, part, value)
                return
    elif isinstance(part, exp.Between):
        ref = _local_column(resolver, scope, part.this)
        bounds = (part.args.get("low"), part.args.get("high"))
        if ref is not None and all(_is_value(resolver, scope, bound) for bound in bounds):
            yield Filter(ref, RANGE, part, None)
    elif isinstance(part, exp.In):
        ref = _local_column(resolver, scope, part.this)
        if ref is not None and part.expressions and not part.args.get("query"):
            if all(_is_value(resolver, scope, item) for item in part.expressions):
                yield Filter(ref, EQUALITY, part, None)
    elif isinstance(part, exp.Is) and isinstance(part.expression, exp.Null):
        ref = _local_column(resolver, scope, part.this)
        if ref is not None:
            yield Filter(ref, NULL, part, None)


def _local_column(resolver: Resolver, scope: Scope, node: Any) -> ColumnRef | None:
    """A bare column of a catalog table FROM-listed in this very scope."""
    node = strip_parens(node)
    if not isinstance(node, exp.Column):
        return None
    ref = resolver.resolve(node, scope)
    if ref is None or ref.table is None or scope.sources.get(ref.source.alias) is not ref.source:
        return None
    return ref


def _is_value(resolver: Resolver, scope: Scope, node: Any) -> bool:
    """Known before this scope's scan: a constant, or an expression over outer-query columns only."""
    node = strip_parens(node)
    if is_constant(node):
        return True
    if isinstance(node, (exp.Select, exp.Subquery, exp.Query)):
        return False
    saw_column = False
    for descendant in node.walk():
        if isinstance(descendant, (exp.Select, exp.Subquery)):
            return False
        if isinstance(descendant, exp.Column):
            ref = resolver.resolve(descendant, scope)
            if ref is None or scope.sources.get(ref.source.alias) is ref.source:
                return False  # unknown, or a column of this scope: not a value for it
            saw_column = True
        elif isinstance(descendant, exp.Anonymous) and str(descendant.this).lower() in _VOLATILE:
            return False
        elif isinstance(descendant, exp.Rand):
            return False
    return saw_column or not isinstance(node, exp.Column)


_VOLATILE = {"random", "clock_timestamp", "nextval", "gen_random_uuid", "timeofday", "setseed"}


def single_value(item: Filter) -> bool:
    """``col = value`` or ``col IS NULL``: one value, so index order within it is the next key's order."""
    return item.kind == NULL or item.kind == EQUALITY and item.value is not None


@dataclass(frozen=True)
class OrderKey:
    ref: ColumnRef
    descending: bool
    nulls_first: bool


def order_keys(resolver: Resolver, scope: Scope) -> list[OrderKey] | None:
    """A SELECT's ORDER BY keys as columns of its own FROM items; None when one is anything else.

    ``ORDER BY 2`` and ``ORDER BY <output alias>`` refer to the projection, as in PostgreSQL.
    """
    select = scope.node
    order = select.args.get("order")
    if not isinstance(select, exp.Select) or order is None:
        return None
    projections = select.expressions
    aliases = {ident(p.args.get("alias")): p.this for p in projections if isinstance(p, exp.Alias)}
    keys = []
    for ordered in order.expressions:
        expr = strip_parens(ordered.this)
        if isinstance(expr, exp.Literal) and not expr.is_string and expr.this.isdigit():
            position = int(expr.this) - 1
            if not 0 <= position < len(projections):
                return None
            expr = projections[position]
            expr = expr.this if isinstance(expr, exp.Alias) else expr
        elif isinstance(expr, exp.Column) and not expr.args.get("table") and ident(expr.this) in aliases:
            expr = aliases[ident(expr.this)]  # an output column name wins over an input column
        ref = _local_column(resolver, scope, expr)
        if ref is None:
            return None
        descending = bool(ordered.args.get("desc"))
        nulls_first = ordered.args.get("nulls_first")
        keys.append(OrderKey(ref, descending, descending if nulls_first is None else bool(nulls_first)))
    return keys


# -- indexes ------------------------------------------------------------------------

_DIRECTION = re.compile(r"\s+(ASC|DESC)?(\s*NULLS\s+(FIRST|LAST))?\s*$", re.IGNORECASE)


def key_column(text: str) -> tuple[str, bool, bool]:
    """An index key as the catalog shows it -> (column or expression, descending, nulls first).

    ``created_at DESC`` -> ("created_at", True, True): NULLS FIRST is the default for DESC.
    """
    match = _DIRECTION.search(text)
    if match is None or not match.group(0).strip():
        return text, False, False
    descending = (match.group(1) or "").upper() == "DESC"
    nulls = (match.group(3) or "").upper()
    nulls_first = nulls == "FIRST" if nulls else descending
    return text[: match.start()], descending, nulls_first


def key_columns(index: Index) -> list[str]:
    """Key columns of an index without ASC/DESC/NULLS decorations; quoted names unquoted."""
    return [_unquote(key_column(text)[0]) for text in index.columns]


def key_orders(index: Index) -> list[tuple[str, bool, bool]]:
    """Key columns with their (descending, nulls first) order.

    A live catalog lists key columns by name only; their order is then read from the
    definition (``CREATE INDEX ... USING btree (a DESC, b)``).
    """
    keys = [key_column(text) for text in index.columns]
    directions = _definition_orders(index.definition, len(keys))
    if directions is not None:
        keys = [(name, *direction) if (desc, nulls) == (False, False) else (name, desc, nulls)
                for (name, desc, nulls), direction in zip(keys, directions)]
    return [(_unquote(name), desc, nulls_first) for name, desc, nulls_first in keys]


def _definition_orders(definition: str, count: int) -> list[tuple[bool, bool]] | None:
    """(descending, nulls first) of each key in pg_get_indexdef output, or None when it cannot tell."""
    items = _definition_items(definition)
    if items is None or len(items) != count:
        return None
    return [key_column(item)[1:] for item in items]


def _definition_items(definition: str) -> list[str] | None:
    """The key items of ``CREATE INDEX ... USING btree (a DESC, lower(b))`` -> ["a DESC", "lower(b)"]."""
    match = re.search(r"\bUSING\s+\w+\s*\(", definition or "")
    if match is None:
        return None
    items: list[str] = []
    depth, start, quote = 0, match.end(), ""
    for position in range(match.end(), len(definition)):
        char = definition[position]
        if quote:
            quote = "" if char == quote else quote  # a doubled quote closes and reopens: same result
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char in ",)" and not depth:
            items.append(definition[start:position].strip())
            start = position + 1
            if char == ")":
                return items
    return None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def index_signature(index: Index) -> tuple:
    """What makes two indexes interchangeable: method, keys (column or expression, operator class,
    collation, order), INCLUDE columns (as a set) and predicate. Keys are read from the definition
    when the catalog has it, since a live catalog's column list omits opclass, collation and order."""
    return (
        index.method,
        tuple(key_items(index)),
        frozenset(_norm(c) for c in index.include),
        _norm(index.predicate or ""),
    )


def key_items(index: Index) -> list[str]:
    """Each key as the index defines it: ``a``, ``b DESC``, ``name COLLATE "C"``, ``s text_pattern_ops``."""
    items = _definition_items(index.definition)
    if items is not None and len(items) == len(index.columns):
        return [_norm(item) for item in items]
    opclasses = list(index.opclasses) + [""] * (len(index.columns) - len(index.opclasses))
    found = []
    for text, opclass in zip(index.columns, opclasses):
        name, descending, nulls_first = key_column(text)
        found.append(_norm(f"{name} {opclass}" if opclass else name) + _decoration(descending, nulls_first))
    return found


def _norm(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip())
    return re.sub(r" ASC$", "", text, flags=re.IGNORECASE)


def twin_index(table: Table, index: Index) -> Index | None:
    """The index of ``table`` with the same definition (method, keys, INCLUDE, predicate), if any."""
    signature = index_signature(index)
    return next((other for other in table.indexes if index_signature(other) == signature), None)


def inherited(catalog: Catalog, table: Table, index: Index) -> bool:
    """A partition's index that mirrors one of its parent's: it belongs to the partitioned index
    and can only be dropped with it."""
    parent = catalog.table(table.partition_of) if table.partition_of else None
    return parent is not None and twin_index(parent, index) is not None


def drop_index_sql(table: Table, index: Index) -> str:
    """DROP INDEX CONCURRENTLY, or plain DROP INDEX for a partitioned index (CONCURRENTLY is refused)."""
    concurrently = "" if table.kind == "p" else " CONCURRENTLY"
    return f"DROP INDEX{concurrently} {quote_qualified(index.qualified_name)}"


def partitions(catalog: Catalog, table: Table) -> list[Table]:
    """The catalog's partitions of a partitioned table (one level)."""
    if table.kind != "p":
        return []
    name = table.qualified_name
    return [t for t in catalog.tables.values() if t.partition_of and _qualified(t.partition_of) == name]


def read_indexes(catalog: Catalog, table: Table) -> list[Index]:
    """Indexes that can serve reads of a table: its own, plus its partitions' for a partitioned table
    (indexes created on each partition by hand serve scans of the parent just as well)."""
    found = list(table.indexes)
    for part in partitions(catalog, table):
        found.extend(read_indexes(catalog, part))
    return found


def table_rows(catalog: Catalog, table: Table) -> float:
    """Rows of a table; a partitioned table counts its partitions' rows."""
    parts = partitions(catalog, table)
    if parts:
        return sum(table_rows(catalog, part) for part in parts)
    return max(table.rows, 0.0)


def _qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


def rows_text(rows: float) -> str:
    """1234567 -> '1.2M', 45000 -> '45k', 980 -> '980'."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if rows >= size:
            value = rows / size
            text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{rows:.0f}"


# -- DDL text -----------------------------------------------------------------------

# pg_get_keywords() where catcode <> 'U' (PostgreSQL 18): quote_ident quotes these.
KEYWORDS = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean
    both case cast char character check coalesce collate collation column concurrently constraint create
    cross current_catalog current_date current_role current_schema current_time current_timestamp
    current_user dec decimal default deferrable desc distinct do else end except exists extract false fetch
    float for foreign freeze from full grant greatest group grouping having ilike in initially inner inout
    int integer intersect interval into is isnull join json json_array json_arrayagg json_exists
    json_object json_objectagg json_query json_scalar json_serialize json_table json_value lateral leading
    least left like limit localtime localtimestamp merge_action national natural nchar none normalize not
    notnull null nullif numeric offset on only or order out outer overlaps overlay placing position
    precision primary real references returning right row select session_user setof similar smallint some
    substring symmetric system_user table tablesample then time timestamp to trailing treat trim true union
    unique user using values varchar variadic verbose when where window with xmlattributes xmlconcat
    xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable""".split()
)
_BARE = re.compile(r"[a-z_][a-z0-9_$]*")
NAMEDATALEN = 64


def quote_ident(name: str) -> str:
    """``orders`` -> orders, ``Order Items`` -> "Order Items", ``user`` -> "user"."""
    if _BARE.fullmatch(name) and name not in KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(name: str) -> str:
    """``public.orders`` -> public.orders, quoting each part that needs it."""
    schema, _, relation = name.partition(".")
    return f"{quote_ident(schema)}.{quote_ident(relation)}" if relation else quote_ident(schema)


def _truncate(text: str, size: int) -> str:
    return text.encode("utf-8")[:size].decode("utf-8", "ignore")


_NAMES: dict[int, tuple[Catalog, dict[str, set[str]]]] = {}


def _names_in_schema(catalog: Catalog, schema: str) -> set[str]:
    """Relation names (tables and indexes) of a schema, computed once per catalog."""
    cached = _NAMES.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        names: dict[str, set[str]] = {}
        for other in catalog.tables.values():
            names.setdefault(other.schema, set()).add(other.name)
            names[other.schema].update(index.name for index in other.indexes)
        if len(_NAMES) > 8:
            _NAMES.clear()
        cached = _NAMES[id(catalog)] = (catalog, names)
    return cached[1].get(schema, set())


def index_name(catalog: Catalog | None, table: Table, columns: list[str]) -> str:
    """A free index name as PostgreSQL would choose it: orders_customer_id_created_at_idx (<= 63 bytes)."""
    taken = _names_in_schema(catalog, table.schema) if catalog is not None else set()
    columns_part = "_".join(re.sub(r"[^\w$]+", "_", c).strip("_") or "expr" for c in columns)
    for attempt in range(1000):
        label = "idx" if attempt == 0 else f"idx{attempt}"
        first, second = table.name, columns_part
        budget = NAMEDATALEN - 1 - len(label.encode()) - 2
        while len(first.encode()) + len(second.encode()) > budget:
            if len(first.encode()) >= len(second.encode()):
                first = _truncate(first, len(first.encode()) - 1)
            else:
                second = _truncate(second, len(second.encode()) - 1)
        name = f"{first}_{second}_{label}"
        if name not in taken:
            return name
    return f"{table.name[:50]}_idx"  # unreachable in practice


def create_index_sql(catalog: Catalog | None, table: Table, keys: list[tuple[str, bool, bool]]) -> str:
    """CREATE INDEX CONCURRENTLY over (column, descending, nulls first) keys (plain CREATE INDEX if partitioned)."""
    name = index_name(catalog, table, [column for column, _, _ in keys])
    rendered = ", ".join(quote_ident(column) + _decoration(desc, nulls_first) for column, desc, nulls_first in keys)
    # CONCURRENTLY is refused on a partitioned table
    concurrently = "" if table.kind == "p" else " CONCURRENTLY"
    return f"CREATE INDEX{concurrently} {quote_ident(name)} ON {quote_qualified(table.qualified_name)} ({rendered})"


def column_type(column: Column) -> str:
    """The column's type, lower-cased, without the ``not null`` a terse fixture may append."""
    text = column.type.strip().lower()
    for suffix in (" not null", " null"):
        if text.endswith(suffix):
            return text[: -len(suffix)].strip()
    return text


def column_not_null(column: Column) -> bool:
    return column.not_null or column.type.strip().lower().endswith(" not null")


def _decoration(descending: bool, nulls_first: bool) -> str:
    if descending:
        return " DESC" if nulls_first else " DESC NULLS LAST"
    return " NULLS FIRST" if nulls_first else ""


def plain_keys(columns: list[str]) -> list[tuple[str, bool, bool]]:
    """Ascending keys for an index over ``columns``."""
    return [(column, False, False) for column in columns]


def sort_index_keys(equal: list[str], order: list[OrderKey]) -> list[tuple[str, bool, bool]]:
    """Index keys that serve ``WHERE <equal> = ... ORDER BY <order>``: the equality columns, then the
    sort columns; directions only where they are mixed (a btree scans backwards just as well)."""
    keys = plain_keys(list(dict.fromkeys(equal)))
    sort = [key for key in order if key.ref.column not in equal]
    flip = bool(sort) and sort[0].descending
    for key in sort:
        if key.ref.column not in {k[0] for k in keys}:
            keys.append((key.ref.column, key.descending != flip, key.nulls_first != flip))
    return keys
