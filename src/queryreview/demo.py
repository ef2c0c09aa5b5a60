"""The embedded demo: the customer-dashboard incident (examples/dashboard) on a disposable PG 18.

    demo = prepare_demo(progress=print)            # first run: loads the data (20-40 s); later: ~1 s
    run = run_workload(demo, duration_s=15)        # pgbench fills pg_stat_statements like production
    print(run.tps, run.latency_mean_ms, run.latency_p95_ms)
    demo.close()                                   # stops the server (the data stays in the cache)

The server lives in a cache directory (``$QUERYREVIEW_CACHE_DIR/demo``, default
``~/.cache/queryreview/demo``). The database ``dashboard`` is loaded once per content of the
example's schema, data and index files and per scale; each prepare puts the index set back as
planted, so an earlier ``--verify --keep`` does not leak into the next demo.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from queryreview.errors import RuntimeFailure
from queryreview.pgbench import Script, ScriptRun, StatementLatency, WorkloadRun, run_pgbench
from queryreview.sources.embedded import EmbeddedServer, bin_dir

__all__ = [
    "DATABASE", "DEMO_RULE_SETTINGS", "DemoDatabase", "WorkloadRun", "ScriptRun", "Script", "StatementLatency",
    "prepare_demo", "run_workload", "reset_indexes", "examples_dir", "default_cache_dir", "workload_scripts",
    "solution_statements", "demo_lock",
]

DATABASE = "dashboard"
LOAD_FILES = ("schema.sql", "data.sql", "indexes.sql")
TABLES = ("plans", "categories", "products", "customers", "orders", "order_items", "events", "support_tickets")
# Bump when the loading procedure changes in a way the files' hash does not show.
_LOADER_VERSION = "1"
_MARKER = "demo.json"
_WEIGHT = re.compile(r"^--\s*weight:\s*(\d+)\s*$", re.M)
# Settings of the disposable demo server (reload only, no restart): no waiting on WAL flushes at commit,
# no checkpoint in the middle of the bulk load.
_SERVER_SETTINGS = {"synchronous_commit": "off", "max_wal_size": "2GB"}
# Per loading session: sorts for the key and index builds stay in memory.
_LOAD_OPTIONS = "-c maintenance_work_mem=256MB -c synchronous_commit=off -c client_min_messages=warning"

# The demo's statistics window is one workload run, seconds rather than days: the thresholds that
# assume a production window are scaled down so the planted problems show (rule name -> settings,
# to merge under the user's own configuration). Measured in a 15 s run at scale 1: the N+1 lookup
# and the categories menu ran about 120 times each, with about 60 s of database time.
DEMO_RULE_SETTINGS: dict[str, dict[str, object]] = {
    "n-plus-one": {"min_calls": 20},
    "cache-candidate": {"min_calls": 20},
    "unused-index": {"min_stats_days": 0, "min_size_bytes": 0},  # the planted one is small at test scales
    "read-replica-candidate": {"min_database_time_s": 10},
    "stats-evicted": {"min_window_hours": 0},
}

ProgressHook = Callable[[str], None]


@dataclass
class DemoDatabase:
    """The running demo server and the loaded database."""

    server: EmbeddedServer
    dsn: str
    cache_dir: Path
    scale: float = 1.0
    examples: Path = field(default_factory=lambda: examples_dir())
    loaded_now: bool = False  # True when this prepare loaded the data, False when the cache served it
    load_seconds: float | None = None  # how long the (last) load took

    def close(self) -> None:
        """Stop the server; the data stays in the cache directory."""
        self.server.stop()

    def __enter__(self) -> DemoDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def examples_dir() -> Path:
    """The dashboard example: inside the installed wheel (queryreview/_demo), or in a source checkout."""
    package = Path(__file__).resolve().parent
    packaged = package / "_demo"
    if (packaged / "schema.sql").is_file():
        return packaged
    return package.parent.parent / "examples" / "dashboard"


def default_cache_dir() -> Path:
    """``$QUERYREVIEW_CACHE_DIR/demo``, else ``$XDG_CACHE_HOME/queryreview/demo``, else ~/.cache/queryreview/demo."""
    base = os.environ.get("QUERYREVIEW_CACHE_DIR")
    if base:
        return Path(base).expanduser() / "demo"
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg).expanduser() if xdg else Path("~/.cache").expanduser()
    return root / "queryreview" / "demo"


def workload_scripts(directory: Path | None = None) -> list[Script]:
    """The dashboard's pgbench scripts with their weights (a ``-- weight: N`` line in each file)."""
    folder = (directory or examples_dir()) / "workload"
    scripts = []
    for path in sorted(folder.glob("*.sql")):
        match = _WEIGHT.search(path.read_text(encoding="utf-8"))
        scripts.append(Script(path, int(match.group(1)) if match else 1))
    if not scripts:
        raise RuntimeFailure(f"no workload scripts in {folder}")
    return scripts


def solution_statements(directory: Path | None = None) -> list[str]:
    """The statements of solution.sql: the indexes (and drops) that fix the incident, the answer key."""
    from queryreview.sql.split import split

    text = ((directory or examples_dir()) / "solution.sql").read_text(encoding="utf-8")
    return [text[raw.start:raw.end] for raw in split(text) if raw.kind == "sql"]


# -- prepare ---------------------------------------------------------------------------------------


def prepare_demo(cache_dir: Path | None = None, *, scale: float = 1.0,
                 progress: ProgressHook | None = None) -> DemoDatabase:
    """Start the demo server and make sure database ``dashboard`` holds the example at ``scale``.

    Scale 1 is 50,000 customers, about 3.5 million rows; tests use 0.02–0.05.
    """
    if not 0 < scale <= 20:
        raise RuntimeFailure(f"demo scale must be in (0, 20], not {scale}")
    say = progress or (lambda message: None)
    cache = Path(cache_dir).expanduser().resolve() if cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    source = examples_dir()
    content = _content_hash(source, scale)
    say(f"starting the embedded PostgreSQL in {cache}")
    server = EmbeddedServer.start(cache / "pgdata")
    try:
        with _lock(cache / "demo.lock"):
            _configure_server(server)
            marker = _read_marker(cache)
            if marker.get("content_hash") == content and _database_matches(server, content):
                say("the demo database is ready (cached)")
                _restore_indexes(server.dsn(DATABASE), marker.get("indexes", {}), say)
                return DemoDatabase(server, server.dsn(DATABASE), cache, scale, source, False,
                                    marker.get("load_seconds"))
            started = time.perf_counter()
            (cache / _MARKER).unlink(missing_ok=True)
            rows, indexes = _load(server, source, scale, content, say)
            seconds = time.perf_counter() - started
            _write_marker(cache, {"content_hash": content, "scale": scale, "load_seconds": round(seconds, 2),
                                  "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rows": rows,
                                  "indexes": indexes})
            say(f"loaded {sum(rows.values()):,} rows in {seconds:.1f} s")
            return DemoDatabase(server, server.dsn(DATABASE), cache, scale, source, True, seconds)
    except BaseException:
        server.stop()
        raise


def _content_hash(source: Path, scale: float) -> str:
    digest = hashlib.sha256(f"loader {_LOADER_VERSION} scale {scale!r}\n".encode())
    for name in LOAD_FILES:
        path = source / name
        if not path.is_file():
            raise RuntimeFailure(f"the demo's {name} is missing from {source}",
                                 hint="reinstall queryreview, or run from a complete source checkout")
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One prepare at a time per cache directory (two audits started together load once)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; concurrent first runs are unlikely there
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def demo_lock(demo: DemoDatabase):
    """Hold the demo's lock (as prepare_demo does while loading): one workload-and-audit at a time.

    Take it after prepare_demo returned (the lock is not re-entrant)."""
    return _lock(demo.cache_dir / "demo.lock")


def _connect(dsn: str, options: str | None = None):
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=30, **({"options": options} if options else {}))
    except psycopg.Error as error:
        raise RuntimeFailure(f"cannot connect to the demo server: {_one_line(error)}") from error


def _configure_server(server: EmbeddedServer) -> None:
    from psycopg import sql

    with _connect(server.dsn("postgres")) as conn:
        changed = False
        for name, value in _SERVER_SETTINGS.items():
            current = conn.execute("SELECT setting, unit FROM pg_settings WHERE name = %s", [name]).fetchone()
            if current is None or _same_setting(current, value):
                continue
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
            changed = True
        if changed:
            conn.execute("SELECT pg_reload_conf()")


def _same_setting(current: tuple, wanted: str) -> bool:
    setting, unit = current
    if unit == "MB" and wanted.endswith("GB"):
        return setting == str(int(wanted[:-2]) * 1024)
    return setting == wanted


def _read_marker(cache: Path) -> dict:
    try:
        return json.loads((cache / _MARKER).read_text())
    except (OSError, ValueError):
        return {}


def _write_marker(cache: Path, data: dict) -> None:
    temporary = cache / (_MARKER + ".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    temporary.replace(cache / _MARKER)


def _database_matches(server: EmbeddedServer, content: str) -> bool:
    """The database exists, carries the content hash in its comment, and has all its tables."""
    with _connect(server.dsn("postgres")) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                           [DATABASE]).fetchone()
    if row is None or row[0] != f"queryreview demo {content}":
        return False
    with _connect(server.dsn(DATABASE)) as conn:
        found = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)",
                             [list(TABLES)]).fetchone()
    return found is not None and found[0] == len(TABLES)


# -- load ------------------------------------------------------------------------------------------


def _load(server: EmbeddedServer, source: Path, scale: float, content: str,
          say: ProgressHook) -> tuple[dict[str, int], dict[str, dict]]:
    """Create ``dashboard`` afresh and run the example's files; returns (rows per table, planted indexes)."""
    from psycopg import sql

    say(f"loading the dashboard demo (scale {scale:g}; first run only, about half a minute)")
    with _connect(server.dsn("postgres")) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        # builtin C.UTF-8: byte-order sorting, so text keys build fast and sort the same everywhere
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER builtin "
                             "BUILTIN_LOCALE 'C.UTF-8'").format(sql.Identifier(DATABASE)))
    dsn = server.dsn(DATABASE)
    workers = max(1, min(4, os.cpu_count() or 1))
    options = f"{_LOAD_OPTIONS} -c demo.scale={scale!r}"
    connections = [_connect(dsn, options) for _ in range(workers)]
    try:
        for name in LOAD_FILES:
            _run_file(connections, source / name, say)
        say("vacuum and analyze")
        main = connections[0]
        # Reset first, then vacuum and analyze: the statistics window starts after the load (the load's
        # inserts do not count as writes), and every table has been analyzed in it. Each session holds
        # back its counters for up to a second: make them flush now, or they would land after the reset.
        for conn in connections:
            conn.execute("SELECT pg_stat_force_next_flush()")
        main.execute("SELECT pg_stat_reset()")
        largest_first = [row[0] for row in main.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r' "
            "ORDER BY pg_relation_size(oid) DESC", [list(TABLES)])]
        _parallel(connections, [sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)).as_string(main)
                                for table in largest_first], "the vacuum after the load")
        main.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        main.execute("SELECT pg_stat_statements_reset()")  # the load's statements are not the dashboard's
        # VACUUM read every page of these new tables: reltuples is the exact count
        rows = {name: int(tuples) for name, tuples in main.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'", [list(TABLES)])}
        indexes = _current_indexes(main)
        main.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(DATABASE), sql.Literal(f"queryreview demo {content}")))
    finally:
        for conn in connections:
            conn.close()
    return rows, indexes


def _run_file(connections: list, path: Path, say: ProgressHook) -> None:
    """Run a file's statements in order; runs of independent bulk statements go in parallel."""
    from queryreview.sql.split import split

    text = path.read_text(encoding="utf-8")
    statements = [(text[raw.start:raw.end], text.count("\n", 0, raw.start) + 1) for raw in split(text)
                  if raw.kind == "sql"]
    say(f"running {path.name} ({len(statements)} statements)")
    for group in _groups(statements):
        if len(group) == 1:
            _execute(connections[0], group[0], path.name)
        else:
            _parallel(connections, group, path.name)


def _groups(statements: list[tuple[str, int]]) -> list[list[tuple[str, int]]]:
    """Consecutive statements of one parallel-safe kind form a group; anything else runs alone."""
    groups: list[list[tuple[str, int]]] = []
    previous: str | None = None
    for statement in statements:
        kind = _parallel_kind(statement[0])
        if kind is not None and kind == previous:
            groups[-1].append(statement)
        else:
            groups.append([statement])
        previous = kind
    return groups


def _parallel_kind(text: str) -> str | None:
    """Kinds whose consecutive statements touch different tables or only read shared ones."""
    words = " ".join(re.sub(r"--[^\n]*", " ", text).split()).lower()
    if words.startswith("insert into "):
        return "insert"
    if words.startswith("create index ") or words.startswith("create unique index "):
        return "index"
    if words.startswith("alter table ") and " add constraint " in words:
        if " foreign key " in words:
            return "foreign key"
        if " primary key " in words or " unique " in words:
            return "key"
    return None


def _parallel(connections: list, statements: list, where: str) -> None:
    """Run statements on all connections at once, each connection taking the next waiting statement."""
    import queue
    import threading

    waiting: queue.Queue = queue.Queue()
    for statement in statements:
        waiting.put(statement if isinstance(statement, tuple) else (statement, 0))

    failed = threading.Event()

    def worker(conn) -> None:
        while not failed.is_set():
            try:
                statement = waiting.get_nowait()
            except queue.Empty:
                return
            try:
                _execute(conn, statement, where)
            except BaseException:
                failed.set()  # the other connections finish their statement and take no more
                raise

    with ThreadPoolExecutor(max_workers=len(connections)) as pool:
        for future in [pool.submit(worker, conn) for conn in connections]:
            future.result()


def _execute(conn, statement: tuple[str, int], where: str) -> None:
    import psycopg

    text, line = statement
    try:
        conn.execute(text)  # no parameters: the simple protocol, as psql would send it
    except psycopg.Error as error:
        where = f"{where} line {line}" if line else where
        raise RuntimeFailure(f"loading the demo failed at {where}: {_one_line(error)}",
                             hint="the files are run in order: schema.sql, data.sql, indexes.sql") from error


def _current_indexes(conn) -> dict[str, dict]:
    """Every index of the public schema: definition, and whether a constraint owns it."""
    rows = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid), EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace "
        "WHERE n.nspname = 'public'").fetchall()
    return {name: {"definition": definition, "constraint": bool(owned)} for name, definition, owned in rows}


def _restore_indexes(dsn: str, planted: dict[str, dict], say: ProgressHook) -> None:
    """Put the index set back as loaded: drop indexes added since (a kept --verify), recreate dropped ones."""
    from psycopg import sql

    if not planted:
        return
    with _connect(dsn) as conn:
        current = _current_indexes(conn)
        for name in sorted(current.keys() - planted.keys()):
            if current[name]["constraint"]:
                continue  # a constraint someone added: not ours to drop
            say(f"dropping index {name} (not part of the demo as planted)")
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier("public", name)))
        for name in sorted(planted.keys() - current.keys()):
            if planted[name]["constraint"]:
                raise RuntimeFailure(f"the demo's constraint index {name} is gone",
                                     hint="delete the demo cache directory to reload it")
            say(f"recreating index {name} (part of the demo as planted)")
            conn.execute(planted[name]["definition"])


def reset_indexes(demo: DemoDatabase, progress: ProgressHook | None = None) -> None:
    """Put the demo's indexes back as planted (drop what was added, recreate what was dropped)."""
    _restore_indexes(demo.dsn, _read_marker(demo.cache_dir).get("indexes", {}), progress or (lambda message: None))


# -- workload --------------------------------------------------------------------------------------


def run_workload(demo: DemoDatabase, *, duration_s: float = 15, clients: int = 4, jobs: int = 2,
                 reset_stats: bool = True, warmup_s: float = 3, log_dir: Path | None = None,
                 progress: ProgressHook | None = None) -> WorkloadRun:
    """Run the dashboard's workload with pgbench and return what it measured.

    A short warm-up run first (caches warm, statements prepared), then — with ``reset_stats`` —
    pg_stat_statements_reset() (the demo server is ours to reset), then the measured run:
    ``pgbench -M prepared -T duration -c clients -j jobs -f script@weight …``.
    """
    say = progress or (lambda message: None)
    scripts = workload_scripts(demo.examples)
    variables = _workload_variables(demo.dsn)
    pgbench = bin_dir() / "pgbench"
    if warmup_s > 0:
        say(f"warming up for {warmup_s:g} s")
        run_pgbench(pgbench, demo.dsn, scripts, duration_s=warmup_s, clients=clients, jobs=jobs,
                    variables=variables, application_name="queryreview demo warm-up")
    if reset_stats:
        _reset_statements(demo.dsn)
    say(f"running the dashboard workload: {duration_s:g} s, {clients} clients, {len(scripts)} scripts")
    return run_pgbench(pgbench, demo.dsn, scripts, duration_s=duration_s, clients=clients, jobs=jobs,
                       variables=variables, log_dir=log_dir, progress=progress,
                       application_name="queryreview demo workload")


def _reset_statements(dsn: str) -> None:
    import psycopg

    from queryreview.sources.postgres.connect import marked

    with _connect(dsn) as conn:
        try:
            # marked as queryreview's own: the reset lands in the view it empties, and is no workload
            conn.execute(marked("SELECT pg_stat_statements_reset()"))
        except psycopg.Error as error:
            raise RuntimeFailure(f"cannot reset pg_stat_statements in the demo: {_one_line(error)}",
                                 hint="delete the demo cache directory to reload it") from error


def _workload_variables(dsn: str) -> dict[str, int]:
    """The sizes the scripts' formulas need (see data.sql): customers and products as loaded."""
    import psycopg

    with _connect(dsn) as conn:
        try:
            row = conn.execute("SELECT (SELECT max(id) FROM customers), (SELECT max(id) FROM products)").fetchone()
        except psycopg.Error as error:
            raise RuntimeFailure(f"the demo database is incomplete: {_one_line(error)}",
                                 hint="delete the demo cache directory to reload it") from error
    if row is None or row[0] is None or row[1] is None:
        raise RuntimeFailure("the demo database is empty", hint="delete the demo cache directory to reload it")
    return {"customers": int(row[0]), "products": int(row[1])}


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
