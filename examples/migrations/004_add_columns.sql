-- 004_add_columns.sql: new columns on a busy table.
SET lock_timeout = '5s';

-- fine since PostgreSQL 11: constant and STABLE defaults are stored once, no rewrite
ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT 'web';
ALTER TABLE orders ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- gen_random_uuid() is VOLATILE: every row gets its own value, so the table is rewritten (QR504)
ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();

-- scans every row for NULLs under ACCESS EXCLUSIVE (QR506)
ALTER TABLE customers ALTER COLUMN created_at SET NOT NULL;
