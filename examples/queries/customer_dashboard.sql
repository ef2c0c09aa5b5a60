-- Customer dashboard: the pages a signed-in customer sees after login.
-- Unless noted, $1 is the signed-in customer's id.

-- Header bar: name and avatar of the signed-in customer.
SELECT * FROM customers WHERE id = $1;

-- "Recent orders" card: the last five orders with their totals.
SELECT id, status, total, created_at
FROM orders
WHERE customer_id = $1
ORDER BY created_at DESC
LIMIT 5;

-- "Ordered today" badge ($2 is the customer's local date).
SELECT count(*) AS orders_today
FROM orders
WHERE customer_id = $1
  AND date(created_at) = $2;

-- Onboarding banner: hidden once the customer has placed any order.
SELECT count(*) > 0 AS has_ordered
FROM orders
WHERE customer_id = $1;

-- Address book: saved addresses, each with how many orders were shipped there.
SELECT a.id, a.label, a.city,
       (SELECT count(*) FROM orders o WHERE o.shipping_address_id = a.id) AS order_count
FROM addresses a
WHERE a.customer_id = $1
ORDER BY a.label;

-- "Open orders" panel: everything not delivered or cancelled yet.
SELECT id, status, total
FROM orders
WHERE customer_id = $1
  AND status NOT IN ('delivered', 'cancelled')
ORDER BY created_at DESC;

-- "Friends also bought": products in the categories bought by customers this customer referred.
SELECT p.id, p.name, p.price
FROM products p
WHERE p.category_id IN (
  SELECT pr.category_id FROM products pr
  WHERE pr.id IN (
    SELECT li.product_id FROM line_items li
    WHERE li.order_id IN (
      SELECT o.id FROM orders o
      WHERE o.customer_id IN (SELECT c.id FROM customers c WHERE c.referred_by = $1))))
ORDER BY p.price
LIMIT 12;

-- "Buy again" list: every product the customer has ever ordered, by name.
SELECT DISTINCT p.id, p.name
FROM orders o
JOIN line_items li ON li.order_id = o.id
JOIN products p ON p.id = li.product_id
WHERE o.customer_id = $1
ORDER BY p.name
LIMIT 50;

-- Notification bell: unread notifications, newest first.
SELECT id, kind, title, created_at
FROM notifications
WHERE customer_id = $1
  AND read_at IS NULL
ORDER BY created_at DESC
LIMIT 20;
