"""EXPLAIN of collected query text (pg_stat_statements' ``$1`` texts and file statements), safely.

    result = explain_statement(session, "SELECT * FROM orders WHERE id = $1")
    result.method, result.plan_json, result.parameter_types     # "generic_plan", [{"Plan": …}], ("bigint",)
    plans = explain_workload(session, workload, top=200)        # {queryid: ExplainResult}

How a plan is had (``method``):

- ``plain``: no ``$n`` parameters: ``EXPLAIN (FORMAT JSON, SETTINGS) <text>``;
- ``generic_plan`` (PostgreSQL 16+): ``EXPLAIN (GENERIC_PLAN, FORMAT JSON, SETTINGS) <text>``;
- ``prepared_generic`` (13-15, and 16+ when a parameter's type must be given): the text is
  prepared as ``qr_<n>`` (a protocol-level Parse: the same thing as PREPARE, with parameter
  types given as OIDs, never spliced into SQL), ``plan_cache_mode = force_generic_plan`` is
  set locally and ``EXPLAIN (FORMAT JSON, SETTINGS) EXECUTE qr_<n>(NULL, …)`` runs; the
  statement is deallocated by name afterwards. A forced generic plan never folds the NULLs
  (no ``One-Time Filter: false``). "could not determine data type of parameter $n" is
  retried with the compared column's type (sqlglot + catalog), else text;
- ``sampled_values``: no generic plan could be had: values sampled from pg_stats are BOUND
  as parameters (never written into the text) and the custom plan is explained; ``note``
  says which value came from where;
- ``analyze`` (opt-in): ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON, SETTINGS)``, read-only
  statements only, with sampled values bound for ``$n``; data-modifying statements only with
  ``analyze_writes`` and ``disposable`` (see explain_writes.py).

Protocol and safety. Every text is first proved a single SELECT/INSERT/UPDATE/DELETE/WITH
statement without transaction control or side-effect functions (guard.py), and every
message runs inside ``BEGIN READ ONLY`` … ``ROLLBACK``, marked like all Session traffic.
Everything goes over the extended protocol, where the server itself accepts exactly one
statement per message — except ``EXPLAIN (GENERIC_PLAN)``, which cannot (over the extended
protocol the server demands values for ``$n`` and then folds them into the plan). That one
message goes over the simple protocol, and only after the server has parsed the very same
bytes in an extended-protocol Parse, which fails on more than one statement ("cannot
insert multiple commands into a prepared statement"). So an injected ``…; DROP TABLE x``
must get past sqlglot, the project's splitter and PostgreSQL's own parser to run.

Failures: a failing EXPLAIN (timeout, privilege, syntax, refusal) is recorded on its
statement (``error``) and the run goes on; a lost connection ends it (``ExplainStopped``
carries what was gathered).
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from psycopg import generators, pq
from sqlglot import exp

from queryreview.catalog import WorkloadStats
from queryreview.errors import RuntimeFailure
from queryreview.sources.postgres import explain_params as params
from queryreview.sources.postgres.connect import (
    ConnectionLost,
    QueryCancelled,
    QueryFailed,
    Session,
    is_own_query,
    marked,
)
from queryreview.sources.postgres.guard import UnsafeStatement, prove_single_statement
from queryreview.sources.snapshot import ExplainResult

__all__ = ["ExplainResult", "ExplainStopped", "explain_statement", "explain_workload", "METHODS"]

METHODS = ("plain", "generic_plan", "prepared_generic", "sampled_values", "analyze")

# The only options prefixes ever sent: fixed texts, chosen by method.
_PLAIN_OPTIONS = "EXPLAIN (FORMAT JSON, SETTINGS) "
_GENERIC_OPTIONS = "EXPLAIN (GENERIC_PLAN, FORMAT JSON, SETTINGS) "
_ANALYZE_OPTIONS = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON, SETTINGS) "

_GENERIC_PLAN_VERSION = 160000
_PARAMETER_IN_MESSAGE = re.compile(r"parameter \$(\d+)")
# Errors after which another method may still give a plan: undeterminable or mismatched
# parameter types (42P18, 42804, 42883, 42725), and the NULL arguments of EXECUTE refused by a
# NOT NULL domain (23502) or a data exception (class 22).
_FALLBACK_STATES = frozenset({"42P18", "42804", "42883", "42725", "23502"})
_TYPE_STATES = frozenset({"42P18", "42804", "42883", "42725"})  # worth another PREPARE with types given
_PREPARED_NAME = "qr_1"
_TYPE_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Session -> {type oid: name}
_SET_LOCAL = marked("SELECT set_config(name, value, true) FROM unnest($1::text[], $2::text[]) AS s(name, value)")
_STATEMENT_NAME = re.compile(r"qr_\d+")
_FATAL = pq.ExecStatus.FATAL_ERROR
_IDLE = pq.TransactionStatus.IDLE

# Settings a caller (the gate: enable_seqscan=off) may set for one EXPLAIN: planner knobs only.
_PLANNER_SETTING = re.compile(
    r"(enable_\w+|\w+_cost|\w+_collapse_limit|geqo\w*|jit\w*|work_mem|hash_mem_multiplier|effective_cache_size"
    r"|effective_io_concurrency|default_statistics_target|constraint_exclusion|cursor_tuple_fraction|plan_cache_mode"
    r"|max_parallel_workers(?:_per_gather)?|min_parallel_\w+_scan_size|parallel_leader_participation"
    r"|random_page_cost|seq_page_cost|recursive_worktable_factor|hypopg\.\w+)"
)


class ExplainStopped(ConnectionLost):
    """The connection died mid-run; ``results`` holds the plans gathered before."""

    def __init__(self, message: str, results: dict[int, ExplainResult], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.results = results


def explain_statement(session: Session, text: str, *, analyze: bool = False, analyze_writes: bool = False,
                      disposable: bool = False, settings: Mapping[str, str] | None = None,
                      sample_values: bool = True) -> ExplainResult:
    """One statement's plan, or the reason there is none; raises only ConnectionLost.

    ``settings`` are planner settings applied with ``set_config(…, true)`` in the same
    transaction (``{"enable_seqscan": "off"}``). ``sample_values=False`` never binds pg_stats
    values (for redacted snapshots: a custom plan would show them).
    """
    return _Explainer(session, settings, sample_values).explain(text, analyze, analyze_writes and disposable)


def explain_workload(session: Session, stats: WorkloadStats, top: int = 200, *, analyze: bool = False, analyze_writes: bool = False,
                     disposable: bool = False, settings: Mapping[str, str] | None = None, sample_values: bool = True,
                     on_statement: Callable[[int, int], None] | None = None) -> dict[int, ExplainResult]:
    """Plans for the first ``top`` explainable statements of a WorkloadStats (its order: total time).

    Statements without text, queryreview's own, and utility statements (BEGIN, SET, VACUUM…)
    are skipped; a queryid seen twice (other role, nested) is explained once.
    ``on_statement(done, total)`` reports progress.
    """
    chosen: dict[int, str] = {}
    for stat in stats.statements:
        if len(chosen) >= top:
            break
        if stat.queryid is None or stat.queryid in chosen or not stat.query or is_own_query(stat.query):
            continue
        if _explainable_kind(stat.query):
            chosen[stat.queryid] = stat.query
    explainer = _Explainer(session, settings, sample_values)
    results: dict[int, ExplainResult] = {}
    for done, (queryid, text) in enumerate(chosen.items(), start=1):
        try:
            results[queryid] = explainer.explain(text, analyze, analyze_writes and disposable)
        except ConnectionLost as error:
            raise ExplainStopped(f"{error.args[0]} (after {len(results)} of {len(chosen)} plans)", results,
                                 hint=error.hint) from error
        if on_statement is not None:
            on_statement(done, len(chosen))
    return results


_FIRST_WORD = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*\(*\s*([A-Za-z]+)", re.S)


def _explainable_kind(text: str) -> bool:
    match = _FIRST_WORD.match(text)
    return bool(match) and match.group(1).lower() in ("select", "with", "insert", "update", "delete", "values", "table")


# -- one statement ---------------------------------------------------------------------------------


@dataclass
class _Text:
    """A statement proved safe: the code to send and what we know about it."""

    body: str
    tree: exp.Expression
    count: int  # highest $n
    modifies: bool  # INSERT/UPDATE/DELETE anywhere, or FOR UPDATE/SHARE
    notes: list[str] = field(default_factory=list)
    _targets: dict[int, params.Target] | None = None
    _facts: dict[bool, dict[int, params.ColumnFacts]] = field(default_factory=dict)

    @property
    def targets(self) -> dict[int, params.Target]:
        if self._targets is None:
            self._targets = params.parameter_targets(self.tree)
        return self._targets

    def facts(self, session: Session, with_values: bool) -> dict[int, params.ColumnFacts]:
        """The compared columns' types (and pg_stats values), read once per statement."""
        if with_values not in self._facts:
            self._facts[with_values] = params.column_facts(session, self.targets, with_values)
        return self._facts[with_values]


def _proved(text: str) -> _Text:
    """Repair what pg_stat_statements' normalization breaks, then prove the result (UnsafeStatement).

    The proof (parse, guard, split) is cached per text: the advisor explains the same statement
    hundreds of times. Each call gets its own _Text (notes and per-session facts are not shared).
    """
    proof = _proof(text)
    if isinstance(proof, str):
        raise UnsafeStatement(proof)
    body, tree, count, modifies, notes = proof
    return _Text(body, tree, count, modifies, list(notes))


@functools.lru_cache(maxsize=2048)
def _proof(text: str) -> tuple | str:
    from queryreview.sql.split import split

    if "\x00" in text:  # libpq would cut the text there: what runs must be what was proved
        return "refusing to run this SQL: it contains a NUL character"
    repaired, notes = params.repair_typed_literals(params.spaced_parameters(text))
    try:
        tree = prove_single_statement(repaired)
    except UnsafeStatement as error:
        return str(error)
    pieces = split(repaired)  # the guard saw exactly one; send only its code (no trailing ';' or comments)
    body = repaired[pieces[0].start : pieces[0].end]
    modifies = any(True for _ in tree.find_all(exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Lock))
    return body, tree, params.parameter_count(body), modifies, tuple(notes)


class _Explainer:
    def __init__(self, session: Session, settings: Mapping[str, str] | None, sample_values: bool) -> None:
        self.session = session
        self.wire = _Wire(session)
        self.settings = _checked_settings(settings)
        self.sample_values = sample_values
        self._type_names = _TYPE_NAMES.setdefault(session, {})  # per session: explain_statement is called often
        self._attempt: str | None = None  # the method being tried: what a failure is recorded under

    def explain(self, text: str, analyze: bool, writes: bool) -> ExplainResult:
        try:
            proved = _proved(text)
        except UnsafeStatement as error:
            return ExplainResult(method=None, error=str(error))
        self._attempt = None
        try:
            if analyze:
                try:
                    self._attempt = "analyze"
                    if not proved.modifies:
                        return self._analyze(proved)
                    if writes:
                        from queryreview.sources.postgres.explain_writes import analyze_write

                        return analyze_write(self, proved)
                    proved.notes.append("not analysed: it modifies data or locks rows (needs --analyze-writes "
                                        "on a --disposable database)")
                except _NoValues as error:
                    proved.notes.append(f"not analysed: {error.args[0]}")
            if proved.count == 0:
                self._attempt = "plain"
                plan, oids = self._bound(proved, _PLAIN_OPTIONS, [], [])
                return self._result(plan, "plain", oids, proved.notes)
            return self._generic(proved)
        except QueryFailed as error:
            return ExplainResult(method=self._attempt, error=str(error), note=_joined(proved.notes))

    # -- methods ---------------------------------------------------------------------------------

    def _generic(self, proved: _Text) -> ExplainResult:
        failure: QueryFailed | None = None
        if self.session.server_version_num >= _GENERIC_PLAN_VERSION:
            self._attempt = "generic_plan"
            try:
                text = marked(_GENERIC_OPTIONS + proved.body)
                with self.wire.transaction():
                    self.wire.apply(self.settings)
                    oids = self.wire.parse("", text)
                    plan = self.wire.simple(text)
                return self._result(plan, "generic_plan", oids, proved.notes)
            except QueryFailed as error:
                if not _falls_back(error):
                    raise
                failure = error
        self._attempt = "prepared_generic"
        types: list[int] = []
        needed: set[int] = set()
        for _attempt in range(proved.count + 1):
            if failure is not None:
                retry = self._retry_types(proved, failure, needed) if failure.sqlstate in _TYPE_STATES else None
                if retry is None or retry == types:
                    break
                types = retry
            try:
                plan, oids = self._prepared_generic(proved, types)
                return self._result(plan, "prepared_generic", oids, proved.notes + _cast_note(types, oids, self))
            except QueryFailed as error:
                if not _falls_back(error):
                    raise
                failure = error
        return self._sampled(proved, failure)

    def _prepared_generic(self, proved: _Text, types: list[int]) -> tuple[str, list[int]]:
        # One name, always deallocated: pg_stat_statements records each EXPLAIN EXECUTE by its text,
        # so a new name per EXPLAIN made a new entry each time (3,500 per audit on PG 15, evicting
        # the very statistics being audited).
        name = _PREPARED_NAME
        try:
            with self.wire.transaction():
                oids = self.wire.parse(name, marked(proved.body), types)
                self.wire.apply({**self.settings, "plan_cache_mode": "force_generic_plan"})
                arguments = f"({', '.join(['NULL'] * len(oids))})" if oids else ""
                plan = self.wire.value(marked(f"{_PLAIN_OPTIONS}EXECUTE {name}{arguments}"))
        finally:
            self.wire.deallocate(name)
        return plan, oids

    def _sampled(self, proved: _Text, failure: QueryFailed | None) -> ExplainResult:
        why = f"no generic plan ({_first_line(failure)})" if failure is not None else "no generic plan"
        if not self.sample_values:
            raise _failed(f"{why}; values from pg_stats are not used for redacted snapshots", failure)
        self._attempt = "sampled_values"
        values, types, sources = self._values(proved, why)
        plan, oids = self._bound(proved, _PLAIN_OPTIONS, values, types)
        note = f"{why}: explained with values sampled from pg_stats bound as parameters ({'; '.join(sources)})"
        return self._result(plan, "sampled_values", oids, proved.notes + [note])

    def _analyze(self, proved: _Text) -> ExplainResult:
        notes = list(proved.notes)
        values: list[str] = []
        types: list[int] = []
        if proved.count:
            if not self.sample_values:
                raise _failed("a $n statement needs values, and values from pg_stats are not used for redacted "
                              "snapshots", None, _NoValues)
            values, types, sources = self._values(proved, "cannot bind values")
            notes.append(f"parameters bound to values sampled from pg_stats ({'; '.join(sources)})")
        plan, oids = self._bound(proved, _ANALYZE_OPTIONS, values, types)
        return self._result(plan, "analyze", oids, notes)

    def _bound(self, proved: _Text, options: str, values: Sequence[str], types: Sequence[int],
               read_write: bool = False) -> tuple[str, list[int]]:
        """EXPLAIN over the extended protocol, with ``values`` bound to $1…$n."""
        text = marked(options + proved.body)
        with self.wire.transaction(read_write=read_write):
            self.wire.apply(self.settings)
            oids = self.wire.parse("", marked(proved.body), types) if values else []
            plan = self.wire.value(text, values, oids or types)
        return plan, oids

    # -- parameters ------------------------------------------------------------------------------

    def _values(self, proved: _Text, why: str) -> tuple[list[str], list[int], list[str]]:
        facts = proved.facts(self.session, with_values=True)
        categories = {number: fact.category for number, fact in facts.items()}
        values, sources, missing = params.representative_values(proved.count, proved.targets, facts, categories)
        if missing:
            listed = ", ".join(f"${number}" for number in missing)
            raise _failed(f"{why}: no representative value for {listed} (not compared with a column that has "
                          "pg_stats statistics)", None, _NoValues)
        types = params.cast_types(proved.count, proved.targets, facts, set(facts))
        return values, types, sources

    def _retry_types(self, proved: _Text, error: QueryFailed, needed: set[int]) -> list[int] | None:
        """Parameter types for another PREPARE after a type error: the parameter it names, else every one
        compared with a column, gets the column's type (else text); the others are still inferred."""
        facts = proved.facts(self.session, with_values=False)
        match = _PARAMETER_IN_MESSAGE.search(str(error))
        if match is not None:
            needed.add(int(match.group(1)))
        else:
            needed.update(facts)
        types = params.cast_types(proved.count, proved.targets, facts, needed)
        return types if any(types) else None

    def _result(self, plan_text: str, method: str, oids: list[int], notes: list[str]) -> ExplainResult:
        return ExplainResult(plan_json=json.loads(plan_text), method=method, error=None,
                             parameter_types=tuple(self.type_names(oids)), note=_joined(notes))

    def type_names(self, oids: Sequence[int]) -> list[str]:
        unknown = sorted({oid for oid in oids if oid not in self._type_names})
        if unknown:
            rows = self.session.fetch_all("SELECT t::bigint AS oid, format_type(t, NULL) AS name "
                                          "FROM unnest(%s::oid[]) AS t", [unknown])
            self._type_names.update({int(row["oid"]): row["name"] for row in rows})
        return [self._type_names.get(oid, str(oid)) for oid in oids]


def _cast_note(types: list[int], oids: list[int], explainer: _Explainer) -> list[str]:
    given = [index for index, oid in enumerate(types) if oid]
    if not given:
        return []
    names = explainer.type_names(oids)
    cast = ", ".join(f"${index + 1} {names[index]}" for index in given if index < len(names))
    return [f"the server could not infer every parameter type; given to PREPARE: {cast} "
            "(the compared column's type, else text)"]


def _falls_back(error: QueryFailed) -> bool:
    if isinstance(error, QueryCancelled) or error.sqlstate is None:
        return False
    return error.sqlstate in _FALLBACK_STATES or error.sqlstate.startswith("22")


class _NoValues(QueryFailed):
    """No representative value for some $n: ANALYZE falls back to a generic plan."""


def _failed(message: str, cause: QueryFailed | None, kind: type[QueryFailed] = QueryFailed) -> QueryFailed:
    return kind(message, sqlstate=cause.sqlstate if cause is not None else None)


def _first_line(error: QueryFailed | None) -> str:
    if error is None:
        return ""
    text = str(error)
    return text.split(": ", 1)[1] if ": " in text and text.startswith("query failed on ") else text


def _joined(notes: list[str]) -> str | None:
    return "; ".join(notes) if notes else None


def _checked_settings(settings: Mapping[str, str] | None) -> dict[str, str]:
    checked = {}
    for name, value in (settings or {}).items():
        if not _PLANNER_SETTING.fullmatch(name):
            raise ValueError(f"not a planner setting queryreview sets for an EXPLAIN: {name!r}")
        checked[name] = str(value)
    return checked


# -- the connection ---------------------------------------------------------------------------------


class _Wire:
    """Our messages on a Session's connection: one transaction at a time, always rolled back.

    Uses libpq's asynchronous calls through psycopg's waiting loop, so Ctrl-C cancels the
    server query as in Session. Errors become Session's (QueryFailed, QueryCancelled,
    PrivilegeError, ConnectionLost). ``simple()`` sends the one simple-protocol message and
    only the bytes ``parse()`` has just had the server accept as one statement.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._conn = session._conn  # noqa: SLF001 — this module is Session's partner for EXPLAIN
        self._encoding = self._conn.info.encoding
        self._proven: bytes | None = None
        self._prepared: str | None = None
        self._in_transaction = False

    @contextmanager
    def transaction(self, read_write: bool = False) -> Iterator[None]:
        begin = "BEGIN READ WRITE" if read_write else "BEGIN READ ONLY"
        self._exchange(lambda pgconn: pgconn.send_query_params(self._bytes(marked(begin)), None))
        self._in_transaction = True
        try:
            yield
        finally:
            self._in_transaction = False
            self._proven = None
            self._rollback()

    @contextmanager
    def committed(self) -> Iterator[None]:
        """A READ WRITE transaction that COMMITs: only for explain_writes.py's restoring of sequences."""
        self._exchange(lambda pgconn: pgconn.send_query_params(self._bytes(marked("BEGIN READ WRITE")), None))
        self._in_transaction = True
        try:
            yield
            self._exchange(lambda pgconn: pgconn.send_query_params(self._bytes(marked("COMMIT")), None))
        finally:
            self._in_transaction = False
            self._rollback()

    def apply(self, settings: Mapping[str, str]) -> None:
        """SET LOCAL each planner setting (set_config(name, value, true), values bound)."""
        if settings:
            self.rows(_SET_LOCAL, [_array(list(settings)), _array(list(settings.values()))])

    def parse(self, name: str, text: str, types: Sequence[int] = ()) -> list[int]:
        """Parse (extended protocol: the server refuses two statements) and Describe; the parameter type OIDs."""
        data = self._bytes(text)
        if name and not _STATEMENT_NAME.fullmatch(name):
            raise ValueError(f"not one of our statement names: {name!r}")
        self._exchange(lambda pgconn: pgconn.send_prepare(name.encode(), data, list(types) or None))
        if name:
            self._prepared = name
        described = self._exchange(lambda pgconn: pgconn.send_describe_prepared(name.encode()))[0]
        self._proven = data if not name else None
        return [described.param_type(index) for index in range(described.nparams)]

    def simple(self, text: str) -> str:
        """The one simple-protocol message: bytes the server just parsed as ONE statement, in our transaction."""
        data = self._bytes(text)
        if not self._in_transaction or data != self._proven:
            raise RuntimeError("simple protocol refused: the text was not just proved a single statement")
        self._proven = None
        results = self._exchange(lambda pgconn: pgconn.send_query(data))
        if len(results) != 1:  # cannot happen after parse(); fail loudly if it ever does
            raise RuntimeFailure(f"expected one result from EXPLAIN, got {len(results)}")
        return self._first_value(results[0])

    def value(self, text: str, values: Sequence[str] = (), types: Sequence[int] = ()) -> str:
        """First column of the first row of one statement (extended protocol, values bound to $1…)."""
        results = self._exchange(lambda pgconn: pgconn.send_query_params(
            self._bytes(text), [self._bytes(value) for value in values], list(types) or None))
        return self._first_value(results[-1])

    def rows(self, text: str, values: Sequence[str | None] = ()) -> list[tuple[str | None, ...]]:
        results = self._exchange(lambda pgconn: pgconn.send_query_params(
            self._bytes(text), [None if value is None else self._bytes(value) for value in values]))
        result = results[-1]
        return [tuple(self._text(result.get_value(row, column)) for column in range(result.nfields))
                for row in range(result.ntuples)]

    def deallocate(self, name: str) -> None:
        """DEALLOCATE one of our prepared statements, by name (never ALL); gone already is fine."""
        if not _STATEMENT_NAME.fullmatch(name) or self._prepared != name:
            return
        self._prepared = None
        try:
            self._exchange(lambda pgconn: pgconn.send_query_params(self._bytes(marked(f"DEALLOCATE {name}")), None))
        except QueryFailed:
            pass

    # -- internals -------------------------------------------------------------------------------

    def _exchange(self, send: Callable[[pq.abc.PGconn], None]) -> list:
        if self._conn.closed:
            raise ConnectionLost(f"connection to {self.session.target} is closed")
        pgconn = self._conn.pgconn
        try:
            send(pgconn)
            results = self._conn.wait(generators.execute(pgconn))
        except KeyboardInterrupt:
            self._conn.close()  # psycopg has cancelled the server query; leave nothing open
            raise
        except psycopg.Error as error:
            raise self.session._translate(error) from error  # noqa: SLF001
        for result in results:
            if result.status == _FATAL:
                error = psycopg.errors.error_from_result(result, encoding=self._encoding)
                raise self.session._translate(error) from error  # noqa: SLF001
        return results

    def _rollback(self) -> None:
        if self._conn.closed or self._conn.pgconn.transaction_status == _IDLE:
            return
        try:
            self._exchange(lambda pgconn: pgconn.send_query_params(self._bytes(marked("ROLLBACK")), None))
        except QueryFailed:
            self._conn.close()  # a connection we cannot roll back is not one to keep

    def _first_value(self, result) -> str:
        value = self._text(result.get_value(0, 0)) if result.ntuples and result.nfields else None
        if value is None:
            raise QueryFailed("EXPLAIN returned no plan")
        return value

    def _bytes(self, text: str) -> bytes:
        return text.encode(self._encoding)

    def _text(self, value) -> str | None:
        return None if value is None else bytes(value).decode(self._encoding)


def _array(items: list[str]) -> str:
    """A text[] literal for a bound parameter (values are bound, so only array syntax needs quoting)."""
    return "{" + ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items) + "}"
