-- Search, written well.

-- Admin: customers of one company; email_domain is a stored generated column with an index ($1 = 'acme.com').
SELECT id, email, name
FROM customers
WHERE email_domain = $1
ORDER BY email
LIMIT 50;

-- Login form: email and username each use their own unique index.
SELECT id, password_hash FROM users WHERE email = $1
UNION ALL
SELECT id, password_hash FROM users WHERE username = $1;

-- Order lookup by receipt reference: references are stored upper-case, so normalise the input instead.
SELECT id, status, total
FROM orders
WHERE reference = upper($1);

-- Storefront: products by exact SKU ($1).
SELECT id, name, price
FROM products
WHERE sku = $1;

-- Storefront home page: eight featured products; the merchandising team ranks them.
SELECT id, name, price, image_url
FROM products
WHERE active
  AND featured_rank IS NOT NULL
ORDER BY featured_rank
LIMIT 8;

-- Support tool: customers who have never ordered and signed up after a date ($1).
SELECT c.id, c.email
FROM customers c
WHERE c.created_at > $1
  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
ORDER BY c.created_at
LIMIT 100;
