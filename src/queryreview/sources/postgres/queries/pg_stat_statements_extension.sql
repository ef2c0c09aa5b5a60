-- Is pg_stat_statements usable here? Installed version and schema, whether the library is
-- loaded (its settings exist only when shared_preload_libraries has it), the settings that
-- decide what it records, and whether this role may see other roles' statements.
SELECT /* queryreview */
    e.extversion AS extversion,
    n.nspname AS schema,
    (SELECT a.default_version FROM pg_available_extensions AS a WHERE a.name = 'pg_stat_statements')
        AS available_version,
    EXISTS (SELECT 1 FROM pg_settings AS g WHERE g.name = 'pg_stat_statements.max') AS loaded,
    (SELECT g.setting FROM pg_settings AS g WHERE g.name = 'pg_stat_statements.track') AS track,
    (SELECT g.setting FROM pg_settings AS g WHERE g.name = 'pg_stat_statements.max') AS max,
    (SELECT g.setting FROM pg_settings AS g WHERE g.name = 'pg_stat_statements.track_planning') AS track_planning,
    (SELECT g.setting FROM pg_settings AS g WHERE g.name = 'compute_query_id') AS compute_query_id,
    current_user AS role,
    quote_ident(current_user) AS role_ident,
    pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS reads_all_stats
FROM (SELECT 1) AS one
LEFT JOIN pg_extension AS e ON e.extname = 'pg_stat_statements'
LEFT JOIN pg_namespace AS n ON n.oid = e.extnamespace
