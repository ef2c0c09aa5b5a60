-- 001_create_tables.sql: the initial schema. New tables are empty and unused, so plain
-- CREATE INDEX and foreign keys cost nothing here; bigint identity keys; every foreign key indexed.
BEGIN;

CREATE TABLE customers (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email      text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE coupons (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code     text NOT NULL UNIQUE,
  discount numeric(5, 2) NOT NULL
);

CREATE TABLE orders (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  status      text NOT NULL DEFAULT 'pending',
  total_cents bigint NOT NULL CHECK (total_cents >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

CREATE TABLE order_items (
  order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line_no    int NOT NULL,
  sku        text NOT NULL,
  quantity   int NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, line_no)
);

COMMIT;
