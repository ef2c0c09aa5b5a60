-- Back-office reports, written well.

-- Report filters: the country picker (only the countries we ship to).
SELECT code, name FROM countries WHERE shipping_enabled ORDER BY name;

-- CRM sync: customers in keyset-paginated batches ($1 = last id of the previous batch).
SELECT c.id, c.email, c.name, c.country, c.created_at
FROM customers c
WHERE c.id > $1
ORDER BY c.id
LIMIT 1000;

-- Mailing list: the branches cannot overlap, so UNION ALL skips the de-duplication.
SELECT c.email FROM customers c WHERE c.marketing_opt_in
UNION ALL
SELECT s.email
FROM newsletter_signups s
WHERE s.confirmed_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.email = s.email AND c.marketing_opt_in);

-- Customer lifetime value ($1 = customer id): filter rows before grouping.
SELECT customer_id, sum(total) AS revenue, count(*) AS orders
FROM orders
WHERE customer_id = $1
GROUP BY customer_id;

-- Fulfilment backlog: the undelivered states, served by a partial index
-- CREATE INDEX ON orders (created_at) WHERE status IN ('pending', 'paid', 'packed', 'shipped').
SELECT id, customer_id, status, created_at
FROM orders
WHERE status IN ('pending', 'paid', 'packed', 'shipped')
ORDER BY created_at
LIMIT 500;

-- Monthly revenue for the finance dashboard ($1, $2 = first day of the range, first day after it).
SELECT date_trunc('month', created_at) AS month, sum(total) AS revenue
FROM orders
WHERE created_at >= $1
  AND created_at < $2
GROUP BY 1
ORDER BY 1;

-- Customers with at least one order in the range: EXISTS stops at the first one.
SELECT c.id, c.email
FROM customers c
WHERE EXISTS (SELECT 1 FROM orders o
              WHERE o.customer_id = c.id AND o.created_at >= $1 AND o.created_at < $2);

-- Win-back campaign: customers who signed up before a date ($1) and never ordered.
SELECT c.id, c.email
FROM customers c
WHERE c.created_at < $1
  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id);

-- Sales leaderboard for one region ($1): orders each rep closed this month.
SELECT r.name, count(o.id) AS orders_closed
FROM sales_reps r
JOIN orders o ON o.sales_rep_id = r.id
WHERE r.region = $1
  AND o.created_at >= date_trunc('month', now())
GROUP BY r.name
ORDER BY orders_closed DESC;
