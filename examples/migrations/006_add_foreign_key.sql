-- 006_add_foreign_key.sql: orders get an optional coupon.
SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN coupon_id bigint;

-- checks every order against coupons while both tables are locked against writes (QR507)
ALTER TABLE orders ADD CONSTRAINT orders_coupon_id_fkey
  FOREIGN KEY (coupon_id) REFERENCES coupons (id);
