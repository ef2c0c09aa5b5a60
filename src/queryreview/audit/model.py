"""What an audit produced: the Review (findings, recommendations) plus the workload story around it.

    report = audit(AuditOptions(dsn="service=replica"))       # audit/pipeline.py builds it
    report.queries[0].share, report.queries[0].findings, report.recommendations_for(report.queries[0])

Renderers (report/audit_*.py) only read these objects. ``to_dict`` gives the JSON document:
the same document as other commands (docs/json-schema.md) plus ``audit``, ``queries`` and,
with --verify, ``verification``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from queryreview.model import Finding, Recommendation, Review


@dataclass
class ServerInfo:
    target: str = ""  # the connection target without secrets (host:port/db), a snapshot path, or "embedded demo"
    version: str = ""  # "18.1"
    version_num: int = 0
    database: str = ""
    user: str = ""


@dataclass
class StatsWindow:
    """The pg_stat_statements window the figures cover."""

    stats_reset: str | None = None  # ISO 8601; None before PG 14 (unknown)
    collected_at: str | None = None
    seconds: float | None = None  # collected_at - stats_reset
    dealloc: int | None = None  # entries evicted since the reset (pg_stat_statements_info)
    entries: int = 0  # visible entries
    hidden_entries: int = 0  # <insufficient privilege>
    max_entries: int | None = None  # pg_stat_statements.max
    extension_version: str = ""


@dataclass
class QueryRow:
    """One of the top statements, busiest first."""

    rank: int  # 1-based
    queryid: int | None
    text: str  # normalized text ($1 for constants), as pg_stat_statements shows it
    calls: int
    total_ms: float
    mean_ms: float
    rows_per_call: float
    share: float  # of the total database time, 0..1
    cache_hit: float | None  # shared_blks_hit / (hit + read), None when no block was touched
    findings: list[Finding] = field(default_factory=list)  # every family: 1xx on the text, 2xx, 3xx on its plan, 4xx
    plan: Any = None  # queryreview.plan.tree.Plan, or None
    plan_method: str | None = None  # generic_plan | prepared_generic | sampled_values | analyze | plain
    plan_error: str | None = None  # why there is no plan (EXPLAIN failed, not explainable, not attempted)
    plan_note: str | None = None  # what was substituted to get the plan
    recommendations: list[int] = field(default_factory=list)  # indexes into Review.recommendations helping it

    @property
    def source(self) -> str:
        """The finding location path of this statement (``pg_stat_statements:<queryid>``)."""
        return f"pg_stat_statements:{self.queryid}"

    def to_dict(self) -> dict[str, Any]:
        from queryreview.plan.summary import plan_document

        return {
            "rank": self.rank, "queryid": self.queryid, "query": self.text, "calls": self.calls,
            "total_ms": self.total_ms, "mean_ms": self.mean_ms, "rows_per_call": self.rows_per_call,
            "share": self.share, "cache_hit": self.cache_hit, "findings": len(self.findings),
            "finding_codes": sorted({finding.code for finding in self.findings}),
            "plan": plan_document(self.plan, self.source) if self.plan is not None else None,
            "plan_method": self.plan_method, "plan_error": self.plan_error, "plan_note": self.plan_note,
            "recommendations": list(self.recommendations),
        }


@dataclass
class RunFigures:
    """One measured pgbench run of the workload."""

    mean_ms: float
    p95_ms: float
    tps: float
    transactions: int
    failed: int
    duration_s: float
    tps_cv: float | None  # coefficient of variation of the per-second throughput (noise)
    db_time_ms: float | None = None  # total execution time in pg_stat_statements over the run


@dataclass
class StatementChange:
    """One statement before and after the indexes (pg_stat_statements over each run)."""

    queryid: int | None
    text: str
    calls_before: int
    calls_after: int
    mean_ms_before: float
    mean_ms_after: float | None  # None: the statement did not run in the second run

    @property
    def speedup(self) -> float | None:
        if self.mean_ms_after is None or self.mean_ms_after <= 0:
            return None
        return self.mean_ms_before / self.mean_ms_after

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"speedup": self.speedup}


@dataclass
class Verification:
    """``--verify``: the recommended indexes applied on a disposable database, the workload run again."""

    applied: list[str]  # the CREATE INDEX statements that were built
    failed: list[tuple[str, str]]  # (sql, why) that could not be built
    before: RunFigures
    after: RunFigures
    statements: list[StatementChange]
    clients: int
    jobs: int
    kept: bool  # False: the indexes were dropped again
    notes: list[str] = field(default_factory=list)  # how it was measured, and what to make of the noise

    @property
    def speedup(self) -> float | None:
        return self.before.mean_ms / self.after.mean_ms if self.after.mean_ms > 0 else None

    def noise(self) -> dict[str, Any]:
        """How far to trust the speedup: per-second throughput spread in each run."""
        worst = max((cv for cv in (self.before.tps_cv, self.after.tps_cv) if cv is not None), default=None)
        if worst is None:
            verdict = "unknown (runs too short for per-second samples)"
        elif worst < 0.10:
            verdict = "low"
        elif worst < 0.30:
            verdict = "moderate"
        else:
            verdict = "high"
        return {"tps_cv_before": self.before.tps_cv, "tps_cv_after": self.after.tps_cv, "level": verdict}

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": {
                "mean_ms_before": self.before.mean_ms, "mean_ms_after": self.after.mean_ms,
                "p95_ms_before": self.before.p95_ms, "p95_ms_after": self.after.p95_ms,
                "tps_before": self.before.tps, "tps_after": self.after.tps,
                "db_time_ms_before": self.before.db_time_ms, "db_time_ms_after": self.after.db_time_ms,
                "transactions_before": self.before.transactions, "transactions_after": self.after.transactions,
                "duration_s": self.after.duration_s, "clients": self.clients, "jobs": self.jobs,
                "speedup": self.speedup,
            },
            "statements": [change.to_dict() for change in self.statements],
            "noise": self.noise(),
            "applied": list(self.applied),
            "failed": [{"sql": sql, "error": why} for sql, why in self.failed],
            "kept": self.kept,
            "notes": list(self.notes),
        }


@dataclass
class AuditReport:
    review: Review  # every finding, recommendations (ranked), rejected, notes, skipped_rules
    server: ServerInfo
    window: StatsWindow | None  # None: no pg_stat_statements (catalog-only audit)
    total_ms: float  # total database time in the window (every visible top-level entry)
    queries: list[QueryRow]
    origin: str  # "live" | "snapshot" | "demo"
    skipped: list[str] = field(default_factory=list)  # what was left out and why (privileges, EXPLAIN failures…)
    safety: list[str] = field(default_factory=list)  # the safety settings in force ("read-only transactions"…)
    capacity: list[Finding] = field(default_factory=list)  # cache / read-replica candidates, heavy writers
    verification: Verification | None = None
    partial: str | None = None  # why the report is incomplete (connection lost…), None when complete
    demo: dict[str, Any] | None = None  # the demo's load and workload figures
    seconds: float = 0.0  # how long the audit took

    @property
    def covered_share(self) -> float:
        """Share of the total database time the top statements account for."""
        return min(1.0, sum(row.share for row in self.queries))

    @property
    def recommendations(self) -> list[Recommendation]:
        return self.review.recommendations

    def recommendations_for(self, row: QueryRow) -> list[Recommendation]:
        return [self.review.recommendations[i] for i in row.recommendations]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: the usual one plus ``audit``, ``queries`` and ``verification``."""
        from queryreview.report.json_report import document

        doc = document(self.review)
        doc["audit"] = {
            "origin": self.origin,
            "server": asdict(self.server),
            "window": asdict(self.window) if self.window is not None else None,
            "total_ms": self.total_ms,
            "covered_share": self.covered_share,
            "skipped": list(self.skipped),
            "safety": list(self.safety),
            "capacity": [finding.to_dict() for finding in self.capacity],
            "partial": self.partial,
            "demo": self.demo,
            "seconds": self.seconds,
        }
        doc["queries"] = [row.to_dict() for row in self.queries]
        if self.verification is not None:
            doc["verification"] = self.verification.to_dict()
        return doc
