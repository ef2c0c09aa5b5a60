"""Workload rules (QR4xx) on a workload really run against PostgreSQL (PG 18 embedded, PG 15 system):
an N+1 loop and a bulk writer are found, on the right pg_stat_statements entries."""

from __future__ import annotations

import re

import psycopg
import pytest

from queryreview.catalog import WorkloadStats
from queryreview.collect import collect_from
from queryreview.engine import Context, Engine
from queryreview.rules.registry import all_rules
from queryreview.workload import shape_of

BOOKS = 2000
LOOKUP = "SELECT name FROM authors WHERE id = $1"
DRIVER = "SELECT id, author_id FROM books WHERE id <= $1 ORDER BY id"
WRITER = ("INSERT INTO page_views (book_id, payload) SELECT mod(g, $1), repeat($2, $3) "
          "FROM generate_series($4::int, $5::int) AS g")

SCHEMA = f"""
CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE books (id bigint PRIMARY KEY, author_id bigint NOT NULL REFERENCES authors, title text NOT NULL);
CREATE TABLE page_views (id bigserial PRIMARY KEY, book_id bigint NOT NULL, payload text,
                         at timestamptz NOT NULL DEFAULT now());
CREATE INDEX page_views_book_idx ON page_views (book_id);
INSERT INTO authors SELECT g, 'author ' || g FROM generate_series(1, {BOOKS}) AS g;
INSERT INTO books SELECT g, 1 + (g * 7) % {BOOKS}, 'book ' || g FROM generate_series(1, {BOOKS}) AS g;
"""


def _placeholders(text: str) -> str:
    """pg_stat_statements' `$n` text back to what psycopg sends (it numbers `%s` in order)."""
    return re.sub(r"\$\d+", "%s", text)


@pytest.fixture
def shop_workload(fresh_db: str) -> str:
    """A bookshop whose application loads books, then each book's author one query at a time (N+1),
    and records page views in bulk."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        books = conn.execute(_placeholders(DRIVER), [BOOKS]).fetchall()
        for _, author_id in books:
            conn.execute(_placeholders(LOOKUP), [author_id]).fetchone()
        for batch in range(3):
            conn.execute(_placeholders(WRITER), [BOOKS, "x", 300, batch * 20000 + 1, (batch + 1) * 20000])
    return fresh_db


def _review(snapshot, settings: dict) -> list:
    rules = [rule for rule in all_rules() if rule.family == "workload"]
    engine = Engine(rules, Context(catalog=snapshot.catalog, stats=snapshot.workload, settings=settings, debug=True))
    assert engine.skipped == []
    return engine.review([]).findings


def _queryids(workload: WorkloadStats, text: str) -> set[int]:
    found = {stat.queryid for stat in workload.statements if stat.query == text and stat.queryid is not None}
    assert found, [stat.query for stat in workload.statements]
    return found


def test_n_plus_one_and_heavy_writer_fire_on_the_right_statements(pg_server, shop_workload: str) -> None:
    snapshot = collect_from(shop_workload)
    workload = snapshot.workload
    assert workload is not None
    [lookup], [driver] = _queryids(workload, LOOKUP), _queryids(workload, DRIVER)
    # psycopg sends 1..20000 as smallint and 20001.. as integer: one text, three queryids (three entries)
    writers = _queryids(workload, WRITER)
    settings = {"n-plus-one": {"min_calls": 1000}, "heavy-writer": {"min_wal_mb": 1}}

    findings = _review(snapshot, settings)

    by_rule: dict[str, list] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    assert not [f for f in findings if "failed on this input" in f.message]

    [n_plus_one] = by_rule["n-plus-one"]
    assert n_plus_one.location.path == f"pg_stat_statements:{lookup}"
    assert n_plus_one.evidence["calls"] == BOOKS and n_plus_one.evidence["driving_queryid"] == driver
    assert f"ran {BOOKS:,} times returning 1.0 row(s) per call" in n_plus_one.message
    assert n_plus_one.fix is not None and n_plus_one.fix.sql == "SELECT name, id FROM authors WHERE id = ANY($1)"

    [writer_finding] = by_rule["heavy-writer"]  # the entries of one text count as one statement
    assert set(writer_finding.evidence["queryids"]) == writers
    assert writer_finding.location.path == f"pg_stat_statements:{writer_finding.evidence['queryid']}"
    assert writer_finding.evidence["queryid"] in writers
    assert writer_finding.evidence["wal_bytes"] > 1024 * 1024
    assert writer_finding.evidence["rows"] == 60000
    assert "page_views" in writer_finding.help

    # The counters started with the server a moment ago: the window is short.
    assert any("before collection" in f.message for f in by_rule.get("stats-evicted", ()))
    # The lookup's table is written as often as it is read: no cache advice; nothing spills or plans slowly.
    assert "cache-candidate" not in by_rule
    assert "temp-spill-heavy-query" not in by_rule and "high-planning-time-query" not in by_rule


def test_defaults_stay_quiet_on_a_small_workload(pg_server, shop_workload: str) -> None:
    """With the default thresholds (10,000 calls, 1 GB of WAL) a 2,000-call test workload reports neither."""
    findings = _review(collect_from(shop_workload), {})
    assert {f.rule for f in findings} <= {"stats-evicted", "read-replica-candidate", "low-cache-hit-query"}
    assert not [f for f in findings if f.rule in ("n-plus-one", "heavy-writer")]


def test_every_collected_text_is_parsed_or_skipped(pg_server, shop_workload: str) -> None:
    """Real pg_stat_statements texts (utility statements, `$1,$2` lists) never crash the shape reader."""
    workload = collect_from(shop_workload).workload
    assert workload is not None
    shapes = {stat.query: shape_of(stat.query) for stat in workload.statements}
    assert shapes[LOOKUP] is not None and shapes[LOOKUP].key_filter == "id = $1"
    assert shapes[WRITER] is not None and shapes[WRITER].writes == ("page_views",)
    assert shapes[DRIVER] is not None and shapes[DRIVER].read_only
