-- Order page: one of the customer's orders with its lines. The template asks for each line's
-- product separately: one query per order line (the N+1 loop).
-- Order ids and lines follow the formulas in data.sql, so the script knows them without asking.
-- weight: 15
\set customer_id random(1, :customers)
\set order_id :customer_id + :customers * random(0, 9)
\set lines 1 + ((:order_id * 2654435761) >> 16) % 4
SELECT id, name, slug FROM categories ORDER BY position;
SELECT id, status, total_cents, currency, created_at FROM orders WHERE id = :order_id AND customer_id = :customer_id;
-- The lines (missing index: order_items has none on order_id, the foreign key).
SELECT line_no, product_id, quantity, unit_price_cents FROM order_items WHERE order_id = :order_id ORDER BY line_no;
\set product_id 1 + ((:order_id * 2654435761 + 1 * 40503) >> 8) % :products
SELECT name, sku, price_cents FROM products WHERE id = :product_id;
\if :lines >= 2
\set product_id 1 + ((:order_id * 2654435761 + 2 * 40503) >> 8) % :products
SELECT name, sku, price_cents FROM products WHERE id = :product_id;
\endif
\if :lines >= 3
\set product_id 1 + ((:order_id * 2654435761 + 3 * 40503) >> 8) % :products
SELECT name, sku, price_cents FROM products WHERE id = :product_id;
\endif
\if :lines >= 4
\set product_id 1 + ((:order_id * 2654435761 + 4 * 40503) >> 8) % :products
SELECT name, sku, price_cents FROM products WHERE id = :product_id;
\endif
