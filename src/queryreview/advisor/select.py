"""Workload-wide index selection: the set of indexes that saves the most time within the limits.

    selection = select(statements, candidates, whatif, Limits(budget_bytes=500 << 20))
    selection.chosen            # in the order chosen: each one's saving counts on top of those before it

The objective is the workload's time saved: a statement's time (pg_stat_statements' total
time, or for files its weight times its planner cost) times the fraction of its planner
cost an index set removes. An index helping several statements counts for all of them,
minus its write penalty (time spent maintaining it, when measured).

The algorithm is a greedy by benefit per byte (per byte**SIZE_EXPONENT, see below), like
Extend (Kossmann et al., VLDB 2020), arranged to ask the planner far less often:

1. screening: per statement, one EXPLAIN with ALL its candidates at once; the planner
   picks the best; those are set aside and it is asked again (SCREEN_ROUNDS times). A
   candidate no plan picks is dropped, and so is a statement nothing helps. The cheapest
   plan seen is the statement's floor: no index set can make it cheaper.
2. lazy greedy: candidates are queued by an upper bound of their benefit per byte (each
   statement's cost now minus its floor), and costed only when they reach the top; a
   costed benefit is re-costed only when one of its statements has got cheaper since, and
   then only for those statements (the others keep their part). A move adds a candidate,
   or replaces a chosen index by a wider one that it is a prefix of (Extend's extension
   step). A candidate whose benefit (costed, or its bound) is under MIN_WORKLOAD_SAVING of
   the workload's time is dropped without asking the planner again (Extend's stopping rule).
3. extensions: a chosen index is offered one more column (a column its statements filter,
   join, sort or group on), screened the same way: one EXPLAIN per statement with all of
   them.
4. merging: a chosen index that a wider chosen one subsumes is dropped when that costs
   (almost) nothing, and the freed space is filled again.

Costs come through WhatIf, which also answers from plans of other configurations when it
can (see whatif.py). Ties break on the candidate's definition: the same input gives the
same output.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from queryreview.advisor.candidates import Candidate, column_key
from queryreview.advisor.statements import WorkStatement
from queryreview.advisor.whatif import PlanCost, WhatIf

NOISE = 0.01  # a statement cheaper by less than 1% is not helped: planner cost noise
MAX_EXTENDED_KEYS = 3  # extension steps stop at this width
SCREEN_ROUNDS = 3
# An index must save this share of the workload's time with the indexes chosen before it (Extend's stopping
# rule: 0.3%). Below it the greedy stops costing: a costed benefit only shrinks as indexes are chosen (the
# lazy greedy's premise), so a candidate whose last benefit is under the floor is dropped without asking the
# planner again. On TPC-H: 15-20% fewer what-if calls for 0.5-0.7 points of cost (bench/ADVISOR.md).
MIN_WORKLOAD_SAVING = 0.003
# Benefit per byte**0.75, not per byte: pure per-byte greedy fills the budget with small indexes of small
# benefit and then has no room for the big one that matters (knapsack's classic failure); pure benefit
# ignores size. On TPC-H the result is flat for exponents 0.66-0.85 (bench/ADVISOR.md).
SIZE_EXPONENT = 0.75


@dataclass(frozen=True)
class Limits:
    budget_bytes: int | None = None
    max_indexes: int | None = 10
    min_saving: float = 0.0  # fraction of the planner cost of the statements an index helps
    min_workload_saving: float = MIN_WORKLOAD_SAVING  # fraction of the whole workload's time an index saves


@dataclass
class Selection:
    chosen: list[Candidate] = field(default_factory=list)
    rejected: dict[Candidate, str] = field(default_factory=dict)  # considered, with a benefit, not chosen: why
    merged: dict[Candidate, Candidate] = field(default_factory=dict)  # dropped narrower index -> the wider one
    baseline: dict[str, PlanCost] = field(default_factory=dict)
    statements: list[WorkStatement] = field(default_factory=list)  # those some candidate helps
    unused: list[Candidate] = field(default_factory=list)  # no plan picked them
    too_big: dict[Candidate, int] = field(default_factory=dict)  # larger than the whole budget: size
    gains: dict[Candidate, float] = field(default_factory=dict)  # last benefit costed for a rejected candidate


@dataclass
class _Move:
    candidate: Candidate
    replaces: Candidate | None
    gain: float  # objective units
    extra_bytes: int
    helped_time: float  # time of the statements it helps (for --min-saving)
    stamp: int  # number of changes to the chosen set when computed; -1: only a bound
    parts: dict[str, tuple[float, float]] = field(default_factory=dict)  # per statement: (saved, helped)
    versions: dict[str, int] = field(default_factory=dict)  # each statement's cost version when costed

    @property
    def saving_fraction(self) -> float:
        return self.gain / self.helped_time if self.helped_time > 0 else 0.0

    @property
    def score(self) -> float:
        return self.gain / max(self.extra_bytes, 1) ** SIZE_EXPONENT


class _Selector:
    def __init__(self, statements: list[WorkStatement], candidates: list[Candidate], whatif: WhatIf,
                 limits: Limits, penalties: dict[Candidate, float]) -> None:
        self.whatif = whatif
        self.limits = limits
        self.penalties = penalties
        self.baseline = whatif.costs(statements, frozenset())
        self.statements = [s for s in statements if (self.baseline[s.key].cost or 0) > 0]
        self.time = {s.key: _time(s, self.baseline[s.key].cost) for s in self.statements}
        self._current: tuple[int, float] = (-1, 0.0)  # (changes, workload time with the chosen set)
        self.floor = {s.key: self.baseline[s.key].cost for s in self.statements}
        self.now = dict(self.floor)  # each statement's cost with the chosen set
        self.version = {s.key: 0 for s in self.statements}  # bumped whenever its cost with the chosen set changes
        self.table_floor: dict[tuple[str, str], float] = {}  # (statement, table): cost with all candidates on it
        whatif.prefetch(candidates)
        self.candidates = [c for c in candidates if whatif.size(c) is not None]  # refusals show here
        self.relevant = {c: self._relevant_to(c) for c in self.candidates}
        self.chosen: list[Candidate] = []
        self.changes: list[Candidate] = []  # every index added or removed, in order (for staleness)
        self.used_bytes = 0
        self.rejected: dict[Candidate, str] = {}
        self.merged: dict[Candidate, Candidate] = {}
        self.too_big: dict[Candidate, int] = {}
        self.gains: dict[Candidate, float] = {}
        self.unused: list[Candidate] = []
        self.queue: list[tuple[float, tuple, int, _Move]] = []
        self._pushes = itertools.count()  # FIFO among equal entries
        self.idle: set[Candidate] = set()  # costed without benefit: re-offered when a related index is chosen
        self.last: dict[Candidate, _Move] = {}  # each candidate's last costed move: its parts are reused

    def _relevant_to(self, candidate: Candidate) -> list[WorkStatement]:
        return [s for s in self.statements if self.whatif.relevant_part(s, (candidate,))]

    # -- 1. screening ----------------------------------------------------------------------------

    def screen(self) -> None:
        budget = self.limits.budget_bytes
        if budget is not None:  # what cannot fit even alone is never offered
            for candidate in self.candidates:
                if (self.whatif.size(candidate) or 0) > budget:
                    self.too_big[candidate] = self.whatif.size(candidate) or 0
            self.candidates = [c for c in self.candidates if c not in self.too_big]
        useful: set[Candidate] = set()
        helped: list[WorkStatement] = []
        for statement in self.statements:
            offered = frozenset(c for c in self.candidates if statement in self.relevant[c])
            useful |= self._screen_one(statement, frozenset(), offered, helped)
            if statement not in helped:
                continue
            tables = sorted({c.table for c in offered})
            for table in tables if len(tables) > 1 else ():
                on_table = frozenset(c for c in offered if c.table == table)
                result = self.whatif.cost(statement, on_table)
                if result.cost is not None:
                    self.table_floor[(statement.key, table)] = result.cost
                    useful |= result.used
        narrower = {c for c in self.candidates for u in useful if _extends(u, c) and not c.include}
        kept = useful | narrower
        self.unused = [c for c in self.candidates if c not in kept]
        self.candidates = [c for c in self.candidates if c in kept]
        self.statements = helped
        self.relevant = {c: [s for s in self.relevant[c] if s in helped] for c in self.candidates}

    def _screen_one(self, statement: WorkStatement, chosen: frozenset, offered: frozenset,
                    helped: list[WorkStatement]) -> set[Candidate]:
        """The candidates among ``offered`` the planner picks for a statement, over SCREEN_ROUNDS rounds."""
        useful: set[Candidate] = set()
        start = self.whatif.cost(statement, chosen).cost
        for _ in range(SCREEN_ROUNDS):
            if not offered or start is None:
                break
            result = self.whatif.cost(statement, chosen | offered)
            if result.cost is None:
                break
            self.floor[statement.key] = min(self.floor.get(statement.key, result.cost), result.cost)
            picked = result.used - chosen
            if result.cost >= (1 - NOISE) * start or not picked:
                break
            if statement not in helped:
                helped.append(statement)
            useful |= picked
            offered = offered - picked
        return useful

    # -- objective ---------------------------------------------------------------------------------

    def gain(self, statements: list[WorkStatement], before: frozenset, after: frozenset) -> tuple[float, float]:
        """(time saved going from ``before`` to ``after``, time of the statements that got cheaper)."""
        parts = self.parts(statements, before, after)
        return sum(saved for saved, _ in parts.values()), sum(helped for _, helped in parts.values())

    def parts(self, statements: list[WorkStatement], before: frozenset, after: frozenset,
              reuse: _Move | None = None) -> dict[str, tuple[float, float]]:
        """Per statement: (time saved going from ``before`` to ``after``, its time if it got cheaper).
        ``reuse``: an earlier costing of the same move; statements whose cost has not changed since keep
        their part without an EXPLAIN (an index chosen meanwhile that their plans do not use is taken
        not to change what this one saves them)."""
        found: dict[str, tuple[float, float]] = {}
        todo = []
        for statement in statements:
            key = statement.key
            if reuse is not None and key in reuse.parts and reuse.versions.get(key) == self.version[key]:
                found[key] = reuse.parts[key]
            else:
                todo.append(statement)
        old = self.whatif.costs(todo, before)
        new = self.whatif.costs(todo, after)
        for statement in todo:
            key = statement.key
            was, now = old[key].cost, new[key].cost
            if was is None or now is None:
                found[key] = (0.0, 0.0)
                continue
            helped = self.time[key] if was - now > NOISE * was else 0.0
            found[key] = (self.time[key] * (was - now) / self.baseline[key].cost, helped)
        return found

    def bound(self, candidate: Candidate, first: bool = False) -> _Move:
        """An optimistic move (no EXPLAIN): every statement it is relevant to falls to its floor; at first,
        to its floor with all the candidates on this table (with nothing chosen yet, a candidate cannot do
        better than all of its table's together)."""
        gain = 0.0
        last = self.last.get(candidate)
        for statement in self.relevant[candidate]:
            key = statement.key
            if last is not None and last.replaces is None and last.versions.get(key) == self.version[key]:
                gain += max(last.parts[key][0], 0.0)  # costed before, and its cost has not moved since
                continue
            floor = self.floor[key]
            if first:
                floor = self.table_floor.get((key, candidate.table), floor)
            gain += self.time[key] * max(self.now[key] - floor, 0.0) / self.baseline[key].cost
        return _Move(candidate, None, gain, self.whatif.size(candidate) or 1, 0.0, -1)

    def move(self, candidate: Candidate, previous: _Move | None = None) -> _Move:
        """The candidate's best move now: adding it, or replacing a chosen index it extends. ``previous``:
        its last costing, whose per-statement parts are reused where nothing changed."""
        size = self.whatif.size(candidate) or 1
        config = frozenset(self.chosen)
        statements = self.relevant[candidate]
        reuse = previous if previous is not None and previous.replaces is None else None
        best = self._costed(candidate, None, self.parts(statements, config, config | {candidate}, reuse),
                            self.penalties.get(candidate, 0.0), size)
        for narrower in self.chosen:
            if narrower.table == candidate.table and _extends(candidate, narrower):
                together = sorted(set(statements) | set(self.relevant.get(narrower, ())), key=lambda s: s.order)
                swapped = (config - {narrower}) | {candidate}
                reuse = previous if previous is not None and previous.replaces == narrower else None
                extra = size - (self.whatif.size(narrower) or 0)
                penalty = self.penalties.get(candidate, 0.0) - self.penalties.get(narrower, 0.0)
                option = self._costed(candidate, narrower, self.parts(together, config, swapped, reuse), penalty,
                                      max(extra, 1))
                if option.score > best.score:
                    best = option
        return best

    def _costed(self, candidate: Candidate, replaces: Candidate | None, parts: dict[str, tuple[float, float]],
                penalty: float, extra: int) -> _Move:
        return _Move(candidate, replaces, sum(saved for saved, _ in parts.values()) - penalty, extra,
                     sum(helped for _, helped in parts.values()), len(self.changes), parts,
                     {key: self.version[key] for key in parts})

    def current_time(self) -> float:
        """The workload's time with the chosen indexes (statements no candidate helps included)."""
        if self._current[0] != len(self.changes):
            total = sum(self.time[key] * self.now[key] / self.baseline[key].cost for key in self.time)
            self._current = (len(self.changes), total or 1.0)
        return self._current[1]

    def stale(self, move: _Move) -> bool:
        """Costed before a statement it saves time on got cheaper (or before the index it replaces left)."""
        if move.stamp < 0:
            return True
        if len(self.changes) == move.stamp:
            return False
        if move.replaces is not None and move.replaces not in self.chosen:
            return True
        return any(self.version[key] != version for key, version in move.versions.items())

    # -- 2. the lazy greedy ------------------------------------------------------------------------

    def run(self) -> None:
        self.queue = []
        for candidate in self.candidates:
            self._offer(candidate, first=not self.changes)
        while self.queue:
            _, order, _, move = heapq.heappop(self.queue)
            candidate = move.candidate
            if candidate in self.chosen:
                continue
            if move.stamp >= 0:  # costed, not only bounded
                self.gains[candidate] = move.gain
            widens = any(_extends(candidate, chosen) for chosen in self.chosen)
            if not widens and self._full(move):  # known without an EXPLAIN: do not re-cost
                self.rejected.setdefault(candidate, f"the index limit ({self.limits.max_indexes}) was reached")
                continue
            budget = self.limits.budget_bytes
            if not widens and budget is not None and self.used_bytes + (self.whatif.size(candidate) or 0) > budget:
                self.rejected.setdefault(candidate, "does not fit in what is left of --budget")
                continue
            current = self.current_time()
            if move.gain < self.limits.min_workload_saving * current:
                self.rejected.setdefault(candidate, f"saves at most {move.gain / current:.2%} of the workload's "
                                                    f"time with the indexes chosen before it (minimum "
                                                    f"{self.limits.min_workload_saving:.1%})")
                continue
            if self.stale(move):
                fresh = self.move(candidate, move if move.stamp >= 0 else self.last.get(candidate))
                self.last[candidate] = fresh
                if fresh.gain > 0:
                    heapq.heappush(self.queue, (-fresh.score, order, next(self._pushes), fresh))
                else:
                    self.idle.add(candidate)
                continue
            if self._full(move):
                self.rejected.setdefault(candidate, f"the index limit ({self.limits.max_indexes}) was reached")
                continue
            budget = self.limits.budget_bytes
            if budget is not None and self.used_bytes + move.extra_bytes > budget:
                self.rejected.setdefault(candidate, "does not fit in what is left of --budget")
                continue
            floor = max(self.limits.min_saving, NOISE)
            if move.saving_fraction < floor:
                self.rejected[candidate] = (f"saves only {move.saving_fraction:.1%} of the planner cost of the "
                                            f"statements it helps (minimum {floor:.0%})")
                continue
            self._apply(move)

    def _offer(self, candidate: Candidate, first: bool = False) -> None:
        """Queue a candidate under its optimistic bound, unless it cannot fit or cannot help."""
        if candidate in self.chosen or not self.relevant.get(candidate):
            return
        size = self.whatif.size(candidate) or 1
        budget = self.limits.budget_bytes
        if budget is not None and size > budget and not any(_extends(candidate, c) for c in self.chosen):
            self.too_big[candidate] = size
            return
        move = self.bound(candidate, first)
        if move.gain > 0:
            self.idle.discard(candidate)
            heapq.heappush(self.queue, (-move.score, candidate.sort_key, next(self._pushes), move))

    def _full(self, move: _Move) -> bool:
        limit = self.limits.max_indexes
        return limit is not None and move.replaces is None and len(self.chosen) >= limit

    def _apply(self, move: _Move) -> None:
        if move.replaces is not None:
            self._remove(move.replaces)
            self.merged[move.replaces] = move.candidate
        self.chosen.append(move.candidate)
        self.used_bytes += self.whatif.size(move.candidate) or 0
        self.changes.append(move.candidate)
        self.rejected.pop(move.candidate, None)
        self._refresh(move.candidate)
        for candidate in sorted(self.idle, key=lambda c: c.sort_key):
            if set(self.relevant[candidate]) & set(self.relevant[move.candidate]):
                self._offer(candidate)
        for candidate in self.candidates:  # wider ones may now replace it, in less extra space
            if candidate not in self.idle and _extends(candidate, move.candidate):
                self._offer(candidate)
        self._extensions(move.candidate)

    def _remove(self, candidate: Candidate) -> None:
        self.chosen.remove(candidate)
        self.used_bytes -= self.whatif.size(candidate) or 0
        self.changes.append(candidate)
        self._refresh(candidate)

    def _refresh(self, changed: Candidate) -> None:
        statements = self.relevant.get(changed, [])
        for key, result in self.whatif.costs(statements, frozenset(self.chosen)).items():
            if result.cost is not None and result.cost != self.now[key]:
                self.now[key] = result.cost
                self.version[key] += 1

    # -- 3. extensions -----------------------------------------------------------------------------

    def _extensions(self, chosen: Candidate) -> None:
        """Extend's step, from a chosen index only, screened: one EXPLAIN per statement with all of them."""
        if chosen.method != "btree" or len(chosen.keys) >= MAX_EXTENDED_KEYS:
            return
        columns: set[str] = set()
        for statement in self.relevant[chosen]:
            columns |= statement.searched.get(chosen.table, frozenset())
        wider = []
        for column in sorted(columns - set(chosen.key_columns())):
            include = tuple(name for name in chosen.include if name != column)
            candidate = Candidate(chosen.table, chosen.keys + (column_key(column),), include, chosen.predicate)
            if candidate not in self.relevant and self.whatif.size(candidate) is not None:
                wider.append(candidate)
        if not wider:
            return
        others = frozenset(self.chosen) - {chosen}
        picked: set[Candidate] = set()
        for statement in self.relevant[chosen]:
            offered = frozenset(c for c in wider if self.whatif.relevant_part(statement, (c,)))
            picked |= self._screen_one(statement, others | {chosen}, offered, [])
        for candidate in sorted(picked, key=lambda c: c.sort_key):
            self.candidates.append(candidate)
            self.relevant[candidate] = self._relevant_to(candidate)
            self._offer(candidate)

    # -- 4. merging --------------------------------------------------------------------------------

    def merge_subsumed(self) -> bool:
        """Drop a chosen index that a wider chosen one makes (almost) useless; True when one was dropped."""
        for narrower in sorted(self.chosen, key=lambda c: c.sort_key):
            for wider in self.chosen:
                if wider.table != narrower.table or not _extends(wider, narrower):
                    continue
                config = frozenset(self.chosen)
                loss, _ = self.gain(self.relevant[narrower], config - {narrower}, config)
                own, _ = self.gain(self.relevant[narrower], frozenset(), frozenset({narrower}))
                if loss <= 0.02 * max(own, 0.0) + self.penalties.get(narrower, 0.0):
                    self._remove(narrower)
                    self.merged[narrower] = wider
                    return True
        return False


def select(statements: list[WorkStatement], candidates: list[Candidate], whatif: WhatIf, limits: Limits,
           penalties: dict[Candidate, float] | None = None) -> Selection:
    """Choose indexes for the whole workload (see the module docstring)."""
    selector = _Selector(statements, candidates, whatif, limits, penalties or {})
    selector.screen()
    selector.run()
    for _ in range(5):
        if not selector.merge_subsumed():
            break
        selector.run()
    chosen = list(selector.chosen)
    selection = Selection(chosen=chosen, baseline=selector.baseline, statements=selector.statements,
                          unused=selector.unused, too_big=dict(selector.too_big), gains=dict(selector.gains),
                          merged={k: v for k, v in selector.merged.items() if k not in chosen})
    for candidate, reason in selector.rejected.items():
        if candidate not in chosen and candidate not in selection.merged:
            selection.rejected[candidate] = reason
    return selection


def _extends(wider: Candidate, narrower: Candidate) -> bool:
    """``narrower``'s keys are a prefix of ``wider``'s (same method and predicate, INCLUDE carried)."""
    return (wider != narrower and wider.table == narrower.table and wider.method == narrower.method
            and wider.predicate == narrower.predicate and len(wider.keys) >= len(narrower.keys)
            and wider.keys[: len(narrower.keys)] == narrower.keys and set(narrower.include) <= wider.all_columns())


def _time(statement: WorkStatement, baseline_cost: float) -> float:
    """The statement's time: measured (ms per day, else ms over the window), else its weight times its
    planner cost (cost units: files have no measured time)."""
    if statement.ms_per_day is not None:
        return statement.ms_per_day
    if statement.measured_ms is not None:
        return statement.measured_ms
    return statement.weight * baseline_cost
