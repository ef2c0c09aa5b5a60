-- Server, database and role facts for the catalog header.
SELECT /* queryreview */
    current_setting('server_version') AS server_version,
    current_setting('server_version_num')::int AS server_version_num,
    current_setting('block_size')::int AS block_size,
    current_database() AS database,
    current_user AS role,
    quote_ident(current_user) AS role_ident,
    current_schemas(false)::text[] AS search_path,
    (SELECT d.stats_reset FROM pg_stat_database AS d WHERE d.datname = current_database()) AS stats_reset
