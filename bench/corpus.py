"""Build a deterministic corpus of realistic, varied PostgreSQL statements for the benchmarks.

    python bench/corpus.py                 # 6,000 statements -> bench/out/corpus.sql
    python bench/corpus.py -n 20000 --seed 7

The corpus imitates an application's query files: point lookups, filtered lists, joins of
two to four tables, aggregates, CTEs, subqueries, window functions, writes (INSERT, UPDATE,
DELETE, upserts), DDL and migrations, with a realistic share of anti-patterns (SELECT *,
leading-wildcard LIKE, OFFSET pagination, NOT IN subqueries …) so that rules fire at a
rate close to real code. ``catalog()`` describes the same schema for the catalog rules.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

# table -> (columns with types, primary key); foreign keys are the *_id columns
SCHEMA: dict[str, tuple[list[tuple[str, str]], str]] = {
    "users": ([("id", "bigint"), ("email", "text"), ("name", "text"), ("status", "text"), ("country", "text"),
               ("created_at", "timestamptz"), ("last_login_at", "timestamptz"), ("plan_id", "bigint")], "id"),
    "plans": ([("id", "bigint"), ("name", "text"), ("price", "numeric"), ("active", "boolean")], "id"),
    "orders": ([("id", "bigint"), ("user_id", "bigint"), ("status", "text"), ("total", "numeric"),
                ("currency", "text"), ("created_at", "timestamptz"), ("shipped_at", "timestamptz"),
                ("coupon_id", "bigint")], "id"),
    "order_items": ([("id", "bigint"), ("order_id", "bigint"), ("product_id", "bigint"), ("quantity", "integer"),
                     ("unit_price", "numeric")], "id"),
    "products": ([("id", "bigint"), ("sku", "text"), ("name", "text"), ("category_id", "bigint"),
                  ("price", "numeric"), ("stock", "integer"), ("tags", "text[]"), ("attributes", "jsonb")], "id"),
    "categories": ([("id", "bigint"), ("name", "text"), ("parent_id", "bigint"), ("slug", "text")], "id"),
    "events": ([("id", "bigint"), ("user_id", "bigint"), ("kind", "text"), ("payload", "jsonb"),
                ("created_at", "timestamptz")], "id"),
    "sessions": ([("id", "uuid"), ("user_id", "bigint"), ("token", "text"), ("expires_at", "timestamptz"),
                  ("ip", "inet")], "id"),
    "invoices": ([("id", "bigint"), ("order_id", "bigint"), ("number", "text"), ("amount", "numeric"),
                  ("due_on", "date"), ("paid_at", "timestamptz")], "id"),
    "payments": ([("id", "bigint"), ("invoice_id", "bigint"), ("provider", "text"), ("amount", "numeric"),
                  ("status", "text"), ("created_at", "timestamptz")], "id"),
    "jobs": ([("id", "bigint"), ("queue", "text"), ("state", "text"), ("run_at", "timestamptz"),
              ("attempts", "integer"), ("payload", "jsonb")], "id"),
    "audit_log": ([("id", "bigint"), ("actor_id", "bigint"), ("action", "text"), ("target", "text"),
                   ("at", "timestamptz")], "id"),
}
SCHEMAS = ["", "", "", "public.", "app.", "billing."]
TEXT_VALUES = ["'active'", "'pending'", "'shipped'", "'EUR'", "'gold'", "'signup'", "'FR'", "'default'"]
TABLES = list(SCHEMA)
_CLAUSE = re.compile(r" (FROM|WHERE|GROUP BY|ORDER BY|LIMIT|HAVING|RETURNING|ON CONFLICT) ")
_JOIN = re.compile(r" ((?:LEFT |INNER )?JOIN) ")


def _columns(table: str) -> list[str]:
    return [name for name, _ in SCHEMA[table][0]]


def _typed(table: str, kind: str) -> list[str]:
    return [name for name, type_ in SCHEMA[table][0] if type_ == kind]


def _parent(column: str) -> str | None:
    if not column.endswith("_id"):
        return None
    stem = column[:-3]
    for table in (stem + "s", stem + "ies" if stem.endswith("y") else "", "categories" if stem == "parent" else ""):
        if table in SCHEMA:
            return table
    return {"actor": "users", "category": "categories"}.get(stem)


def _children(table: str) -> list[tuple[str, str]]:
    """(child table, fk column) pairs pointing at ``table``."""
    return [(child, col) for child in SCHEMA for col in _columns(child) if _parent(col) == table and child != table]


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.param = 0

    # --- small pieces ---------------------------------------------------------------------

    def pick(self, options):
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def value(self, column: str, table: str) -> str:
        """A placeholder most of the time (application code), else a literal of the right kind."""
        if self.chance(0.6):
            self.param += 1
            return f"${self.param}"
        type_ = dict(SCHEMA[table][0]).get(column, "text")
        if type_ in ("bigint", "integer"):
            return str(self.rng.randint(1, 10**6))
        if type_ == "numeric":
            return f"{self.rng.randint(1, 5000)}.{self.rng.randint(0, 99):02d}"
        if type_ == "timestamptz":
            return self.pick(["now()", "now() - interval '7 days'", "'2024-03-01'", "current_date - 30"])
        if type_ == "date":
            return self.pick(["current_date", "'2024-12-31'"])
        if type_ == "boolean":
            return self.pick(["true", "false"])
        return self.pick(TEXT_VALUES)

    def predicate(self, table: str, alias: str) -> str:
        column = self.pick(_columns(table))
        ref = f"{alias}.{column}" if alias else column
        type_ = dict(SCHEMA[table][0])[column]
        roll = self.rng.random()
        if type_ == "text" and roll < 0.15:
            pattern = self.pick(["'abc%'", "'%@example.com'", "'%gold%'", "$9"])
            return f"{ref} {self.pick(['LIKE', 'ILIKE'])} {pattern}"
        if type_ == "text" and roll < 0.25:
            return f"lower({ref}) = lower({self.value(column, table)})"
        if type_ == "timestamptz" and roll < 0.4:
            return f"{ref} >= {self.value(column, table)}"
        if type_ == "timestamptz" and roll < 0.5:
            return f"{ref} BETWEEN {self.value(column, table)} AND {self.value(column, table)}"
        if roll < 0.58:
            return f"{ref} IS {self.pick(['NULL', 'NOT NULL'])}"
        if roll < 0.68:
            values = ", ".join(self.value(column, table) for _ in range(self.rng.randint(2, 6)))
            return f"{ref} IN ({values})"
        if roll < 0.72:
            self.param += 1
            return f"{ref} = ANY(${self.param})"
        if roll < 0.76:
            return f"{ref} <> {self.value(column, table)}"
        if roll < 0.79:
            return f"date_trunc('day', {ref}) = {self.value(column, table)}" if type_ == "timestamptz" else \
                f"{ref}::text = {self.value(column, table)}"
        return f"{ref} {self.pick(['=', '=', '=', '<', '>', '<=', '>='])} {self.value(column, table)}"

    def where(self, table: str, alias: str, most: int = 3) -> str:
        parts = [self.predicate(table, alias) for _ in range(self.rng.randint(1, most))]
        joiner = " OR " if len(parts) > 1 and self.chance(0.1) else " AND "
        return joiner.join(parts)

    def projection(self, table: str, alias: str, most: int = 5) -> str:
        if self.chance(0.12):
            return f"{alias}.*" if alias and self.chance(0.5) else "*"
        columns = self.rng.sample(_columns(table), k=min(len(_columns(table)), self.rng.randint(1, most)))
        return ", ".join(f"{alias}.{c}" if alias else c for c in columns)

    def name(self, table: str) -> str:
        return self.pick(SCHEMAS) + table

    def order_limit(self, table: str, alias: str) -> str:
        out = ""
        if self.chance(0.5):
            column = self.pick(_columns(table))
            out += f" ORDER BY {alias + '.' if alias else ''}{column} {self.pick(['', 'DESC', 'ASC', 'DESC NULLS LAST'])}"
        if self.chance(0.45):
            out += f" LIMIT {self.pick(['10', '20', '50', '100', '$' + str(self.param + 1)])}"
            if out.endswith(f"${self.param + 1}"):
                self.param += 1
            if self.chance(0.25):
                out += f" OFFSET {self.pick(['0', '20', '1000', '100000'])}"
        return out.rstrip()

    def layout(self, sql: str) -> str:
        """Application-style formatting: one line, or a clause per line."""
        if self.chance(0.5):
            return sql
        sql = _CLAUSE.sub(lambda m: "\n" + m.group(1) + " ", sql)
        return _JOIN.sub(lambda m: "\n  " + m.group(1) + " ", sql)

    # --- statement shapes -----------------------------------------------------------------

    def point_lookup(self) -> str:
        table = self.pick(TABLES)
        self.param += 1
        return f"SELECT {self.projection(table, '')} FROM {self.name(table)} WHERE {SCHEMA[table][1]} = ${self.param}"

    def filtered_list(self) -> str:
        table = self.pick(TABLES)
        alias = self.pick(["", table[0]])
        source = f"{self.name(table)} {alias}".rstrip()
        return f"SELECT {self.projection(table, alias)} FROM {source} WHERE {self.where(table, alias)}" \
               f"{self.order_limit(table, alias)}"

    def join(self) -> str:
        root = self.pick([t for t in TABLES if _children(t)])
        joined = [(root, "t0")]
        clauses = []
        for index in range(1, self.rng.randint(2, 4)):
            options = [(child, fk, parent_alias) for parent, parent_alias in joined for child, fk in _children(parent)]
            if not options:
                break
            child, fk, parent_alias = self.pick(options)
            alias = f"t{index}"
            kind = self.pick(["JOIN", "JOIN", "LEFT JOIN", "INNER JOIN"])
            clauses.append(f"{kind} {self.name(child)} {alias} ON {alias}.{fk} = {parent_alias}.id")
            joined.append((child, alias))
        columns = ", ".join(f"{alias}.{self.pick(_columns(table))}" for table, alias in joined)
        if self.chance(0.08):
            columns = "*"
        filter_table, filter_alias = self.pick(joined)
        sql = f"SELECT {columns} FROM {self.name(root)} t0 {' '.join(clauses)} WHERE {self.where(filter_table, filter_alias, 2)}"
        return sql + self.order_limit(filter_table, filter_alias)

    def aggregate(self) -> str:
        table = self.pick(TABLES)
        group = self.pick(_columns(table))
        measure = self.pick([f"sum({c})" for c in _typed(table, "numeric")] + ["count(*)", "count(DISTINCT id)"])
        sql = f"SELECT {group}, {measure} AS value FROM {self.name(table)} WHERE {self.where(table, '', 2)} GROUP BY {group}"
        if self.chance(0.3):
            sql += f" HAVING {measure} > {self.rng.randint(1, 100)}"
        if self.chance(0.4):
            sql += f" ORDER BY value DESC LIMIT {self.rng.randint(5, 50)}"
        return sql

    def cte(self) -> str:
        table = self.pick([t for t in TABLES if _children(t)])
        child, fk = self.pick(_children(table))
        recent = f"SELECT {fk}, count(*) AS n FROM {self.name(child)} WHERE {self.where(child, '', 1)} GROUP BY {fk}"
        sql = f"WITH recent AS ({recent})"
        if self.chance(0.4):
            sql += f", top AS (SELECT {fk} FROM recent ORDER BY n DESC LIMIT 100)"
            return f"{sql} SELECT p.id, p.{self.pick(_columns(table))} FROM {self.name(table)} p JOIN top ON top.{fk} = p.id"
        return f"{sql} SELECT p.{self.pick(_columns(table))}, r.n FROM {self.name(table)} p JOIN recent r ON r.{fk} = p.id" \
               f" WHERE r.n > {self.rng.randint(1, 10)}"

    def recursive_cte(self) -> str:
        return ("WITH RECURSIVE tree AS (SELECT id, parent_id, name, 1 AS depth FROM categories WHERE id = $1 "
                "UNION ALL SELECT c.id, c.parent_id, c.name, t.depth + 1 FROM categories c JOIN tree t ON c.parent_id = t.id) "
                f"SELECT id, name, depth FROM tree WHERE depth <= {self.rng.randint(2, 8)} ORDER BY depth")

    def subquery(self) -> str:
        table = self.pick([t for t in TABLES if _children(t)])
        child, fk = self.pick(_children(table))
        shape = self.rng.randint(0, 4)
        inner = f"SELECT {fk} FROM {self.name(child)} WHERE {self.where(child, '', 1)}"
        if shape == 0:
            return f"SELECT {self.projection(table, '')} FROM {self.name(table)} WHERE id IN ({inner})"
        if shape == 1:
            return f"SELECT {self.projection(table, '')} FROM {self.name(table)} WHERE id NOT IN ({inner})"
        if shape == 2:
            return (f"SELECT p.id FROM {self.name(table)} p WHERE {self.pick(['', 'NOT '])}EXISTS "
                    f"(SELECT 1 FROM {self.name(child)} c WHERE c.{fk} = p.id AND {self.predicate(child, 'c')})")
        if shape == 3:
            return (f"SELECT p.id, (SELECT count(*) FROM {self.name(child)} c WHERE c.{fk} = p.id) AS n "
                    f"FROM {self.name(table)} p WHERE {self.predicate(table, 'p')}{self.order_limit(table, 'p')}")
        return (f"SELECT d.{fk}, d.n FROM (SELECT {fk}, count(*) AS n FROM {self.name(child)} GROUP BY {fk}) d "
                f"WHERE d.n > {self.rng.randint(2, 50)} ORDER BY d.n DESC")

    def window(self) -> str:
        table = self.pick([t for t in TABLES if any(c.endswith("_id") for c in _columns(t))])
        part = self.pick([c for c in _columns(table) if c.endswith("_id")])
        order = self.pick(_typed(table, "timestamptz") or ["id"])
        function = self.pick(["row_number()", "rank()", f"lag({order})", "count(*)", "sum(id)"])
        sql = (f"SELECT id, {part}, {function} OVER (PARTITION BY {part} ORDER BY {order} DESC) AS w "
               f"FROM {self.name(table)} WHERE {self.where(table, '', 1)}")
        if self.chance(0.4):
            sql = f"SELECT * FROM ({sql}) ranked WHERE w <= {self.rng.randint(1, 5)}"
        return sql

    def union(self) -> str:
        table = self.pick(TABLES)
        column = self.pick(_columns(table))
        parts = [f"SELECT {column} FROM {self.name(table)} WHERE {self.predicate(table, '')}"
                 for _ in range(self.rng.randint(2, 3))]
        return f" {self.pick(['UNION', 'UNION ALL'])} ".join(parts)

    def insert(self) -> str:
        table = self.pick(TABLES)
        columns = [c for c in _columns(table) if c != "id"] or _columns(table)
        columns = columns[: self.rng.randint(1, len(columns))]
        rows = ", ".join("(" + ", ".join(self.value(c, table) for c in columns) + ")"
                         for _ in range(self.pick([1, 1, 1, 3, 20])))
        sql = f"INSERT INTO {self.name(table)} ({', '.join(columns)}) VALUES {rows}"
        if self.chance(0.25):
            assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[:2])
            sql += f" ON CONFLICT ({SCHEMA[table][1]}) DO UPDATE SET {assignments}"
        if self.chance(0.3):
            sql += f" RETURNING {SCHEMA[table][1]}"
        return sql

    def insert_select(self) -> str:
        return ("INSERT INTO audit_log (actor_id, action, target, at) SELECT user_id, 'archive', id::text, now() "
                f"FROM orders WHERE {self.where('orders', '', 2)}")

    def update(self) -> str:
        table = self.pick(TABLES)
        column = self.pick([c for c in _columns(table) if c != "id"])
        sql = f"UPDATE {self.name(table)} SET {column} = {self.value(column, table)}"
        if self.chance(0.2):
            sql += f", {self.pick(_columns(table))} = DEFAULT"
        if self.chance(0.93):
            sql += f" WHERE {self.where(table, '', 2)}"
        if self.chance(0.2):
            sql += f" RETURNING {SCHEMA[table][1]}"
        return sql

    def update_from(self) -> str:
        return ("UPDATE orders o SET status = 'vip' FROM users u WHERE u.id = o.user_id AND "
                f"{self.predicate('users', 'u')} AND o.created_at > now() - interval '{self.rng.randint(1, 90)} days'")

    def delete(self) -> str:
        table = self.pick(TABLES)
        if self.chance(0.15):
            return (f"DELETE FROM sessions s USING users u WHERE u.id = s.user_id AND {self.predicate('users', 'u')}")
        sql = f"DELETE FROM {self.name(table)}"
        if self.chance(0.95):
            sql += f" WHERE {self.where(table, '', 2)}"
        return sql

    def locking(self) -> str:
        self.param += 1
        return (f"SELECT id, payload FROM jobs WHERE queue = ${self.param} AND state = 'ready' AND run_at <= now() "
                f"ORDER BY run_at{self.pick([' LIMIT 10 FOR UPDATE SKIP LOCKED', ' LIMIT 1 FOR UPDATE', ' FOR UPDATE'])}")

    def json_and_arrays(self) -> str:
        return self.pick([
            f"SELECT id, attributes->>'color' AS color FROM products WHERE attributes @> '{{\"size\": \"M\"}}' "
            f"AND price < {self.rng.randint(5, 500)}",
            f"SELECT id FROM products WHERE $1 = ANY(tags) ORDER BY price LIMIT {self.rng.randint(5, 50)}",
            "SELECT kind, payload->'source'->>'campaign' AS campaign, count(*) FROM events "
            "WHERE created_at >= now() - interval '1 day' GROUP BY 1, 2",
            "SELECT id, coalesce(shipped_at, created_at) AS t, CASE WHEN total > 100 THEN 'big' ELSE 'small' END "
            "AS size FROM orders WHERE user_id = $1",
        ])

    def ddl(self) -> str:
        table = self.pick(TABLES)
        column = self.pick(_columns(table))
        return self.pick([
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {table}_{column}_idx ON {table} ({column})",
            f"CREATE INDEX {table}_{column}_partial_idx ON {table} ({column}) WHERE {column} IS NOT NULL",
            f"CREATE UNIQUE INDEX {table}_lower_{column}_idx ON {table} (lower({column}::text))",
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS note_{self.rng.randint(1, 99)} text",
            f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL",
            f"DROP INDEX CONCURRENTLY IF EXISTS {table}_{column}_idx",
            f"CREATE TABLE IF NOT EXISTS {table}_archive_{self.rng.randint(2019, 2025)} "
            f"(LIKE {table} INCLUDING ALL)",
            f"CREATE TABLE {table}_stats_{self.rng.randint(1, 999)} (id bigint GENERATED ALWAYS AS IDENTITY "
            f"PRIMARY KEY, {table[:-1]}_id bigint NOT NULL REFERENCES {table} (id), value numeric, "
            "created_at timestamptz NOT NULL DEFAULT now())",
            f"COMMENT ON TABLE {table} IS 'owned by the {self.pick(['billing', 'growth', 'core'])} team'",
            f"ANALYZE {table}",
        ])

    def transaction(self) -> str:
        return self.pick(["BEGIN", "COMMIT", "ROLLBACK", "SET LOCAL statement_timeout = '5s'",
                          "SET search_path = app, public", "SELECT pg_advisory_xact_lock($1)"])

    SHAPES = [
        ("point_lookup", 14), ("filtered_list", 16), ("join", 14), ("aggregate", 7), ("cte", 5),
        ("recursive_cte", 1), ("subquery", 8), ("window", 4), ("union", 2), ("insert", 8), ("insert_select", 1),
        ("update", 6), ("update_from", 1), ("delete", 3), ("locking", 2), ("json_and_arrays", 3), ("ddl", 4),
        ("transaction", 2),
    ]

    def statement(self) -> str:
        self.param = 0
        names, weights = zip(*self.SHAPES)
        shape = self.rng.choices(names, weights=weights)[0]
        return self.layout(getattr(self, shape)())


def statements(count: int = 6000, seed: int = 20240601) -> list[str]:
    """``count`` statements (no trailing ``;``), the same for the same seed."""
    generator = Generator(seed)
    return [generator.statement() for _ in range(count)]


def corpus_text(count: int = 6000, seed: int = 20240601) -> str:
    """The statements as one SQL file, with the comments application query files have."""
    rng = random.Random(seed + 1)
    parts = []
    for index, sql in enumerate(statements(count, seed)):
        if rng.random() < 0.1:
            parts.append(f"-- query {index}: {rng.choice(['list', 'lookup', 'report', 'migration step'])}\n")
        parts.append(sql + ";\n")
    return "".join(parts)


def catalog() -> dict:
    """A catalog fixture for the corpus schema (Catalog.from_dict form): big tables, pk and fk indexes."""
    rng = random.Random(5)
    tables = []
    for table, (columns, pk) in SCHEMA.items():
        indexes = [{"name": f"{table}_pkey", "columns": [pk], "primary": True, "unique": True}]
        indexes += [{"name": f"{table}_{c}_idx", "columns": [c]} for c, _ in columns
                    if c.endswith("_id") and rng.random() < 0.6]
        tables.append({
            "name": table,
            "rows": rng.choice([800, 50_000, 2_000_000, 40_000_000]),
            "columns": [f"{c} {t}" for c, t in columns],
            "indexes": indexes,
        })
    return {"tables": tables}


def write(count: int = 6000, seed: int = 20240601) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"corpus-{count}-{seed}.sql"
    if not path.exists():
        path.write_text(corpus_text(count, seed), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, default=6000, help="number of statements [6000]")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    path = write(args.count, args.seed)
    text = path.read_text(encoding="utf-8")
    print(f"{path}: {args.count:,} statements, {len(text.encode()):,} bytes")


if __name__ == "__main__":
    main()
