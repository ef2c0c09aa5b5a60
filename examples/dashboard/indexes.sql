-- Keys and indexes, after the bulk load: what the dashboard's database has in production.
--
-- The primary keys, unique constraints and foreign keys are all there. The secondary indexes
-- are the few the team added over the years; README.md tells which ones the dashboard's
-- queries need but never got, and which of these it never uses.
--
-- queryreview: ignore-file  (runs right after the bulk load, before any traffic: the locks
-- that migration rules warn about block nobody here)

-- -- keys -----------------------------------------------------------------------------------------

ALTER TABLE plans ADD CONSTRAINT plans_pkey PRIMARY KEY (id);
ALTER TABLE plans ADD CONSTRAINT plans_name_key UNIQUE (name);
ALTER TABLE categories ADD CONSTRAINT categories_pkey PRIMARY KEY (id);
ALTER TABLE categories ADD CONSTRAINT categories_slug_key UNIQUE (slug);
ALTER TABLE products ADD CONSTRAINT products_pkey PRIMARY KEY (id);
ALTER TABLE products ADD CONSTRAINT products_sku_key UNIQUE (sku);
ALTER TABLE customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
ALTER TABLE order_items ADD CONSTRAINT order_items_pkey PRIMARY KEY (id);
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);
ALTER TABLE support_tickets ADD CONSTRAINT support_tickets_pkey PRIMARY KEY (id);

-- -- foreign keys (PostgreSQL indexes the referenced side only) -------------------------------------

ALTER TABLE products ADD CONSTRAINT products_category_id_fkey
  FOREIGN KEY (category_id) REFERENCES categories (id);
ALTER TABLE customers ADD CONSTRAINT customers_plan_id_fkey
  FOREIGN KEY (plan_id) REFERENCES plans (id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey
  FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE;
ALTER TABLE order_items ADD CONSTRAINT order_items_product_id_fkey
  FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE events ADD CONSTRAINT events_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE support_tickets ADD CONSTRAINT support_tickets_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers (id);

-- -- secondary indexes ----------------------------------------------------------------------------

-- The back office lists the latest orders.
CREATE INDEX orders_created_at_idx ON orders (created_at);

-- Added for an "events by kind" report that was removed a year ago.
CREATE INDEX events_kind_idx ON events (kind);

-- Added by a migration that did not know about the unique constraint on the same column.
CREATE INDEX customers_email_idx ON customers (email);
