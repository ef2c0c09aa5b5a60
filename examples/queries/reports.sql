-- Back-office reports: finance, CRM sync and the marketing mailing list.

-- Report filters: the country picker.
-- countries is a 250-row reference table that changes once a year; the app caches it at boot.
-- queryreview: ignore[unbounded-select]
SELECT code, name FROM countries ORDER BY name;

-- CRM sync: every customer, pushed to the CRM every night.
SELECT c.id, c.email, c.name, c.country, c.created_at
FROM customers c
ORDER BY c.id;

-- Mailing list: opted-in customers plus confirmed newsletter signups.
SELECT email FROM customers WHERE marketing_opt_in
UNION
SELECT email FROM newsletter_signups WHERE confirmed_at IS NOT NULL;

-- Customer lifetime value, for the account manager's customer page ($1 = customer id).
SELECT customer_id, sum(total) AS revenue, count(*) AS orders
FROM orders
GROUP BY customer_id
HAVING customer_id = $1;

-- Fulfilment backlog: every order that has not been delivered yet.
SELECT id, customer_id, status, created_at
FROM orders
WHERE status <> 'delivered'
ORDER BY created_at;

-- Monthly revenue for the finance dashboard ($1, $2 = first day of the range, first day after it).
SELECT date_trunc('month', created_at) AS month, sum(total) AS revenue
FROM orders
WHERE created_at >= $1
  AND created_at < $2
GROUP BY 1
ORDER BY 1;

-- Customers with at least one order in the range, for the "active customers" KPI.
SELECT c.id, c.email
FROM customers c
WHERE (SELECT count(*) FROM orders o
       WHERE o.customer_id = c.id AND o.created_at >= $1 AND o.created_at < $2) > 0;

-- Win-back campaign: customers who signed up before a date ($1) and never ordered.
SELECT c.id, c.email
FROM customers c
WHERE c.created_at < $1
  AND c.id NOT IN (SELECT o.customer_id FROM orders o);

-- Sales leaderboard for one region ($1): orders each rep closed this month.
-- (The link between the two tables was lost when the query was rewritten.)
SELECT r.name, count(o.id) AS orders_closed
FROM sales_reps r, orders o
WHERE r.region = $1
  AND o.created_at >= date_trunc('month', now())
GROUP BY r.name
ORDER BY orders_closed DESC;
