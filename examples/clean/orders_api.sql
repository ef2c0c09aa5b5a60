-- Orders API, written well. $1 is the authenticated customer's id unless noted.

-- GET /orders/:id  ($2 = order id)
SELECT o.id, o.status, o.total, o.currency, o.created_at
FROM orders o
WHERE o.id = $2
  AND o.customer_id = $1;

-- GET /orders?status=shipped  -- a stable page order, so page 2 follows page 1.
SELECT id, status, total, created_at
FROM orders
WHERE customer_id = $1
  AND status = $2
ORDER BY created_at DESC, id DESC
LIMIT 20;

-- GET /orders/history?after=...  -- keyset pagination: the client sends the last row's
-- (created_at, id) as $2, $3, and every page costs the same.
SELECT id, status, total, created_at
FROM orders
WHERE customer_id = $1
  AND (created_at, id) < ($2, $3)
ORDER BY created_at DESC, id DESC
LIMIT 20;

-- GET /orders/:id/invoice  -- legacy_invoices.order_id is now a bigint foreign key.
SELECT i.number, i.issued_at, i.pdf_url
FROM orders o
JOIN legacy_invoices i ON i.order_id = o.id
WHERE o.id = $2
  AND o.customer_id = $1;

-- GET /orders/unpaid  -- orders waiting for payment.
SELECT id, total, created_at
FROM orders
WHERE customer_id = $1
  AND paid_at IS NULL
ORDER BY created_at;

-- GET /orders/:id/items  ($2 = order id)
SELECT li.product_id, p.name, li.quantity, li.unit_price
FROM line_items li
JOIN products p ON p.id = li.product_id
JOIN orders o ON o.id = li.order_id
WHERE li.order_id = $2
  AND o.customer_id = $1
ORDER BY li.position;

-- POST /orders/:id/cancel  -- lock the one order row, then change it in the same transaction.
SELECT status, paid_at
FROM orders
WHERE id = $2
  AND customer_id = $1
FOR UPDATE;

-- POST /admin/orders/mark-shipped  -- the selected ids travel as one array parameter.
UPDATE orders
SET status = 'shipped', shipped_at = now()
WHERE id = ANY($1);

-- GET /orders/:id/shipments  -- shipment_events.order_id is extracted on write.
SELECT s.carrier, s.tracking_number, s.updated_at
FROM shipment_events s
JOIN orders o ON o.id = s.order_id
WHERE o.id = $2
  AND o.customer_id = $1
ORDER BY s.updated_at DESC;
