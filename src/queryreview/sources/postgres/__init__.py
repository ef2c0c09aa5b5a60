"""Live PostgreSQL source: safe sessions, pg_stat_statements, catalog."""
