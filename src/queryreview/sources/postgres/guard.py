"""Prove that untrusted SQL text is exactly one statement of an allowed kind, free of side effects.

    tree = prove_single_statement("SELECT * FROM orders WHERE id = $1")   # ok
    prove_single_statement("SELECT 1; DROP TABLE orders")                 # UnsafeStatement

READ ONLY + ROLLBACK does not stop ANALYZE, pg_stat_statements_reset(), advisory locks,
pg_terminate_backend, dblink_exec… (see POSTGRES-NOTES.md). So text from users is proved
here before it is sent anywhere, and then still sent read-only, over the extended
protocol, with standard_conforming_strings=on (the reading assumed here; connect.py sets it).

Belt and braces: the project's splitter and sqlglot must BOTH see exactly one statement.
"""

from __future__ import annotations

import re

from sqlglot import exp

from queryreview.errors import InputError
from queryreview.sql.parse import MAX_NESTING_DEPTH
from queryreview.sql.split import split

READ_KINDS = frozenset({"select", "with"})
DEFAULT_ALLOWED = frozenset({"select", "insert", "update", "delete", "with"})
_WRITE_KINDS = frozenset({"insert", "update", "delete", "merge"})

# Statement roots by kind. VALUES and TABLE t are reads; sqlglot parses TABLE t as a Select.
_ROOT_KINDS: tuple[tuple[type[exp.Expression], str], ...] = (
    (exp.Select, "select"),
    (exp.SetOperation, "select"),  # UNION / INTERSECT / EXCEPT
    (exp.Subquery, "select"),  # (SELECT …)
    (exp.Values, "select"),
    (exp.Insert, "insert"),
    (exp.Update, "update"),
    (exp.Delete, "delete"),
    (exp.Merge, "merge"),
)
_DML = (exp.Insert, exp.Update, exp.Delete, exp.Merge)

# Functions with effects beyond the statement (or that run SQL given as text), by exact name…
_REFUSED_FUNCTIONS = frozenset({
    "set_config", "setval", "nextval", "pg_notify",
    "pg_reload_conf", "pg_rotate_logfile", "pg_rotate_logfile_old", "pg_switch_wal", "pg_switch_xlog",
    "pg_promote", "pg_start_backup", "pg_stop_backup", "pg_log_backend_memory_contexts",
    "pg_log_standby_snapshot", "pg_export_snapshot", "pg_import_system_collations",
    "pg_stat_file", "pg_stat_clear_snapshot", "pg_qualstats_reset",
    "txid_current", "pg_current_xact_id",  # assign a transaction id
    "ts_stat",  # runs the query given as text
    "lowrite", "loread",
    # statistics and index maintenance that writes catalogs or indexes in place (not stopped by READ ONLY)
    "pg_restore_relation_stats", "pg_restore_attribute_stats", "pg_clear_relation_stats", "pg_clear_attribute_stats",
    "pg_truncate_visibility_map", "gin_clean_pending_list", "brin_summarize_new_values", "brin_summarize_range",
    "brin_desummarize_range",
    # session or server state that outlives the statement
    "pg_prewarm", "pg_nextoid", "pg_sync_replication_slots", "setseed", "pg_stat_force_next_flush",
    "postgres_fdw_disconnect", "postgres_fdw_disconnect_all",
})
# …and by prefix (families).
_REFUSED_PREFIXES = (
    "dblink",  # dblink, dblink_exec, dblink_connect, dblink_send_query…
    "pg_advisory", "pg_try_advisory",
    "pg_cancel_backend", "pg_terminate_backend",
    "pg_stat_reset", "pg_stat_statements_reset",
    "pg_read_file", "pg_read_binary_file", "pg_ls_", "pg_file_",
    "lo_",  # lo_import, lo_export, lo_unlink, lo_create, lo_put, lo_from_bytea…
    "pg_create_", "pg_drop_replication", "pg_logical_", "pg_replication_", "pg_wal_replay_", "pg_backup_",
    "pg_sleep",  # pg_sleep, pg_sleep_for, pg_sleep_until: harmless, but hold a snapshot
    "hypopg",  # session state owned by the what-if advisor
    "pg_copy_",  # pg_copy_logical_replication_slot, pg_copy_physical_replication_slot
    "pg_buffercache_evict",  # pg_buffercache_evict, _evict_relation, _evict_all (PG 17+)
    "query_to_xml", "cursor_to_xml",  # run the query given as text
)
_UNICODE_IDENTIFIER = re.compile(r'u&"', re.IGNORECASE)


class UnsafeStatement(InputError):
    """The text is not exactly one statement of an allowed kind without side effects."""


def prove_single_statement(text: str, allowed: set[str] | frozenset[str] = DEFAULT_ALLOWED) -> exp.Expression:
    """The sqlglot tree of ``text`` if it is one allowed, side-effect-free statement; else UnsafeStatement."""
    allowed = frozenset(kind.lower() for kind in allowed)
    statement_text = _single_statement_text(text)
    if _UNICODE_IDENTIFIER.search(statement_text):
        # sqlglot does not decode U&"…" identifiers: U&"pg\0073leep"(1) would hide pg_sleep.
        _refuse("Unicode-escaped identifiers (U&\"…\") are not accepted")
    tree = _parse_one(text)
    _check_kinds(tree, allowed, _first_word(statement_text))
    _check_functions(tree)
    return tree


def _single_statement_text(text: str) -> str:
    raw_statements = split(text)
    if not raw_statements:
        _refuse("no SQL statement found")
    if len(raw_statements) > 1:
        _refuse(f"expected one statement, found {len(raw_statements)}")
    raw = raw_statements[0]
    if raw.kind == "meta":
        _refuse("psql meta-commands are not SQL and are not accepted")
    if raw.unterminated is not None:
        _refuse(f"unterminated {raw.unterminated[0]}")
    if raw.max_depth > MAX_NESTING_DEPTH:
        _refuse(f"nesting too deep ({raw.max_depth} levels of parentheses, limit {MAX_NESTING_DEPTH})")
    return text[raw.start : raw.end]


def _parse_one(text: str) -> exp.Expression:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        # Parse the WHOLE text, not the splitter's slice: sqlglot must independently find one statement.
        parsed = sqlglot.parse(text, read="postgres")
        # A comment after the last ';' comes back as a bare Semicolon holding it.
        trees = [tree for tree in parsed if tree is not None and not isinstance(tree, exp.Semicolon)]
    except (ParseError, TokenError) as error:
        _refuse(f"cannot parse the statement: {str(error).splitlines()[0]}")
    except RecursionError:
        _refuse("statement too deeply nested to analyse")
    if len(trees) != 1:
        _refuse(f"expected one statement, the parser found {len(trees)}")
    return trees[0]


def _kind(node: exp.Expression) -> str | None:
    for node_type, kind in _ROOT_KINDS:
        if isinstance(node, node_type):
            return kind
    return None


def _check_kinds(tree: exp.Expression, allowed: frozenset[str], first_word: str) -> None:
    kind = _kind(tree)
    if kind is None:
        _refuse(f"{first_word} statements are not accepted (allowed: {', '.join(sorted(allowed))})")
    if kind not in allowed:
        _refuse(f"{kind.upper()} statements are not accepted here (allowed: {', '.join(sorted(allowed))})")
    if tree.args.get("with_") is not None and "with" not in allowed:
        _refuse("WITH queries are not accepted here")
    read_only = not (allowed & _WRITE_KINDS)
    for node in tree.walk():
        if isinstance(node, exp.Command | exp.Transaction | exp.Commit | exp.Rollback | exp.Set | exp.Create
                      | exp.Drop | exp.Alter | exp.Copy | exp.Analyze | exp.TruncateTable | exp.Grant):
            _refuse(f"{_statement_name(node)} is not accepted inside a query")
        if isinstance(node, exp.Into):
            _refuse("SELECT … INTO creates a table and is not accepted")
        if isinstance(node, _DML) and node is not tree:
            nested = _kind(node)
            if read_only or nested not in allowed:
                _refuse(f"data-modifying {nested.upper()} inside the query is not accepted here")  # type: ignore[union-attr]
        if read_only and isinstance(node, exp.Lock):
            _refuse("row-locking clauses (FOR UPDATE/SHARE) are not accepted when only reading is allowed")


def _check_functions(tree: exp.Expression) -> None:
    for function in tree.find_all(exp.Func):
        for name in _function_names(function):
            if name in _REFUSED_FUNCTIONS or name.startswith(_REFUSED_PREFIXES):
                _refuse(f"function {name}() has side effects outside the query and is not accepted")


def _function_names(function: exp.Func) -> set[str]:
    if isinstance(function, exp.Anonymous):
        return {function.name.lower()}
    return {name.lower() for name in type(function).sql_names()}


def _first_word(statement_text: str) -> str:
    match = re.match(r"[A-Za-z_]+", statement_text.lstrip("( \t\r\n"))
    return match.group().upper() if match else "such"


def _statement_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper() or "this command"
    return type(node).__name__.upper()


def _refuse(reason: str):
    raise UnsafeStatement(f"refusing to run this SQL: {reason}",
                          hint="give exactly one SELECT (or the statement kinds this command accepts), "
                               "without transaction control or side-effect functions")
