-- pg_stats per column (only columns this role may SELECT are visible). For a partitioned
-- table only the inherited row exists; elsewhere the table's own row is preferred.
-- Parameter with_values: false leaves most_common_vals and histogram_bounds out entirely
-- (--redact: data values never leave the server). anyarray needs the ::text::text[] cast;
-- float4 goes through text so that 0.001 stays 0.001 (not 0.0010000000474974513).
SELECT /* queryreview */ DISTINCT ON (s.schemaname, s.tablename, s.attname)
    s.schemaname AS schema,
    s.tablename AS table_name,
    s.attname AS "column",
    s.null_frac::text::float8 AS null_frac,
    s.n_distinct::text::float8 AS n_distinct,
    s.avg_width,
    s.correlation::text::float8 AS correlation,
    CASE WHEN %(with_values)s THEN s.most_common_vals::text::text[] END AS most_common_vals,
    s.most_common_freqs::text::float8[] AS most_common_freqs,
    CASE WHEN %(with_values)s THEN s.histogram_bounds::text::text[] END AS histogram_bounds
FROM pg_stats AS s
WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema')
  AND s.schemaname !~ '^pg_(toast|temp_)'
ORDER BY s.schemaname, s.tablename, s.attname, s.inherited
