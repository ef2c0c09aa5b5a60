-- Evictions and the last reset of pg_stat_statements (view added in extension 1.9, PostgreSQL 14).
-- The view's schema-qualified name is filled in by stats.py.
SELECT /* queryreview */ i.dealloc, i.stats_reset
FROM {info} AS i
