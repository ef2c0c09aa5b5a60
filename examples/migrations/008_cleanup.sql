-- 008_cleanup.sql: tidying up, in one go.
BEGIN;
SET LOCAL lock_timeout = '5s';
-- the application version still deployed reads these names (QR509, QR511)
ALTER TABLE customers RENAME COLUMN email TO email_address;
ALTER TABLE orders DROP COLUMN channel;
-- int -> bigint converts every value: a full rewrite under ACCESS EXCLUSIVE (QR505)
ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint;
-- CONCURRENTLY inside BEGIN … COMMIT fails (QR503)
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;
COMMIT;

-- rewrites the whole table under ACCESS EXCLUSIVE (QR514); use pg_repack
VACUUM FULL orders;
