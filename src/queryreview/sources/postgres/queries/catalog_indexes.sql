-- Indexes of every collected table. Key columns by name, or the expression text for an
-- expression key; INCLUDE columns; non-default operator classes ('' for the default);
-- the constraint (p/u/x) the index backs.
-- pg_get_indexdef(), pg_get_expr() and pg_relation_size() open the table or the index: for one
-- another session holds or awaits in ACCESS EXCLUSIVE mode (see catalog_tables.sql) they are
-- skipped: expression keys read '<locked>', a predicate '<locked>' (whether there is one is
-- known), the definition '' and the size is the relpages estimate. Parameter exact_sizes as in
-- catalog_tables.sql.
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
    ic.relname AS name,
    tn.nspname AS table_schema,
    tc.relname AS table_name,
    ARRAY(
        SELECT CASE
                   WHEN x.indkey[k - 1] <> 0 THEN a.attname::text
                   WHEN lk.locked THEN '<locked>'
                   ELSE pg_get_indexdef(x.indexrelid, k, true)
               END
        FROM generate_series(1, x.indnkeyatts) AS k
        LEFT JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]
        ORDER BY k
    ) AS columns,
    ARRAY(
        SELECT a.attname::text
        FROM generate_series(x.indnkeyatts + 1, x.indnatts) AS k
        JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]
        ORDER BY k
    ) AS include,
    CASE
        WHEN x.indpred IS NULL THEN NULL
        WHEN lk.locked THEN '<locked>'
        ELSE pg_get_expr(x.indpred, x.indrelid, true)
    END AS predicate,
    x.indisunique AS "unique",
    x.indisprimary AS "primary",
    x.indisvalid AS valid,
    x.indisready AS ready,
    am.amname AS method,
    ARRAY(
        SELECT CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname::text END
        FROM generate_series(0, x.indnkeyatts - 1) AS k
        JOIN pg_opclass AS opc ON opc.oid = x.indclass[k]
        ORDER BY k
    ) AS opclasses,
    CASE WHEN lk.locked THEN '' ELSE pg_get_indexdef(x.indexrelid) END AS definition,
    CASE
        WHEN %(exact_sizes)s AND NOT lk.locked THEN pg_relation_size(x.indexrelid)
        ELSE ic.relpages::bigint * current_setting('block_size')::bigint
    END AS size_bytes,
    lk.locked,
    coalesce(si.idx_scan, 0) AS idx_scan,
    coalesce(si.idx_tup_read, 0) AS idx_tup_read,
    con.conname AS "constraint"
FROM pg_index AS x
JOIN pg_class AS ic ON ic.oid = x.indexrelid
JOIN pg_namespace AS n ON n.oid = ic.relnamespace
JOIN pg_class AS tc ON tc.oid = x.indrelid
JOIN pg_namespace AS tn ON tn.oid = tc.relnamespace
JOIN pg_am AS am ON am.oid = ic.relam
CROSS JOIN LATERAL (
    SELECT x.indrelid IN (SELECT oid FROM locked) OR x.indexrelid IN (SELECT oid FROM locked) AS locked
) AS lk
LEFT JOIN pg_stat_all_indexes AS si ON si.indexrelid = x.indexrelid
LEFT JOIN pg_constraint AS con ON con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x')
WHERE tc.relkind IN ('r', 'p', 'm')
  AND tn.nspname NOT IN ('pg_catalog', 'information_schema')
  AND tn.nspname !~ '^pg_(toast|temp_)'
ORDER BY tn.nspname, tc.relname, ic.relname
