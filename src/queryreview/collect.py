"""The pipeline behind ``queryreview collect``: live database -> Snapshot -> file.

    snapshot = collect_from("postgresql://app@db/prod", CollectOptions(top=500, redact=True))
    write_snapshot(snapshot, "prod.json.gz")

Also the entry point for ``check --dsn``: ``collect_from(dsn, CollectOptions(statements=False))``
gives the catalog alone when pg_stat_statements is not wanted (or not there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from queryreview import __version__
from queryreview.errors import RuntimeFailure
from queryreview.sources.snapshot import Notice, Snapshot, Source, now_iso

StepHook = Callable[[str], None]

# Catalog before workload would waste a collection on a server without pg_stat_statements: the
# extension is checked first. Step names are what on_step receives (and what errors mention).
STEPS = ("server", "extension", "settings", "extensions", "tables", "columns", "indexes", "constraints",
         "column_stats", "statements", "totals", "info", "plans")


@dataclass(frozen=True)
class CollectOptions:
    top: int = 500  # statements by total time; slower or more frequent ones come on top
    min_mean_ms: float = 100.0
    min_calls_share: float = 0.01
    redact: bool = False  # no literals in query texts, no pg_stats values (see redact.py)
    statements: bool = True  # read pg_stat_statements; False: catalog only
    # --explain: plans for the top explain_top statements (sources/postgres/explain.py)
    explain: bool = False
    explain_top: int = 200
    analyze: bool = False  # EXPLAIN ANALYZE read-only statements (values sampled from pg_stats for $n)
    analyze_writes: bool = False  # also INSERT/UPDATE/DELETE, rolled back; only with disposable
    disposable: bool = False  # the user says this database may be written to (and restored)


def collect(session, options: CollectOptions = CollectOptions(), on_step: StepHook | None = None) -> Snapshot:
    """Everything a review needs from one open Session. Never writes, never runs ANALYZE."""
    from queryreview.sources.postgres.catalog_loader import load_catalog, load_server
    from queryreview.sources.postgres.stats import ExtensionMissing, Selection, detect_extension, load_workload

    current = ["connect"]

    def step(name: str) -> None:
        current[0] = name
        if on_step is not None:
            on_step(name)

    notices: list[Notice] = []
    try:
        step("server")
        server = load_server(session)
        extension = None
        if options.statements:
            step("extension")
            extension = detect_extension(session, server.get("database") or "")
        catalog = load_catalog(session, notices, with_values=not options.redact, on_step=step, server=server)
        workload = None
        if extension is not None:
            selection = Selection(top=options.top, min_mean_ms=options.min_mean_ms,
                                  min_calls_share=options.min_calls_share)
            workload = load_workload(session, notices, selection, extension, on_step=step)
    except RuntimeFailure as error:
        if not isinstance(error, ExtensionMissing):
            error.args = (f"{error.args[0]} (while collecting {current[0].replace('_', ' ')})", *error.args[1:])
        raise
    if options.redact:
        from queryreview.redact import redact_catalog, redact_workload

        catalog = redact_catalog(catalog)
        workload = redact_workload(workload) if workload is not None else None
    plans = None
    if options.explain and workload is not None:
        plans = _plans(session, workload, options, notices, step)
    source = Source(
        target=session.target,
        server_version=catalog.server_version,
        server_version_num=catalog.server_version_num,
        database=catalog.database,
        user=server.get("role") or "",
    )
    collected_at = now_iso()
    catalog.collected_at = collected_at
    if workload is not None:
        workload.collected_at = collected_at
    return Snapshot(catalog=catalog, workload=workload, warnings=notices, source=source, collected_at=collected_at,
                    tool_version=__version__, redacted=options.redact, plans=plans)


def _plans(session, workload, options: CollectOptions, notices: list[Notice], step: StepHook) -> dict:
    """EXPLAIN of the top statements; a lost connection keeps what was gathered and says so."""
    from queryreview.sources.postgres.explain import ExplainStopped, explain_workload

    step("plans")
    try:
        plans = explain_workload(session, workload, top=options.explain_top, analyze=options.analyze,
                                 analyze_writes=options.analyze_writes, disposable=options.disposable,
                                 sample_values=not options.redact)
    except ExplainStopped as error:
        plans = error.results
        notices.append(Notice("explain-stopped", f"plans incomplete: {error.args[0]}",
                              "collect again when the server is reachable"))
    failed = sum(1 for result in plans.values() if result.error)
    if failed:
        notices.append(Notice("explain-failed", f"{failed} of {len(plans)} statement(s) could not be explained "
                                                "(each plan entry says why)",
                              "see plans.<queryid>.error in the snapshot"))
    return plans


def collect_from(target: str | None, options: CollectOptions = CollectOptions(), session_options=None,
                 on_step: StepHook | None = None) -> Snapshot:
    """Open a read-only session on ``target`` (None: libpq defaults), collect, close."""
    from queryreview.sources.postgres.connect import SessionOptions, open_session

    with open_session(target, session_options or SessionOptions()) as session:
        return collect(session, options, on_step)


def database_input(dsn: str | None = None, snapshot_path: str | None = None, top: int = 500,
                   session_options=None) -> Snapshot:
    """What ``check --dsn`` / ``check --snapshot`` hand the engine: catalog and workload, plus warnings.

    A live database without pg_stat_statements still gives its catalog; the missing workload
    becomes a warning instead of an error (the workload rules are then skipped, and say so).
    """
    if snapshot_path is not None:
        from queryreview.sources.snapshot import read_snapshot

        return read_snapshot(snapshot_path)
    from queryreview.sources.postgres.stats import ExtensionMissing

    try:
        return collect_from(dsn, CollectOptions(top=top), session_options)
    except ExtensionMissing as error:
        snapshot = collect_from(dsn, CollectOptions(statements=False), session_options)
        snapshot.warnings.append(Notice("no-workload", str(error), error.hint))
        return snapshot


def summary(snapshot: Snapshot, written_to: str | None = None, size: int | None = None) -> str:
    """One paragraph for stderr: server, statements collected/visible/hidden, tables, indexes, warnings."""
    catalog, workload = snapshot.catalog, snapshot.workload
    parts = [f"Collected from {snapshot.source.target or catalog.database} (PostgreSQL {catalog.server_version})"]
    if workload is None:
        parts.append("catalog only (pg_stat_statements not read)")
    else:
        hidden = f", {workload.hidden_entries:,} hidden by privileges" if workload.hidden_entries else ""
        parts.append(f"{len(workload.statements):,} statements of {workload.entries:,} visible{hidden} "
                     f"(pg_stat_statements {workload.extension_version})")
    if snapshot.plans is not None:
        explained = sum(1 for result in snapshot.plans.values() if result.plan_json is not None)
        parts.append(f"{explained:,} of {len(snapshot.plans):,} statements explained")
    indexes = sum(len(table.indexes) for table in catalog.tables.values())
    parts.append(f"{len(catalog.tables):,} tables, {indexes:,} indexes")
    parts.append(f"{len(snapshot.warnings)} warning(s)")
    text = "; ".join(parts[:1]) + ": " + ", ".join(parts[1:]) + "."
    if snapshot.redacted:
        text += " Redacted: no literals, no column values."
    if written_to:
        text += f" Written to {written_to}" + (f" ({_size(size)})." if size is not None else ".")
    return text


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"
