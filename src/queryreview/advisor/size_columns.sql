-- Storage facts for index size estimates (advisor/sizes.py, which ignores deduplication before
-- PostgreSQL 13; collisdeterministic needs 12). Per column of the given tables: typlen and typalign
-- (of the base type for a domain); whether a btree on it may deduplicate: the default btree operator
-- class for the type (or one it is binary-coercible to, varchar -> text; anyenum for enums) has an
-- equalimage support function (amprocnum 4) and the column's collation is deterministic; its
-- statistics target; and its pg_stats row (only the rows this role may read are visible).
SELECT /* queryreview */
    n.nspname AS schema,
    c.relname AS table_name,
    c.reltuples::float8 AS reltuples,
    c.relpages::bigint AS relpages,
    a.attname AS "column",
    format_type(a.atttypid, a.atttypmod) AS type,
    b.typlen,
    b.typalign::text AS typalign,
    coalesce((SELECT co.collisdeterministic FROM pg_collation AS co WHERE co.oid = a.attcollation), true)
    AND EXISTS (
        SELECT 1
        FROM pg_opclass AS oc
        JOIN pg_am AS am ON am.oid = oc.opcmethod AND am.amname = 'btree'
        JOIN pg_amproc AS p ON p.amprocfamily = oc.opcfamily AND p.amprocnum = 4
            AND p.amproclefttype = oc.opcintype AND p.amprocrighttype = oc.opcintype
        WHERE oc.opcdefault
          AND (oc.opcintype = b.oid
               OR (b.typtype = 'e' AND oc.opcintype = 'anyenum'::regtype)
               OR EXISTS (SELECT 1 FROM pg_cast AS k
                          WHERE k.castsource = b.oid AND k.casttarget = oc.opcintype AND k.castmethod = 'b'))
    ) AS dedup,
    coalesce(nullif(a.attstattarget::int, -1), current_setting('default_statistics_target')::int) AS stats_target,
    s.null_frac::text::float8 AS null_frac,
    s.n_distinct::text::float8 AS n_distinct,
    s.avg_width,
    s.correlation::text::float8 AS correlation,
    s.most_common_vals::text::text[] AS most_common_vals,
    s.most_common_freqs::text::float8[] AS most_common_freqs
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS w(schema, name)
JOIN pg_namespace AS n ON n.nspname = w.schema
JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relname = w.name
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type AS t ON t.oid = a.atttypid
JOIN pg_type AS b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN LATERAL (
    SELECT st.*
    FROM pg_stats AS st
    WHERE st.schemaname = n.nspname AND st.tablename = c.relname AND st.attname = a.attname
    ORDER BY st.inherited
    LIMIT 1
) AS s ON true
ORDER BY n.nspname, c.relname, a.attnum
