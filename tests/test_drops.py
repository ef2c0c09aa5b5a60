"""drop_recommendations: unused, duplicate and redundant indexes as DROP recommendations with their cost."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest

from pgservers import PgServer
from queryreview.advisor.drops import drop_recommendations
from queryreview.catalog import Catalog
from queryreview.sources.postgres.catalog_loader import load_catalog
from queryreview.sources.postgres.connect import open_session

MB = 1 << 20


def _index(name: str, columns: list[str], size: int, scans: int = 0, table: str = "orders", **extra: Any) -> dict:
    keys = ", ".join(columns)
    unique = "UNIQUE " if extra.get("unique") or extra.get("primary") else ""
    return {"name": name, "columns": columns, "size_bytes": size, "idx_scan": scans,
            "definition": f"CREATE {unique}INDEX {name} ON public.{table} USING btree ({keys})", **extra}


def _catalog(**overrides: Any) -> Catalog:
    data = {
        "stats_reset": "2024-01-01T00:00:00Z", "collected_at": "2024-01-11T00:00:00Z",
        "tables": [{
            "name": "orders", "rows": 1_000_000,
            "columns": ["id bigint not null", "customer_id bigint", "status text", "created_at timestamptz"],
            "stats": {"n_tup_ins": 100_000, "n_tup_upd": 50_000, "n_tup_hot_upd": 30_000, "n_tup_del": 10_000},
            "indexes": [
                _index("orders_pkey", ["id"], 20 * MB, 900, primary=True, unique=True, constraint="orders_pkey"),
                _index("orders_customer_idx", ["customer_id"], 30 * MB, 500),
                _index("orders_customer_copy", ["customer_id"], 31 * MB, 0),
                _index("orders_customer_created_idx", ["customer_id", "created_at"], 40 * MB, 7),
                _index("orders_status_idx", ["status"], 9 * MB, 0),
                _index("orders_created_idx", ["created_at"], 12 * MB, 40),
            ],
        }],
    }
    data.update(overrides)
    return Catalog.from_dict(data)


def test_one_recommendation_per_index_largest_first() -> None:
    found = drop_recommendations(_catalog())
    assert [r.sql for r in found] == [
        "DROP INDEX CONCURRENTLY public.orders_customer_copy",
        "DROP INDEX CONCURRENTLY public.orders_customer_idx",
        "DROP INDEX CONCURRENTLY public.orders_status_idx",
    ]
    assert all(r.kind == "drop-index" and r.validated_by == "catalog" and r.table == "public.orders" for r in found)
    assert [r.size_bytes for r in found] == [31 * MB, 30 * MB, 9 * MB]
    assert not any(r.rejected or r.statements for r in found)


def test_reasons_say_unused_since_duplicate_of_prefix_of() -> None:
    by_sql = {r.sql.rsplit(".", 1)[1]: r.reason for r in drop_recommendations(_catalog())}
    copy = by_sql["orders_customer_copy"]
    assert copy.startswith("unused: orders_customer_copy on orders (customer_id): 31 MB, no scans since 2024-01-01 "
                           "(10 days)")
    assert "also duplicate: orders_customer_copy on orders (customer_id) duplicates orders_customer_idx" in copy
    assert "also redundant: " in copy and "is a leading prefix of orders_customer_created_idx" in copy
    assert copy.endswith("before dropping")  # replicas count their own scans
    assert by_sql["orders_customer_idx"].startswith("redundant: orders_customer_idx on orders (customer_id) is a "
                                                    "leading prefix of orders_customer_created_idx")
    assert "unused" not in by_sql["orders_customer_idx"]
    assert by_sql["orders_status_idx"].startswith("unused: ")


def test_an_index_covered_only_by_an_unused_one_is_kept() -> None:
    """The wide index is unused and goes; the narrow one it covered is used, so it stays."""
    catalog = _catalog(tables=[{
        "name": "orders", "columns": ["id bigint not null", "customer_id bigint", "created_at timestamptz"],
        "indexes": [_index("orders_customer_idx", ["customer_id"], 30 * MB, 500),
                    _index("orders_customer_created_idx", ["customer_id", "created_at"], 40 * MB, 0)],
    }])
    assert [r.sql for r in drop_recommendations(catalog)] == [
        "DROP INDEX CONCURRENTLY public.orders_customer_created_idx"]


def test_of_two_unused_duplicates_the_kept_one_is_unused_too() -> None:
    catalog = _catalog(tables=[{
        "name": "orders", "columns": ["id bigint not null", "status text"],
        "indexes": [_index("orders_status_a", ["status"], 2 * MB, 0), _index("orders_status_b", ["status"], 2 * MB, 0)],
    }])
    found = drop_recommendations(catalog)
    assert len(found) == 2 and all(r.reason.startswith("unused: ") for r in found)


def test_write_overhead_per_day_over_the_statistics_window() -> None:
    overhead = drop_recommendations(_catalog())[0].write_overhead
    # (100,000 + 50,000 + 10,000) / 10 days; index entries: (100,000 + 50,000 - 30,000 HOT) / 10 days
    assert overhead == ("public.orders: 16,000 writes/day (inserts, updates, deletes over 10.0 days since "
                        "2024-01-01); 12,000/day (inserts and non-HOT updates) add an entry to this index")


def test_write_overhead_without_a_window_or_counters() -> None:
    unknown = drop_recommendations(_catalog(stats_reset=None))[0].write_overhead
    assert unknown.startswith("public.orders: 160,000 writes (inserts, updates, deletes) since the statistics were "
                              "reset (window unknown); 120,000 of them")
    catalog = _catalog()
    table = catalog.tables["public.orders"]
    from dataclasses import replace

    catalog.tables["public.orders"] = replace(table, stats=None)
    assert drop_recommendations(catalog)[0].write_overhead is None


def test_primary_keys_and_constraints_are_kept() -> None:
    found = drop_recommendations(_catalog())
    assert not any("orders_pkey" in r.sql for r in found)


def test_a_duplicate_backing_a_constraint_is_dropped_as_the_constraint() -> None:
    catalog = _catalog(tables=[{
        "name": "users", "columns": ["id bigint not null", "email text"],
        "indexes": [_index("users_email_key", ["email"], 5 * MB, 10, table="users", unique=True,
                           constraint="users_email_key"),
                    _index("users_email_uniq", ["email"], 5 * MB, 3, table="users", unique=True)],
    }])
    found = drop_recommendations(catalog)
    assert [r.sql for r in found] == ["DROP INDEX CONCURRENTLY public.users_email_uniq"]
    assert "duplicates users_email_key (constraint users_email_key)" in found[0].reason


def test_partitioned_index_counts_its_partitions_and_drops_without_concurrently() -> None:
    def part(name: str, scans: int) -> dict:
        return {"name": name, "partition_of": "public.events", "columns": ["id bigint", "kind text"],
                "stats": {"n_tup_ins": 1_000}, "indexes": [
                    _index(f"{name}_kind_idx", ["kind"], 3 * MB, scans, table=name)]}

    catalog = _catalog(tables=[
        {"name": "events", "kind": "p", "columns": ["id bigint", "kind text"],
         "indexes": [_index("events_kind_idx", ["kind"], 0, 0, table="events")]},
        part("events_2024", 0), part("events_2025", 0),
    ])
    found = drop_recommendations(catalog)
    assert [r.sql for r in found] == ["DROP INDEX public.events_kind_idx"]
    assert found[0].size_bytes == 6 * MB
    assert found[0].write_overhead.startswith("public.events: 200 writes/day")


def test_settings_reach_the_unused_index_rule() -> None:
    catalog = _catalog()
    assert any("orders_status_idx" in r.sql for r in drop_recommendations(catalog))
    bigger = drop_recommendations(catalog, settings={"unused-index": {"min_size_bytes": 10 * MB}})
    assert not any("orders_status_idx" in r.sql for r in bigger)


def test_an_empty_catalog_has_nothing_to_drop() -> None:
    assert drop_recommendations(Catalog()) == []


def test_live_duplicate_index_is_found_and_its_sql_runs(pg_server: PgServer) -> None:
    """On a real server: the catalog loader's view of a duplicate and a prefix index, and the DROP works."""
    name = f"qr_drops_{os.getpid()}_{next(pg_server._counter)}"
    dsn = pg_server.make_database(name)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, shelf int);"
                         "INSERT INTO items SELECT g, 's' || g, g % 7 FROM generate_series(1, 2000) g;"
                         "CREATE INDEX items_sku_idx ON items (sku); CREATE INDEX items_sku_again ON items (sku);"
                         "CREATE INDEX items_shelf_idx ON items (shelf); "
                         "CREATE INDEX items_shelf_sku_idx ON items (shelf, sku); ANALYZE items")
        with open_session(dsn) as session:
            catalog = load_catalog(session, [])
        found = drop_recommendations(catalog)  # tiny indexes: below unused-index's min_size_bytes
        dropped = {r.sql for r in found}
        sku = {"DROP INDEX CONCURRENTLY public.items_sku_idx", "DROP INDEX CONCURRENTLY public.items_sku_again"}
        assert len(dropped & sku) == 1  # one of the twins goes, the other stays
        assert "DROP INDEX CONCURRENTLY public.items_shelf_idx" in dropped
        assert len(dropped) == 2
        assert all(r.size_bytes and r.size_bytes > 0 and r.write_overhead for r in found)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for recommendation in found:
                conn.execute(recommendation.sql)
            left = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'items'")}
        assert {"items_pkey", "items_shelf_sku_idx"} <= left and "items_shelf_idx" not in left
        assert len(left & {"items_sku_idx", "items_sku_again"}) == 1
    finally:
        pg_server.drop_database(name)


@pytest.mark.parametrize("stats_reset", ["not a date", None])
def test_a_bad_or_missing_reset_time_is_an_unknown_window(stats_reset: str | None) -> None:
    found = drop_recommendations(_catalog(stats_reset=stats_reset))
    assert "window unknown" in found[0].write_overhead
