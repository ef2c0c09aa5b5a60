-- Columns of every collected table, in table order. Defaults are deparsed without the table
-- (pg_get_expr(adbin, 0): a default cannot reference columns), so no lock is taken. Generated
-- columns report no default: pg_attrdef holds their generation expression, not a default.
SELECT /* queryreview */
    n.nspname AS schema,
    c.relname AS table_name,
    a.attname AS name,
    format_type(a.atttypid, a.atttypmod) AS type,
    a.attnotnull AS not_null,
    CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) END AS "default"
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0
  AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, c.relname, a.attnum
