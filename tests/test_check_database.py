"""check with a database: catalog-aware rules on files (--dsn) and on a captured workload (--snapshot)."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner

from queryreview.cli import main

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, region text);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO customers SELECT g, 'c' || g || '@example.com', 'r' || (g % 7) FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, CASE WHEN g % 50 = 0 THEN 'open' ELSE 'done' END,
       timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, 30000) g;
ANALYZE customers;
ANALYZE orders;
"""

QUERY = "SELECT id, created_at FROM orders WHERE status = $1 AND customer_id = $2;\n"


@pytest.fixture
def shop_db(fresh_db: str) -> str:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute("SELECT pg_stat_statements_reset()")
        for customer in range(1, 30):
            conn.execute("SELECT id, created_at FROM orders WHERE status = %s AND customer_id = %s",
                         ("open", customer))
    return fresh_db


def _findings(result) -> list[dict]:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


def test_check_files_with_dsn_runs_catalog_rules(shop_db: str, tmp_path) -> None:
    query = tmp_path / "orders.sql"
    query.write_text(QUERY)
    result = CliRunner().invoke(main, ["check", str(query), "--dsn", shop_db, "--format", "json"])
    findings = _findings(result)
    codes = {f["rule"] for f in findings}
    assert "missing-index-for-filter" in codes, findings
    assert "fk-without-index" in codes, findings
    fk = next(f for f in findings if f["rule"] == "fk-without-index")
    assert fk["location"]["path"] == "catalog:public.orders"
    without_db = CliRunner().invoke(main, ["check", str(query), "--format", "json"])
    assert "missing-index-for-filter" not in {f["rule"] for f in _findings(without_db)}
    assert any("needs a database catalog" in s for s in json.loads(without_db.stdout)["skipped_rules"])


def test_check_snapshot_reviews_the_captured_workload_offline(shop_db: str, tmp_path) -> None:
    snapshot = tmp_path / "snap.json.gz"
    collected = CliRunner().invoke(main, ["collect", shop_db, "-o", str(snapshot)])
    assert collected.exit_code == 0, collected.output
    result = CliRunner().invoke(main, ["check", "--snapshot", str(snapshot), "--format", "json"])
    findings = _findings(result)
    workload = [f for f in findings if f["location"]["path"].startswith("pg_stat_statements:")]
    assert any(f["rule"] == "missing-index-for-filter" and "orders" in f["message"] for f in workload), findings
    assert all("queryreview" not in (f["statement"] or "") for f in workload)


def test_check_with_dsn_and_snapshot_is_a_usage_error(tmp_path) -> None:
    result = CliRunner().invoke(main, ["check", "--dsn", "host=/nowhere", "--snapshot", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "not both" in result.output
