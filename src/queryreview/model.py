"""Model objects that flow from sources through analysis to renderers."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:  # sqlglot is imported lazily: it costs start-up time
    from sqlglot import exp

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

FAMILIES = {
    1: "query",
    2: "schema",
    3: "plan",
    4: "workload",
    5: "migration",
    9: "tool",
}


@dataclass(frozen=True)
class Location:
    """A span in a file: 1-based lines and columns; the end column is exclusive."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


@dataclass(eq=False)
class SourceText:
    """One input's text plus a line index, to turn offsets into line/column."""

    path: str
    text: str
    problem: tuple[str, int] | None = None  # (what is wrong with the input, offset) for unreadable-input
    _line_starts: list[int] | None = field(default=None, repr=False)

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of a character offset."""
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def location(self, start: int, end: int) -> Location:
        """Location of the half-open character range [start, end)."""
        line, column = self.position(start)
        end_line, end_column = self.position(max(end, start))
        return Location(self.path, line, column, end_line, end_column)


@dataclass(frozen=True)
class Comment:
    """A comment found by the splitter; own_line is True when no code precedes it on its line."""

    offset: int
    text: str
    own_line: bool


# Statement.nodes(*types): (types) -> {concrete node class: is it one of them}; issubclass costs more than a lookup.
_TYPE_MATCHES: dict[tuple[type, ...], dict[type, bool]] = {}
_NODE_BASE: type | None = None  # sqlglot's Expr, imported on first use
# Node classes sqlglot marks primitive (identifiers, literals…): their arguments are plain values, never nodes.
_LEAF_TYPES: set[type] = set()


def _index_by_type(root: Any) -> dict[Any, list[Any]]:
    """{node class: nodes}, in ``root.walk()`` order (breadth-first, children in argument order).

    The same order as sqlglot's walk(), in one loop over a growing list: walk() runs two nested
    generators per node, which cost more than the rules reading the index.
    """
    global _NODE_BASE
    node_base = _NODE_BASE
    if node_base is None:
        from sqlglot.expressions.core import Expr

        node_base = _NODE_BASE = Expr
    leaf_types = _LEAF_TYPES
    index: dict[Any, list[Any]] = {}
    queue = [root]
    append = queue.append
    for node in queue:  # the loop reaches the children appended below
        node_type = type(node)
        same_type = index.get(node_type)
        if same_type is None:
            index[node_type] = [node]
            if getattr(node_type, "is_primitive", False):
                leaf_types.add(node_type)
        else:
            same_type.append(node)
        if node_type in leaf_types:
            continue  # about half the nodes of a statement
        for value in node.args.values():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, node_base):
                        append(item)
            elif isinstance(value, node_base):
                append(value)
    return index


@dataclass(eq=False)
class Statement:
    """One statement of an input: its text, where it stands, and its parse tree.

    ``text`` is the code from the first token to before the terminating ``;``;
    ``start`` is its offset in the source. ``ast`` is None when parsing failed
    (``error`` then says why, ``error_offset`` is relative to ``start``).
    """

    source: SourceText
    index: int
    text: str
    start: int
    kind: str = "sql"  # "sql" | "meta" (psql meta-command)
    ast: exp.Expression | None = None
    error: str | None = None
    error_offset: int = 0
    comments: tuple[Comment, ...] = ()
    nesting_depth: int = 0
    # nodes() index: class -> nodes, and (classes…) -> nodes of any of them once asked for
    _by_type: dict[Any, list[Any]] | None = field(default=None, repr=False)

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def location(self) -> Location:
        return self.source.location(self.start, self.end)

    def nodes(self, *types: type) -> Iterator[Any]:
        """Nodes of the given sqlglot types; the tree is walked once per statement, then indexed by type.

        One type matches that exact class (``nodes(exp.Func)`` finds no ``exp.Lower``).
        Several types also match their subclasses, and come grouped by concrete class,
        the classes in the order they first occur in the walk. Within a class, nodes
        are in sqlglot's ``walk()`` order: breadth-first, outer queries before the
        subqueries they contain.
        """
        if self.ast is None:
            return iter(())
        by_type = self._by_type
        if by_type is None:
            by_type = self._by_type = _index_by_type(self.ast)
        if len(types) == 1:
            return iter(by_type.get(types[0], ()))
        found = by_type.get(types)  # several types: looked up once per statement, then kept under the tuple
        if found is None:
            matches = _TYPE_MATCHES.get(types)
            if matches is None:
                matches = _TYPE_MATCHES[types] = {}
            found = []
            for node_type, nodes in by_type.items():
                if type(node_type) is tuple:
                    continue
                match = matches.get(node_type)
                if match is None:
                    match = matches[node_type] = issubclass(node_type, types)
                if match:
                    found.extend(nodes)
            by_type[types] = found
        return iter(found)

    def span_location(self, start: int, end: int) -> Location:
        """Location of [start, end) given relative to this statement's text."""
        return self.source.location(self.start + start, self.start + end)


@dataclass(eq=False)
class Script:
    """All statements of one input, in order: context for rules that need what came before
    (``SET lock_timeout`` earlier in a migration, ``BEGIN`` around a statement…)."""

    source: SourceText
    statements: list[Statement]

    def before(self, statement: Statement) -> list[Statement]:
        """The statements preceding ``statement`` in this input."""
        return self.statements[: statement.index]

    def after(self, statement: Statement) -> list[Statement]:
        return self.statements[statement.index + 1 :]


@dataclass(frozen=True)
class Fix:
    """What to do about a finding, and where a mechanical rewrite exists, the rewritten statement.

    ``Fix.later(description, render)`` defers the rewrite: ``render()`` runs on the first
    read of ``sql`` (a renderer printing it), not for every finding ``check`` makes.
    """

    description: str
    sql: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "sql": self.sql}

    @staticmethod
    def later(description: str, render: Callable[[], str | None]) -> Fix:
        """A Fix whose ``sql`` is ``render()``, computed once, when first read.

        Rendering a rewritten statement (copy the tree, transform, generate SQL) costs about
        a millisecond: more than every rule together spends on a statement. ``render`` must
        not read state that changes later: capture the tree (``root = stmt.ast``), not ``stmt``
        (the engine drops ``stmt.ast`` after the rules ran, and keeps the tree for the fix).
        If ``render`` raises, ``sql`` is None: the finding keeps its description.

            Fix.later("Use UNION ALL", partial(_rewrite, stmt.ast, union))
        """
        return _LazyFix(description, render=render)

    @property
    def pending(self) -> bool:
        """True while ``sql`` is still to be rendered (its closure keeps the statement's tree alive)."""
        return False


class _Deferred:
    """``_LazyFix.sql``: renders on first read, then the instance's own attribute shadows this descriptor."""

    def __get__(self, fix: Any, owner: type) -> Any:
        if fix is None:
            return None  # the class attribute: the field's default, as on Fix
        try:
            sql = fix.__dict__["_render"]()
        except Exception:  # noqa: BLE001 - a renderer must not fail on a rule's rewrite: keep the description
            sql = None
        fix.__dict__["sql"] = sql
        fix.__dict__["_render"] = None  # let go of the tree the closure held
        return sql


class _LazyFix(Fix):
    """A Fix whose ``sql`` is rendered on first read (see Fix.later); otherwise the same as a Fix."""

    sql = _Deferred()  # type: ignore[assignment]

    def __init__(
        self, description: str, sql: str | None = None, render: Callable[[], str | None] | None = None
    ) -> None:
        object.__setattr__(self, "description", description)
        if render is None:  # dataclasses.replace() passes the rendered sql
            object.__setattr__(self, "sql", sql)
        else:
            object.__setattr__(self, "_render", render)

    @property
    def pending(self) -> bool:
        return "sql" not in self.__dict__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fix):
            return NotImplemented
        return (self.description, self.sql) == (other.description, other.sql)

    __hash__ = Fix.__hash__

    def __repr__(self) -> str:
        return f"Fix(description={self.description!r}, sql={self.sql!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (and deep-copies) as the plain Fix it stands for
        return Fix, (self.description, self.sql)


@dataclass(frozen=True)
class Hit:
    """What a rule reports: the engine adds the rule's identity and the location.

    ``node`` (a sqlglot node) or ``span`` (offsets relative to the statement text)
    says where; neither means the whole statement. Rules over the database (no
    statement) name the object they are about in ``target`` (``public.orders``).
    """

    message: str
    node: Any = None
    span: tuple[int, int] | None = None
    help: str | None = None
    fix: Fix | None = None
    target: str | None = None
    evidence: dict[str, Any] | None = None  # the numbers behind the finding (plan node, counts…)


@dataclass(frozen=True)
class Finding:
    code: str
    rule: str
    severity: str
    family: str
    message: str
    help: str
    location: Location
    statement: str | None = None
    fix: Fix | None = None
    evidence: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "family": self.family,
            "message": self.message,
            "help": self.help,
            "location": self.location.to_dict(),
            "statement": self.statement,
            "fix": self.fix.to_dict() if self.fix else None,
            "evidence": self.evidence,
        }

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.code)


@dataclass(frozen=True)
class StatementImpact:
    """How one statement fares under a recommendation (costs are planner costs, times ms)."""

    text: str
    queryid: int | None = None
    calls: int = 0
    total_ms: float = 0.0
    cost_before: float | None = None
    cost_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"queryid": self.queryid, "text": self.text, "calls": self.calls, "total_ms": self.total_ms,
                "cost_before": self.cost_before, "cost_after": self.cost_after}


@dataclass(frozen=True)
class Recommendation:
    """An index to create or drop, or a rewrite, with the evidence for it.

    ``kind`` is "create-index" | "drop-index" | "rewrite"; ``validated_by`` is "hypopg" |
    "real-index" | "estimate" (or "catalog" for drops judged from usage counters).
    """

    kind: str
    sql: str
    reason: str
    table: str | None = None
    statements: tuple[StatementImpact, ...] = ()
    cost_before: float | None = None
    cost_after: float | None = None
    size_bytes: int | None = None
    validated_by: str = "estimate"
    saving_ms_per_day: float | None = None
    write_overhead: str | None = None  # e.g. "orders: 1,200 writes/s; +1 index to maintain"
    rejected: bool = False  # considered, rejected: ``reason`` says why

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "sql": self.sql, "table": self.table,
            "statements": [impact.to_dict() for impact in self.statements],
            "cost_before": self.cost_before, "cost_after": self.cost_after, "size_bytes": self.size_bytes,
            "validated_by": self.validated_by, "saving_ms_per_day": self.saving_ms_per_day,
            "reason": self.reason, "write_overhead": self.write_overhead,
        }


@dataclass
class Review:
    """Everything analysis produced; renderers only read it."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    statements: int = 0
    parsed: int = 0
    skipped_rules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, SourceText] = field(default_factory=dict, repr=False)  # inputs with findings, for code frames
    recommendations: list[Recommendation] = field(default_factory=list)  # ranked, best first
    rejected: list[Recommendation] = field(default_factory=list)  # considered, rejected (reason says why)

    def by_severity(self) -> dict[str, int]:
        counts = {name: 0 for name in reversed(SEVERITIES)}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "statements": self.statements,
            "parsed": self.parsed,
            "findings": len(self.findings),
            "by_severity": self.by_severity(),
        }
