-- 003_safe_index.sql: the same kind of index, built the safe way. No transaction block
-- (CONCURRENTLY refuses one), a lock_timeout so the migration fails fast instead of
-- queueing queries behind it, and IF NOT EXISTS so a retry after a timeout is harmless.
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);
