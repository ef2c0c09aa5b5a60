-- Top statements of the current database, pg_stat_statements 1.8 (PostgreSQL 13).
-- total_time became total_exec_time; plans/*_plan_time and wal_* appear. No toplevel column: every entry counts as top level.
-- Columns are renamed to QueryStat fields; NULL where this version does not measure a field.
-- Kept: the top N by total_exec_time, plus any entry whose mean time or share of all calls
-- reaches its threshold (parameters top, min_mean_ms, min_calls_share). Hidden rows (queryid
-- NULL: <insufficient privilege>) and queryreview's own statements (the marker comment first,
-- after the first keyword, or last: PG 18 drops a leading comment) are left out here and
-- counted by pg_stat_statements_totals. The view's schema-qualified name is filled in by stats.py.
WITH /* queryreview */ visible AS (
    SELECT s.*,
           row_number() OVER (ORDER BY s.total_exec_time DESC, s.queryid, s.userid) AS rank,
           sum(s.calls) OVER () AS all_calls
    FROM {pgss} AS s
    WHERE s.dbid = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
      AND s.queryid IS NOT NULL
      AND NOT coalesce(s.query ~ '^\s*(\w+\s+)?/\* queryreview|/\* queryreview \*/\s*$', false)
)
SELECT
    s.queryid,
    s.query,
    true AS toplevel,
    s.calls,
    s.total_exec_time,
    s.mean_exec_time,
    s.min_exec_time,
    s.max_exec_time,
    s.stddev_exec_time,
    s.rows,
    s.plans,
    s.total_plan_time,
    s.shared_blks_hit,
    s.shared_blks_read,
    s.shared_blks_dirtied,
    s.shared_blks_written,
    s.local_blks_hit,
    s.local_blks_read,
    s.temp_blks_read,
    s.temp_blks_written,
    s.blk_read_time AS shared_blk_read_time,
    s.blk_write_time AS shared_blk_write_time,
    NULL AS temp_blk_read_time,
    NULL AS temp_blk_write_time,
    s.wal_records,
    s.wal_fpi,
    s.wal_bytes,
    NULL AS jit_functions,
    NULL AS jit_time,
    NULL AS parallel_workers_to_launch,
    NULL AS parallel_workers_launched,
    NULL AS stats_since,
    r.rolname AS "user",
    current_database() AS database
FROM visible AS s
LEFT JOIN pg_roles AS r ON r.oid = s.userid
WHERE s.rank <= %(top)s
   OR s.mean_exec_time >= %(min_mean_ms)s
   OR s.calls >= %(min_calls_share)s * s.all_calls
ORDER BY s.rank
