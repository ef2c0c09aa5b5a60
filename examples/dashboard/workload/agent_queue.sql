-- Back office, support agents: the open tickets, most urgent first (a few thousand open
-- tickets among 150,000 mostly closed ones, and no index on status), then a reply to the first.
-- weight: 4
SELECT id, customer_id, subject, priority, created_at FROM support_tickets WHERE status = 'open' ORDER BY priority DESC, created_at LIMIT 25;
-- The template shows each ticket's customer: one query per ticket (an N+1 loop of 25). pgbench
-- cannot loop over the rows it received, so the script asks for 25 customers as the loop would.
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
\set customer_id random(1, :customers)
SELECT name, email, plan_id FROM customers WHERE id = :customer_id;
UPDATE support_tickets SET updated_at = now() WHERE id = (SELECT id FROM support_tickets WHERE status = 'open' ORDER BY priority DESC, created_at LIMIT 1);
