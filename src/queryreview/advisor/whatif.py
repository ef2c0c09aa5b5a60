"""What-if costing: a statement's planner cost if a set of indexes existed, cached.

    with HypoCosting(session) as costing:          # hypothetical indexes (hypopg), reset in finally
        whatif = WhatIf(costing)
        whatif.cost(statement, frozenset({candidate})).cost

Backends (``validated_by``): ``HypoCosting`` (hypopg, on the Session: read-only transactions),
``RealIndexCosting`` (real indexes built in a transaction that is rolled back, real_index.py;
disposable databases only) and ``EstimateCosting`` (pg_stats selectivity, estimate.py).

The cache is keyed by (statement, the indexes of the configuration that are RELEVANT to it):
an index on a table the statement does not read, or whose leading column it never mentions
(and that does not cover every column it reads from that table), cannot change its plan.
So adding an index to a configuration re-costs only the statements it can matter to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from queryreview.advisor.candidates import Candidate
from queryreview.advisor.sizes import MODEL_BASIS, SIZE_MARGIN, SizeModel
from queryreview.advisor.statements import WorkStatement

Config = frozenset  # frozenset[Candidate]

_HYPO_NAME = re.compile(r"^<(\d+)>")
_PLAIN_EXPLAIN = "EXPLAIN (FORMAT JSON) "


@dataclass(frozen=True)
class PlanCost:
    """Total planner cost of a statement's plan, the candidates the plan uses, or why there is no plan."""

    cost: float | None
    used: frozenset[Candidate] = frozenset()
    error: str | None = None
    root: Any = None  # the plan's root node (EXPLAIN JSON), kept for baseline plans only


class CandidateRefused(Exception):
    """The costing backend cannot build this candidate (hypopg and GIN, a non-immutable expression…)."""

    def __init__(self, candidate: Candidate, reason: str) -> None:
        super().__init__(reason)
        self.candidate = candidate
        self.reason = reason


class Costing:
    """A costing backend. Subclasses implement ``_plans`` and ``_size``."""

    validated_by = "estimate"

    def __init__(self) -> None:
        self.calls = 0  # what-if EXPLAINs (or estimates) made, the baseline included
        self.sizes: dict[Candidate, int] = {}

    def supports(self, candidate: Candidate) -> str | None:
        """None when the backend can cost the candidate, else why not."""
        return None

    def plans(self, requests: list[tuple[WorkStatement, Config]]) -> list[PlanCost]:
        """Each statement's cost with exactly the indexes of its configuration (added to the existing ones)."""
        results = self._plans(requests)
        self.calls += len(requests)
        return results

    def size_basis(self, candidate: Candidate) -> str | None:
        """Where ``size(candidate)`` came from, for the report; None: the backend's usual source."""
        return None

    def prefetch(self, candidates: list[Candidate]) -> None:
        """Compute many sizes at once where the backend can (hypopg: two round trips)."""

    def size(self, candidate: Candidate) -> int:
        if candidate not in self.sizes:
            self.sizes[candidate] = max(int(self._size(candidate)), 8192)
        return self.sizes[candidate]

    def close(self) -> None:
        pass

    def __enter__(self) -> Costing:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _plans(self, requests: list[tuple[WorkStatement, Config]]) -> list[PlanCost]:
        raise NotImplementedError

    def _size(self, candidate: Candidate) -> int:
        raise NotImplementedError


def relevant(statement: WorkStatement, candidate: Candidate) -> bool:
    """Can this index change this statement's plan?"""
    if candidate.table not in statement.tables:
        return False
    mentioned = statement.columns.get(candidate.table, frozenset())
    if set(candidate.leading_columns) <= mentioned:
        return True
    # an index-only scan of an index holding every column the statement reads from the table
    return bool(mentioned) and mentioned <= candidate.all_columns()


class WhatIf:
    """Cached costs over one backend; ``calls`` counts what the cache could not answer.

    Besides exact hits, a plan answers for every configuration between the indexes it uses
    and the ones it was planned with (``infer``): if the planner, offered X, used only U,
    then offered any Y with U <= Y <= X it finds the same plan (the indexes it passed over
    lost to cheaper paths that are still there). So a statement planned with all of its
    candidates, or with its best indexes already chosen, costs nothing more to ask about.
    """

    def __init__(self, costing: Costing, infer: bool = True) -> None:
        self.costing = costing
        self.infer = infer
        self._cache: dict[tuple[str, Config], PlanCost] = {}
        self._plans: dict[str, list[tuple[Config, PlanCost]]] = {}  # per statement: (offered, result)
        self._relevant: dict[tuple[str, Candidate], bool] = {}
        self.refused: dict[Candidate, str] = {}
        self.inferred = 0  # answers taken from a plan with another configuration

    @property
    def calls(self) -> int:
        return self.costing.calls

    def relevant_part(self, statement: WorkStatement, config: Iterable[Candidate]) -> Config:
        found = []
        for candidate in config:
            key = (statement.key, candidate)
            known = self._relevant.get(key)
            if known is None:
                known = self._relevant[key] = relevant(statement, candidate)
            if known:
                found.append(candidate)
        return frozenset(found)

    def cost(self, statement: WorkStatement, config: Iterable[Candidate]) -> PlanCost:
        return self.costs([statement], config)[statement.key]

    def costs(self, statements: list[WorkStatement], config: Iterable[Candidate]) -> dict[str, PlanCost]:
        """Costs of several statements under one configuration; only cache misses reach the backend."""
        config = frozenset(candidate for candidate in config if candidate not in self.refused)
        found: dict[str, PlanCost] = {}
        missing: list[tuple[WorkStatement, Config]] = []
        for statement in statements:
            part = self.relevant_part(statement, config)
            cached = self._cache.get((statement.key, part))
            if cached is None and self.infer:
                cached = self._inferred(statement.key, part)
            if cached is not None:
                found[statement.key] = cached
            else:
                missing.append((statement, part))
        if missing:
            while True:
                try:
                    planned = self.costing.plans(missing)
                    break
                except CandidateRefused as refusal:
                    self.refused[refusal.candidate] = refusal.reason
                    missing = [(statement, part - {refusal.candidate}) for statement, part in missing]
            for (statement, part), result in zip(missing, planned):
                if part and result.root is not None:
                    result = replace(result, root=None)  # only baseline plans are read again
                self._cache[(statement.key, part)] = result
                if result.cost is not None:
                    self._plans.setdefault(statement.key, []).append((part, result))
                found[statement.key] = result
        return found

    def _inferred(self, key: str, config: Config) -> PlanCost | None:
        for offered, result in self._plans.get(key, ()):
            if result.used <= config <= offered:
                self._cache[(key, config)] = result
                self.inferred += 1
                return result
        return None

    def prefetch(self, candidates: list[Candidate]) -> None:
        self.costing.prefetch([c for c in candidates if c not in self.refused])

    def size(self, candidate: Candidate) -> int | None:
        if candidate in self.refused:
            return None
        try:
            return self.costing.size(candidate)
        except CandidateRefused as refusal:
            self.refused[candidate] = refusal.reason
            return None


# -- hypopg ------------------------------------------------------------------------------------------


HYPOPG_INSTALL = ("install the hypopg package on the server (Debian/Ubuntu: postgresql-{major}-hypopg), then run "
                  "CREATE EXTENSION hypopg on the primary (standbys then have it too)")


def hypopg_version(session) -> str | None:
    """The installed hypopg version in the session's database, or None."""
    row = session.fetch_one("SELECT extversion FROM pg_extension WHERE extname = 'hypopg'")
    return str(row["extversion"]) if row else None


class HypoCosting(Costing):
    """Hypothetical indexes in the Session's memory; EXPLAIN through explain_statement (generic plans).

    hypopg's indexes survive ROLLBACK and live as long as the connection: ``close()`` (and the
    context manager's exit, also after an exception) always runs ``hypopg_reset()``.

    Sizes (for --budget and the report) come from the deduplication-aware model of sizes.py
    (plus SIZE_MARGIN), fed by one catalog query per batch of new tables;
    ``hypopg_relation_size``, which ignores btree deduplication (on TPC-H a median 2x high, up
    to 7.5x), only where the model cannot tell (expression keys), when that query fails, or
    with ``sizes="hypopg"``. Plans always come from hypopg.
    """

    validated_by = "hypopg"

    def __init__(self, session, sizes: str = "model") -> None:
        super().__init__()
        self.session = session
        self.size_source = sizes  # "model" or "hypopg"
        self._model: SizeModel | None = None
        self._from_model: set[Candidate] = set()  # sized by the model (the others by hypopg)
        self._active: dict[Candidate, int] = {}
        self._by_oid: dict[int, Candidate] = {}
        self._plain: set[str] = set()  # statements explain_statement proved and planned without parameters

    def supports(self, candidate: Candidate) -> str | None:
        if candidate.method != "btree":
            return f"hypopg cannot create {candidate.method.upper()} indexes"
        return None

    def close(self) -> None:
        self._active.clear()
        self._by_oid.clear()
        if not self.session.closed:
            self.session.fetch_one("SELECT hypopg_reset()")

    def _plans(self, requests: list[tuple[WorkStatement, Config]]) -> list[PlanCost]:
        results = []
        for statement, config in requests:
            # Hypothetical indexes that cannot matter to this statement may stay (creating and dropping
            # them is most of the traffic otherwise); should a plan use one all the same, it is redone
            # with exactly the configuration.
            self._apply(config, keep=lambda candidate: not relevant(statement, candidate))
            result = plan_cost(self._explain(statement), self._used)
            if result.used - config:
                self._apply(config)
                result = plan_cost(self._explain(statement), self._used)
                self.calls += 1  # an EXPLAIN more than requested
            results.append(result)
        return results

    def _explain(self, statement: WorkStatement):
        """explain_statement; once it has proved a statement and planned it plainly (no ``$n``), later
        EXPLAINs of the same text skip the proof: one read-only statement over the extended protocol,
        exactly what explain_statement's "plain" method sends."""
        from queryreview.sources.postgres.connect import QueryFailed
        from queryreview.sources.postgres.explain import explain_statement
        from queryreview.sources.snapshot import ExplainResult

        if statement.key in self._plain:
            try:
                row = self.session.fetch_one(_PLAIN_EXPLAIN + statement.text)
            except QueryFailed as error:
                return ExplainResult(method="plain", error=str(error))
            plan = next(iter(row.values())) if row else None
            return ExplainResult(plan_json=json.loads(plan) if isinstance(plan, str) else plan, method="plain")
        explained = explain_statement(self.session, statement.text)
        if explained.method == "plain" and explained.error is None:
            self._plain.add(statement.key)
        return explained

    def _size(self, candidate: Candidate) -> int:
        reason = self.supports(candidate)
        if reason is not None:
            raise CandidateRefused(candidate, reason)
        self.prefetch([candidate])
        if candidate not in self.sizes:  # refused when created alone: say why
            self._create_many([candidate])
        return self.sizes[candidate]

    def prefetch(self, candidates: list[Candidate]) -> None:
        """Sizes of many candidates in a few round trips: create them all (hypopg refuses what it cannot
        build, before any plan), then the model's sizes, and hypopg's for those the model cannot tell."""
        todo = [c for c in candidates if c not in self.sizes and self.supports(c) is None]
        self._create_many(todo, tolerant=True)
        built = [c for c in todo if c in self._active]
        modelled = self._modelled(built)
        rest = [c for c in built if c not in modelled]
        if rest:
            rows = self.session.fetch_all(
                "SELECT hypopg_relation_size(d.oid) AS size FROM unnest(%s::oid[]) WITH ORDINALITY AS d(oid, n) "
                "ORDER BY d.n", [[self._active[c] for c in rest]])
            for candidate, row in zip(rest, rows):
                self.sizes[candidate] = max(int(row["size"] or 0), 8192)
        for candidate, size in modelled.items():
            self.sizes[candidate] = max(int(size * (1 + SIZE_MARGIN)), 8192)
            self._from_model.add(candidate)

    def size_basis(self, candidate: Candidate) -> str | None:
        if candidate in self._from_model:
            return MODEL_BASIS
        return "hypopg_relation_size, which ignores btree deduplication (often 2x high or more)"

    def _modelled(self, candidates: list[Candidate]) -> dict[Candidate, int]:
        from queryreview.sources.postgres.connect import QueryFailed

        if self.size_source != "model" or not candidates:
            return {}
        try:
            if self._model is None:
                self._model = SizeModel({}, dedup=self.session.server_version_num >= 130000)
            self._model.load(self.session, sorted({c.table for c in candidates}))
        except QueryFailed:  # the catalog query failed (a privilege, a timeout): hypopg's sizes
            self.size_source = "hypopg"
            return {}
        found = {}
        for candidate in candidates:
            size = self._model.bytes(candidate)
            if size is not None:
                found[candidate] = size
        return found

    def _apply(self, config: Config, keep=lambda candidate: False) -> None:
        """Make the session's hypothetical indexes ``config``, plus any others ``keep`` allows."""
        drop = [c for c in self._active if c not in config and not keep(c)]
        if drop:
            oids = [self._active.pop(candidate) for candidate in drop]
            for oid in oids:
                self._by_oid.pop(oid, None)
            self.session.fetch_all("SELECT hypopg_drop_index(d.oid) FROM unnest(%s::oid[]) AS d(oid)", [oids])
        self._create_many(sorted(config - self._active.keys(), key=lambda c: c.sort_key))

    def _create_many(self, candidates: list[Candidate], tolerant: bool = False) -> None:
        """Create hypothetical indexes in one statement; when one is refused, find it (and, ``tolerant``,
        record it and go on). The definitions are bound as parameters: hypopg parses them, nothing is
        spliced into our SQL."""
        from queryreview.sources.postgres.connect import QueryFailed

        todo = [c for c in candidates if c not in self._active]
        for candidate in todo:
            reason = self.supports(candidate)
            if reason is not None:
                raise CandidateRefused(candidate, reason)
        if not todo:
            return
        try:
            rows = self.session.fetch_all(
                "SELECT h.indexrelid FROM unnest(%s::text[]) WITH ORDINALITY AS d(definition, n), "
                "LATERAL hypopg_create_index(d.definition) AS h ORDER BY d.n", [[c.definition() for c in todo]])
        except QueryFailed as error:
            self._forget_untracked()  # the ones created before the failure
            if len(todo) == 1:
                if tolerant:
                    return
                raise CandidateRefused(todo[0], _server_reason(error)) from error
            for candidate in todo:
                try:
                    self._create_many([candidate])
                except CandidateRefused:
                    if not tolerant:
                        raise
            return
        for candidate, row in zip(todo, rows):
            oid = int(row["indexrelid"])
            self._active[candidate] = oid
            self._by_oid[oid] = candidate

    def _forget_untracked(self) -> None:
        rows = self.session.fetch_all("SELECT indexrelid FROM hypopg_list_indexes")
        untracked = [int(row["indexrelid"]) for row in rows if int(row["indexrelid"]) not in self._by_oid]
        if untracked:
            self.session.fetch_all("SELECT hypopg_drop_index(d.oid) FROM unnest(%s::oid[]) AS d(oid)", [untracked])

    def _used(self, index_name: str) -> Candidate | None:
        match = _HYPO_NAME.match(index_name)
        return self._by_oid.get(int(match.group(1))) if match else None


def plan_cost(explained, used_by_name) -> PlanCost:
    """PlanCost of an ExplainResult: the root's total cost and the candidates its nodes name."""
    if explained.error is not None or not explained.plan_json:
        return PlanCost(None, error=explained.error or "no plan")
    root = explained.plan_json[0]["Plan"]
    used = set()
    stack = [root]
    while stack:
        node = stack.pop()
        name = node.get("Index Name")
        if name:
            candidate = used_by_name(name)
            if candidate is not None:
                used.add(candidate)
        stack.extend(node.get("Plans") or ())
    return PlanCost(float(root["Total Cost"]), frozenset(used), root=root)


def _server_reason(error: Exception) -> str:
    text = str(error)
    return text.split(": ", 1)[1] if text.startswith("query failed on ") and ": " in text else text
