"""Report of ``queryreview audit`` in every format, and the wording the formats share.

    text = render_audit(report, "html")        # text | markdown | html | json | sarif

One ranked story, most database time first: the header (server, statistics window, total
database time, what was skipped, safety), the top statements table, each statement with
findings (its findings, plan evidence, the recommendations that help it), the
recommendations, capacity notes, the verified before/after, other findings, notes.
The helpers below turn the AuditReport's figures into words once, so text, Markdown and
HTML say the same things; they decide nothing.
"""

from __future__ import annotations

import importlib
import json
from datetime import timezone
from typing import Any

from queryreview.audit.model import AuditReport, QueryRow, StatementChange, StatsWindow, Verification
from queryreview.model import Finding, Recommendation, Review
from queryreview.report import recommendations as words
from queryreview.report.text import clean
from queryreview.workload import duration, ms, number, percent, when

FORMATS = ("text", "markdown", "html", "json", "sarif")
_MODULES = {
    "text": "queryreview.report.audit_text",
    "markdown": "queryreview.report.audit_markdown",
    "html": "queryreview.report.audit_html",
}

ORIGINS = {"live": "live database", "snapshot": "snapshot file", "demo": "embedded demo"}
PLAN_METHODS = {
    "generic_plan": "EXPLAIN (GENERIC_PLAN)",
    "prepared_generic": "generic plan of a prepared statement",
    "sampled_values": "EXPLAIN with sampled parameter values",
    "analyze": "EXPLAIN ANALYZE",
    "plain": "EXPLAIN",
}
KIND_SECTIONS = (
    ("create-index", "Indexes to create"),
    ("drop-index", "Indexes to drop"),
    ("rewrite", "Rewrites"),
)
TABLE_HEADERS = ("#", "calls", "total", "mean", "rows/call", "share", "cache hit", "findings", "statement")


def render_audit(report: AuditReport, output_format: str, color: bool | None = None,
                 width: int | None = None) -> str:
    """The audit report as a string. ``color`` None means: colour only on a terminal without NO_COLOR
    (text only); ``width`` is the text report's width (default: the terminal's, at most 100)."""
    if output_format == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if output_format == "sarif":
        from queryreview.report.sarif import render

        return render(report.review)
    if output_format not in _MODULES:
        raise ValueError(f"unknown audit format {output_format!r}: choose one of {', '.join(FORMATS)}")
    module = importlib.import_module(_MODULES[output_format])
    if output_format == "text":
        return module.render(report, color=color, width=width)
    return module.render(report)


# --- the header --------------------------------------------------------------------------------


def title(report: AuditReport) -> str:
    """``queryreview audit of db.example:5432/app``."""
    target = report.server.target or ORIGINS.get(report.origin, report.origin)
    return f"queryreview audit of {target}"


def partial_text(report: AuditReport) -> str | None:
    if not report.partial:
        return None
    return (f"PARTIAL REPORT: {report.partial}. Everything below covers only what was gathered "
            "before the audit stopped.")


def header_facts(report: AuditReport) -> list[tuple[str, str]]:
    """(label, value) pairs for the header, in order."""
    facts = [("server", server_text(report)), ("statistics", window_text(report.window))]
    if report.window is not None:
        facts.append(("database time", time_text(report)))
    facts.append(("findings", findings_text(report.review)))
    if report.demo:
        facts.append(("demo", demo_text(report.demo)))
    if report.safety:
        facts.append(("safety", "; ".join(report.safety)))
    if report.seconds:
        facts.append(("audit took", duration_words(report.seconds)))
    return facts


def server_text(report: AuditReport) -> str:
    server = report.server
    parts = [f"PostgreSQL {server.version}" if server.version else "PostgreSQL (version unknown)"]
    if server.target:
        parts.append(server.target)
    who = []
    if server.database:
        who.append(f"database {server.database}")
    if server.user:
        who.append(f"as {server.user}")
    if who:
        parts.append(" ".join(who))
    parts.append(f"from the {ORIGINS.get(report.origin, report.origin)}")
    return " · ".join(parts)


def window_text(window: StatsWindow | None) -> str:
    """Since when the pg_stat_statements figures count, and how complete they are."""
    if window is None:
        return "no pg_stat_statements data: a catalog-only audit (no workload figures)"
    reset = when(window.stats_reset)
    if reset is not None:
        since = f"since {reset.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC"
        if window.seconds is not None:
            since += f" ({duration(window.seconds)})"
    else:
        since = "since an unknown time (the server does not record the statistics reset before PostgreSQL 14)"
    parts = [since]
    entries = f"{window.entries:,} entr{'y' if window.entries == 1 else 'ies'}"
    if window.max_entries:
        entries += f" of max {window.max_entries:,}"
    parts.append(entries)
    if window.hidden_entries:
        parts.append(f"{window.hidden_entries:,} hidden (insufficient privilege: grant pg_read_all_stats)")
    if window.dealloc is None:
        parts.append("evictions unknown")
    elif window.dealloc:
        parts.append(f"{window.dealloc:,} entries evicted since the reset: some statements are missing "
                     "(raise pg_stat_statements.max)")
    else:
        parts.append("no entry evicted")
    if window.extension_version:
        parts.append(f"pg_stat_statements {window.extension_version}")
    return "; ".join(parts)


def time_text(report: AuditReport) -> str:
    count = len(report.queries)
    text = f"{ms(report.total_ms)} in the window"
    if count:
        text += (f"; the top {count} statement{'s' if count != 1 else ''} shown cover "
                 f"{percent(report.covered_share)} of it")
    return text


def findings_text(review: Review) -> str:
    """``12 findings (1 error, 3 warnings, 8 info); 5 recommendations, 2 considered and rejected``."""
    total = len(review.findings)
    if total:
        counts = ", ".join(f"{n} {name if n == 1 or name == 'info' else name + 's'}"
                           for name, n in review.by_severity().items() if n)
        text = f"{total} finding{'s' if total != 1 else ''} ({counts})"
    else:
        text = "no findings"
    return f"{text}; {words.summary(review.recommendations, review.rejected)}"


_DEMO_KNOWN = ("scale", "load_seconds", "loaded_now", "tps", "latency_mean_ms", "mean_ms", "latency_p95_ms",
               "p95_ms", "transactions", "failed", "duration_s", "clients", "jobs", "tps_cv", "workload", "cache_dir")


def demo_text(demo: dict[str, Any]) -> str:
    """The demo's figures: how the data was loaded and what the workload run measured.

    The run's figures may sit in a nested ``workload`` dict or at the top level.
    """
    figures = dict(demo)
    if isinstance(demo.get("workload"), dict):
        figures.update(demo["workload"])
    parts = []
    if figures.get("load_seconds") is not None:
        seconds = duration_words(float(figures["load_seconds"]))
        parts.append(f"data from the cache (loaded in {seconds})" if figures.get("loaded_now") is False
                     else f"data loaded in {seconds}")
    if figures.get("scale") is not None:
        parts.append(f"scale {figures['scale']}")
    run = []
    if figures.get("tps") is not None:
        run.append(f"{float(figures['tps']):,.1f} tps")
    mean = figures.get("latency_mean_ms", figures.get("mean_ms"))
    if mean is not None:
        run.append(f"mean latency {ms(float(mean))}")
    p95 = figures.get("latency_p95_ms", figures.get("p95_ms"))
    if p95 is not None:
        run.append(f"p95 {ms(float(p95))}")
    if figures.get("transactions") is not None:
        run.append(f"{int(figures['transactions']):,} transactions")
    if figures.get("failed"):
        run.append(f"{int(figures['failed']):,} failed")
    if figures.get("tps_cv") is not None:
        run.append(f"throughput varied {float(figures['tps_cv']) * 100:.1f}% per second")
    shape = []
    if figures.get("duration_s") is not None:
        shape.append(duration_words(float(figures["duration_s"])))
    if figures.get("clients") is not None:
        shape.append(f"{figures['clients']} clients")
    if figures.get("jobs") is not None:
        shape.append(f"{figures['jobs']} jobs")
    if run or shape:
        parts.append("workload run: " + ", ".join(run) + (f" ({', '.join(shape)})" if shape else ""))
    if figures.get("cache_dir"):
        parts.append(f"cache {figures['cache_dir']}")
    for key, value in figures.items():  # figures this renderer does not know yet still show
        if key not in _DEMO_KNOWN and isinstance(value, (str, int, float, bool)):
            parts.append(f"{key.replace('_', ' ')} {value}")
    return "; ".join(parts) or "embedded demo"


def duration_words(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else duration(seconds)


# --- the top statements --------------------------------------------------------------------------


def table_cells(row: QueryRow) -> tuple[str, ...]:
    """The top-statements table's figures for one row (the statement text is added by each format)."""
    return (str(row.rank), number(row.calls), ms(row.total_ms), ms(row.mean_ms), number(row.rows_per_call),
            percent(row.share), cache_hit(row.cache_hit), str(len(row.findings)) if row.findings else "")


def cache_hit(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if value < 0.9995 else "100%"


def statement_facts(row: QueryRow) -> list[str]:
    """A statement's figures as phrases: calls, time, share, mean, rows, cache hit, queryid."""
    facts = [f"{number(row.calls)} call{'s' if row.calls != 1 else ''}",
             f"{ms(row.total_ms)} total ({percent(row.share)} of database time)", f"mean {ms(row.mean_ms)}",
             _per_call(row.rows_per_call)]
    if row.cache_hit is not None:
        facts.append(f"cache hit {cache_hit(row.cache_hit)}")
    if row.queryid is not None:
        facts.append(f"queryid {row.queryid}")
    return facts


def _per_call(rows: float) -> str:
    text = number(rows)
    return f"{text} row{'' if text == '1' else 's'} per call"


def plan_text(row: QueryRow) -> str | None:
    """How the plan was obtained, or why there is none."""
    if row.plan_error:
        return f"no plan: {row.plan_error}"
    if row.plan is None and not row.plan_method:
        return None
    method = PLAN_METHODS.get(row.plan_method or "", row.plan_method or "EXPLAIN")
    text = f"plan from {method}"
    if row.plan_note:
        text += f" ({row.plan_note})"
    return text


def shorten(text: str | None, cells: int) -> str:
    """A statement on one line in at most ``cells`` terminal cells: whitespace collapsed, the start kept,
    cut at a word boundary when one is near, ``…`` at the end."""
    from rich.cells import cell_len

    if not text or not text.strip():
        return "(query text not available)"
    flat = clean(" ".join(text.split()))
    if cell_len(flat) <= cells:
        return flat
    room = max(cells - 1, 1)
    cut = ""
    for char in flat:  # by cells: wide characters take two
        if cell_len(cut) + cell_len(char) > room:
            break
        cut += char
    space = cut.rfind(" ")
    if space >= room * 3 // 4:  # a word boundary close to the end reads better than half a word
        cut = cut[:space]
    return cut.rstrip() + "…"


# --- each statement's story ----------------------------------------------------------------------


def storied_rows(report: AuditReport) -> list[QueryRow]:
    """The top statements with something to say: findings, or a plan that could not be had."""
    return [row for row in report.queries if row.findings or row.plan_error]


def node_of(row: QueryRow, finding: Finding) -> str | None:
    """``plan node #2: Seq Scan on orders o`` for a plan finding of this row's plan."""
    node_id = (finding.evidence or {}).get("node")
    if node_id is None:
        return None
    label = None
    if row.plan is not None:
        for node in row.plan.nodes:
            if node.id == node_id:
                label = node.label()
                break
    if label is None:
        label = (finding.evidence or {}).get("node_type")
    return f"plan node #{node_id}" + (f": {label}" if label else "")


def helped_by(report: AuditReport, row: QueryRow) -> list[tuple[int, Recommendation]]:
    """(rank in the recommendations, recommendation) of those that help this statement."""
    found = []
    for index in row.recommendations:
        if 0 <= index < len(report.review.recommendations):
            found.append((index + 1, report.review.recommendations[index]))
    return found


def recommendation_line(recommendation: Recommendation) -> str:
    """``create-index on public.orders · cost 15,627 → 723 (-95%) · saves ~3.2 min/day``."""
    return " · ".join([words.title(recommendation), *words.facts(recommendation)])


def recommendation_groups(review: Review) -> list[tuple[str, list[tuple[int, Recommendation]]]]:
    """(section title, [(rank, recommendation)]) by kind; ranks are positions in the ranked list."""
    groups: dict[str, list[tuple[int, Recommendation]]] = {}
    for rank, recommendation in enumerate(review.recommendations, start=1):
        groups.setdefault(recommendation.kind, []).append((rank, recommendation))
    ordered = [(heading, groups.pop(kind)) for kind, heading in KIND_SECTIONS if kind in groups]
    ordered += [(f"Other ({kind})", items) for kind, items in groups.items()]
    return ordered


def impact_lines(recommendation: Recommendation) -> list[str]:
    return [words.statement_line(impact) for impact in recommendation.statements]


def rejected_line(recommendation: Recommendation) -> str:
    sql = " ".join(recommendation.sql.split())
    return f"{words.title(recommendation)}{f' ({sql})' if sql else ''}: {recommendation.reason}"


# --- capacity and other findings ------------------------------------------------------------------


def _key(finding: Finding) -> tuple:
    loc = finding.location
    return (finding.code, loc.path, loc.line, loc.column, finding.message)


def place(report: AuditReport, finding: Finding) -> str:
    """Where a finding points, with the top statement's rank when it is one: ``#3 (pg_stat_statements:42)``."""
    path = finding.location.path
    for row in report.queries:
        if row.queryid is not None and row.source == path:
            return f"statement #{row.rank} ({path})"
    return path


def other_findings(report: AuditReport) -> list[Finding]:
    """Findings not shown with a top statement nor as capacity notes (catalog, unused indexes…)."""
    shown = {_key(finding) for row in report.queries for finding in row.findings}
    shown |= {_key(finding) for finding in report.capacity}
    return [finding for finding in report.review.findings if _key(finding) not in shown]


# --- verification ----------------------------------------------------------------------------------


def factor(before: float | None, after: float | None, lower_is_better: bool = True) -> str:
    """``12.7× faster`` / ``1.3× slower`` (latency), ``12.7× more`` (throughput); empty when unknown."""
    if before is None or after is None or before <= 0 or after <= 0:
        return ""
    ratio = before / after if lower_is_better else after / before
    better, worse = ("faster", "slower") if lower_is_better else ("more", "less")
    if 0.995 <= ratio < 1.005:
        return "unchanged"
    if ratio >= 1:
        return f"{_ratio(ratio)} {better}"
    return f"{_ratio(1 / ratio)} {worse}"


def _ratio(value: float) -> str:
    return f"{value:,.0f}×" if value >= 100 else f"{value:.1f}×" if value >= 10 else f"{value:.2f}×"


def verification_rows(verification: Verification) -> list[tuple[str, str, str, str]]:
    """(measure, before, after, change) for the whole workload."""
    before, after = verification.before, verification.after
    rows = [
        ("mean latency", ms(before.mean_ms), ms(after.mean_ms), factor(before.mean_ms, after.mean_ms)),
        ("p95 latency", ms(before.p95_ms), ms(after.p95_ms), factor(before.p95_ms, after.p95_ms)),
        ("throughput", f"{before.tps:,.1f} tps", f"{after.tps:,.1f} tps", factor(before.tps, after.tps, False)),
    ]
    if before.db_time_ms is not None or after.db_time_ms is not None:
        # Over a fixed duration the faster run does more transactions: compare time per transaction.
        per_before = before.db_time_ms / before.transactions if before.db_time_ms and before.transactions else None
        per_after = after.db_time_ms / after.transactions if after.db_time_ms and after.transactions else None
        rows.append(("database time", ms(before.db_time_ms) if before.db_time_ms is not None else "—",
                     ms(after.db_time_ms) if after.db_time_ms is not None else "—", ""))
        if per_before is not None and per_after is not None:
            rows.append(("db time per transaction", ms(per_before), ms(per_after), factor(per_before, per_after)))
    rows.append(("transactions", _transactions(before.transactions, before.failed),
                 _transactions(after.transactions, after.failed), ""))
    return rows


def _transactions(count: int, failed: int) -> str:
    return f"{count:,}" + (f" ({failed:,} failed)" if failed else "")


def verification_facts(verification: Verification) -> list[str]:
    """Speedup, how noisy the runs were, how they were run, what became of the indexes."""
    facts = []
    speedup = verification.speedup
    facts.append(f"speedup {_ratio(speedup)} (mean latency before ÷ after)" if speedup is not None
                 else "speedup unknown (no latency measured after)")
    noise = verification.noise()
    spread = [f"{label} {value * 100:.1f}%" for label, value in
              (("before", noise["tps_cv_before"]), ("after", noise["tps_cv_after"])) if value is not None]
    facts.append(f"noise {noise['level']}" + (f" (per-second throughput varied {', '.join(spread)})"
                                                if spread else ""))
    facts.append(f"same workload both times: {verification.clients} client{'s' if verification.clients != 1 else ''}, "
                 f"{verification.jobs} job{'s' if verification.jobs != 1 else ''}, "
                 f"{duration_words(verification.after.duration_s)} per run")
    facts.append("indexes kept" if verification.kept else "indexes rolled back after measuring (--keep keeps them)")
    return facts


def change_cells(change: StatementChange) -> tuple[str, str, str, str]:
    """(calls before → after, mean before, mean after, change) of one statement."""
    calls = f"{number(change.calls_before)} → {number(change.calls_after)}"
    after = ms(change.mean_ms_after) if change.mean_ms_after is not None else "did not run"
    return (calls, ms(change.mean_ms_before), after, factor(change.mean_ms_before, change.mean_ms_after))


def skipped_rule_lines(review: Review) -> list[str]:
    from queryreview.report.text import _skipped_lines

    return _skipped_lines(review.skipped_rules)

