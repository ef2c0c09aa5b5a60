"""Every rewrite shape that is offered returns the same rows as the original, on real PostgreSQL.

For each case: tables are created on the embedded PG 18 and the system PG 15, the catalog is
read back from the server, ``rewrite_recommendations`` must offer the rewrite (in the
expected form), and then hypothesis fills the tables with small rows — NULLs and duplicates
included — and both statements must return the same multiset of rows. Keyset pagination
is a template, not an equivalent rewrite: its tests walk the pages instead.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from psycopg import sql

from pgservers import PgServer
from queryreview.catalog import Catalog
from queryreview.model import Recommendation
from queryreview.rewrite import rewrite_recommendations
from queryreview.sources.postgres.catalog_loader import load_catalog
from queryreview.sources.postgres.connect import open_session

SCHEMA = """
CREATE TABLE nn_outer (id int NOT NULL, k int NOT NULL);
CREATE TABLE nn_inner (k int NOT NULL, flag boolean NOT NULL);
CREATE TABLE nl_outer (id int, k int);
CREATE TABLE nl_inner (k int, flag boolean);
CREATE TABLE us (id int, name text);
CREATE TABLE ev (user_id int, kind text, amount int, at int);
CREATE TABLE tm (id int, ts timestamptz, t timestamp, d date, n int, big bigint, num numeric, s text, a int);
CREATE TABLE orx (id int, a int, b int, c int);
CREATE TABLE ory (k int, b int);
CREATE TABLE pages (id int PRIMARY KEY, grp int NOT NULL, created int NOT NULL);
"""
# A zone with daylight-saving changes, and days around one (2024-03-10 in New York)
TIME_ZONE = "America/New_York"
DAYS = [date(2024, 3, 9), date(2024, 3, 10), date(2024, 3, 11), date(2023, 12, 31), date(2024, 1, 1)]
TIMES = ["00:00", "00:00:00.000001", "01:30", "02:30", "03:00", "12:00", "23:59:59.999999"]
EXAMPLES = int(os.environ.get("QUERYREVIEW_EQUIVALENCE_EXAMPLES", "30"))

small = st.one_of(st.none(), st.integers(0, 3))
small_not_null = st.integers(0, 3)
flag = st.one_of(st.none(), st.booleans())
kind = st.one_of(st.none(), st.sampled_from(["a", "b", "x", "y"]))
moment = st.one_of(st.none(), st.builds(lambda d, t: f"{d.isoformat()} {t}", st.sampled_from(DAYS),
                                        st.sampled_from(TIMES)))
day = st.one_of(st.none(), st.sampled_from(DAYS))


@dataclass
class Database:
    dsn: str
    conn: psycopg.Connection
    catalog: Catalog
    today: date
    offered: dict[str, Recommendation] = field(default_factory=dict)  # by case id: computed once, not per example


@pytest.fixture(scope="module")
def database(pg_server: PgServer) -> Iterator[Database]:
    name = f"qr_rewrite_{os.getpid()}_{next(pg_server._counter)}"
    dsn = pg_server.make_database(name)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(SCHEMA)
    with open_session(dsn) as session:
        catalog = load_catalog(session, [])
    conn = psycopg.connect(dsn, autocommit=False, prepare_threshold=None)  # DEALLOCATE ALL below: no auto-prepare
    conn.execute(sql.SQL("SET TimeZone = {}").format(sql.Literal(TIME_ZONE)))
    today = conn.execute("SELECT current_date").fetchone()[0]
    conn.commit()
    try:
        yield Database(dsn, conn, catalog, today)
    finally:
        conn.close()
        pg_server.drop_database(name)


Rows = dict[str, tuple[tuple[str, ...], Any]]  # table -> (columns, strategy of one row)


@dataclass
class Case:
    id: str
    code: str
    sql: str
    tables: Rows
    contains: tuple[str, ...] = ()  # the rewrite must have these (which variant was offered)
    absent: tuple[str, ...] = ()
    params: Callable[[Database], Any] | None = None  # strategy of the $n values
    extra: dict[str, Any] = field(default_factory=dict)


def _rows(columns: tuple[str, ...], *values: Any) -> tuple[tuple[str, ...], Any]:
    return columns, st.tuples(*values)


NOT_NULL_IN = {"nn_outer": _rows(("id", "k"), small_not_null, small_not_null),
               "nn_inner": _rows(("k", "flag"), small_not_null, st.booleans())}
NULLABLE_IN = {"nl_outer": _rows(("id", "k"), small, small), "nl_inner": _rows(("k", "flag"), small, flag)}
MIXED_IN = {"nn_outer": _rows(("id", "k"), small_not_null, small_not_null),
            "nl_inner": _rows(("k", "flag"), small, flag)}
USERS_EVENTS = {"us": _rows(("id", "name"), small, kind), "ev": _rows(("user_id", "kind", "amount", "at"), small, kind,
                                                                        small, small)}
TIMES_TABLE = {"tm": _rows(("id", "ts", "t", "d", "n", "big", "num", "s", "a"), small, moment, moment, day,
                           st.one_of(st.none(), st.integers(-3, 8)), st.one_of(st.none(), st.integers(-3, 8)),
                           st.one_of(st.none(), st.sampled_from(["1.5", "2.5", "3", "4.5", "0"])), kind, small)}
OR_TABLES = {"orx": _rows(("id", "a", "b", "c"), small, small, small, small), "ory": _rows(("k", "b"), small, small)}


def _near_today(db: Database) -> Any:
    return st.one_of(st.none(), st.integers(-9, 9).map(lambda k: db.today + timedelta(days=k)))


def _tm_near_today(db: Database) -> Rows:
    columns, _ = TIMES_TABLE["tm"]
    return {"tm": _rows(columns, small, moment, moment, _near_today(db), small, small, st.none(), kind, small)}


CASES = [
    # QR105 NOT IN -> NOT EXISTS
    Case("not-in/not-null", "QR105", "SELECT id FROM nn_outer WHERE k NOT IN (SELECT k FROM nn_inner WHERE flag)",
         NOT_NULL_IN, contains=("NOT EXISTS",), absent=("IS NULL",)),
    Case("not-in/nullable", "QR105", "SELECT id FROM nl_outer WHERE k NOT IN (SELECT k FROM nl_inner WHERE flag)",
         NULLABLE_IN, contains=("k IS NULL", "nl_outer.k IS NOT NULL OR NOT EXISTS")),
    Case("not-in/nullable-inner", "QR105", "SELECT o.id FROM nn_outer o WHERE o.k NOT IN (SELECT i.k FROM nl_inner i)",
         MIXED_IN, contains=("i.k IS NULL",), absent=("IS NOT NULL",)),
    Case("not-in/under-or", "QR105",
         "SELECT id, k FROM nl_outer WHERE id = 1 OR k NOT IN (SELECT k FROM nl_inner WHERE flag IS NOT FALSE)",
         NULLABLE_IN, contains=("IS NOT NULL OR NOT EXISTS",)),
    Case("not-in/param", "QR105", "SELECT id FROM nl_outer WHERE k NOT IN (SELECT k FROM nl_inner WHERE k <> $1)",
         NULLABLE_IN, params=lambda db: st.tuples(small_not_null)),
    # QR110 count -> EXISTS
    Case("count/select-list", "QR110", "SELECT count(*) > 0 AS found FROM ev WHERE user_id = $1", USERS_EVENTS,
         contains=("EXISTS",), params=lambda db: st.tuples(small_not_null)),
    Case("count/where", "QR110",
         "SELECT u.id FROM us u WHERE (SELECT count(*) FROM ev e WHERE e.user_id = u.id) > 0", USERS_EVENTS),
    Case("count/none-of-column", "QR110",
         "SELECT u.id, u.name FROM us u WHERE (SELECT count(e.kind) FROM ev e WHERE e.user_id = u.id) = 0",
         USERS_EVENTS, contains=("NOT EXISTS", "e.kind IS NOT NULL")),
    Case("count/filter", "QR110", "SELECT count(*) FILTER (WHERE kind = 'a') >= 1 FROM ev WHERE amount > $1",
         USERS_EVENTS, contains=("kind = 'a'",), params=lambda db: st.tuples(small_not_null)),
    Case("count/distinct", "QR110", "SELECT u.id FROM us u WHERE 0 <> (SELECT count(DISTINCT e.amount) FROM ev e "
         "WHERE e.user_id = u.id)", USERS_EVENTS, contains=("e.amount IS NOT NULL",)),
    # QR111 correlated subquery -> LEFT JOIN LATERAL
    Case("lateral/count", "QR111", "SELECT c.id, (SELECT count(*) FROM ev e WHERE e.user_id = c.id) AS n FROM us c",
         USERS_EVENTS, contains=("LEFT JOIN LATERAL",)),
    Case("lateral/max-filtered", "QR111", "SELECT c.id, (SELECT max(e.at) FROM ev e WHERE e.user_id = c.id AND "
         "e.kind = 'a') FROM us c WHERE c.id >= $1", USERS_EVENTS, params=lambda db: st.tuples(small_not_null)),
    Case("lateral/in-expression", "QR111", "SELECT c.id, c.name, coalesce((SELECT sum(e.amount) FROM ev e "
         "WHERE e.user_id = c.id), 0) AS total FROM us c ORDER BY c.id", USERS_EVENTS),
    Case("lateral/with-join", "QR111", "SELECT c.id, e0.kind, (SELECT min(e.at) FROM ev e WHERE e.user_id = c.id) "
         "AS first_at FROM us c JOIN ev e0 ON e0.user_id = c.id", USERS_EVENTS),
    # QR103 non-sargable -> sargable
    Case("sargable/date-eq", "QR103", "SELECT id FROM tm WHERE date(ts) = '2024-03-10'", TIMES_TABLE,
         contains=("ts >= '2024-03-10'",)),
    Case("sargable/date-cast-between", "QR103", "SELECT id, t FROM tm WHERE t::date BETWEEN $1 AND $2", TIMES_TABLE,
         params=lambda db: st.tuples(st.sampled_from(DAYS), st.sampled_from(DAYS))),
    Case("sargable/date-trunc-gt", "QR103", "SELECT id FROM tm WHERE date_trunc('day', ts) > '2024-03-09'",
         TIMES_TABLE),
    Case("sargable/date-lte-param", "QR103", "SELECT id FROM tm WHERE ts::date <= $1", TIMES_TABLE,
         params=lambda db: st.tuples(st.sampled_from(DAYS))),
    Case("sargable/date-of-date-lt", "QR103", "SELECT id FROM tm WHERE date(d) < current_date - 1", None,
         extra={"tables": _tm_near_today}),
    Case("sargable/year", "QR103", "SELECT id FROM tm WHERE extract(year FROM t) = 2024", TIMES_TABLE,
         contains=("'2025-01-01'",)),
    Case("sargable/int-plus", "QR103", "SELECT id FROM tm WHERE n + 1 > 5", TIMES_TABLE, contains=("n > 5 - 1",)),
    Case("sargable/int-minus-param", "QR103", "SELECT id FROM tm WHERE n - 2 <= $1", TIMES_TABLE,
         params=lambda db: st.tuples(st.integers(-5, 8))),
    Case("sargable/bigint-between", "QR103", "SELECT id FROM tm WHERE big + 3 BETWEEN 2 AND 7", TIMES_TABLE),
    Case("sargable/numeric", "QR103", "SELECT id FROM tm WHERE num - 1.5 = 1", TIMES_TABLE),
    Case("sargable/timestamptz-hours", "QR103",
         "SELECT id FROM tm WHERE ts + interval '2 hours' >= '2024-03-10 03:00'::timestamptz", TIMES_TABLE),
    Case("sargable/date-plus-days", "QR103", "SELECT id FROM tm WHERE d + 7 >= current_date", None,
         extra={"tables": _tm_near_today}),
    Case("sargable/coalesce-same", "QR103", "SELECT id, a FROM tm WHERE coalesce(a, 0) = 0", TIMES_TABLE,
         contains=("a IS NULL",)),
    Case("sargable/coalesce-other", "QR103", "SELECT id FROM tm WHERE coalesce(s, 'none') = 'a' OR id = 2",
         TIMES_TABLE, absent=("IS NULL",)),
    # QR104 OR -> UNION ALL
    Case("or/two-params", "QR104", "SELECT id, a, b FROM orx WHERE a = $1 OR b = $2", OR_TABLES,
         contains=("UNION ALL", "NOT (a = $1) IS TRUE"), params=lambda db: st.tuples(small_not_null, small_not_null)),
    Case("or/three-with-and", "QR104", "SELECT id FROM orx WHERE c > 0 AND (a = 1 OR b = 2 OR c = 3)", OR_TABLES),
    Case("or/null-tests", "QR104", "SELECT id, c FROM orx WHERE a IS NULL OR b > 1", OR_TABLES),
    Case("or/join", "QR104", "SELECT o.id, p.k FROM orx o JOIN ory p ON p.k = o.c WHERE o.a = 1 OR p.b = 2",
         OR_TABLES),
    Case("or/order-by", "QR104", "SELECT id, a FROM orx WHERE a = 1 OR b = 1 ORDER BY a DESC", OR_TABLES,
         contains=("ORDER BY a DESC",)),
    Case("or/in-subquery", "QR104", "SELECT count(*), sum(s.id) FROM (SELECT id FROM orx WHERE a < 2 OR c = 0) s",
         OR_TABLES),
    Case("or/cte", "QR104", "WITH t AS (SELECT k FROM ory) SELECT id FROM orx WHERE a IN (SELECT k FROM t) "
         "OR b = 3", OR_TABLES, contains=("WITH t AS",)),
]


def _offered(case: Case, db: Database) -> Recommendation:
    if case.id in db.offered:
        return db.offered[case.id]
    found = [r for r in rewrite_recommendations([case.sql], catalog=db.catalog) if r.reason.startswith(case.code)]
    offered = [r for r in found if not r.rejected]
    assert len(offered) == 1, [r.reason for r in found]
    rewrite = offered[0]
    for text in case.contains:
        assert text in rewrite.sql, rewrite.sql
    for text in case.absent:
        assert text not in rewrite.sql, rewrite.sql
    db.offered[case.id] = rewrite
    return rewrite


def _fill(conn: psycopg.Connection, tables: Rows, data: st.DataObject) -> None:
    for table, (columns, row) in tables.items():
        rows = data.draw(st.lists(row, max_size=7), label=table)
        if rows:
            with conn.cursor() as cursor:
                cursor.executemany(
                    sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
                        sql.SQL(", ").join(sql.Placeholder() * len(columns))),
                    rows)


def _result(conn: psycopg.Connection, text: str, params: tuple | None) -> Counter:
    if params is None:
        return Counter(conn.execute(text).fetchall())
    conn.execute("DEALLOCATE ALL")
    conn.execute(f"PREPARE qr_equivalence AS {text}")
    arguments = sql.SQL(", ").join(sql.Literal(value) for value in params)
    return Counter(conn.execute(sql.SQL("EXECUTE qr_equivalence ({})").format(arguments)).fetchall())


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rewrite_returns_the_same_rows(database: Database, case: Case, data: st.DataObject) -> None:
    rewrite = _offered(case, database)
    tables = case.tables if case.tables is not None else case.extra["tables"](database)
    conn = database.conn
    with conn.transaction(force_rollback=True):
        _fill(conn, tables, data)
        params = data.draw(case.params(database), label="params") if case.params else None
        try:
            with conn.transaction():
                original = _result(conn, case.sql, params)
        except psycopg.errors.DataError:
            assume(False)  # the original fails on these values (overflow…): nothing to compare
        assert _result(conn, rewrite.sql, params) == original, rewrite.sql


# -- NOT IN: why the guards are there ---------------------------------------------------------------


def test_the_plain_not_exists_differs_on_nulls_so_guards_are_needed(database: Database) -> None:
    """Control: the rule's own NOT EXISTS (no guards) returns other rows than NOT IN once NULLs appear."""
    from queryreview.model import SourceText
    from queryreview.rules.not_in_subquery import check
    from queryreview.sql.parse import statements

    text = "SELECT id FROM nl_outer WHERE k NOT IN (SELECT k FROM nl_inner)"
    plain = next(iter(check(statements(SourceText("q.sql", text))[0]))).fix.sql
    guarded = _offered(Case("control", "QR105", text, NULLABLE_IN, contains=("IS NULL",)), database).sql
    conn = database.conn
    with conn.transaction(force_rollback=True):
        conn.execute("INSERT INTO nl_outer VALUES (1, 1), (2, NULL); "
                     "INSERT INTO nl_inner VALUES (2, true), (NULL, true)")
        assert _result(conn, text, None) == Counter()  # a NULL in the subquery: NOT IN is never true
        assert _result(conn, plain, None) == Counter({(1,): 1, (2,): 1})
        assert _result(conn, guarded, None) == Counter()
        conn.execute("DELETE FROM nl_inner WHERE k IS NULL")
        assert _result(conn, text, None) == Counter({(1,): 1})  # the NULL operand is dropped
        assert _result(conn, plain, None) == Counter({(1,): 1, (2,): 1})
        assert _result(conn, guarded, None) == Counter({(1,): 1})


# -- keyset pagination: a template, tested by walking the pages ----------------------------------------

KEYSET_CASES = [
    ("SELECT id, grp FROM pages WHERE grp = $1 ORDER BY id LIMIT 3 OFFSET $2", ("id",), False),
    ("SELECT id, created FROM pages ORDER BY created DESC, id DESC LIMIT 3 OFFSET $1", ("created", "id"), True),
]


@pytest.mark.parametrize("text, keys, descending", KEYSET_CASES, ids=["asc-one-key", "desc-two-keys"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_keyset_template_walks_the_same_pages_as_offset(database: Database, text: str, keys: tuple[str, ...],
                                                         descending: bool, data: st.DataObject) -> None:
    """Same first page, then each page after the previous page's last key equals the next OFFSET page
    (the ORDER BY is unique and NOT NULL: it ends with the primary key)."""
    found = [r for r in rewrite_recommendations([text], catalog=database.catalog) if r.reason.startswith("QR106")]
    assert len(found) == 1 and not found[0].rejected and "Template, not an equivalent rewrite" in found[0].reason
    template = found[0].sql
    ids = data.draw(st.lists(st.integers(0, 40), unique=True, max_size=11), label="ids")
    rows = [(i, data.draw(st.integers(0, 1), label="grp"), data.draw(st.integers(0, 3), label="created"))
            for i in ids]
    grouped = "grp = $1" in text
    conn = database.conn
    with conn.transaction(force_rollback=True):
        if rows:
            conn.cursor().executemany("INSERT INTO pages (id, grp, created) VALUES (%s, %s, %s)", rows)
        group = (data.draw(st.integers(0, 1), label="group"),) if grouped else ()
        first_key = (-1,) * len(keys) if not descending else (99,) * len(keys)
        offset, key = 0, first_key
        while True:
            by_offset = _ordered(conn, text, group + (offset,))
            by_key = _ordered(conn, template, group + key)
            assert by_key == by_offset, (offset, key)
            if not by_offset:
                break
            last = by_offset[-1]
            key = tuple(last[1] if name == "created" else last[0] for name in keys)
            offset += len(by_offset)


def _ordered(conn: psycopg.Connection, text: str, params: tuple) -> list[tuple]:
    conn.execute("DEALLOCATE ALL")
    conn.execute(f"PREPARE qr_page AS {text}")
    arguments = sql.SQL(", ").join(sql.Literal(value) for value in params)
    return conn.execute(sql.SQL("EXECUTE qr_page ({})").format(arguments)).fetchall()


def test_every_rewrite_kind_has_an_equivalence_case() -> None:
    from queryreview.rewrite import REWRITES

    covered = {case.code for case in CASES} | {"QR106"}
    assert covered == set(REWRITES)


def test_planner_costs_of_both_with_a_session(database: Database) -> None:
    """With a database, original and rewrite are planned: costs on the recommendation and its statement."""
    with open_session(database.dsn) as session:
        found = rewrite_recommendations(["SELECT id FROM nn_outer WHERE k NOT IN (SELECT k FROM nn_inner)"],
                                        catalog=database.catalog, session=session)
    recommendation = [r for r in found if r.reason.startswith("QR105")][0]
    assert recommendation.cost_before is not None and recommendation.cost_after is not None
    assert recommendation.statements[0].cost_before == recommendation.cost_before
    if recommendation.rejected:
        assert "planner does not expect it to be cheaper" in recommendation.reason
    else:
        assert recommendation.validated_by == "explain"
        assert recommendation.cost_after < recommendation.cost_before
