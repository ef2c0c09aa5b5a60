"""EXPLAIN ANALYZE of a data-modifying statement, only on a database the user marked disposable.

    collect DSN --explain --analyze --analyze-writes --disposable

The statement runs in a READ WRITE transaction that is rolled back. A rollback undoes rows
but not sequences (nextval() stays advanced), so around the run queryreview records, then
compares: an md5 of every row of each table the statement names, and of tables whose
foreign keys point at them (ON DELETE/UPDATE actions), ordered by the row's text; and every
sequence's last value. Sequences that moved are set back with setval() — the only COMMIT
queryreview ever makes, and only here. A table that still differs is reported on the
statement (another session writing?). Not covered: effects outside the database from
triggers or functions the statement calls (dblink, pg_notify is delivered only on commit).
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql
from sqlglot import exp

from queryreview.sources.postgres.connect import QueryFailed, marked
from queryreview.sources.snapshot import ExplainResult

_RELATIONS_SQL = """
WITH named AS (
    SELECT c.oid FROM unnest(%s::text[]) AS r(name) JOIN pg_class c ON c.oid = to_regclass(r.name)
), touched AS (
    SELECT oid FROM named
    UNION SELECT conrelid FROM pg_constraint WHERE contype = 'f' AND confrelid IN (SELECT oid FROM named)
)
SELECT n.nspname AS schema, c.relname AS name
FROM touched t JOIN pg_class c ON c.oid = t.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
ORDER BY 1, 2
"""
_SEQUENCES_SQL = """
SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS last_value,
       start_value::text AS start_value
FROM pg_sequences ORDER BY 1
"""
_CHECKSUM_SQL = ("SELECT count(*) AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS checksum "
                 "FROM {} AS t")


@dataclass(frozen=True)
class Fingerprint:
    tables: dict[str, tuple[int, str]]  # "schema.name" -> (rows, md5 of all rows)
    sequences: dict[str, tuple[str | None, str]]  # name -> (last_value or None when never called, start_value)


def analyze_write(explainer, proved) -> ExplainResult:
    """EXPLAIN (ANALYZE, BUFFERS) in a rolled-back READ WRITE transaction, proving nothing changed."""
    from queryreview.sources.postgres.explain import _ANALYZE_OPTIONS

    session = explainer.session
    values: list[str] = []
    types: list[int] = []
    notes = list(proved.notes)
    if proved.count:
        values, types, sources = explainer._values(proved, "cannot bind values")  # noqa: SLF001
        notes.append(f"parameters bound to values sampled from pg_stats ({'; '.join(sources)})")
    tables = _relations(session, proved.tree)
    before = fingerprint(session, tables)
    plan = oids = None
    restored: list[str] = []
    try:
        plan, oids = explainer._bound(proved, _ANALYZE_OPTIONS, values, types, read_write=True)  # noqa: SLF001
    finally:
        if not session.closed:
            restored = _restore_sequences(explainer.wire, before, fingerprint(session, tables))
    after = fingerprint(session, tables)
    changed = sorted(name for name in before.tables if before.tables[name] != after.tables.get(name))
    moved = sorted(name for name in before.sequences if before.sequences[name] != after.sequences.get(name))
    if changed or moved:
        raise QueryFailed("the database differs after the rolled-back EXPLAIN ANALYZE: "
                          + ", ".join([f"table {name}" for name in changed] + [f"sequence {name}" for name in moved])
                          + " (another session writing?)")
    checked = ", ".join(f"{name} ({rows} rows)" for name, (rows, _) in sorted(before.tables.items())) or "none"
    notes.append(f"ran in a rolled-back READ WRITE transaction; row checksums unchanged: {checked}")
    if restored:
        notes.append("sequences the statement advanced were set back: " + ", ".join(restored))
    return explainer._result(plan, "analyze", oids, notes)  # noqa: SLF001


def fingerprint(session, tables: list[tuple[str, str]]) -> Fingerprint:
    """Row count and md5 of every row (ordered by its text) of each table, and every sequence's state."""
    sums = {}
    for schema, name in tables:
        query = sql.SQL(_CHECKSUM_SQL).format(sql.Identifier(schema, name)).as_string()
        row = session.fetch_one(query) or {}
        sums[f"{schema}.{name}"] = (int(row.get("rows") or 0), row.get("checksum") or "")
    sequences = {row["name"]: (row["last_value"], row["start_value"]) for row in session.fetch_all(_SEQUENCES_SQL)}
    return Fingerprint(sums, sequences)


def _relations(session, tree: exp.Expression) -> list[tuple[str, str]]:
    from queryreview.sql.predicates import table_name

    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    names = sorted({table_name(table) for table in tree.find_all(exp.Table)
                    if isinstance(table.this, exp.Identifier) and (table.db or table.name not in cte_names)})
    if not names:
        return []
    return [(row["schema"], row["name"]) for row in session.fetch_all(_RELATIONS_SQL, [names])]


def _restore_sequences(wire, before: Fingerprint, after: Fingerprint) -> list[str]:
    moved = [name for name, state in before.sequences.items() if after.sequences.get(name) != state]
    if not moved:
        return []
    with wire.committed():
        for name in moved:
            last_value, start_value = before.sequences[name]
            called = last_value is not None
            wire.rows(marked("SELECT setval($1::regclass, $2::bigint, $3::boolean)"),
                      [name, last_value if called else start_value, "true" if called else "false"])
    return [f"{name} to {before.sequences[name][0] or 'its start (never used)'}" for name in moved]
