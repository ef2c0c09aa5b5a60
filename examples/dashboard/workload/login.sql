-- Sign-in: the account by e-mail address (two indexes can answer it: a unique one and its duplicate).
-- weight: 8
\set customer_id random(1, :customers)
SELECT id, name, plan_id FROM customers WHERE email = 'customer' || :customer_id || '@example.com';
UPDATE customers SET last_seen_at = now() WHERE id = :customer_id;
