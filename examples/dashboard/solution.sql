-- The answer key: the indexes that fix the dashboard incident without changing a query, as a
-- production migration would apply them (CONCURRENTLY: writes go on while each index builds).
-- queryreview never reads this file to make its recommendations: bench/demo_speed.py applies
-- it to measure the speed-up, and README.md explains each statement.

SET lock_timeout = '5s';

-- Home page "orders in progress" and the "buy again" card: a customer's orders (by status).
CREATE INDEX CONCURRENTLY orders_customer_id_status_idx ON orders (customer_id, status);

-- Order page lines (the N+1's driving query) and the "buy again" join: the foreign key's index.
CREATE INDEX CONCURRENTLY order_items_order_id_idx ON order_items (order_id);

-- Activity page and usage chart: one customer's events in time order.
CREATE INDEX CONCURRENTLY events_customer_id_created_at_idx ON events (customer_id, created_at);

-- "Open tickets" badge and the support page: a customer's tickets.
CREATE INDEX CONCURRENTLY support_tickets_customer_id_idx ON support_tickets (customer_id);

-- Agents' queue: only the open tickets, already in the order the queue shows them.
CREATE INDEX CONCURRENTLY support_tickets_open_queue_idx ON support_tickets (priority DESC, created_at)
  WHERE status = 'open';

-- Sales tile: date(created_at) = … cannot use orders_created_at_idx. Without touching the query,
-- an index on the expression serves it; better still, rewrite the predicate as
-- created_at >= $1 AND created_at < $1 + 1 and orders_created_at_idx serves it as it is.
CREATE INDEX CONCURRENTLY orders_created_on_idx ON orders ((date(created_at)));

-- Never scanned, and written on every event.
DROP INDEX CONCURRENTLY events_kind_idx;

-- The unique constraint's index (customers_email_key) already answers every lookup by e-mail.
DROP INDEX CONCURRENTLY customers_email_idx;
