-- Tables, partitioned tables and materialized views outside the system schemas, with their
-- pg_stat_all_tables counters.
-- pg_total_relation_size() opens the table, its indexes and TOAST table (ACCESS SHARE lock).
-- A relation another session holds or awaits in ACCESS EXCLUSIVE mode (a migration, VACUUM
-- FULL, REINDEX…) would make us wait, so those get the lock-free estimate from relpages (as of
-- the last VACUUM/ANALYZE) and locked = true. Parameter exact_sizes = false estimates every size
-- (when the lock table is too small for one lock per relation).
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
    c.relname AS name,
    c.relkind::text AS kind,
    c.reltuples::float8 AS reltuples,
    c.relpages::bigint AS relpages,
    CASE
        WHEN %(exact_sizes)s AND NOT lk.locked THEN pg_total_relation_size(c.oid)
        ELSE (c.relpages::bigint
              + coalesce((SELECT t.relpages FROM pg_class AS t WHERE t.oid = c.reltoastrelid), 0)
              + coalesce((SELECT sum(ic.relpages) FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
                          WHERE x.indrelid = c.oid), 0))
             * current_setting('block_size')::bigint
    END AS total_bytes,
    lk.locked,
    pn.nspname AS parent_schema,
    pc.relname AS parent_name,
    has_table_privilege(c.oid, 'SELECT') AS readable,
    st.relid IS NOT NULL AS has_stats,
    st.seq_scan,
    st.seq_tup_read,
    st.idx_scan,
    st.idx_tup_fetch,
    st.n_tup_ins,
    st.n_tup_upd,
    st.n_tup_del,
    st.n_tup_hot_upd,
    st.n_live_tup,
    st.n_dead_tup,
    st.n_mod_since_analyze,
    st.n_ins_since_vacuum,
    st.last_vacuum,
    st.last_autovacuum,
    st.last_analyze,
    st.last_autoanalyze
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
    SELECT c.oid IN (SELECT oid FROM locked)
           OR c.reltoastrelid IN (SELECT oid FROM locked)
           OR EXISTS (SELECT 1 FROM pg_index AS x WHERE x.indrelid = c.oid AND x.indexrelid IN (SELECT oid FROM locked))
           AS locked
) AS lk
LEFT JOIN pg_inherits AS i ON c.relispartition AND i.inhrelid = c.oid
LEFT JOIN pg_class AS pc ON pc.oid = i.inhparent
LEFT JOIN pg_namespace AS pn ON pn.oid = pc.relnamespace
LEFT JOIN pg_stat_all_tables AS st ON st.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, c.relname
