"""Recommendation objects from a selection: exact SQL, evidence, and the reasons for what was left out.

    recs, rejected = build(selection, whatif, pool, catalog)

Each chosen index counts on top of those before it: its statements' planner costs are
"before" (with the indexes ranked above it) and "after" (with it too), so the savings add
up. ``saving_ms_per_day`` is an estimate: the cost ratio times the statement's measured
time per day (pg_stat_statements' total time over its statistics window).
"""

from __future__ import annotations

from queryreview.advisor.candidates import Candidate, CandidatePool
from queryreview.advisor.select import NOISE, Selection
from queryreview.advisor.statements import WorkStatement
from queryreview.advisor.whatif import WhatIf
from queryreview.catalog import Catalog, Table
from queryreview.model import Recommendation, StatementImpact
from queryreview.sql.resolve import index_name

WRITE_MS_PER_ROW = 0.01  # rough time to maintain one btree entry for one written row (CPU + WAL)

_VALIDATION = {
    "hypopg": "validated with hypopg: a hypothetical index, planner costs of the statements' generic plans "
              "before and after",
    "real-index": "validated with a real index, built in a transaction that was rolled back, planner costs "
                  "before and after",
    "estimate": "ESTIMATED from pg_stats selectivity, not validated by the planner: treat it as a lead",
}
_SIZE = {
    "hypopg": "hypopg_relation_size, which ignores btree deduplication (often 2x high or more)",
    "real-index": "pg_relation_size of the built index",
    "estimate": "estimated from row counts and column widths",
}


def build(selection: Selection, whatif: WhatIf, pool: CandidatePool, catalog: Catalog,
          validated_by: str) -> list[Recommendation]:
    """The chosen indexes as ranked create-index recommendations."""
    taken: set[str] = set()
    config: list[Candidate] = []
    found = []
    for rank, candidate in enumerate(selection.chosen):
        before_set = frozenset(config)
        config.append(candidate)
        statements = [s for s in selection.statements if whatif.relevant_part(s, (candidate,))]
        before = whatif.costs(statements, before_set)
        after = whatif.costs(statements, frozenset(config))
        impacts, saving, per_day_known = [], 0.0, True
        for statement in statements:
            was, now = before[statement.key].cost, after[statement.key].cost
            if was is None or now is None or was - now <= NOISE * was:
                continue
            impacts.append((statement, was, now))
            base = selection.baseline[statement.key].cost or was
            if statement.ms_per_day is None:
                per_day_known = False
            else:
                saving += statement.ms_per_day * (was - now) / base
        impacts.sort(key=lambda item: (-(item[1] - item[2]) * _weight(item[0]), item[0].order))
        found.append(_recommendation(candidate, impacts, saving if per_day_known and impacts else None, rank,
                                     whatif, pool, catalog, validated_by, taken))
    return found


def estimated(candidate: Candidate, impacts: list[tuple[WorkStatement, float, float]], whatif_size: int | None,
              pool: CandidatePool, catalog: Catalog, baseline: dict, taken: set[str], why: str) -> Recommendation:
    """A recommendation costed by estimate only (pg_trgm GIN under hypopg, which cannot build GIN)."""
    saving = None
    if impacts and all(s.ms_per_day is not None for s, _, _ in impacts):
        saving = sum(s.ms_per_day * (was - now) / (baseline[s.key].cost or was) for s, was, now in impacts)
    table = catalog.table(candidate.table)
    sql = _sql(candidate, table, catalog, taken)
    before = sum(was for _, was, _ in impacts)
    after = sum(now for _, _, now in impacts)
    reason = "; ".join(filter(None, [_purpose(candidate, pool), _helps(impacts, before, after), why,
                                     _extension_note(candidate, catalog)]))
    return Recommendation(kind="create-index", sql=sql, reason=reason, table=candidate.table,
                          statements=tuple(_impact(s, was, now) for s, was, now in impacts),
                          cost_before=before, cost_after=after, size_bytes=whatif_size, validated_by="estimate",
                          saving_ms_per_day=saving, write_overhead=write_overhead(table, catalog))


def _recommendation(candidate: Candidate, impacts: list, saving: float | None, rank: int, whatif: WhatIf,
                    pool: CandidatePool, catalog: Catalog, validated_by: str, taken: set[str]) -> Recommendation:
    table = catalog.table(candidate.table)
    before = sum(was for _, was, _ in impacts)
    after = sum(now for _, _, now in impacts)
    size = whatif.size(candidate)
    info = pool.info.get(candidate)
    parts = [
        _purpose(candidate, pool),
        _helps(impacts, before, after) + (" (on top of the indexes ranked above)" if rank else ""),
        _VALIDATION.get(validated_by, validated_by),
        f"size from {whatif.costing.size_basis(candidate) or _SIZE.get(validated_by, 'an estimate')}",
        info.partial_note if info is not None and info.partial_note else None,
        "saving per day is an estimate: the cost ratio times the statements' measured time per day"
        if saving is not None else None,
        _extension_note(candidate, catalog),
    ]
    return Recommendation(
        kind="create-index", sql=_sql(candidate, table, catalog, taken), reason="; ".join(p for p in parts if p),
        table=candidate.table, statements=tuple(_impact(s, was, now) for s, was, now in impacts),
        cost_before=before, cost_after=after, size_bytes=size, validated_by=validated_by,
        saving_ms_per_day=saving, write_overhead=write_overhead(table, catalog),
    )


def rejected(candidate: Candidate, reason: str, catalog: Catalog, size: int | None = None,
             validated_by: str = "estimate") -> Recommendation:
    """A considered candidate that is not recommended, and why."""
    return Recommendation(kind="create-index", sql=candidate.definition(), reason=reason, table=candidate.table,
                          size_bytes=size, validated_by=validated_by, rejected=True)


def write_overhead(table: Table | None, catalog: Catalog) -> str | None:
    """``public.orders: ~12,000 rows written/day (…); +1 index to maintain`` from pg_stat_user_tables."""
    if table is None:
        return None
    rates = write_rates(table, catalog)
    if rates is None:
        stats = table.stats
        if stats is None:
            return f"{table.qualified_name}: no write statistics; +1 index to maintain on every insert and " \
                   "non-HOT update"
        return (f"{table.qualified_name}: {stats.n_tup_ins:,} rows inserted, {stats.n_tup_upd:,} updated "
                f"({stats.n_tup_hot_upd:,} HOT), {stats.n_tup_del:,} deleted since the statistics began (when: "
                "unknown, so no rate); +1 index to maintain")
    per_day, detail = rates
    cost = per_day * WRITE_MS_PER_ROW
    return (f"{table.qualified_name}: ~{per_day:,.0f} rows written/day ({detail}); +1 index to maintain, "
            f"about {cost:,.0f} ms/day (estimate)")


def write_rates(table: Table, catalog: Catalog) -> tuple[float, str] | None:
    """(rows written per day that touch indexes, detail) over the table statistics' window."""
    from queryreview.advisor.statements import window_days

    stats = table.stats
    days = window_days(catalog.stats_reset, catalog.collected_at)
    if stats is None or not days:
        return None
    touched = stats.n_tup_ins + stats.n_tup_del + max(stats.n_tup_upd - stats.n_tup_hot_upd, 0)
    detail = (f"inserts {stats.n_tup_ins / days:,.0f}, updates {stats.n_tup_upd / days:,.0f} "
              f"({stats.n_tup_hot_upd / days:,.0f} HOT), deletes {stats.n_tup_del / days:,.0f} per day")
    return touched / days, detail


def penalties(candidates: list[Candidate], catalog: Catalog, statements: list[WorkStatement]) -> dict[Candidate, float]:
    """Maintenance time per day of each candidate, when the workload's time is known per day too."""
    if not statements or any(s.ms_per_day is None for s in statements):
        return {}
    found = {}
    for candidate in candidates:
        table = catalog.table(candidate.table)
        rates = write_rates(table, catalog) if table is not None else None
        if rates is not None:
            found[candidate] = rates[0] * WRITE_MS_PER_ROW
    return found


def _purpose(candidate: Candidate, pool: CandidatePool) -> str:
    info = pool.info.get(candidate)
    if info is None or not info.reasons:
        return "extends a chosen index by one more column its statements search on"
    return "; ".join(info.reasons[:2])


def _helps(impacts: list, before: float, after: float) -> str:
    if not impacts:
        return "helps no statement by itself"
    drop = 1 - after / before if before else 0.0
    return (f"helps {len(impacts)} statement{'s' if len(impacts) != 1 else ''}: planner cost "
            f"{before:,.0f} -> {after:,.0f} (-{drop:.0%})")


def _extension_note(candidate: Candidate, catalog: Catalog) -> str | None:
    if candidate.method == "gin" and any(key.opclass == "gin_trgm_ops" for key in candidate.keys):
        if "pg_trgm" not in catalog.extensions:
            return "needs the pg_trgm extension first: CREATE EXTENSION pg_trgm"
    return None


def _sql(candidate: Candidate, table: Table | None, catalog: Catalog, taken: set[str]) -> str:
    if table is None:
        return candidate.definition(concurrently=True)
    parts = candidate.name_parts()
    name = index_name(catalog, table, parts)
    number = 1
    while name in taken:
        number += 1
        name = index_name(catalog, table, parts + [str(number)])
    taken.add(name)
    return candidate.definition(name=name, concurrently=table.kind != "p")  # CONCURRENTLY: not on a partitioned table


def _impact(statement: WorkStatement, was: float, now: float) -> StatementImpact:
    return StatementImpact(text=statement.text, queryid=statement.queryid, calls=statement.calls,
                           total_ms=statement.measured_ms or 0.0, cost_before=was, cost_after=now)


def _weight(statement: WorkStatement) -> float:
    return statement.ms_per_day or statement.measured_ms or statement.weight
