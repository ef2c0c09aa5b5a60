"""Index candidates from each statement's tree: the indexes worth asking the planner about.

    pool = generate(statements, catalog)      # CandidatePool: candidates, why each, which statements
    for candidate in pool.candidates: candidate.definition()   # CREATE INDEX ON public.orders (status, created_at)

Per FROM item of every query level (resolved to catalog tables by sql/resolve.py):

- single columns: each equality, IN/ANY, IS NULL, range, join, anchored-LIKE column, and the
  first ORDER BY / GROUP BY key;
- multi-column: equality columns first, most selective first (pg_stats), then one range
  column; the same led by each join column (a nested loop's inner probe); equality columns
  then the sort keys (ORDER BY served in index order) or the GROUP BY keys;
- covering: the same keys with INCLUDE (the other columns the query reads from that
  table) when that makes an index-only scan possible;
- partial: when an equality filter selects a rare value (at most PARTIAL_MAX_FRACTION of
  the rows by most_common_freqs, or IS NULL by null_frac), the index keeps only those rows;
- expression: ``lower(email) = $1``, ``created_at::date = …``: an index on the expression;
- pg_trgm GIN for ``LIKE '%…'`` / ILIKE: hypopg cannot create GIN indexes, so such a
  candidate is only ever validated with a real index (``--disposable``) or estimated.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlglot import exp

from queryreview.advisor import selectivity
from queryreview.advisor.statements import WorkStatement
from queryreview.catalog import Catalog, Table
from queryreview.model import Statement
from queryreview.sql.predicates import columns as columns_under
from queryreview.sql.predicates import conjuncts, disjuncts, render, strip_parens
from queryreview.sql.resolve import (
    EQUALITY,
    JOIN,
    NULL,
    RANGE,
    SCOPE_TYPES,
    Resolver,
    Scope,
    Source,
    filters,
    ident,
    order_keys,
    quote_ident,
    quote_qualified,
    resolver_for,
    single_value,
)

MAX_KEYS = 4
MAX_INCLUDE = 5
MAX_INCLUDE_WIDTH = 120  # bytes of average width the INCLUDE columns may add
PARTIAL_MAX_FRACTION = 0.10
TRGM_OPCLASS = "gin_trgm_ops"
TRGM_FRACTION = 0.01  # what a three-or-more-character LIKE '%…%' keeps, for estimates only


@dataclass(frozen=True)
class Key:
    """One index key: a column, or an expression over the table's columns (``lower(email)``)."""

    text: str  # column name as stored (unquoted), or the expression's SQL without table qualifiers
    expression: bool = False
    descending: bool = False
    nulls_first: bool = False
    opclass: str = ""
    columns: tuple[str, ...] = ()  # the table columns it reads

    def sql(self) -> str:
        body = f"({self.text})" if self.expression else quote_ident(self.text)
        if self.opclass:
            body += f" {self.opclass}"
        if self.descending:
            body += " DESC" if self.nulls_first else " DESC NULLS LAST"
        elif self.nulls_first:
            body += " NULLS FIRST"
        return body


def column_key(name: str, descending: bool = False, nulls_first: bool = False, opclass: str = "") -> Key:
    return Key(name, False, descending, nulls_first, opclass, (name,))


@dataclass(frozen=True)
class Candidate:
    """A hypothetical index: table, keys, INCLUDE columns, predicate (partial), method."""

    table: str  # qualified name
    keys: tuple[Key, ...]
    include: tuple[str, ...] = ()
    predicate: str | None = None
    method: str = "btree"

    @property
    def sort_key(self) -> tuple:
        return (self.table, self.method, tuple(key.sql() for key in self.keys), self.include, self.predicate or "")

    @property
    def leading_columns(self) -> tuple[str, ...]:
        return self.keys[0].columns

    def key_columns(self) -> list[str]:
        return [column for key in self.keys for column in key.columns]

    def all_columns(self) -> frozenset[str]:
        return frozenset(self.key_columns()) | frozenset(self.include)

    def label(self) -> str:
        """``orders (status, created_at) INCLUDE (total) WHERE …`` for messages."""
        text = f"{self.table} ({', '.join(key.sql() for key in self.keys)})"
        if self.method != "btree":
            text = f"{self.table} USING {self.method} ({', '.join(key.sql() for key in self.keys)})"
        if self.include:
            text += f" INCLUDE ({', '.join(quote_ident(column) for column in self.include)})"
        if self.predicate:
            text += f" WHERE {self.predicate}"
        return text

    def definition(self, name: str | None = None, concurrently: bool = False) -> str:
        """CREATE INDEX text; identifiers quoted as PostgreSQL's quote_ident would."""
        parts = ["CREATE INDEX"]
        if concurrently:
            parts.append("CONCURRENTLY")
        if name:
            parts.append(quote_ident(name))
        parts.append(f"ON {quote_qualified(self.table)}")
        if self.method != "btree":
            parts.append(f"USING {self.method}")
        parts.append(f"({', '.join(key.sql() for key in self.keys)})")
        if self.include:
            parts.append(f"INCLUDE ({', '.join(quote_ident(column) for column in self.include)})")
        if self.predicate:
            parts.append(f"WHERE {self.predicate}")
        return " ".join(parts)

    def name_parts(self) -> list[str]:
        """What a readable name lists: key columns (or the expression's columns), then 'partial'/'trgm'."""
        # an expression reads as its words: date(created_at) -> date_created_at (not created_at, which
        # would collide with the plain column's index and end up as created_at_idx1)
        parts = [key.text if not key.expression else "_".join(re.findall(r"\w+", key.text.lower())) or "expr"
                 for key in self.keys]
        if self.method == "gin":
            parts.append("trgm")
        if self.predicate:
            parts.append("partial")
        return parts


@dataclass
class CandidateInfo:
    reasons: list[str] = field(default_factory=list)  # why generated, in the order first seen
    statements: set[str] = field(default_factory=set)  # keys of statements it was generated for
    partial_note: str | None = None  # "status = 'open' keeps 2% of the rows (pg_stats most_common_freqs)"
    partial_fraction: float | None = None  # the share of rows a partial index keeps
    hypopg_ok: bool = True  # hypopg can create it (not GIN)


@dataclass
class CandidatePool:
    info: dict[Candidate, CandidateInfo] = field(default_factory=dict)

    @property
    def candidates(self) -> list[Candidate]:
        return sorted(self.info, key=lambda candidate: candidate.sort_key)

    def add(self, candidate: Candidate | None, statement: WorkStatement, reason: str,
            partial_note: str | None = None, partial_fraction: float | None = None) -> None:
        if candidate is None or not candidate.keys:
            return
        entry = self.info.setdefault(candidate, CandidateInfo(hypopg_ok=candidate.method == "btree"))
        if reason not in entry.reasons:
            entry.reasons.append(reason)
        entry.statements.add(statement.key)
        if partial_note:
            entry.partial_note = partial_note
            entry.partial_fraction = partial_fraction


# -- per statement ------------------------------------------------------------------------------------


@dataclass
class _Usage:
    """What one query level does with one FROM item (a catalog table)."""

    table: Table
    equal: list[tuple[Key, float, bool]] = field(default_factory=list)  # key, fraction kept, single value
    ranges: list[tuple[Key, float]] = field(default_factory=list)
    joins: list[tuple[Key, float]] = field(default_factory=list)
    partners: dict[str, list[Key]] = field(default_factory=dict)  # other FROM item -> join keys to it
    rare: list[tuple[str, str, float, str]] = field(default_factory=list)  # column, predicate SQL, fraction, source
    trgm: list[str] = field(default_factory=list)
    order: list[Key] | None = None
    group: list[Key] = field(default_factory=list)
    mentioned: set[str] = field(default_factory=set)
    complete: bool = True  # every column this level reads from the table is known (no star, all resolved)


def generate(statements: list[WorkStatement], catalog: Catalog) -> CandidatePool:
    """Candidates for every statement; fills each statement's ``tables``, ``columns`` and ``searched``."""
    pool = CandidatePool()
    for statement in statements:
        stmt = _factored(statement.stmt)
        resolver = resolver_for(stmt, catalog)
        mentioned: dict[str, set[str]] = {}
        for column in stmt.nodes(exp.Column):
            ref = resolver.resolve(column)
            if ref is not None and ref.table is not None:
                mentioned.setdefault(ref.table.qualified_name, set()).add(ref.column)
        tables: set[str] = set()
        searched: dict[str, set[str]] = {}
        for node in stmt.nodes(*SCOPE_TYPES):
            scope = resolver.scope(node)
            tables.update(source.table.qualified_name for source in scope.sources.values() if source.table is not None)
            for usage in _usages(resolver, scope, catalog).values():
                _candidates_for(usage, statement, pool)
                searched.setdefault(usage.table.qualified_name, set()).update(_searched(usage))
                _record_fractions(usage, statement.fractions.setdefault(usage.table.qualified_name, {}))
        statement.tables = frozenset(tables)
        statement.columns = {name: frozenset(mentioned.get(name, ())) for name in sorted(tables)}
        statement.searched = {name: frozenset(searched.get(name, ())) for name in sorted(tables)}
    return pool


def _record_fractions(usage: _Usage, found: dict[str, tuple[str, float]]) -> None:
    """Key text -> (kind, fraction of rows kept), the most selective per key: for estimates."""
    items = [(key, "eq", fraction) for key, fraction, _ in usage.equal]
    items += [(key, "range", fraction) for key, fraction in usage.ranges]
    items += [(column_key(column, opclass=TRGM_OPCLASS), "trgm", TRGM_FRACTION) for column in usage.trgm]
    for key, kind, fraction in items:
        name = key.text + (f" {key.opclass}" if key.opclass else "")
        if name not in found or fraction < found[name][1]:
            found[name] = (kind, fraction)
    for column, predicate, fraction, _ in usage.rare:
        found[f"WHERE {predicate}"] = ("predicate", fraction)


def _searched(usage: _Usage) -> set[str]:
    """Columns an index key on this table could serve: filters, joins, sort and group keys."""
    keys = [key for key, _, _ in usage.equal] + [key for key, _ in usage.ranges] + [key for key, _ in usage.joins]
    keys += (usage.order or []) + usage.group
    return {column for key in keys if not key.expression for column in key.columns}


def _factored(stmt: Statement) -> Statement:
    """The statement with common conditions pulled out of ORs, as PostgreSQL's planner does
    (prepqual.c): ``(a = b AND x = 1) OR (a = b AND x = 2)`` filters on ``a = b`` too."""
    if not any(isinstance(strip_parens(where.this), exp.Or) for where in stmt.nodes(exp.Where)):
        return stmt
    tree = stmt.ast.copy()
    changed = False
    for where in list(tree.find_all(exp.Where)):
        branches = disjuncts(where.this)
        if len(branches) < 2:
            continue
        parts = [{render(part): part for part in conjuncts(branch)} for branch in branches]
        common = [text for text in parts[0] if all(text in other for other in parts[1:])]
        if not common:
            continue
        rests = [[part for text, part in branch.items() if text not in common] for branch in parts]
        kept = [parts[0][text].copy() for text in common]
        if all(rests):
            kept.append(exp.or_(*(exp.paren(exp.and_(*(p.copy() for p in rest))) for rest in rests)))
        where.set("this", exp.and_(*kept))
        changed = True
    if not changed:
        return stmt
    return Statement(source=stmt.source, index=stmt.index, text=stmt.text, start=stmt.start, ast=tree)


def _usages(resolver: Resolver, scope: Scope, catalog: Catalog) -> dict[int, _Usage]:
    usages: dict[int, _Usage] = {}

    def usage(source: Source) -> _Usage:
        found = usages.get(id(source))
        if found is None:
            found = usages[id(source)] = _Usage(source.table)  # type: ignore[arg-type]
        return found

    for item in filters(resolver, scope):
        source = item.ref.source
        if source.table is None:
            continue
        table, column = source.table, item.ref.column
        key = column_key(column)
        if item.kind == EQUALITY:
            value = selectivity.literal_text(item.value) if item.value is not None else None
            fraction = _equality_fraction(table, column, item)
            usage(source).equal.append((key, fraction, single_value(item)))
            if value is not None and item.value is not None and _is_literal(item.value):
                if fraction <= PARTIAL_MAX_FRACTION and _has_mcv(table, column, value):
                    usage(source).rare.append((column, _unqualified(item.node), fraction, "most_common_freqs"))
        elif item.kind == NULL:
            fraction = selectivity.null_fraction(table, column)
            usage(source).equal.append((key, fraction, True))
            if fraction <= PARTIAL_MAX_FRACTION and table.column_stat(column) is not None:
                usage(source).rare.append((column, _unqualified(item.node), fraction, "null_frac"))
        elif item.kind == RANGE:
            usage(source).ranges.append((key, _range_fraction(table, column, item)))
        elif item.kind == JOIN:
            usage(source).joins.append((key, selectivity.distinct_fraction(table, column)))
            usage(source).partners.setdefault(_partner(resolver, scope, item), []).append(key)
    where = scope.node.args.get("where")
    parts = conjuncts(where.this) if where is not None else []
    for join in scope.node.args.get("joins") or ():
        if join.args.get("on") is not None and (join.args.get("side") or "").upper() not in ("RIGHT", "FULL"):
            parts.extend(conjuncts(join.args["on"]))
    for part in parts:
        _expression_filter(resolver, scope, part, usage)
        _like_filter(resolver, scope, part, usage)
    keys = order_keys(resolver, scope) if isinstance(scope.node, exp.Select) else None
    if keys:
        sources = {id(key.ref.source) for key in keys}
        if len(sources) == 1 and keys[0].ref.table is not None:
            usage(keys[0].ref.source).order = [column_key(key.ref.column, key.descending, key.nulls_first)
                                               for key in keys]
    group = scope.node.args.get("group") if isinstance(scope.node, exp.Select) else None
    if group is not None:
        for expression in group.expressions:
            ref = resolver.resolve(expression, scope)
            if ref is not None and ref.table is not None and scope.sources.get(ref.source.alias) is ref.source:
                usage(ref.source).group.append(column_key(ref.column))
    for source in scope.sources.values():
        if source.table is not None and id(source) in usages:
            _mentioned(resolver, scope, source, usages[id(source)])
    return usages


def _partner(resolver: Resolver, scope: Scope, item) -> str:
    """The alias of the FROM item on the other side of a join equality."""
    node = strip_parens(item.node)
    for side in (node.this, node.expression):
        ref = resolver.resolve(strip_parens(side), scope)
        if ref is not None and ref.source is not item.ref.source:
            return ref.source.alias
    return "?"


def _mentioned(resolver: Resolver, scope: Scope, source: Source, usage: _Usage) -> None:
    """Columns of ``source`` this query level reads (for INCLUDE); incomplete on ``*`` or an unresolved name."""
    node = scope.node
    for star in node.find_all(exp.Star):
        owner = star.parent if isinstance(star.parent, exp.Column) else star
        if _scope_node(owner) is node:
            qualifier = ident(owner.args.get("table")) if isinstance(owner, exp.Column) else ""
            if not qualifier or qualifier == source.alias:
                if not isinstance(owner.parent, exp.Count):
                    usage.complete = False
    for column in node.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            continue
        ref = resolver.resolve(column)
        if ref is None:
            if _scope_node(column) is node:
                usage.complete = False
            continue
        if ref.source is source:
            usage.mentioned.add(ref.column)


def _scope_node(node: exp.Expression) -> exp.Expression | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, SCOPE_TYPES):
        parent = parent.parent
    return parent


def _expression_filter(resolver: Resolver, scope: Scope, part: Any, usage) -> None:
    """``lower(email) = $1``, ``created_at::date >= …``: the expression side over one local table."""
    part = strip_parens(part)
    if not isinstance(part, (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
        return
    for side, other in ((part.this, part.expression), (part.expression, part.this)):
        side = strip_parens(side)
        if not isinstance(side, (exp.Func, exp.Cast)) or isinstance(side, (exp.AggFunc, exp.Window)):
            continue
        if side.find(exp.Select) is not None or not _is_value(resolver, scope, other):
            continue
        found = columns_under(side)
        refs = [resolver.resolve(column, scope) for column in found]
        if not refs or any(ref is None or ref.table is None for ref in refs):
            continue
        if len({id(ref.source) for ref in refs}) != 1 or scope.sources.get(refs[0].source.alias) is not refs[0].source:
            continue
        text = _unqualified(side)
        key = Key(text, True, columns=tuple(dict.fromkeys(ref.column for ref in refs)))
        if isinstance(part, exp.EQ):
            usage(refs[0].source).equal.append((key, selectivity.DEFAULT_EQ, True))
        else:
            usage(refs[0].source).ranges.append((key, selectivity.DEFAULT_INEQ))
        return


def _like_filter(resolver: Resolver, scope: Scope, part: Any, usage) -> None:
    part = strip_parens(part)
    if not isinstance(part, (exp.Like, exp.ILike)):
        return
    column, pattern = strip_parens(part.this), strip_parens(part.expression)
    if not isinstance(column, exp.Column) or not isinstance(pattern, exp.Literal) or not pattern.is_string:
        return
    ref = resolver.resolve(column, scope)
    if ref is None or ref.table is None or scope.sources.get(ref.source.alias) is not ref.source:
        return
    text = str(pattern.this)
    if isinstance(part, exp.ILike) or text.startswith(("%", "_")):
        if len(text.strip("%_")) >= 3:  # trigrams need three characters to narrow anything down
            usage(ref.source).trgm.append(ref.column)
    elif text and text[0] not in "%_":
        # an anchored pattern is a range scan (C collation, or text_pattern_ops)
        usage(ref.source).ranges.append((column_key(ref.column), selectivity.DEFAULT_RANGE))
        usage(ref.source).ranges.append((column_key(ref.column, opclass="text_pattern_ops"), selectivity.DEFAULT_RANGE))


def _is_value(resolver: Resolver, scope: Scope, node: Any) -> bool:
    from queryreview.sql.predicates import is_constant

    node = strip_parens(node)
    if is_constant(node):
        return True
    if isinstance(node, exp.Column):
        ref = resolver.resolve(node, scope)
        return ref is not None and scope.sources.get(ref.source.alias) is not ref.source
    return False


def _is_literal(node: Any) -> bool:
    node = strip_parens(node)
    while isinstance(node, (exp.Cast, exp.TryCast)):
        node = strip_parens(node.this)
    return isinstance(node, (exp.Literal, exp.Boolean))


def _has_mcv(table: Table, column: str, value: str) -> bool:
    stats = table.column_stat(column)
    return stats is not None and bool(stats.most_common_vals) and value in (stats.most_common_vals or ())


def _equality_fraction(table: Table, column: str, item) -> float:
    if item.value is None:  # IN (…) / = ANY(…): a few values
        node = strip_parens(item.node)
        count = len(node.expressions) if isinstance(node, exp.In) and node.expressions else 3
        return min(1.0, count * selectivity.distinct_fraction(table, column))
    return selectivity.equality_fraction(table, column, selectivity.literal_text(item.value))


def _range_fraction(table: Table, column: str, item) -> float:
    node = strip_parens(item.node)
    if isinstance(node, exp.Between):
        return selectivity.between_fraction(table, column, selectivity.literal_text(node.args.get("low")),
                                            selectivity.literal_text(node.args.get("high")))
    operator = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}[type(node)]
    if strip_parens(node.this) is strip_parens(item.value):  # the value on the left: flip the operator
        operator = {">": "<", ">=": "<=", "<": ">", "<=": ">="}[operator]
    return selectivity.range_fraction(table, column, operator, selectivity.literal_text(item.value))


def _unqualified(node: exp.Expression) -> str:
    """The SQL of a predicate or expression with table qualifiers removed (for index definitions)."""
    copy = node.copy()
    for column in copy.find_all(exp.Column):
        column.set("table", None)
        column.set("db", None)
        column.set("catalog", None)
    return render(copy)


# -- turning usages into candidates ----------------------------------------------------------------


def _candidates_for(usage: _Usage, statement: WorkStatement, pool: CandidatePool) -> None:
    table = usage.table
    name = table.qualified_name

    def add(keys: Iterable[Key], reason: str, include: Iterable[str] = (), predicate: str | None = None,
            method: str = "btree", note: str | None = None, fraction: float | None = None) -> Candidate | None:
        unique = _dedupe(keys)[:MAX_KEYS]
        if not unique:
            return None
        candidate = Candidate(name, tuple(unique), tuple(sorted(set(include) - {k.text for k in unique})),
                              predicate, method)
        pool.add(candidate, statement, reason, note, fraction)
        return candidate

    equal = sorted(usage.equal, key=lambda item: item[1])  # most selective first
    equal_keys = [key for key, _, _ in equal]
    best_range = min(usage.ranges, key=lambda item: item[1])[0] if usage.ranges else None
    for key, _, _ in usage.equal:
        add([key], f"equality on {key.text}")
    for key, _ in usage.ranges:
        add([key], f"range on {key.text}")
    for key, _ in usage.joins:
        add([key], f"join on {key.text}")
    filter_keys = equal_keys + ([best_range] if best_range is not None else [])
    primary: list[list[Key]] = []
    if len(_dedupe(filter_keys)) > 1:
        add(filter_keys, "equality columns, then a range column")
    if filter_keys:
        primary.append(filter_keys)
    for key, _ in usage.joins:
        joined = [key] + filter_keys
        if len(_dedupe(joined)) > 1:
            add(joined, f"join on {key.text}, then its filters")
        primary.append(joined)
    for keys in usage.partners.values():
        if len(_dedupe(keys)) > 1:  # a nested loop probing with two or more columns of the same outer row
            fractions = dict((key.text, fraction) for key, fraction in usage.joins)
            probe = sorted(_dedupe(keys), key=lambda key: (fractions.get(key.text, 1.0), key.text))
            add(probe, "join columns to the same table")
            primary.append(probe)
    if usage.order:
        single = [key for key, _, one in equal if one and not key.expression]
        ordered = single + _forward([k for k in usage.order if k.text not in {s.text for s in single}])
        add(ordered, "equality columns, then the ORDER BY keys")
        primary.append(ordered)
    if usage.group:
        grouped = [k for k in equal_keys if k.text not in {g.text for g in usage.group}] + usage.group
        add(grouped, "GROUP BY keys")
        primary.append(grouped)
    if usage.complete:
        for keys in primary:
            include = _include_columns(usage, keys)
            if include:
                add(keys, "covering: an index-only scan becomes possible", include=include)
    for column, predicate, fraction, source in usage.rare:
        rest = [key for key in filter_keys if column not in key.columns] or (usage.order or [column_key(column)])
        note = f"{predicate} keeps {fraction:.1%} of the rows (pg_stats {source})"
        add(rest, f"partial index for the rare value in {predicate}", predicate=predicate, note=note, fraction=fraction)
    for column in usage.trgm:
        add([column_key(column, opclass=TRGM_OPCLASS)], f"pg_trgm GIN for LIKE/ILIKE with a leading wildcard on "
            f"{column}", method="gin")


def _forward(order: list[Key]) -> list[Key]:
    """Sort keys with the first one ascending: a btree scans backwards as well, so only mixed directions
    need spelling out (``ORDER BY a DESC, b DESC`` -> ``(a, b)``; ``a DESC, b`` -> ``(a, b DESC)``)."""
    if not order or not order[0].descending:
        return order
    return [Key(k.text, k.expression, not k.descending, not k.nulls_first, k.opclass, k.columns) for k in order]


def _include_columns(usage: _Usage, keys: list[Key]) -> list[str]:
    """The other columns the query reads, when few and narrow enough to carry in the index."""
    in_keys = {column for key in keys for column in key.columns}
    rest = sorted(usage.mentioned - in_keys)
    if not rest or len(rest) > MAX_INCLUDE:
        return []
    width = 0
    for column in rest:
        stats = usage.table.column_stat(column)
        width += stats.avg_width if stats is not None and stats.avg_width else 16
    return rest if width <= MAX_INCLUDE_WIDTH else []


def _dedupe(keys: Iterable[Key]) -> list[Key]:
    seen: set[str] = set()
    found = []
    for key in keys:
        if key.text in seen:
            continue
        seen.add(key.text)
        found.append(key)
    return found
