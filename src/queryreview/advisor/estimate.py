"""Costing without a what-if server: an estimate from pg_stats selectivity, ``validated_by = "estimate"``.

    costing = EstimateCosting(catalog, pool, explain=lambda statement: explain_statement(session, statement.text))

Used when the target has no hypopg and is not declared disposable, when only a snapshot is
given, and for what hypopg cannot create (pg_trgm GIN). Ranked below validated
recommendations: it is the planner's arithmetic done by hand, coarsely.

Index sizes come from the deduplication-aware model of sizes.py (the snapshot's pg_stats);
the crude row-width formula below only where it cannot tell (expressions, GIN).

A statement's cost without new indexes is its real plan's when a session can EXPLAIN it,
else a model (every table read sequentially). A candidate on table T then saves, for a
statement, the cost of the plan's sequential scans of T minus an index scan's cost for the
rows its leading keys keep (equality keys, then one range key, by pg_stats); join-only
and sort-only candidates save nothing here (that takes a planner).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from queryreview.advisor.candidates import Candidate, CandidatePool
from queryreview.advisor.sizes import MODEL_BASIS, SIZE_MARGIN, SizeModel
from queryreview.advisor.statements import WorkStatement
from queryreview.advisor.whatif import Config, Costing, PlanCost, plan_cost
from queryreview.catalog import Catalog, Table

SEQ_PAGE = 1.0
RANDOM_PAGE = 4.0
CPU_TUPLE = 0.01
CPU_INDEX_TUPLE = 0.005
CPU_OPERATOR = 0.0025
FILL = 0.9  # btree leaf fill factor
FLOOR = 0.02  # never estimate a statement cheaper than this share of its cost


class EstimateCosting(Costing):
    validated_by = "estimate"

    def __init__(self, catalog: Catalog, pool: CandidatePool, explain: Callable | None = None) -> None:
        super().__init__()
        self.catalog = catalog
        self.pool = pool
        self.explain = explain  # statement -> ExplainResult, for the baseline plan
        self._baseline: dict[str, PlanCost] = {}
        self._sizes = SizeModel.from_catalog(catalog)
        self._from_model: set[Candidate] = set()

    def baseline(self, statement: WorkStatement) -> PlanCost:
        if statement.key not in self._baseline:
            if self.explain is not None:
                result = plan_cost(self.explain(statement), lambda name: None)
            else:
                result = PlanCost(sum(_seq_cost(table, 1) for table in self._tables(statement)) or None,
                                  error=None if statement.tables else "it reads no table the catalog knows")
            self._baseline[statement.key] = result
        return self._baseline[statement.key]

    def _plans(self, requests: list[tuple[WorkStatement, Config]]) -> list[PlanCost]:
        results = []
        for statement, config in requests:
            base = self.baseline(statement)
            if base.cost is None or not config:
                results.append(base)
                continue
            saving, used = 0.0, set()
            for table in self._tables(statement):
                best, winner = 0.0, None
                for candidate in sorted(config, key=lambda c: c.sort_key):
                    if candidate.table == table.qualified_name:
                        value = self.saving(statement, table, candidate, base)
                        if value > best:
                            best, winner = value, candidate
                saving += best
                if winner is not None:
                    used.add(winner)
            results.append(PlanCost(max(base.cost - saving, base.cost * FLOOR), frozenset(used)))
        return results

    def saving(self, statement: WorkStatement, table: Table, candidate: Candidate, base: PlanCost) -> float:
        """Sequential-scan cost of ``table`` in this statement minus the index scan's, if positive."""
        kept = self.kept(statement, table, candidate)
        if kept is None:
            return 0.0
        scanned = _plan_seq_cost(base.root, table.name) if base.root is not None else _seq_cost(table, 1)
        if scanned <= 0:
            return 0.0
        rows = max(table.rows, 1.0)
        fetched = kept * rows
        stats = table.column_stat(candidate.leading_columns[0]) if candidate.leading_columns else None
        correlation = (stats.correlation or 0.0) ** 2 if stats is not None else 0.0
        pages = max(table.relpages, 1)
        io = correlation * kept * pages * SEQ_PAGE + (1 - correlation) * min(pages, fetched) * RANDOM_PAGE
        mentioned = statement.columns.get(table.qualified_name, frozenset())
        if mentioned and mentioned <= candidate.all_columns():
            io *= 0.2  # an index-only scan reads mostly the index
        descent = math.log2(rows + 1) * CPU_OPERATOR * 50
        index_scan = io + fetched * (CPU_TUPLE + CPU_INDEX_TUPLE) + descent
        return max(scanned - index_scan, 0.0)

    def kept(self, statement: WorkStatement, table: Table, candidate: Candidate) -> float | None:
        """The share of rows the candidate's keys (and predicate) narrow the scan to; None: no narrowing."""
        known = statement.fractions.get(table.qualified_name, {})
        kept, matched = 1.0, False
        if candidate.predicate:
            entry = known.get(f"WHERE {candidate.predicate}")
            if entry is None:
                return None  # the statement does not filter on the predicate: the index cannot serve it
            kept, matched = entry[1], True
        for key in candidate.keys:
            entry = known.get(key.text + (f" {key.opclass}" if key.opclass else ""))
            if entry is None:
                break
            kind, fraction = entry
            if candidate.method == "gin" and kind != "trgm":
                break
            kept *= fraction
            matched = True
            if kind != "eq":
                break
        return kept if matched else None

    def size_basis(self, candidate: Candidate) -> str | None:
        self.size(candidate)
        return MODEL_BASIS if candidate in self._from_model else "estimated from row counts and column widths"

    def _size(self, candidate: Candidate) -> int:
        table = self.catalog.table(candidate.table)
        if table is None:
            return 8192
        rows = max(table.rows, 1.0)
        info = self.pool.info.get(candidate)
        fraction = info.partial_fraction if info is not None and info.partial_fraction else None
        modelled = self._sizes.bytes(candidate, fraction)  # btree deduplication included (sizes.py)
        if modelled is not None:
            self._from_model.add(candidate)
            return int(modelled * (1 + SIZE_MARGIN))
        if fraction:
            rows *= fraction
        width = 0
        for name in list(candidate.key_columns()) + list(candidate.include):
            stats = table.column_stat(name)
            width += stats.avg_width if stats is not None and stats.avg_width else 8
        if candidate.method == "gin":
            return int(rows * max(width, 8) * 1.5)  # trigram entries: a rough multiple of the text
        entry = 8 * math.ceil((8 + width) / 8) + 4  # index tuple header + keys, aligned, plus its line pointer
        return int(rows * entry / FILL) + 8192

    def _tables(self, statement: WorkStatement) -> list[Table]:
        return [table for name in sorted(statement.tables) if (table := self.catalog.table(name)) is not None]


def _seq_cost(table: Table, filters: int) -> float:
    return max(table.relpages, 1) * SEQ_PAGE + max(table.rows, 0.0) * (CPU_TUPLE + CPU_OPERATOR * filters)


def _plan_seq_cost(root: dict | None, relation: str) -> float:
    """Total cost of the plan's sequential scans of ``relation`` (as planned: per loop for an inner side)."""
    total, stack = 0.0, [root] if root else []
    while stack:
        node = stack.pop()
        if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == relation:
            total += float(node.get("Total Cost") or 0.0)
        stack.extend(node.get("Plans") or ())
    return total
