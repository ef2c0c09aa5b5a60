-- Primary key, foreign key, unique, check and exclusion constraints, columns in key order.
-- Left out: NOT NULL constraints (PostgreSQL 18 lists them; columns carry not_null) and the
-- per-partition copies a foreign key to a partitioned table adds on the referencing table.
-- pg_get_constraintdef() opens the table for a CHECK: for a table another session holds or
-- awaits in ACCESS EXCLUSIVE mode (see catalog_tables.sql) the definition is '' instead.
WITH /* queryreview */ locked AS (
    SELECT l.relation AS oid
    FROM pg_locks AS l
    WHERE l.locktype = 'relation'
      AND l.mode = 'AccessExclusiveLock'
      AND l.pid IS DISTINCT FROM pg_backend_pid()
      AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
)
SELECT
    n.nspname AS schema,
    c.relname AS table_name,
    con.conname AS name,
    con.contype::text AS kind,
    ARRAY(
        SELECT a.attname::text
        FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS columns,
    fn.nspname AS ref_schema,
    fc.relname AS ref_name,
    ARRAY(
        SELECT a.attname::text
        FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute AS a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS ref_columns,
    CASE
        WHEN con.conrelid IN (SELECT oid FROM locked) OR con.confrelid IN (SELECT oid FROM locked) THEN ''
        ELSE pg_get_constraintdef(con.oid, true)
    END AS definition,
    con.convalidated AS validated
FROM pg_constraint AS con
JOIN pg_class AS c ON c.oid = con.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_class AS fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace AS fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'f', 'u', 'c', 'x')
  AND c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint AS parent
      WHERE parent.oid = con.conparentid AND parent.conrelid = con.conrelid
  )
ORDER BY n.nspname, c.relname, con.conname
