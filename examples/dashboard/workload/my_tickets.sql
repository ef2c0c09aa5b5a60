-- Support page: the customer's tickets, latest activity first.
-- weight: 8
\set customer_id random(1, :customers)
SELECT id, name, slug FROM categories ORDER BY position;
SELECT id, subject, status, priority, updated_at FROM support_tickets WHERE customer_id = :customer_id ORDER BY updated_at DESC LIMIT 10;
