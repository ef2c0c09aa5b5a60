-- Dashboard home: the page every signed-in customer lands on (most of the traffic).
-- weight: 30
\set customer_id random(1, :customers)
-- Header: who is signed in, and on which plan.
SELECT c.id, c.name, c.email, p.name AS plan FROM customers c JOIN plans p ON p.id = c.plan_id WHERE c.id = :customer_id;
-- Navigation menu: the same 24 categories for everyone, on every page (worth caching).
SELECT id, name, slug FROM categories ORDER BY position;
-- "Orders in progress" card (missing index: orders has none on customer_id).
SELECT id, status, total_cents, created_at FROM orders WHERE customer_id = :customer_id AND status IN ('pending', 'paid', 'shipped') ORDER BY created_at DESC;
-- "Open tickets" badge (missing index: support_tickets has none on customer_id).
SELECT count(*) FROM support_tickets WHERE customer_id = :customer_id AND status IN ('open', 'pending');
-- Session bookkeeping: when the customer was last seen.
UPDATE customers SET last_seen_at = now() WHERE id = :customer_id;
