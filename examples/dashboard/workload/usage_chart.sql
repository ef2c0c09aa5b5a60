-- Usage chart: the account's events per day over the last month ("today" is 2025-06-30).
-- weight: 8
\set customer_id random(1, :customers)
SELECT date_trunc('day', created_at) AS day, count(*) AS events FROM events WHERE customer_id = :customer_id AND created_at >= '2025-06-01' GROUP BY 1 ORDER BY 1;
