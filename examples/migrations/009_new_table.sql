-- 009_new_table.sql: a new table, with the usual slips of a new table.
CREATE TABLE coupon_redemptions (
  id          serial PRIMARY KEY,                        -- runs out at 2.1 billion (QR515)
  coupon_id   bigint NOT NULL REFERENCES coupons (id),   -- no index for this key (QR517)
  order_id    bigint NOT NULL,
  redeemed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE coupon_events (                              -- no primary key (QR516)
  coupon_id bigint NOT NULL,
  kind      text NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
