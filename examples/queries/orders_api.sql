-- Orders API (JSON over HTTP), called by the storefront and the mobile app.
-- $1 is the authenticated customer's id unless noted.

-- GET /orders/:id  ($2 = order id)
SELECT o.id, o.status, o.total, o.currency, o.created_at
FROM orders o
WHERE o.id = $2
  AND o.customer_id = $1;

-- GET /orders?status=shipped  -- first page of the customer's orders in one status ($2)
SELECT id, status, total, created_at
FROM orders
WHERE customer_id = $1
  AND status = $2
LIMIT 20;

-- GET /orders/history?page=N  -- order history, 20 per page ($2 = (page - 1) * 20).
SELECT id, status, total, created_at
FROM orders
WHERE customer_id = $1
ORDER BY created_at DESC, id DESC
LIMIT 20 OFFSET $2;

-- GET /orders/:id/invoice  -- billing still lives in the legacy schema, where order
-- references are stored as text ($2 = order id).
SELECT i.number, i.issued_at, i.pdf_url
FROM orders o
JOIN legacy_invoices i ON o.id = i.order_ref::bigint
WHERE o.id = $2
  AND o.customer_id = $1;

-- GET /orders/unpaid  -- orders waiting for payment.
SELECT id, total, created_at
FROM orders
WHERE customer_id = $1
  AND paid_at = NULL
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

-- POST /admin/orders/mark-shipped  -- the admin grid sends the selected ids; the ORM inlines them.
UPDATE orders
SET status = 'shipped', shipped_at = now()
WHERE id IN (
  100231, 100232, 100233, 100234, 100235, 100236, 100237, 100238, 100239, 100240,
  100241, 100242, 100243, 100244, 100245, 100246, 100247, 100248, 100249, 100250,
  100251, 100252, 100253, 100254, 100255, 100256, 100257, 100258, 100259, 100260,
  100261, 100262, 100263, 100264, 100265, 100266, 100267, 100268, 100269, 100270,
  100271, 100272, 100273, 100274, 100275, 100276, 100277, 100278, 100279, 100280,
  100281, 100282, 100283, 100284, 100285, 100286, 100287, 100288, 100289, 100290
);

-- GET /orders/:id/shipments  -- carrier webhooks store the order id inside the JSON payload.
SELECT s.carrier, s.tracking_number, s.updated_at
FROM shipment_events s
JOIN orders o ON o.id = (s.payload->>'order_id')::bigint
WHERE o.id = $2
  AND o.customer_id = $1
ORDER BY s.updated_at DESC;
