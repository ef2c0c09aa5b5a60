-- Totals over every entry of the current database, pg_stat_statements 1.9 and later.
-- Times and calls add up top-level entries only: a nested statement's time is already inside its caller's.
-- Hidden rows (another role's statements without pg_read_all_stats) show queryid NULL;
-- they are counted apart, with their time. queryreview's own statements (marker comment first,
-- after the first keyword, or last) are counted apart too.
-- The view's schema-qualified name is filled in by stats.py.
SELECT /* queryreview */
    count(*) FILTER (WHERE e.visible AND NOT e.ours) AS entries,
    coalesce(sum(e.total_exec_time) FILTER (WHERE e.visible AND NOT e.ours AND e.toplevel), 0) AS total_exec_time,
    coalesce(sum(e.calls) FILTER (WHERE e.visible AND NOT e.ours AND e.toplevel), 0) AS total_calls,
    count(*) FILTER (WHERE NOT e.visible) AS hidden_entries,
    coalesce(sum(e.total_exec_time) FILTER (WHERE NOT e.visible AND e.toplevel), 0) AS hidden_exec_time,
    count(*) FILTER (WHERE e.ours) AS own_entries
FROM (
    SELECT s.queryid IS NOT NULL AS visible,
           coalesce(s.query ~ '^\s*(\w+\s+)?/\* queryreview|/\* queryreview \*/\s*$', false) AS ours,
           s.toplevel AS toplevel,
           s.total_exec_time,
           s.calls
    FROM {pgss} AS s
    WHERE s.dbid = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
) AS e
