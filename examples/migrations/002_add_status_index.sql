-- 002_add_status_index.sql: the dashboard filters orders by status.
-- A plain CREATE INDEX holds a SHARE lock on orders for the whole build: every INSERT,
-- UPDATE and DELETE on orders waits (QR501), and nothing bounds the wait for the lock (QR513).
CREATE INDEX orders_status_idx ON orders (status);
