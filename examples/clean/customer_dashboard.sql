-- Customer dashboard, written well: every query is keyed on the signed-in customer ($1),
-- names its columns, and bounds what it returns.

-- Header bar: name and avatar of the signed-in customer.
SELECT id, name, avatar_url FROM customers WHERE id = $1;

-- "Recent orders" card: the last five orders with their totals.
-- Index: orders (customer_id, created_at DESC).
SELECT id, status, total, created_at
FROM orders
WHERE customer_id = $1
ORDER BY created_at DESC
LIMIT 5;

-- "Ordered today" badge: a range on the raw column keeps the index usable
-- ($2 = start of the customer's local day, as timestamptz).
SELECT count(*) AS orders_today
FROM orders
WHERE customer_id = $1
  AND created_at >= $2
  AND created_at < $2 + interval '1 day';

-- Onboarding banner: EXISTS stops at the first order.
SELECT EXISTS (SELECT 1 FROM orders WHERE customer_id = $1) AS has_ordered;

-- Address book: one grouped join instead of a subquery per address.
SELECT a.id, a.label, a.city, count(o.id) AS order_count
FROM addresses a
LEFT JOIN orders o ON o.shipping_address_id = a.id
WHERE a.customer_id = $1
GROUP BY a.id, a.label, a.city
ORDER BY a.label;

-- "Open orders" panel: the open states listed explicitly.
SELECT id, status, total
FROM orders
WHERE customer_id = $1
  AND status IN ('pending', 'paid', 'packed', 'shipped')
ORDER BY created_at DESC
LIMIT 50;

-- "Friends also bought": one semi-join the planner can reorder, instead of nested IN levels.
SELECT p.id, p.name, p.price
FROM products p
WHERE EXISTS (
  SELECT 1
  FROM customers referred
  JOIN orders o ON o.customer_id = referred.id
  JOIN line_items li ON li.order_id = o.id
  JOIN products bought ON bought.id = li.product_id
  WHERE referred.referred_by = $1
    AND bought.category_id = p.category_id)
ORDER BY p.price
LIMIT 12;

-- "Buy again" list: products the customer has ordered; EXISTS returns each product once, no DISTINCT needed.
SELECT p.id, p.name
FROM products p
WHERE EXISTS (
  SELECT 1
  FROM line_items li
  JOIN orders o ON o.id = li.order_id
  WHERE li.product_id = p.id
    AND o.customer_id = $1)
ORDER BY p.name
LIMIT 50;

-- Notification bell: unread notifications, newest first.
SELECT id, kind, title, created_at
FROM notifications
WHERE customer_id = $1
  AND read_at IS NULL
ORDER BY created_at DESC
LIMIT 20;
