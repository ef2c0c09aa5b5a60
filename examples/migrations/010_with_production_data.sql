-- 010_with_production_data.sql: statements whose risk depends on production data.
-- Offline they pass or only warn; with a catalog (--snapshot prod-snapshot.json) they become
-- errors: the index is in use (QR518), and orders is large enough that shrinking a column's
-- type rewrites 48M rows under ACCESS EXCLUSIVE (QR519). Widening the other one is free.
SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
ALTER TABLE orders ALTER COLUMN status TYPE varchar(20);
ALTER TABLE customers ALTER COLUMN email TYPE varchar(320);
