-- Back office, sales: the day's orders and the latest orders ("today" is 2025-06-30).
-- weight: 4
\set days_ago random(0, 29)
-- Non-sargable: date(created_at) = … cannot use orders_created_at_idx, so every call reads all orders.
SELECT count(*) AS orders, coalesce(sum(total_cents), 0) AS revenue_cents FROM orders WHERE date(created_at) = '2025-06-30'::date - :days_ago::integer;
SELECT o.id, o.status, o.total_cents, o.created_at, c.name FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.created_at DESC LIMIT 20;
