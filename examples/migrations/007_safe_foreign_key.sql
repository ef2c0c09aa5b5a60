-- 007_safe_foreign_key.sql: the same kind of key, added without a locked scan.
-- The index comes first (built concurrently), the key is added NOT VALID (instant), and the
-- validation runs in a later transaction, under a lock that blocks neither reads nor writes.
SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN referrer_id bigint;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_referrer_id_idx ON orders (referrer_id);

BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_referrer_id_fkey
  FOREIGN KEY (referrer_id) REFERENCES customers (id) NOT VALID;
COMMIT;

ALTER TABLE orders VALIDATE CONSTRAINT orders_referrer_id_fkey;
