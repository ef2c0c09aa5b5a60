-- "Buy again" card: the customer's most-ordered products (joins through order_items.order_id,
-- which has no index).
-- weight: 8
\set customer_id random(1, :customers)
SELECT p.id, p.name, sum(i.quantity) AS bought FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id WHERE o.customer_id = :customer_id GROUP BY p.id, p.name ORDER BY bought DESC LIMIT 5;
