-- 005_safe_not_null.sql: NOT NULL on an existing column without a locked scan.
-- Each statement commits on its own: the validating scan runs under SHARE UPDATE EXCLUSIVE,
-- which blocks neither reads nor writes, and SET NOT NULL then uses the valid check (PG 12+).
SET lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_channel_not_null CHECK (channel IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_channel_not_null;
ALTER TABLE orders ALTER COLUMN channel SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_channel_not_null;
