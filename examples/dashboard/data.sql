-- The dashboard's data, generated in SQL: deterministic (hashes of row numbers, no random()),
-- so every load gives the same rows. Run after schema.sql, before indexes.sql.
--
-- Scale 1 (the default) is 50,000 customers and about 3.5 million rows in all: orders 500k,
-- order_items 1.25M, events 1.5M, support_tickets 150k, products 5k, categories 24, plans 4.
-- Another scale: PGOPTIONS='-c demo.scale=0.1' psql -f data.sql  (queryreview sets it too).
--
-- The data covers 2024-01-01 to 2025-06-30; "today" in the workload is 2025-06-30.
-- orders.id and order_items follow formulas the workload scripts repeat (so a pgbench script
-- can walk a customer's orders and an order's lines without reading them first):
--   orders of customer c:       id = c + k * customers          (k = 0..9, oldest first)
--   lines of order o:           1 + ((o * 2654435761) >> 16) % 4
--   product of line l of o:     1 + ((o * 2654435761 + l * 40503) >> 8) % products
--
-- queryreview: ignore-file  (data generation, not application queries)

SELECT set_config('demo.scale', coalesce(nullif(current_setting('demo.scale', true), ''), '1'), false);

CREATE SCHEMA demo_gen;

-- A number in [0, 1) from a row key and a salt: the same inputs always give the same number.
CREATE FUNCTION demo_gen.u(key bigint, salt integer) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (hashint8(key * 64 + salt) + 2147483648.0::float8) / 4294967296.0::float8;

-- Row counts at the current scale (read from a table: a function in the SELECT list would run per row).
CREATE TABLE demo_gen.size AS
SELECT greatest(100, round(50000 * scale))::bigint AS customers,
       greatest(50, round(5000 * scale))::bigint AS products
FROM (SELECT current_setting('demo.scale')::numeric AS scale) AS setting;

-- An element of an array, picked by a number in [0, 1).
CREATE FUNCTION demo_gen.pick(choices text[], x double precision) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN choices[1 + floor(x * cardinality(choices))::integer];

-- A moment of the data's 547 days (2024-01-01 to 2025-06-30), as a fraction of the span.
CREATE FUNCTION demo_gen.at(fraction double precision) RETURNS timestamp
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN timestamp '2024-01-01' + make_interval(secs => fraction * (547 * 86400));

CREATE FUNCTION demo_gen.price(product bigint) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN 500 + floor(demo_gen.u(product, 3) * 19500)::integer;

-- -- reference data: written once, read on every page -------------------------------------------

INSERT INTO plans (id, name, monthly_price_cents, max_seats) VALUES
  (1, 'Free', 0, 1),
  (2, 'Basic', 900, 3),
  (3, 'Pro', 2900, 10),
  (4, 'Enterprise', 19900, 500);

INSERT INTO categories (id, name, slug, position)
SELECT g, name, lower(replace(replace(name, ' & ', '-'), ' ', '-')), g * 10
FROM unnest(ARRAY[
  'Laptops', 'Monitors', 'Keyboards', 'Mice', 'Headsets', 'Webcams', 'Docks & Hubs', 'Cables',
  'Storage', 'Networking', 'Printers', 'Paper & Ink', 'Desks', 'Chairs', 'Lighting', 'Software',
  'Cloud Credits', 'Phones', 'Tablets', 'Cases', 'Chargers', 'Audio', 'Smart Home', 'Gift Cards'
]) WITH ORDINALITY AS c(name, g);

INSERT INTO products (id, category_id, sku, name, price_cents, active)
SELECT g,
       1 + (g % 24),
       'SKU-' || lpad(g::text, 6, '0'),
       demo_gen.pick(ARRAY['Compact', 'Pro', 'Ultra', 'Classic', 'Eco', 'Travel', 'Studio', 'Max'],
                     demo_gen.u(g, 1))
         || ' ' || demo_gen.pick(ARRAY['Series', 'Edition', 'Kit', 'Pack', 'Model', 'Line'], demo_gen.u(g, 2))
         || ' ' || g,
       demo_gen.price(g),
       demo_gen.u(g, 4) >= 0.05
FROM (SELECT generate_series(1, products) AS g FROM demo_gen.size) AS s;

-- -- customers ----------------------------------------------------------------------------------

INSERT INTO customers (id, email, name, plan_id, country, created_at, last_seen_at)
SELECT g,
       'customer' || g || '@example.com',
       demo_gen.pick(ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John',
                           'Margaret', 'Ken', 'Radia', 'Dennis', 'Sophie', 'Linus', 'Hedy', 'Tim'],
                     demo_gen.u(g, 1))
         || ' ' || demo_gen.pick(ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth',
                                       'Allen', 'Backus', 'Hamilton', 'Thompson', 'Perlman', 'Ritchie',
                                       'Wilson', 'Torvalds', 'Lamarr', 'Berners-Lee'],
                                 demo_gen.u(g, 2)),
       CASE WHEN plan_draw < 0.50 THEN 1 WHEN plan_draw < 0.80 THEN 2 WHEN plan_draw < 0.95 THEN 3 ELSE 4 END,
       demo_gen.pick(ARRAY['DE', 'FR', 'NL', 'BE', 'ES', 'IT', 'GB', 'SE', 'PL', 'AT', 'CH', 'US'],
                     demo_gen.u(g, 4)),
       timestamp '2023-01-01' + make_interval(secs => demo_gen.u(g, 5) * (365 * 86400)),
       timestamp '2025-07-01' - make_interval(secs => demo_gen.u(g, 6) * (60 * 86400))
FROM (SELECT g, demo_gen.u(g, 3) AS plan_draw
      FROM (SELECT generate_series(1, customers) AS g FROM demo_gen.size) AS s) AS c;

-- -- events: an append-only activity log; a few big accounts make most of it -------------------------

INSERT INTO events (id, customer_id, kind, created_at, properties)
SELECT g,
       1 + floor(skew * skew * customers)::bigint,
       (ARRAY['page_view', 'page_view', 'page_view', 'page_view', 'page_view', 'page_view', 'page_view',
              'login', 'login', 'api_call', 'api_call', 'export', 'invite', 'billing', 'error', 'error'])[1 + k],
       demo_gen.at((g - 1 + ((bits >> 4) & 16777215) / 16777216.0::float8) / (30 * customers)),
       (ARRAY['{"path": "/"}', '{"path": "/orders"}', '{"path": "/orders/detail"}', '{"path": "/activity"}',
              '{"path": "/support"}', '{"path": "/billing"}', '{"path": "/"}',
              '{"method": "password"}', '{"method": "sso"}',
              '{"endpoint": "/v1/orders", "status": 200}', '{"endpoint": "/v1/orders", "status": 429}',
              '{"format": "csv"}', '{"role": "member"}', '{"invoice": "monthly"}',
              '{"code": 500}', '{"code": 504}']::jsonb[])[1 + k]
FROM (SELECT g, customers, bits, bits & 15 AS k, demo_gen.u(g, 1) AS skew
      FROM (SELECT g, customers, hashint8(g * 64 + 2) AS bits
            FROM (SELECT generate_series(1, 30 * customers) AS g, customers FROM demo_gen.size) AS s) AS h
     ) AS e;

-- -- orders: ten per customer, in time order --------------------------------------------------------

INSERT INTO orders (id, customer_id, status, total_cents, currency, created_at, updated_at)
SELECT g,
       1 + (g - 1) % customers,
       CASE
         WHEN created_at >= timestamp '2025-06-28' THEN demo_gen.pick(ARRAY['pending', 'paid', 'paid', 'shipped'], x)
         WHEN created_at >= timestamp '2025-06-17' THEN CASE WHEN x < 0.4 THEN 'shipped' ELSE 'delivered' END
         WHEN x < 0.002 THEN 'pending'  -- stuck in checkout long ago
         WHEN x < 0.050 THEN 'cancelled'
         WHEN x < 0.080 THEN 'refunded'
         ELSE 'delivered'
       END,
       1000 + floor(demo_gen.u(g, 2) * 40000)::integer,
       CASE WHEN demo_gen.u(g, 3) < 0.9 THEN 'EUR' ELSE 'GBP' END,
       created_at,
       created_at + make_interval(secs => demo_gen.u(g, 4) * (3 * 86400))
FROM (SELECT g, customers, demo_gen.u(g, 1) AS x,
             demo_gen.at((g - 1 + demo_gen.u(g, 5)) / (10 * customers)) AS created_at
      FROM (SELECT generate_series(1, 10 * customers) AS g, customers FROM demo_gen.size) AS s
     ) AS o;

INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_cents)
SELECT o, l, p, 1 + (hashint8(o * 4 + l) & 7) / 5, demo_gen.price(p)
FROM (SELECT o, l, 1 + ((o * 2654435761 + l * 40503) >> 8) % products AS p
      FROM (SELECT o, generate_series(1, 1 + ((o * 2654435761) >> 16) % 4) AS l, products
            FROM (SELECT generate_series(1, 10 * customers) AS o, products FROM demo_gen.size) AS s) AS lines) AS i;

-- -- support tickets: most closed long ago, the recent ones still open --------------------------------

INSERT INTO support_tickets (id, customer_id, subject, status, priority, created_at, updated_at)
SELECT g,
       1 + floor(demo_gen.u(g, 1) * customers)::bigint,
       demo_gen.pick(ARRAY['Cannot download invoice', 'Order arrived damaged', 'Change billing address',
                           'Refund not received', 'Add a seat to our plan', 'Export times out',
                           'Password reset email missing', 'Wrong item shipped', 'API rate limit',
                           'Cancel my order'], demo_gen.u(g, 2)),
       CASE
         WHEN created_at >= timestamp '2025-06-24' THEN demo_gen.pick(ARRAY['open', 'open', 'pending', 'resolved'], x)
         WHEN x < 0.01 THEN 'open'  -- forgotten
         WHEN x < 0.03 THEN 'resolved'
         ELSE 'closed'
       END,
       1 + floor(demo_gen.u(g, 4) * demo_gen.u(g, 4) * 4)::smallint,
       created_at,
       created_at + make_interval(secs => demo_gen.u(g, 5) * (2 * 86400))
FROM (SELECT g, customers, demo_gen.u(g, 3) AS x,
             demo_gen.at((g - 1 + demo_gen.u(g, 6)) / (3 * customers)) AS created_at
      FROM (SELECT generate_series(1, 3 * customers) AS g, customers FROM demo_gen.size) AS s
     ) AS t;

-- Identity columns continue after the ids given explicitly above (the workload inserts events);
-- order_items took its ids from its identity column.
SELECT setval(pg_get_serial_sequence('customers', 'id'), customers) FROM demo_gen.size;
SELECT setval(pg_get_serial_sequence('events', 'id'), 30 * customers) FROM demo_gen.size;
SELECT setval(pg_get_serial_sequence('orders', 'id'), 10 * customers) FROM demo_gen.size;
SELECT setval(pg_get_serial_sequence('support_tickets', 'id'), 3 * customers) FROM demo_gen.size;

SET client_min_messages = warning;  -- no notice for each helper dropped
DROP SCHEMA demo_gen CASCADE;
RESET client_min_messages;
