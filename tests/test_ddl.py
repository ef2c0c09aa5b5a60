"""The DDL reader behind the migration rules: statements, locks, type changes, script facts —
checked against real PostgreSQL (pg_locks, relfilenode, scan counters) where it makes claims."""

from __future__ import annotations

import re
import time
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queryreview.engine import Context, Engine
from queryreview.model import SourceText
from queryreview.rules.registry import all_rules, find_rule
from queryreview.sources.files import discover, read_sources
from queryreview.sql.ddl import (
    ACCESS_EXCLUSIVE,
    SHARE,
    SHARE_ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    Name,
    compute_facts,
    add_column_rewrite,
    classify_text,
    index_serves,
    new_type_always_rewrites,
    parse_type,
    relation_locks,
    type_change_rewrites,
    using_changes_value,
    words,
)

MIGRATIONS = Path(__file__).resolve().parent.parent / "examples" / "migrations"


# --- words -------------------------------------------------------------------------------------


def test_words_fold_identifiers_and_keep_positions() -> None:
    text = 'ALTER TABLE "Sales".orders ADD CONSTRAINT fk FOREIGN   KEY (c) REFERENCES x'
    found = words(text)
    assert [w.text for w in found[:5]] == ["alter", "table", "Sales", ".", "orders"]
    assert found[2].kind == "quoted" and found[2].key == ""
    foreign, key = found[8], found[9]  # sqlglot merges FOREIGN KEY into one token: split back
    assert (foreign.key, key.key) == ("FOREIGN", "KEY")
    assert text[foreign.start:foreign.end] == "FOREIGN" and text[key.start:key.end] == "KEY"


@pytest.mark.parametrize("text", ["VACUUM (FULL) orders", "LOCK TABLE orders IN SHARE MODE",
                                  "REINDEX /* c */ TABLE orders", "REFRESH MATERIALIZED VIEW mv"])
def test_words_read_the_rest_of_commands(text: str) -> None:
    """sqlglot keeps what follows VACUUM, LOCK, REINDEX… as one raw string: it is read as words."""
    found = words(text)
    assert all(w.kind != "string" for w in found)
    assert all(text[w.start:w.end].lower() == w.text.lower() for w in found if w.kind == "word")
    assert found[-1].text in ("orders", "mode", "mv")


def test_words_reject_what_the_tokenizer_rejects() -> None:
    assert words("SELECT 'unterminated") is None
    assert classify_text("ALTER TABLE t ADD COLUMN x text DEFAULT 'unterminated") is None


# --- statements --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("CREATE INDEX ON ONLY measurements (logdate)", {"kind": "create_index", "only": True, "keys": ("logdate",)}),
    ("create unique index concurrently if not exists i on s.t using gin (lower(a), b) where b is not null",
     {"kind": "create_index", "unique": True, "concurrently": True, "method": "gin", "keys": (None, "b"),
      "predicate": "b is not null"}),
    ("DROP INDEX IF EXISTS public.a, b CASCADE", {"kind": "drop_index", "if_exists": True, "cascade": True}),
    ("DROP TABLE IF EXISTS a, b", {"kind": "drop_table", "if_exists": True}),
    ("REINDEX (VERBOSE, CONCURRENTLY) TABLE t", {"kind": "reindex", "target": "TABLE", "concurrently": True}),
    ("REINDEX INDEX i", {"kind": "reindex", "target": "INDEX", "concurrently": False}),
    ("VACUUM (FULL false, ANALYZE) t", {"kind": "vacuum", "full": False}),
    ("VACUUM FULL FREEZE t", {"kind": "vacuum", "full": True}),
    ("CLUSTER t USING i", {"kind": "cluster"}),
    ("LOCK TABLE a, b IN SHARE ROW EXCLUSIVE MODE NOWAIT", {"kind": "lock", "lock_mode": SHARE_ROW_EXCLUSIVE, "nowait": True}),
    ("START TRANSACTION ISOLATION LEVEL SERIALIZABLE", {"kind": "begin"}),
    ("BEGIN WORK", {"kind": "begin"}),
    ("END", {"kind": "commit"}),
    ("COMMIT AND CHAIN", {"kind": "commit", "chain": True}),
    ("ROLLBACK TO SAVEPOINT s", {"kind": "other"}),
    ("ABORT", {"kind": "rollback"}),
    ("SET LOCAL lock_timeout TO 5000", {"kind": "set", "setting": "lock_timeout", "value": "5000", "local": True}),
    ("SET lock_timeout = DEFAULT", {"kind": "set", "setting": "lock_timeout", "value": None}),
    ("SET TIME ZONE 'UTC'", {"kind": "set", "setting": "timezone", "value": "UTC"}),
    ("SELECT pg_catalog.set_config('lock_timeout', '2s', false)", {"kind": "set", "setting": "lock_timeout", "value": "2s", "local": False}),
    ("RESET lock_timeout", {"kind": "reset", "setting": "lock_timeout"}),
    ("CREATE TEMP TABLE t (id int)", {"kind": "create_table", "temporary": True}),
    ("CREATE TABLE t AS SELECT 1", {"kind": "create_table", "as_query": True}),
    ("CREATE TABLE t (LIKE u INCLUDING ALL)", {"kind": "create_table", "like": True}),
    ("CREATE TABLE t (a int) PARTITION BY RANGE (a)", {"kind": "create_table", "partitioned": True}),
    ("CREATE OR REPLACE VIEW v AS SELECT 1", {"kind": "create_view"}),
    ("SELECT * FROM orders", None),
    ("DO $$ BEGIN ALTER TABLE t ADD COLUMN x int; END $$", None),
])
def test_statement_kinds(text: str, expected: dict | None) -> None:
    ddl = classify_text(text)
    if expected is None:
        assert ddl is None or ddl.kind == "other"
        return
    for key, value in expected.items():
        assert getattr(ddl, key) == value, (key, ddl)


def test_create_table_columns_and_constraints() -> None:
    text = """CREATE TABLE IF NOT EXISTS app."Items" (
      id bigserial PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES orders ON DELETE SET NULL,
      "Sku" varchar(20) COLLATE "C" DEFAULT 'x' NOT NULL,
      exclude int,
      total numeric(10, 2) GENERATED ALWAYS AS (price * qty) STORED,
      CONSTRAINT items_qty_check CHECK ((qty IS NOT NULL) AND qty > 0) NOT VALID,
      UNIQUE NULLS NOT DISTINCT (order_id, "Sku") INCLUDE (id)
    )"""
    ddl = classify_text(text)
    assert ddl.table.parts == ("app", "Items")
    assert [c.name for c in ddl.columns] == ["id", "order_id", "Sku", "exclude", "total"]
    sku = ddl.columns[2]
    assert (sku.type, sku.default, sku.not_null) == ("varchar(20)", "'x'", True)
    assert text[sku.type_span[0]:sku.type_span[1]] == "varchar(20)"
    assert ddl.columns[0].serial and ddl.columns[4].generated == "stored"
    kinds = [(c.kind, c.columns) for c in ddl.constraints]
    assert kinds == [("primary_key", ("id",)), ("foreign_key", ("order_id",)), ("check", ()),
                     ("unique", ("order_id", "Sku"))]
    check = ddl.constraints[2]
    assert check.not_null_columns == ("qty",) and check.not_valid and check.name == "items_qty_check"
    assert ddl.constraints[1].reference.table.parts == ("orders",)


def test_alter_table_actions() -> None:
    text = ("ALTER TABLE IF EXISTS ONLY public.orders "
            "ADD COLUMN IF NOT EXISTS note text DEFAULT now()::text, "
            "ALTER COLUMN total SET DATA TYPE numeric(12,2) USING total::numeric, "
            "ALTER status SET NOT NULL, DROP CONSTRAINT IF EXISTS c, VALIDATE CONSTRAINT d, "
            "ADD CONSTRAINT u UNIQUE USING INDEX u_idx, ADD FOREIGN KEY (a, b) REFERENCES p (x, y) NOT VALID, "
            "RENAME COLUMN a TO b")
    ddl = classify_text(text)
    assert ddl.if_exists and ddl.only and ddl.table.parts == ("public", "orders")
    kinds = [a.kind for a in ddl.actions]
    assert kinds == ["add_column", "alter_type", "set_not_null", "drop_constraint", "validate_constraint",
                     "add_constraint", "add_constraint", "rename_column"]
    add, retype, _, drop, validate, attach, fk, rename = ddl.actions
    assert add.column_def.default == "now()::text"
    assert (retype.column, retype.new_type) == ("total", "numeric(12, 2)") and not using_changes_value(retype)
    assert (drop.name, drop.if_exists, validate.lock) == ("c", True, SHARE_UPDATE_EXCLUSIVE)
    assert attach.constraint.using_index == "u_idx"
    assert fk.lock == SHARE_ROW_EXCLUSIVE and fk.constraint.not_valid and fk.constraint.columns == ("a", "b")
    assert (rename.column, rename.name) == ("a", "b")
    for action in ddl.actions:
        assert text[action.span[0]:action.span[1]].split()[0] in ("ADD", "ALTER", "DROP", "VALIDATE", "RENAME")


@pytest.mark.parametrize(("using", "changes"), [
    ("x", False), ("x::bigint", False), ("CAST(x AS bigint)", False), ("(x)", False), ('"x"', False),
    ("lower(x)", True), ("x + 1", True), ("y::bigint", True), ("x AT TIME ZONE 'UTC'", True),
])
def test_using_expressions(using: str, changes: bool) -> None:
    action = classify_text(f"ALTER TABLE t ALTER COLUMN x TYPE bigint USING {using}").actions[0]
    assert using_changes_value(action) is changes


def test_name_matching_is_lenient_about_missing_schemas() -> None:
    orders, public_orders, sales_orders = Name(("orders",), 0, 0), Name(("public", "orders"), 0, 0), Name(("sales", "orders"), 0, 0)
    assert orders.matches(public_orders) and public_orders.matches(orders)
    assert not public_orders.matches(sales_orders)
    assert not Name(("Orders",), 0, 0).matches(orders)
    assert str(Name(("Sales", "order items"), 0, 0)) == '"Sales"."order items"'


# --- locks, as PostgreSQL takes them ------------------------------------------------------------

LOCKED = {
    "CREATE INDEX ON t (v)": {"t": SHARE},
    "DROP INDEX t_i_idx": {},
    "REINDEX TABLE t": {"t": SHARE},
    "ALTER TABLE t ADD COLUMN a int": {"t": ACCESS_EXCLUSIVE},
    "ALTER TABLE t ADD COLUMN a int REFERENCES p (id)": {"t": ACCESS_EXCLUSIVE, "p": SHARE_ROW_EXCLUSIVE},
    "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id)": {"t": SHARE_ROW_EXCLUSIVE, "p": SHARE_ROW_EXCLUSIVE},
    "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id) NOT VALID": {"t": SHARE_ROW_EXCLUSIVE, "p": SHARE_ROW_EXCLUSIVE},
    "ALTER TABLE t ADD CONSTRAINT c CHECK (i > 0) NOT VALID": {"t": ACCESS_EXCLUSIVE},
    "ALTER TABLE t ADD CONSTRAINT u UNIQUE (i)": {"t": ACCESS_EXCLUSIVE},
    "ALTER TABLE t ALTER COLUMN i SET NOT NULL": {"t": ACCESS_EXCLUSIVE},
    "ALTER TABLE t ALTER COLUMN i SET STATISTICS 500": {"t": SHARE_UPDATE_EXCLUSIVE},
    "ALTER TABLE t SET (fillfactor = 70)": {"t": SHARE_UPDATE_EXCLUSIVE},
    "ALTER TABLE t DISABLE TRIGGER ALL": {"t": SHARE_ROW_EXCLUSIVE},
    "ALTER TABLE t RENAME COLUMN v TO w": {"t": ACCESS_EXCLUSIVE},
    "ALTER TABLE t VALIDATE CONSTRAINT t_pid_fk": {"t": SHARE_UPDATE_EXCLUSIVE},
    "ALTER TABLE pp ATTACH PARTITION part1 FOR VALUES FROM (0) TO (10)": {"pp": SHARE_UPDATE_EXCLUSIVE, "part1": ACCESS_EXCLUSIVE},
    "CREATE TABLE n (id int, pid int REFERENCES p (id))": {"p": SHARE_ROW_EXCLUSIVE},
    "CREATE TABLE pp2 PARTITION OF pp FOR VALUES FROM (10) TO (20)": {"pp": ACCESS_EXCLUSIVE},
    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()": {"t": SHARE_ROW_EXCLUSIVE},
    "LOCK TABLE t IN SHARE MODE": {"t": SHARE},
    "TRUNCATE t": {"t": ACCESS_EXCLUSIVE},
    "DROP TABLE t CASCADE": {"t": ACCESS_EXCLUSIVE},
}
_MODES = {"AccessShareLock": "ACCESS SHARE", "RowShareLock": "ROW SHARE", "RowExclusiveLock": "ROW EXCLUSIVE",
          "ShareUpdateExclusiveLock": SHARE_UPDATE_EXCLUSIVE, "ShareLock": SHARE,
          "ShareRowExclusiveLock": SHARE_ROW_EXCLUSIVE, "ExclusiveLock": "EXCLUSIVE",
          "AccessExclusiveLock": ACCESS_EXCLUSIVE}
_RANK = list(_MODES.values())
_SCHEMA = """
CREATE TABLE p (id int PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 10) g;
CREATE TABLE t (id int PRIMARY KEY, i int, pid int, v text);
CREATE INDEX t_i_idx ON t (i);
INSERT INTO t SELECT g, g, 1, 'x' FROM generate_series(1, 200) g;
ALTER TABLE t ADD CONSTRAINT t_pid_fk FOREIGN KEY (pid) REFERENCES p (id) NOT VALID;
CREATE TABLE pp (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE part1 (id int, k int);
"""


def _strongest_held(conn: psycopg.Connection, names: dict[int, str]) -> dict[str, str]:
    rows = conn.execute("SELECT relation::int, mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation IS NOT NULL")
    held: dict[str, str] = {}
    for oid, mode in rows.fetchall():
        relation, mode = names.get(oid), _MODES[mode]
        if relation is None:
            continue
        if relation not in held or _RANK.index(mode) > _RANK.index(held[relation]):
            held[relation] = mode
    return held


def test_relation_locks_are_the_locks_postgresql_takes(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(_SCHEMA)
        for text, expected in LOCKED.items():
            claimed = {str(lock.relation): lock.lock for lock in relation_locks(classify_text(text)) if lock.relation}
            assert claimed == expected, text
            conn.execute("BEGIN")
            try:
                # by oid, taken before: a dropped table is gone from pg_class in its own transaction
                names = dict(conn.execute("SELECT oid::int, relname FROM pg_class WHERE relkind IN ('r', 'p')").fetchall())
                conn.execute(text)
                held = _strongest_held(conn, names)
            finally:
                conn.execute("ROLLBACK")
            for relation, lock in expected.items():
                assert held.get(relation) == lock, (text, held)
            if text.startswith("DROP INDEX"):
                assert held["t"] == ACCESS_EXCLUSIVE  # the table whose name the text does not give


# --- table rewrites, as PostgreSQL decides them ---------------------------------------------------

TYPE_CHANGES = [
    ("varchar(10)", "varchar(20)", None, False), ("varchar(10)", "varchar(5)", None, True),
    ("varchar(10)", "text", None, False), ("text", "varchar", None, False), ("text", "varchar(50)", None, True),
    ("varchar(10)", "varchar", None, False), ("varchar", "varchar(10)", None, True),
    ("numeric(10,2)", "numeric(12,2)", None, False), ("numeric(10,2)", "numeric(12,3)", None, True),
    ("numeric(10,2)", "numeric", None, False), ("numeric", "numeric(10,2)", None, True),
    ("numeric(10,2)", "numeric(8,2)", None, True),
    ("timestamp", "timestamptz", True, False), ("timestamp", "timestamptz", False, True),
    ("timestamptz", "timestamp", True, False), ("timestamp(3)", "timestamp(6)", None, False),
    ("timestamp(6)", "timestamp(3)", None, True), ("time(2)", "time", None, False),
    ("cidr", "inet", None, False), ("inet", "cidr", None, True),
    ("varchar(10)[]", "varchar(20)[]", None, True), ("varchar(10)[]", "text[]", None, True),
    ("int", "bigint", None, True), ("smallint", "int", None, True), ("real", "double precision", None, True),
    ("bit varying(5)", "bit varying(10)", None, False), ("char(5)", "char(10)", None, True),
    ("char(5)", "varchar(10)", None, True), ("text", "jsonb", None, True), ("int", "integer", None, False),
]


@pytest.mark.parametrize(("old", "new", "utc", "rewrites"), TYPE_CHANGES)
def test_type_change_rewrites(old: str, new: str, utc: bool | None, rewrites: bool) -> None:
    assert type_change_rewrites(old, new, utc) is rewrites


def test_type_change_unknowns() -> None:
    assert type_change_rewrites("timestamp", "timestamptz", None) is None  # depends on the session TimeZone
    assert type_change_rewrites("text", "citext", None) is None
    assert type_change_rewrites("my_domain", "my_domain", None) is False
    assert parse_type("timestamp(3) with time zone") == parse_type("timestamptz(3)")
    assert parse_type("float(10)").base == "real" and parse_type("int ARRAY").array


@pytest.mark.parametrize(("new", "always"), [
    ("bigint", True), ("uuid", True), ("jsonb", True), ("date", True), ("text[]", True), ("char(3)", True),
    ("text", False), ("varchar(320)", False), ("numeric(14,2)", False), ("timestamptz", False), ("inet", False),
    ("order_state", False), ("public.email", False),
])
def test_new_type_always_rewrites(new: str, always: bool) -> None:
    assert new_type_always_rewrites(new) is always


ADDED_COLUMNS = [
    ("a timestamptz DEFAULT now()", False), ("a int NOT NULL DEFAULT 0", False), ("a text DEFAULT 'x' || 'y'", False),
    ("a float8 DEFAULT random()", True), ("a uuid DEFAULT gen_random_uuid()", True),
    ("a timestamptz DEFAULT clock_timestamp()", True), ("a int GENERATED ALWAYS AS (i * 2) STORED", True),
    ("a bigserial", True), ("a bigint GENERATED BY DEFAULT AS IDENTITY", True), ("a int", False),
    ("a int DEFAULT (random() * 10)::int", True), ("a timestamptz DEFAULT statement_timestamp()", False),
]


@pytest.mark.parametrize(("definition", "rewrites"), ADDED_COLUMNS)
def test_add_column_rewrite(definition: str, rewrites: bool) -> None:
    column = classify_text(f"ALTER TABLE t ADD COLUMN {definition}").actions[0].column_def
    assert (add_column_rewrite(column) is not None) is rewrites


def _filenode(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT pg_relation_filenode('rw')").fetchone()[0]


def test_rewrite_claims_hold_on_postgresql(fresh_db: str) -> None:
    """Every rewrite the reader predicts (and every one it rules out) is what the server does."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for old, new, utc, rewrites in TYPE_CHANGES:
            conn.execute("DROP TABLE IF EXISTS rw")
            conn.execute(f"CREATE TABLE rw (id int, c {old})")
            conn.execute("INSERT INTO rw VALUES (1, NULL)")
            conn.execute("SET TimeZone = 'UTC'" if utc is not False else "SET TimeZone = 'Europe/Paris'")
            before = _filenode(conn)
            conn.execute(f"ALTER TABLE rw ALTER COLUMN c TYPE {new} USING c::{new}")  # (the same as no USING)
            assert (_filenode(conn) != before) is rewrites, (old, new, utc)
        version = conn.info.server_version
        for definition, rewrites in ADDED_COLUMNS:
            conn.execute("DROP TABLE IF EXISTS rw")
            conn.execute("CREATE TABLE rw (id int, i int)")
            conn.execute("INSERT INTO rw VALUES (1, 1)")
            before = _filenode(conn)
            conn.execute(f"ALTER TABLE rw ADD COLUMN {definition}")
            assert (_filenode(conn) != before) is rewrites, definition
        if version >= 180000:  # a VIRTUAL generated column (the default in 18) is computed on read
            before = _filenode(conn)
            conn.execute("ALTER TABLE rw ADD COLUMN v int GENERATED ALWAYS AS (i * 2)")
            assert _filenode(conn) == before
            assert add_column_rewrite(classify_text("ALTER TABLE rw ADD COLUMN v int GENERATED ALWAYS AS (i * 2)")
                                      .actions[0].column_def) is None


# --- scans under lock: what QR506/QR507/QR508 report is what the server scans --------------------

SCANNED = [
    ("ALTER TABLE s ALTER COLUMN i SET NOT NULL", True),
    ("ALTER TABLE s ADD CONSTRAINT c CHECK (i > 0)", True),
    ("ALTER TABLE s ADD CONSTRAINT c CHECK (i > 0) NOT VALID", False),
    ("ALTER TABLE s ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES sp (id)", True),
    ("ALTER TABLE s ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES sp (id) NOT VALID", False),
    ("ALTER TABLE s ADD CONSTRAINT u UNIQUE (id)", True),
    ("ALTER TABLE s ADD COLUMN a int CHECK (a > 0)", True),
    ("ALTER TABLE s ADD COLUMN a int REFERENCES sp (id)", False),
    ("ALTER TABLE s ADD COLUMN a int DEFAULT 1 REFERENCES sp (id)", True),
    ("ALTER TABLE s ADD COLUMN a int NOT NULL DEFAULT 0", False),
    ("ALTER TABLE s ALTER COLUMN i SET DEFAULT 1", False),
]
_SCAN_RULES = ("QR506", "QR507", "QR508")


def _seq_scans(conn: psycopg.Connection) -> int:
    conn.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.05)
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return conn.execute("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 's'").fetchone()[0]


def _reported(text: str, codes: tuple[str, ...]) -> set[str]:
    engine = Engine([find_rule(code) for code in codes], Context())
    return {f.code for f in engine.review([SourceText("m.sql", text)]).findings}


def test_scan_claims_hold_on_postgresql(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for text, scans in SCANNED:
            conn.execute("DROP TABLE IF EXISTS s, sp")
            conn.execute("CREATE TABLE sp (id int PRIMARY KEY); INSERT INTO sp VALUES (1)")
            conn.execute("CREATE TABLE s (id int, i int, pid int); INSERT INTO s SELECT g, g, 1 FROM generate_series(1, 50) g")
            before = _seq_scans(conn)
            conn.execute(text)
            scanned = _seq_scans(conn) > before
            assert scanned is scans, text
            assert bool(_reported(text + ";", _SCAN_RULES)) is scans, text


def test_set_not_null_after_a_validated_check_does_not_scan(fresh_db: str) -> None:
    script = ("ALTER TABLE s ADD CONSTRAINT s_i_nn CHECK ((i IS NOT NULL) AND i > 0) NOT VALID;\n"
              "ALTER TABLE s VALIDATE CONSTRAINT s_i_nn;\n")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE s (id int, i int); INSERT INTO s SELECT g, g FROM generate_series(1, 50) g")
        conn.execute(script)
        before = _seq_scans(conn)
        conn.execute("ALTER TABLE s ALTER COLUMN i SET NOT NULL")
        assert _seq_scans(conn) == before
    assert _reported(script + "ALTER TABLE s ALTER COLUMN i SET NOT NULL;", ("QR506",)) == set()
    assert _reported("ALTER TABLE s ALTER COLUMN i SET NOT NULL;", ("QR506",)) == {"QR506"}


# --- what earlier statements of the script did -------------------------------------------------------


def _facts(*statements: str):
    return compute_facts([classify_text(text) for text in statements])


def test_transaction_blocks() -> None:
    facts = _facts("BEGIN", "SAVEPOINT a", "ROLLBACK TO SAVEPOINT a", "SELECT 1", "COMMIT", "SELECT 2",
                   "START TRANSACTION", "COMMIT AND CHAIN", "SELECT 3", "ABORT", "SELECT 4")
    assert facts.open_begin == [None, 0, 0, 0, 0, None, None, 6, 7, 7, None]  # AND CHAIN opens a new block


def test_lock_timeout_in_force() -> None:
    facts = _facts(
        "SET LOCAL lock_timeout = '5s'",  # 0: outside a block, SET LOCAL does nothing
        "SELECT 1",
        "BEGIN", "SET LOCAL lock_timeout = '5s'", "SELECT 2", "COMMIT",  # 2-5
        "SELECT 3",  # 6: SET LOCAL ended with its block
        "SET lock_timeout = '2s'", "SELECT 4",  # 7-8
        "BEGIN", "SET lock_timeout = 0", "ROLLBACK", "SELECT 5",  # 9-12: ROLLBACK undoes the SET
        "SET lock_timeout TO '0ms'", "SELECT 6",  # 13-14: zero is no timeout
        "SELECT set_config('lock_timeout', '1s', false)", "SELECT 7",  # 15-16
        "RESET ALL", "SELECT 8",  # 17-18
    )
    assert [i for i, on in enumerate(facts.lock_timeout) if on] == [4, 5, 8, 9, 10, 12, 13, 16, 17]


def test_created_introduced_and_proven() -> None:
    facts = _facts(
        "CREATE TABLE a (id int)",
        "ALTER TABLE a RENAME TO b",
        "ALTER TABLE orders RENAME TO orders_old",
        "ALTER TABLE orders_old ADD CONSTRAINT nn CHECK (x IS NOT NULL) NOT VALID",
        "ALTER TABLE orders_old VALIDATE CONSTRAINT nn",
        "SELECT 1",
        "ALTER TABLE orders_old DROP CONSTRAINT nn",
        "CREATE INDEX b_idx ON public.b (id)",
    )
    b, orders_old = Name(("b",), 0, 0), Name(("orders_old",), 0, 0)
    assert facts.created_before(b, 2) and not facts.created_before(b, 1)
    assert facts.introduced_before(orders_old, 3) and not facts.created_before(orders_old, 3)
    assert [facts.proves_not_null(orders_old, "x", i) for i in (4, 5, 7)] == [False, True, False]
    assert [(i.table.lookup(), i.keys, i.name) for i in facts.indexes_on(b)] == [("public.b", ("id",), "b_idx")]


def test_first_unprotected_lock() -> None:
    assert _facts("CREATE TABLE a (id int)", "CREATE INDEX ON a (id)", "ALTER TABLE b ADD COLUMN x int",
                  "DROP TABLE c").first_unprotected_lock() == 2
    assert _facts("SET lock_timeout = '5s'", "ALTER TABLE b ADD COLUMN x int").first_unprotected_lock() is None
    assert _facts("CREATE INDEX CONCURRENTLY ON b (x)", "LOCK b IN SHARE MODE NOWAIT").first_unprotected_lock() is None
    # an index of a table the script created: its DROP / REINDEX locks nothing in use
    assert _facts("CREATE TABLE a (id int)", "CREATE INDEX a_idx ON a (id)", "DROP INDEX a_idx",
                  "REINDEX INDEX a_idx", "DROP INDEX b_idx").first_unprotected_lock() == 4


@pytest.mark.parametrize(("keys", "method", "predicate", "columns", "serves"), [
    (("a",), "btree", None, ("a",), True),
    (("a", "b"), "btree", None, ("a",), True),
    (("b", "a"), "btree", None, ("a", "b"), True),
    (("b", "a"), "btree", None, ("a",), False),
    ((None, "a"), "btree", None, ("a",), False),
    (("a",), "gin", None, ("a",), False),
    (("a",), "hash", None, ("a",), True),
    (("a",), "btree", "a is not null", ("a",), True),
    (("a",), "btree", "(a IS NOT NULL)", ("a",), True),
    (("a",), "btree", "not deleted", ("a",), False),
])
def test_index_serves(keys, method, predicate, columns, serves) -> None:
    assert index_serves(keys, method, predicate, columns) is serves


# --- robustness --------------------------------------------------------------------------------------

_DDL_WORDS = ["ALTER", "TABLE", "ADD", "COLUMN", "CONSTRAINT", "CHECK", "FOREIGN", "KEY", "REFERENCES", "NOT",
              "NULL", "VALID", "DEFAULT", "CREATE", "INDEX", "CONCURRENTLY", "ON", "ONLY", "DROP", "IF", "EXISTS",
              "(", ")", ",", ".", "t", '"Q"', "'s'", "1", "TYPE", "USING", "SET", "RENAME", "TO", "UNIQUE",
              "PRIMARY", "GENERATED", "ALWAYS", "AS", "IDENTITY", "STORED", "BEGIN", "COMMIT", "VACUUM", "FULL",
              "REINDEX", "LOCK", "IN", "MODE", "::", "$$x$$", "--c\n", "/*c*/", "LIKE", "PARTITION", "OF"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_DDL_WORDS), max_size=30))
def test_reader_never_crashes_on_word_salad(parts: list[str]) -> None:
    text = " ".join(parts)
    for prefix in ("", "ALTER TABLE t ", "CREATE TABLE t (", "CREATE INDEX ON t ("):
        ddl = classify_text(prefix + text)
        if ddl is not None:
            relation_locks(ddl)
            compute_facts([ddl, ddl])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_reader_never_crashes_on_any_text(text: str) -> None:
    for prefix in ("", "ALTER TABLE ", "CREATE TABLE x (", "DROP INDEX "):
        classify_text(prefix + text)


# --- the migration examples do what their README says ------------------------------------------------


def _readme_rows() -> list[tuple[str, set[str], set[str]]]:
    rows = []
    for line in (MIGRATIONS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`") and cells[0].endswith(".sql`"):
            codes = [set(re.findall(r"QR\d{3}", cell)) for cell in cells[2:]]
            rows.append((cells[0].strip("`"), codes[0], codes[1]))
    return rows


def _review_migrations(snapshot: bool) -> dict[str, set[str]]:
    catalog = stats = None
    if snapshot:
        from queryreview.sources.snapshot import read_snapshot

        production = read_snapshot(MIGRATIONS / "prod-snapshot.json")
        catalog, stats = production.catalog, production.workload
    files = discover([str(MIGRATIONS)], [], MIGRATIONS)
    engine = Engine([rule for rule in all_rules() if rule.family == "migration"], Context(catalog=catalog, stats=stats))
    review = engine.review(read_sources(files, 10 * 1024 * 1024))
    fired: dict[str, set[str]] = {}
    for finding in review.findings:
        fired.setdefault(Path(finding.location.path).name, set()).add(finding.code)
    return fired


def test_migration_examples_trip_exactly_the_documented_rules() -> None:
    rows = _readme_rows()
    assert {name for name, _, _ in rows} == {p.name for p in MIGRATIONS.glob("*.sql")}
    offline, online = _review_migrations(False), _review_migrations(True)
    for name, static_codes, catalog_codes in rows:
        assert offline.get(name, set()) == static_codes, name
        assert online.get(name, set()) == static_codes | catalog_codes, name
