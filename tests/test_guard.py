"""guard.prove_single_statement: hostile inputs are refused, ordinary queries pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from queryreview.errors import InputError
from queryreview.sources.postgres.guard import (
    _REFUSED_FUNCTIONS,
    _REFUSED_PREFIXES,
    READ_KINDS,
    UnsafeStatement,
    prove_single_statement,
)

ACCEPTED = [
    "SELECT 1",
    "SELECT 1;",
    "SELECT 1 ;  -- trailing comment",
    "-- leading comment\nSELECT 1 /* inner ; comment */ ; /* after */",
    "SELECT * FROM orders WHERE id = $1 AND status = $2",
    "SELECT ';' AS semicolon, $$ ; DROP TABLE canary $$ AS dollar, $tag$ ; $tag$",
    "SELECT E'it\\'s; DROP TABLE canary' AS escaped",
    "SELECT 'it''s; DROP TABLE canary'",
    'SELECT "weird;name" FROM "table;x"',
    "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day') SELECT count(*) FROM recent",
    "(SELECT 1) UNION ALL (SELECT 2)",
    "SELECT a FROM t INTERSECT SELECT a FROM u",
    "VALUES (1, 'a'), (2, 'b')",
    "TABLE orders",
    "INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = excluded.a",
    "UPDATE t SET a = a + 1 WHERE id = $1",
    "DELETE FROM t WHERE id = $1",
    "WITH gone AS (DELETE FROM t WHERE id = $1 RETURNING *) SELECT count(*) FROM gone",
    "SELECT * FROM jobs WHERE state = 'ready' FOR UPDATE SKIP LOCKED",
    "SELECT count(*), lower(name), coalesce(a, b), now() FROM users GROUP BY 2",
    "SELECT x.pg_sleep FROM t x",  # a column named like a refused function is not a call
    "SELECT 'pg_terminate_backend(1)' AS text_only",
]

REFUSED = [
    # more than one statement, however hidden
    "SELECT 1; DROP TABLE canary",
    "SELECT 1;DROP TABLE canary;",
    "SELECT 1 /* ; */; DROP TABLE canary",
    "SELECT 1 -- ;\n; DROP TABLE canary",
    "SELECT $$;$$; DROP TABLE canary",
    "SELECT $a$ $b$ ; $a$; DROP TABLE canary",
    "SELECT E'\\''; DROP TABLE canary; --'",
    "SELECT 'x\\'; DROP TABLE canary; --'",  # standard strings: the backslash does not escape
    "COMMIT; SET default_transaction_read_only = off",
    "SELECT 1; COMMIT; SET default_transaction_read_only = off; DROP TABLE canary",
    "PREPARE x AS SELECT 1; DROP TABLE canary",
    "SELECT 1 \\gexec",
    "\\! rm -rf /",
    # not one statement at all
    "",
    "   ",
    "-- only a comment",
    ";",
    "SELECT 'unterminated",
    "SELECT $$ unterminated",
    "SELECT /* unterminated",
    "SELECT FROM WHERE (",
    # transaction control, session state, utility, DDL
    "BEGIN",
    "START TRANSACTION READ WRITE",
    "COMMIT",
    "ROLLBACK",
    "SET default_transaction_read_only = off",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "RESET ALL",
    "PREPARE q AS SELECT 1",
    "EXECUTE q",
    "DEALLOCATE q",
    "DO $$ BEGIN DELETE FROM t; END $$",
    "CALL do_things()",
    "COPY t TO STDOUT",
    "COPY t FROM PROGRAM 'id'",
    "LOCK TABLE t",
    "LISTEN c",
    "NOTIFY c",
    "UNLISTEN *",
    "VACUUM t",
    "ANALYZE t",
    "EXPLAIN ANALYZE DELETE FROM t",
    "CREATE TABLE canary ()",
    "CREATE TEMP TABLE canary AS SELECT 1",
    "DROP TABLE canary",
    "ALTER SYSTEM SET log_statement = 'none'",
    "ALTER TABLE t ADD COLUMN x int",
    "TRUNCATE t",
    "GRANT ALL ON t TO PUBLIC",
    "CHECKPOINT",
    "DISCARD ALL",
    "SHOW ALL",
    "REFRESH MATERIALIZED VIEW mv",
    "REINDEX TABLE t",
    "CLUSTER t",
    "SECURITY LABEL ON TABLE t IS 'x'",
    "SELECT 1 INTO canary",
    "SELECT * INTO TEMP canary FROM t",
    "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",  # not in the default kinds
    # side-effect functions, wherever they hide
    "SELECT pg_sleep(10)",
    "SELECT PG_SLEEP(1)",
    'SELECT "pg_sleep"(1)',
    "SELECT pg_catalog.pg_sleep(1)",
    "SELECT * FROM pg_sleep(1)",
    "SELECT * FROM ROWS FROM (pg_sleep(1)) AS x",
    "SELECT * FROM t, LATERAL pg_sleep(1) AS x",
    "SELECT 1 WHERE pg_sleep(1) IS NULL",
    "SELECT 1 ORDER BY pg_sleep(1)",
    "SELECT (SELECT (SELECT pg_terminate_backend(42)))",
    "SELECT count(*) FILTER (WHERE nextval('s') > 0) FROM t",
    "SELECT CAST(set_config('default_transaction_read_only', 'off', false) AS text)",
    "WITH a AS (SELECT pg_advisory_lock(1)) SELECT * FROM a",
    "SELECT pg_try_advisory_xact_lock(1)",
    "SELECT dblink_exec('dbname=x', 'DROP TABLE canary')",
    "SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(a int)",
    "SELECT pg_stat_statements_reset()",
    "SELECT pg_stat_reset_shared('bgwriter')",
    "SELECT pg_notify('c', 'x')",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_ls_dir('.')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT txid_current()",
    "SELECT pg_current_xact_id()",
    "SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, true, '')",
    "SELECT ts_stat('SELECT 1')",
    "UPDATE t SET a = nextval('s')",
    'SELECT U&"pg\\0073leep"(1)',  # sqlglot does not decode U& identifiers: refuse them
]

FUNCTIONS_FROM_THE_BRIEF = [
    "dblink", "dblink_exec", "dblink_connect", "pg_terminate_backend", "pg_cancel_backend", "pg_advisory_lock",
    "pg_advisory_xact_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "set_config", "setval", "nextval",
    "pg_notify", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "lo_import", "lo_export",
    "pg_stat_statements_reset", "pg_stat_reset", "pg_stat_reset_single_table_counters", "pg_reload_conf",
    "pg_rotate_logfile", "pg_switch_wal", "txid_current", "pg_current_xact_id", "pg_sleep", "pg_sleep_for",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted(text: str) -> None:
    tree = prove_single_statement(text)
    assert isinstance(tree, exp.Expression)


@pytest.mark.parametrize("text", REFUSED)
def test_refused(text: str) -> None:
    with pytest.raises(UnsafeStatement) as caught:
        prove_single_statement(text)
    assert str(caught.value).startswith("refusing to run this SQL: ")
    assert caught.value.hint


@pytest.mark.parametrize("name", FUNCTIONS_FROM_THE_BRIEF)
def test_every_listed_function_is_refused(name: str) -> None:
    with pytest.raises(UnsafeStatement, match="side effects"):
        prove_single_statement(f"SELECT {name}(1, 2)")


def test_refused_functions_are_caught_by_name_whatever_sqlglot_parses_them_into() -> None:
    names = sorted(_REFUSED_FUNCTIONS) + [prefix + "x" if prefix.endswith("_") else prefix for prefix in _REFUSED_PREFIXES]
    for name in names:
        with pytest.raises(UnsafeStatement):
            prove_single_statement(f"SELECT * FROM t WHERE {name}('x') IS NOT NULL")


def test_unsafe_statement_is_an_input_error() -> None:
    assert issubclass(UnsafeStatement, InputError)


def test_returns_the_tree_of_the_statement() -> None:
    tree = prove_single_statement("/* head */ SELECT a FROM t WHERE b = $1; -- tail")
    assert isinstance(tree, exp.Select)
    assert tree.sql(dialect="postgres").endswith("SELECT a FROM t WHERE b = $1")


@pytest.mark.parametrize("text", [
    "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone",
    "WITH added AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM added",
    "WITH changed AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM changed",
    "INSERT INTO t VALUES (1)",
    "UPDATE t SET a = 1",
    "DELETE FROM t",
    "SELECT * FROM t FOR UPDATE",
    "SELECT * FROM t FOR SHARE",
])
def test_read_only_kinds_refuse_writes_and_locks(text: str) -> None:
    with pytest.raises(UnsafeStatement):
        prove_single_statement(text, READ_KINDS)


def test_with_must_be_allowed_for_a_cte() -> None:
    text = "WITH a AS (SELECT 1) SELECT * FROM a"
    prove_single_statement(text, {"select", "with"})
    with pytest.raises(UnsafeStatement, match="WITH"):
        prove_single_statement(text, {"select"})


def test_writable_cte_needs_its_own_kind_allowed() -> None:
    text = "WITH gone AS (DELETE FROM t RETURNING *) INSERT INTO archive SELECT * FROM gone"
    prove_single_statement(text, {"insert", "delete", "with"})
    with pytest.raises(UnsafeStatement, match="DELETE"):
        prove_single_statement(text, {"insert", "with"})


def test_merge_when_allowed() -> None:
    prove_single_statement("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", {"merge"})


def test_deep_nesting_is_refused_before_parsing() -> None:
    with pytest.raises(UnsafeStatement, match="nesting"):
        prove_single_statement("SELECT " + "(" * 5000 + "1" + ")" * 5000)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("SELECT 1;'$\"-/*\\\nEDROPabc()")), max_size=60))
def test_never_crashes_and_never_accepts_two_statements(text: str) -> None:
    """Any input ends in a tree or UnsafeStatement; an accepted text splits into one statement."""
    from queryreview.sql.split import split

    try:
        prove_single_statement(text)
    except UnsafeStatement:
        return
    assert len(split(text)) == 1
