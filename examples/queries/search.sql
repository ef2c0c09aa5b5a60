-- Search: the admin customer search, login, and the storefront search box.

-- Admin: customers of one company, found by the domain their email ends with.
SELECT id, email, name
FROM customers
WHERE email LIKE '%@acme.com'
ORDER BY email
LIMIT 50;

-- Login form: the user may type an email or a username ($1).
SELECT id, password_hash
FROM users
WHERE email = $1 OR username = $1;

-- Order lookup by the reference printed on receipts, typed in any case ($1).
SELECT id, status, total
FROM orders
WHERE upper(reference) = upper($1);

-- Storefront: products by exact SKU ($1).
SELECT id, name, price
FROM products
WHERE sku = $1;

-- Storefront home page: eight "featured" products, shuffled on every visit.
SELECT id, name, price, image_url
FROM products
WHERE active
ORDER BY random()
LIMIT 8;

-- Support tool: customers who have never ordered and signed up after a date ($1).
SELECT c.id, c.email
FROM customers c
WHERE c.created_at > $1
  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
ORDER BY c.created_at
LIMIT 100;
