"""One advisor run: candidates, the costing backend, selection, recommendations and report notes.

    outcome = AdvisorRun(statements, catalog, session, options, notes).run()
    outcome.recommendations, outcome.rejected          # for Review

``session`` is the read-only Session on the costing database, or None (a snapshot alone:
estimates). ``options`` is advise_pipeline.AdviseOptions (budget, limits, disposable…).
Every problem with the input becomes one line in ``notes``, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from queryreview.advisor import recommend
from queryreview.advisor.candidates import Candidate, CandidatePool, generate
from queryreview.advisor.estimate import EstimateCosting
from queryreview.advisor.existing import served_by
from queryreview.advisor.select import NOISE, Limits, Selection, select
from queryreview.advisor.statements import WorkStatement
from queryreview.advisor.whatif import HYPOPG_INSTALL, Costing, HypoCosting, WhatIf, hypopg_version
from queryreview.catalog import Catalog
from queryreview.model import Recommendation
from queryreview.workload import size as size_text


MAX_CROWDED_OUT = 10
_ROOM_REASONS = ("does not fit", "the index limit", "saves at most")


@dataclass
class Outcome:
    recommendations: list[Recommendation] = field(default_factory=list)
    rejected: list[Recommendation] = field(default_factory=list)
    helped: int = 0
    candidates: int = 0
    calls: int = 0
    validated_by: str = "estimate"
    selection: Selection | None = None


class AdvisorRun:
    def __init__(self, statements: list[WorkStatement], catalog: Catalog, session, options, notes: list[str]) -> None:
        self.statements = statements
        self.catalog = catalog
        self.session = session
        self.options = options
        self.notes = notes

    def run(self) -> Outcome:
        pool = generate(self.statements, self.catalog)
        outcome = Outcome()
        candidates: list[Candidate] = []
        for candidate in pool.candidates:
            existing = served_by(candidate, self.catalog)
            if existing is None:
                candidates.append(candidate)
            else:
                outcome.rejected.append(recommend.rejected(
                    candidate, f"an existing index already serves it: {existing.name} "
                               f"({existing.definition or ', '.join(existing.columns)})", self.catalog))
        outcome.candidates = len(candidates)
        costing = self._costing(pool)
        with costing:
            whatif = WhatIf(costing)
            limits = Limits(self.options.budget_bytes, self.options.max_indexes, self.options.min_saving)
            penalties = recommend.penalties(candidates, self.catalog, self.statements)
            selection = select(self.statements, candidates, whatif, limits, penalties)
            outcome.recommendations = recommend.build(selection, whatif, pool, self.catalog, costing.validated_by)
            self._estimate_refused(selection, whatif, pool, outcome, costing)
            self._rejections(selection, whatif, outcome, costing)
            outcome.calls = whatif.calls
        outcome.validated_by = costing.validated_by
        outcome.helped = len(selection.statements)
        outcome.selection = selection
        self._input_notes(selection, outcome)
        return outcome

    # -- costing -----------------------------------------------------------------------------------

    def _costing(self, pool: CandidatePool) -> Costing:
        if self.session is None:
            self.notes.append("no database to cost on: savings are ESTIMATES from the snapshot's pg_stats; give "
                              "--dsn of a copy with hypopg to validate them")
            return EstimateCosting(self.catalog, pool)
        major = self.session.server_version_num // 10000
        if hypopg_version(self.session) is not None:
            return HypoCosting(self.session)
        available = "hypopg" in self.catalog.available_extensions
        install = ("hypopg is available but not created here: run CREATE EXTENSION hypopg on the primary"
                   if available else HYPOPG_INSTALL.format(major=major))
        if self.options.disposable:
            from queryreview.advisor.real_index import RealIndexCosting

            self.notes.append("hypopg is not installed: candidates were validated by building real indexes in "
                              "transactions that were rolled back (--disposable); " + install)
            return RealIndexCosting(self.options.dsn, disposable=True,
                                    lock_timeout_ms=max(self.options.statement_timeout_ms, 1000))
        self.notes.append("hypopg is not installed, so candidates could not be validated by the planner: savings "
                          "are ESTIMATES from pg_stats. To validate: " + install + ". On a disposable copy, "
                          "--disposable validates with real indexes in rolled-back transactions instead (never on "
                          "production)")
        from queryreview.sources.postgres.explain import explain_statement

        session = self.session
        return EstimateCosting(self.catalog, pool, explain=lambda statement: explain_statement(session, statement.text))

    # -- what the main backend could not cost -----------------------------------------------------

    def _estimate_refused(self, selection: Selection, whatif: WhatIf, pool: CandidatePool, outcome: Outcome,
                          costing: Costing) -> None:
        """pg_trgm GIN (hypopg cannot create it): an estimate, ranked after the validated ones."""
        estimator = EstimateCosting(self.catalog, pool)
        estimator._baseline.update(selection.baseline)  # noqa: SLF001 — the plans are already had
        taken: set[str] = set()
        limit = self.options.max_indexes
        for candidate, reason in sorted(whatif.refused.items(), key=lambda item: item[0].sort_key):
            if candidate.method != "gin":
                continue
            impacts = []
            for statement in self.statements:
                base = selection.baseline.get(statement.key)
                if base is None or base.cost is None or candidate.table not in statement.tables:
                    continue
                now = estimator.plans([(statement, frozenset({candidate}))])[0].cost
                if now is not None and base.cost - now > NOISE * base.cost:
                    impacts.append((statement, base.cost, now))
            why = (f"{reason}, so this pg_trgm index cannot be cost-validated: its saving is an estimate from "
                   "pg_stats" if costing.validated_by == "hypopg" else f"{reason}; its saving is an estimate from pg_stats")
            helped_fraction = (sum(w - n for _, w, n in impacts) / sum(w for _, w, _ in impacts)) if impacts else 0.0
            if not impacts or helped_fraction < max(self.options.min_saving, NOISE):
                outcome.rejected.append(recommend.rejected(candidate, why + "; it lowers no statement's estimated "
                                                           "cost enough", self.catalog, estimator.size(candidate)))
                continue
            if limit is not None and len(outcome.recommendations) >= limit:
                outcome.rejected.append(recommend.rejected(
                    candidate, f"the index limit ({limit}) was reached; {why}", self.catalog, estimator.size(candidate)))
                continue
            outcome.recommendations.append(recommend.estimated(
                candidate, impacts, estimator.size(candidate), pool, self.catalog, selection.baseline, taken, why))

    def _rejections(self, selection: Selection, whatif: WhatIf, outcome: Outcome, costing: Costing) -> None:
        chosen = set(selection.chosen)
        # best first; of those left out only for room (budget, index limit), the MAX_CROWDED_OUT best
        ranked = sorted(selection.rejected.items(), key=lambda item: (-selection.gains.get(item[0], 0.0),
                                                                      item[0].sort_key))
        crowded = 0
        for candidate, reason in ranked:
            if reason.startswith(_ROOM_REASONS):
                crowded += 1
                if crowded > MAX_CROWDED_OUT:
                    continue
            outcome.rejected.append(recommend.rejected(candidate, reason, self.catalog, whatif.size(candidate),
                                                       costing.validated_by))
        if crowded > MAX_CROWDED_OUT:
            self.notes.append(f"{crowded - MAX_CROWDED_OUT} more candidate(s) would help but did not fit in "
                              "--budget or --max-indexes (the best of them are listed as rejected)")
        for narrower, wider in sorted(selection.merged.items(), key=lambda item: item[0].sort_key):
            if wider in chosen:
                outcome.rejected.append(recommend.rejected(
                    narrower, f"subsumed by the recommended {wider.label()}, which serves the same statements",
                    self.catalog, whatif.size(narrower), costing.validated_by))
        budget = self.options.budget_bytes
        if selection.too_big and not selection.chosen:  # otherwise one note says how many (see _input_notes)
            for candidate, size in sorted(selection.too_big.items(), key=lambda item: item[0].sort_key):
                outcome.rejected.append(recommend.rejected(
                    candidate, f"larger ({size_text(size)}) than the whole --budget ({size_text(budget or 0)})",
                    self.catalog, size, costing.validated_by))
        for candidate, reason in sorted(whatif.refused.items(), key=lambda item: item[0].sort_key):
            if candidate.method != "gin":
                outcome.rejected.append(recommend.rejected(candidate, f"could not be costed: {reason}", self.catalog))

    # -- bad input -----------------------------------------------------------------------------------

    def _input_notes(self, selection: Selection, outcome: Outcome) -> None:
        for statement in self.statements:
            result = selection.baseline.get(statement.key)
            if result is None or result.error is None:
                continue
            error = " ".join(str(result.error).split())
            if "permission denied" in error or "insufficient privilege" in error:
                self.notes.append(f"{statement.key}: cannot be planned, the role cannot read a table it uses "
                                  f"({error}); left out. Grant SELECT on it, or advise as a role that can")
            else:
                self.notes.append(f"{statement.key}: cannot be planned ({error}); left out")
        budget = self.options.budget_bytes
        if budget is not None and not selection.chosen and selection.too_big:
            candidate, size = min(selection.too_big.items(), key=lambda item: (item[1], item[0].sort_key))
            self.notes.append(f"--budget {size_text(budget)} is smaller than every useful candidate: the smallest, "
                              f"{candidate.label()}, needs {size_text(size)}")
        if budget is not None and selection.chosen and selection.too_big:
            self.notes.append(f"{len(selection.too_big)} candidate index(es) are larger than the whole --budget "
                              f"({size_text(budget)}) and were not costed")
        if selection.unused:
            self.notes.append(f"{len(selection.unused)} other candidate index(es) were offered to the planner and "
                              "used by no plan")
        if not outcome.recommendations and selection.statements:
            self.notes.append("no index saves enough to recommend (see the rejected candidates for why)")
        elif not selection.statements:
            self.notes.append("no candidate index makes any statement cheaper: the workload is served by its "
                              "existing indexes, or needs rewrites rather than indexes")
