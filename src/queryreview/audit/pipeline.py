"""The pipeline behind ``queryreview audit``: workload -> findings, plans, advice -> one ranked report.

    report = audit(AuditOptions(dsn="postgresql://audit@replica/app"))   # live, read-only
    report = audit(AuditOptions(snapshot_path="prod.json.gz"))           # offline
    report = audit(AuditOptions())                                       # the embedded demo
    exit_code = run_audit(AuditOptions(...), output_format="html", output="audit.html")

Live: one read-only Session (sources/postgres/connect.py) collects the catalog and
pg_stat_statements, EXPLAINs the top statements, then the advisor costs its candidates on the
same session (hypopg; real indexes rolled back only when the database is disposable). The
engine reviews every top statement's text, its plan, the catalog and the workload in one
pass. A connection lost part-way keeps what was gathered: the report says it is partial and
the exit code is 3.

Snapshot: the same from a `queryreview collect --explain` file, costs estimated (or on --dsn).

Demo: the embedded server with examples/dashboard (demo.py), its workload run with pgbench,
then the live path on it (disposable: --verify applies the advice and measures it again).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from queryreview.audit.model import AuditReport, QueryRow, ServerInfo, StatsWindow
from queryreview.audit.progress import Progress
from queryreview.errors import EXIT_CLEAN, EXIT_RUNTIME, InputError
from queryreview.model import Finding, Review

DEFAULT_TOP = 200
# Workload rules whose findings are about capacity (cache, replicas, writes) rather than one query's speed.
CAPACITY_RULES = ("cache-candidate", "read-replica-candidate", "heavy-writer")


@dataclass
class AuditOptions:
    dsn: str | None = None  # live target; None with no snapshot: the embedded demo
    snapshot_path: str | None = None
    top: int = DEFAULT_TOP  # statements audited with plans, by total time
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    analyze: bool = False  # EXPLAIN ANALYZE read-only statements (runs them)
    advise: bool = True
    budget_bytes: int | None = None
    max_indexes: int | None = 10
    min_saving: float = 0.10
    disposable: bool = False  # the user says the database may be written to (real-index costing, --verify)
    verify: bool = False
    keep: bool = False  # --verify: keep the indexes
    verify_scripts: list = field(default_factory=list)  # pgbench Script objects for --verify on a DSN
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    config_path: Path | None = None
    fail_on: str | None = None  # None: the report decides nothing (exit 0 unless partial)
    debug: bool = False
    # workload runs with pgbench: the demo's, and --verify's before and after (same settings both times)
    duration_s: float = 15.0
    clients: int = 4
    jobs: int = 2
    warmup_s: float = 3.0
    # the demo
    demo_cache_dir: Path | None = None
    demo_scale: float = 1.0

    @property
    def is_demo(self) -> bool:
        return self.dsn is None and self.snapshot_path is None


def run_audit(options: AuditOptions, output_format: str = "text", output: str | None = None,
              color: bool | None = None, progress: Progress | None = None, on_summary=None) -> int:
    """Audit, write the report, return the exit code (3 when the report is partial)."""
    from queryreview.config import check_fail_on, load_config
    from queryreview.pipeline import exit_code
    from queryreview.report.audit import render_audit

    fail_on = check_fail_on(options.fail_on) if options.fail_on else "never"
    load_config(options.config_path)  # a broken configuration fails before any work
    report = audit(options, progress)
    if progress is not None:
        progress.close()  # the bars are gone before the report and the summary line are written
    text = render_audit(report, output_format, color=False if output else color)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {output}: {error.strerror or error}") from error
    else:
        import sys

        sys.stdout.write(text)
        sys.stdout.flush()
    if on_summary is not None:
        on_summary(summary_line(report, output))
    if report.partial:
        return EXIT_RUNTIME
    return exit_code(report.review, fail_on) if fail_on != "never" else EXIT_CLEAN


def summary_line(report: AuditReport, output: str | None = None) -> str:
    plans = sum(1 for row in report.queries if row.plan is not None)
    creates = sum(1 for r in report.recommendations if r.kind == "create-index")
    text = (f"queryreview audit: {len(report.queries)} statement(s), {plans} plan(s), "
            f"{len(report.review.findings)} finding(s), {creates} index(es) to create, "
            f"{len(report.recommendations) - creates} other recommendation(s), {report.seconds:.1f} s")
    if report.verification is not None and report.verification.speedup:
        text += f"; verified: mean latency {report.verification.speedup:.1f}x faster"
    if report.partial:
        text += f"; PARTIAL: {report.partial}"
    if output:
        text += f"; written to {output}"
    return text


def audit(options: AuditOptions, progress: Progress | None = None) -> AuditReport:
    progress = progress or Progress()
    started = time.perf_counter()
    if options.dsn is not None and options.snapshot_path is not None and options.verify:
        raise InputError("--verify measures a live database: give a DSN without --snapshot")
    if options.verify and not options.is_demo:
        from queryreview.audit.verify import check_disposable

        check_disposable(options.disposable, "live" if options.snapshot_path is None else "snapshot")
    if options.is_demo:
        report = _demo(options, progress)
    else:
        auditor = _Audit(options, progress)
        report = auditor.run()
        if options.verify and report.partial is None:
            report.verification = _verify_live(options, auditor.workload, report, progress)
    report.seconds = time.perf_counter() - started
    return report


def _verify_live(options: AuditOptions, workload, report: AuditReport, progress: Progress):
    """--verify on a disposable database: the user's pgbench scripts, else a replay of its busiest SELECTs."""
    from queryreview.audit.verify import replay_runner, script_runner, verify

    timing = {"duration_s": options.duration_s, "clients": options.clients, "jobs": options.jobs,
              "warmup_s": options.warmup_s, "progress": progress.say}
    if options.verify_scripts:
        runner = script_runner(options.dsn, list(options.verify_scripts), **timing)
    elif workload is not None:
        runner = replay_runner(options.dsn, workload, top=20, **timing)
    else:
        raise InputError("--verify needs a workload to run twice: pg_stat_statements was not readable",
                         hint="give pgbench scripts with --verify-script FILE[@WEIGHT]")
    progress.say("--verify: measuring the workload, building the recommended indexes, measuring again")
    return verify(options.dsn, report.recommendations, runner, keep=options.keep,
                  lock_timeout_ms=max(options.lock_timeout_ms, 5000), progress=progress.say)


# -- the demo --------------------------------------------------------------------------------------


def _demo(options: AuditOptions, progress: Progress) -> AuditReport:
    from queryreview.demo import demo_lock, prepare_demo

    demo = prepare_demo(options.demo_cache_dir, scale=options.demo_scale, progress=progress.say)
    try:
        with demo_lock(demo):  # one audit at a time on a demo: a second one waits (its workload would mix in)
            return _demo_audit(demo, options, progress)
    finally:
        demo.close()


def _demo_audit(demo, options: AuditOptions, progress: Progress) -> AuditReport:
    from queryreview.demo import DEMO_RULE_SETTINGS, run_workload

    seconds = max(1, round(options.duration_s))
    measured = progress.task(f"running the dashboard workload ({options.duration_s:g} s, "
                             f"{options.clients} clients)", total=seconds)

    def said(message: str) -> None:
        match = re.match(r"workload (\d+)/", message)
        if match:
            measured(min(int(match.group(1)), seconds), seconds)
        else:
            progress.say(message)

    workload_run = run_workload(demo, duration_s=options.duration_s, clients=options.clients,
                                jobs=options.jobs, warmup_s=options.warmup_s, progress=said)
    before = None
    if options.verify:
        from queryreview.audit.verify import Measured

        before = Measured.read(demo.dsn, workload_run)  # before the audit's own statements land in the view
    live = AuditOptions(**{**options.__dict__, "dsn": demo.dsn, "disposable": True})
    auditor = _Audit(live, progress, rule_defaults=DEMO_RULE_SETTINGS, origin="demo")
    report = auditor.run()
    report.server.target = "embedded demo (examples/dashboard)"
    report.demo = {
        "scale": demo.scale, "loaded_now": demo.loaded_now, "load_seconds": demo.load_seconds,
        "cache_dir": str(demo.cache_dir),
        "workload": {"duration_s": workload_run.duration_s, "clients": workload_run.clients,
                     "jobs": workload_run.jobs, "tps": workload_run.tps, "mean_ms": workload_run.latency_mean_ms,
                     "p95_ms": workload_run.latency_p95_ms, "transactions": workload_run.transactions,
                     "failed": workload_run.failed, "tps_cv": workload_run.tps_cv},
    }
    if before is not None and report.partial is None:
        from queryreview.audit.verify import demo_runner, verify

        progress.say("--verify: building the recommended indexes, then the same workload again")
        runner = demo_runner(demo, duration_s=options.duration_s, clients=options.clients,
                             jobs=options.jobs, warmup_s=options.warmup_s, progress=said)
        measured = progress.task("running the workload with the indexes", total=seconds)
        report.verification = verify(demo.dsn, report.recommendations, runner, before=before, keep=options.keep,
                                     lock_timeout_ms=max(options.lock_timeout_ms, 5000), progress=progress.say)
    return report


# -- live and snapshot -----------------------------------------------------------------------------


class _Audit:
    """One audit: gather (live or snapshot), review, advise, assemble; a lost connection ends it early."""

    def __init__(self, options: AuditOptions, progress: Progress, rule_defaults: dict | None = None,
                 origin: str | None = None) -> None:
        self.options = options
        self.progress = progress
        self.rule_defaults = rule_defaults or {}
        self.origin = origin or ("snapshot" if options.snapshot_path and not options.dsn else "live")
        self.review = Review()
        self.skipped: list[str] = []
        self.partial: str | None = None
        self.session = None
        self.catalog = None
        self.workload = None
        self.plans: dict = {}  # queryid -> ExplainResult
        self.explained_top: list[int] = []  # the queryids EXPLAIN was attempted for, in order
        self.server = ServerInfo()
        self.validated_by: str | None = None
        self.rule_settings: dict | None = None  # by rule name, as the review used them (the drops use them too)
        self.parsed_plans: dict = {}  # finding location -> Plan
        self.reviewed = False
        self.top_entries: list | None = None  # _top(): set once the workload is gathered

    def run(self) -> AuditReport:
        from queryreview.errors import RuntimeFailure

        try:
            self._gather()
            self._review()
            if self.options.advise:
                self._advise()
        except RuntimeFailure as error:
            if not _lost(error) or self.catalog is None:
                raise
            self.partial = _one_line(error)
            if not self.reviewed and self.workload is not None:
                self._review()  # what was gathered still gets reviewed
        finally:
            if self.session is not None:
                self.session.close()
        return self._assemble()

    # -- gather -------------------------------------------------------------------------------------

    def _gather(self) -> None:
        if self.options.snapshot_path is not None:
            from queryreview.sources.snapshot import read_snapshot

            self.progress.say(f"reading {self.options.snapshot_path}")
            snapshot = read_snapshot(self.options.snapshot_path)
            self.review.notes.extend(snapshot.notes())
            self.catalog, self.workload = snapshot.catalog, snapshot.workload
            self.plans = dict(snapshot.plans or {})
            self.explained_top = list(self.plans)
            self.server = ServerInfo(self.options.snapshot_path, snapshot.source.server_version
                                     or self.catalog.server_version,
                                     snapshot.source.server_version_num or self.catalog.server_version_num,
                                     snapshot.source.database or self.catalog.database, snapshot.source.user)
            if snapshot.plans is None:
                self.skipped.append("plans: the snapshot was collected without --explain (plan rules skipped)")
            if self.options.dsn is not None:
                self._open()  # costing on a copy
            return
        self._open()
        self._collect()

    def _open(self) -> None:
        from queryreview.sources.postgres.connect import SessionOptions, open_session

        self.progress.say("connecting")
        self.session = open_session(self.options.dsn or None, SessionOptions(
            statement_timeout_ms=self.options.statement_timeout_ms, lock_timeout_ms=self.options.lock_timeout_ms))

    def _collect(self) -> None:
        from queryreview.collect import CollectOptions, collect
        from queryreview.errors import RuntimeFailure
        from queryreview.sources.postgres.explain import ExplainStopped, explain_workload
        from queryreview.sources.postgres.stats import ExtensionMissing

        self.progress.say("reading the catalog and pg_stat_statements")
        try:
            snapshot = collect(self.session, CollectOptions(top=max(500, self.options.top)))
        except ExtensionMissing as error:
            raise RuntimeFailure(str(error), hint=error.hint) from None
        self.review.notes.extend(snapshot.notes())
        self.catalog, self.workload = snapshot.catalog, snapshot.workload
        source = snapshot.source
        self.server = ServerInfo(source.target, source.server_version, source.server_version_num, source.database,
                                 source.user)
        chosen = self._top()
        update = self.progress.task("explaining the top statements", total=len(chosen))
        try:
            self.plans = explain_workload(self.session, _only(self.workload, chosen), top=self.options.top,
                                          analyze=self.options.analyze, sample_values=True,
                                          on_statement=update)
        except ExplainStopped as error:
            self.plans = error.results
            raise
        finally:
            self.explained_top = [entry.queryid for entry in chosen]

    # -- review -------------------------------------------------------------------------------------

    def _review(self) -> None:
        from queryreview.config import load_config, rule_overrides
        from queryreview.engine import Context, Engine, PlanInput
        from queryreview.pipeline import workload_sources
        from queryreview.plan.tree import parse_plan
        from queryreview.rules.registry import select_rules

        self.progress.task("reviewing statements, plans and the catalog")
        config = load_config(self.options.config_path)
        rules = select_rules(self.options.select if self.options.select is not None else config.select,
                             list(config.ignore) + list(self.options.ignore))
        settings, severities = rule_overrides(config, rules)
        for name, values in self.rule_defaults.items():
            settings[name] = {**values, **settings.get(name, {})}
        self.rule_settings = settings
        texts = {entry.queryid: entry.query for entry in self._top()}
        inputs = []
        for queryid, result in self.plans.items():
            if result.plan_json is None:
                continue
            name = f"pg_stat_statements:{queryid}"
            try:
                plan = parse_plan(result.plan_json, name)
            except Exception as error:  # a plan we cannot read is reported, not fatal
                self.skipped.append(f"plan of {name}: unreadable ({_one_line(error)})")
                continue
            inputs.append(PlanInput(name, plan, texts.get(queryid)))
        self.parsed_plans = {item.name: item.plan for item in inputs}
        context = Context(catalog=self.catalog, stats=self.workload, plans=inputs, settings=settings,
                          severities=severities, debug=self.options.debug)
        sources = [source for source in workload_sources(self.workload)
                   if int(source.path.rsplit(":", 1)[1]) in texts] if self.workload is not None else []
        self.review = Engine(rules, context).review(sources, self.review)
        self.reviewed = True

    # -- advise -------------------------------------------------------------------------------------

    def _advise(self) -> None:
        from queryreview.advise_pipeline import AdviseInputs, AdviseOptions, recommend
        from queryreview.advisor.statements import from_workload, window_days

        if self.workload is None:
            self.skipped.append("index advice: no pg_stat_statements workload to advise on")
            return
        self.progress.task("costing index candidates" if self.session is not None
                           else "estimating index candidates (no database to cost on)")
        statements, more = from_workload(self.workload)
        self.review.notes.extend(more)
        statements = statements[: self.options.top]
        if not statements:
            self.skipped.append("index advice: no statement an index could speed up")
            return
        options = AdviseOptions(dsn=self.options.dsn, budget_bytes=self.options.budget_bytes,
                                max_indexes=self.options.max_indexes, min_saving=self.options.min_saving,
                                disposable=self.options.disposable, top=self.options.top,
                                statement_timeout_ms=self.options.statement_timeout_ms)
        inputs = AdviseInputs(statements, self.catalog, self.session,
                              window_days=window_days(self.workload.stats_reset, self.workload.collected_at))
        outcome = recommend(inputs, options, self.review, self.rule_settings)
        self.validated_by = outcome.validated_by

    # -- assemble -----------------------------------------------------------------------------------

    def _assemble(self) -> AuditReport:
        from queryreview.workload import total_exec_time

        workload = self.workload
        total = total_exec_time(workload) if workload is not None else 0.0
        findings_by_path: dict[str, list[Finding]] = {}
        for finding in self.review.findings:
            findings_by_path.setdefault(finding.location.path, []).append(finding)
        helped: dict[int, list[int]] = {}
        for index, recommendation in enumerate(self.review.recommendations):
            for impact in recommendation.statements:
                if impact.queryid is not None:
                    helped.setdefault(impact.queryid, []).append(index)
        parsed = self.parsed_plans
        rows = []
        for rank, entry in enumerate(self._top(), start=1):
            name = f"pg_stat_statements:{entry.queryid}"
            result = self.plans.get(entry.queryid)
            blocks = entry.shared_blks_hit + entry.shared_blks_read
            row = QueryRow(
                rank=rank, queryid=entry.queryid, text=entry.query or "", calls=entry.calls,
                total_ms=entry.total_exec_time, mean_ms=entry.mean_exec_time,
                rows_per_call=entry.rows / entry.calls if entry.calls else 0.0,
                share=entry.total_exec_time / total if total else 0.0,
                cache_hit=entry.shared_blks_hit / blocks if blocks else None,
                findings=sorted(findings_by_path.get(name, []), key=_severity_first),
                plan=parsed.get(name), plan_method=result.method if result else None,
                plan_error=self._plan_error(entry, result), plan_note=result.note if result else None,
                recommendations=sorted(set(helped.get(entry.queryid, [])
                                           + [i for q in getattr(entry, "queryids", ()) for i in helped.get(q, [])])),
            )
            rows.append(row)
        failed = [row for row in rows if row.plan_error and row.plan_method is not None]
        if failed:
            self.skipped.append(f"plans: EXPLAIN failed for {len(failed)} statement(s) (each says why)")
        if workload is not None and workload.hidden_entries:
            self.skipped.append(f"{workload.hidden_entries:,} pg_stat_statements entries hidden by privileges "
                                "(GRANT pg_read_all_stats TO the audit role to see them)")
        skipped_rules = list(self.review.skipped_rules)
        if skipped_rules:
            self.skipped.append(f"{len(skipped_rules)} rule(s) skipped for missing inputs (listed at the end)")
        return AuditReport(
            review=self.review, server=self.server, window=_window(workload), total_ms=total, queries=rows,
            origin=self.origin, skipped=self.skipped, safety=self._safety(),
            capacity=[f for f in self.review.findings if f.rule in CAPACITY_RULES], partial=self.partial,
        )

    def _top(self) -> list:
        """The busiest ``top`` statements of the workload gathered (computed once)."""
        if self.top_entries is None:
            self.top_entries = _top_entries(self.workload, self.options.top)
        return self.top_entries

    def _plan_error(self, entry, result) -> str | None:
        if result is not None:
            return result.error if result.plan_json is None else None
        if self.partial and entry.queryid not in self.plans:
            return "not explained: the connection was lost first"
        if not self.plans and self.origin == "snapshot":
            return "no plan in the snapshot"
        if entry.queryid in self.explained_top or not self.plans:
            return None if not self.plans else "not explainable (utility statement or queryreview's own)"
        return "not explained"

    def _safety(self) -> list[str]:
        options = self.options
        if self.session is None and self.options.snapshot_path is not None and self.options.dsn is None:
            return ["offline: read from a snapshot file, no database contacted"]
        lines = [
            "read-only: default_transaction_read_only=on, every query in BEGIN … ROLLBACK",
            f"statement_timeout {options.statement_timeout_ms} ms, lock_timeout {options.lock_timeout_ms} ms, "
            "idle_in_transaction_session_timeout 60 s",
            "application_name=queryreview; every statement checked to be a single statement before it is sent",
            "EXPLAIN ANALYZE of read-only statements (--analyze)" if options.analyze
            else "EXPLAIN without ANALYZE: no statement of the workload was executed",
            "no ANALYZE, no DDL: statistics and schema untouched",
        ]
        if self.validated_by == "hypopg":
            lines.append("what-if costing with hypopg: hypothetical indexes only, reset afterwards")
        elif self.validated_by == "real-index":
            lines.append("disposable database: candidate indexes built inside transactions that were rolled back")
        if options.verify:
            lines.append("--verify: recommended indexes built CONCURRENTLY on this disposable database"
                         + (" and kept (--keep)" if options.keep else ", dropped afterwards"))
        return lines


def _lost(error: BaseException) -> bool:
    """A lost connection (directly, or as the cause of a step's failure): keep what was gathered."""
    from queryreview.sources.postgres.connect import ConnectionLost

    return isinstance(error, ConnectionLost) or isinstance(error.__cause__, ConnectionLost)


def _top_entries(workload, top: int) -> list:
    """The busiest ``top`` statements (entries of one text merged), most database time first."""
    if workload is None:
        return []
    from queryreview.sources.postgres.connect import is_own_query
    from queryreview.workload import statements

    entries = [entry for entry in statements(workload)
               if entry.toplevel and not is_own_query(entry.query) and not _transaction_control(entry.query)]
    entries.sort(key=lambda entry: (-entry.total_exec_time, entry.queryid or 0))
    return entries[:top]


_CONTROL = re.compile(r"\s*(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release|set|reset|show|"
                      r"discard|deallocate|prepare\s+transaction|commit\s+prepared|rollback\s+prepared)\b",
                      re.IGNORECASE)


def _transaction_control(text: str | None) -> bool:
    """BEGIN, COMMIT, SET…: in pg_stat_statements, but nothing an audit can make faster (not listed)."""
    return bool(text) and _CONTROL.match(text) is not None


def _only(workload, entries: list):
    """A WorkloadStats holding only ``entries`` (in that order), for explain_workload."""
    from dataclasses import fields, replace

    from queryreview.catalog import QueryStat
    from queryreview.workload import Entry

    names = [f.name for f in fields(QueryStat)]
    stats = [QueryStat(**{name: getattr(entry, name) for name in names}) if isinstance(entry, Entry) else entry
             for entry in entries]
    return replace(workload, statements=stats)


def _window(workload) -> StatsWindow | None:
    if workload is None:
        return None
    from queryreview.workload import when

    began, ended = when(workload.stats_reset), when(workload.collected_at)
    seconds = (ended - began).total_seconds() if began is not None and ended is not None else None
    return StatsWindow(stats_reset=workload.stats_reset, collected_at=workload.collected_at, seconds=seconds,
                       dealloc=workload.dealloc, entries=workload.entries, hidden_entries=workload.hidden_entries,
                       max_entries=workload.max_entries, extension_version=workload.extension_version)


def _severity_first(finding: Finding) -> tuple:
    from queryreview.model import SEVERITY_RANK

    return (-SEVERITY_RANK[finding.severity], finding.code)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
