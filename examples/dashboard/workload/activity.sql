-- Activity page: the account's event log, twenty at a time, newest first.
-- weight: 15
\set customer_id random(1, :customers)
\set page random(0, 4)
\set offset :page * 20
SELECT id, name, slug FROM categories ORDER BY position;
-- OFFSET pagination, and no index on events (customer_id, created_at): every page reads the whole log.
SELECT id, kind, created_at, properties FROM events WHERE customer_id = :customer_id ORDER BY created_at DESC LIMIT 20 OFFSET :offset;
-- Every page view is itself logged.
INSERT INTO events (customer_id, kind, properties) VALUES (:customer_id, 'page_view', '{"path": "/activity"}');
