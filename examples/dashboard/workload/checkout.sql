-- Checkout: a customer orders a product. The order total is recomputed from its lines, which
-- reads order_items by order_id (no index) inside the transaction.
-- weight: 3
\set customer_id random(1, :customers)
\set product_id random(1, :products)
\set quantity random(1, 3)
BEGIN;
INSERT INTO orders (customer_id, status, total_cents) VALUES (:customer_id, 'pending', 0) RETURNING id AS new_order_id \gset
INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_cents) SELECT :new_order_id, 1, id, :quantity, price_cents FROM products WHERE id = :product_id;
UPDATE orders SET total_cents = (SELECT sum(quantity * unit_price_cents) FROM order_items WHERE order_id = :new_order_id) WHERE id = :new_order_id;
COMMIT;
