-- The demo estate's PostgreSQL-backed legacy systems, in database `junction_estate`.
-- Applied by `junction demo seed` before every load: it drops and recreates the three
-- schemas, so reseeding is idempotent. Three systems share one server here only to keep the
-- stack small; in the story they are separate databases owned by separate teams.

DROP SCHEMA IF EXISTS shop CASCADE;
DROP SCHEMA IF EXISTS orders_legacy CASCADE;
DROP SCHEMA IF EXISTS tickets_legacy CASCADE;

-- shop_pg: the web shop's own (reasonably modern) database, read directly by the hub.
CREATE SCHEMA shop;

CREATE TABLE shop.accounts (
  id          bigint PRIMARY KEY,
  email       text,                  -- as typed: mixed case, stray spaces, test@test.com
  phone       text,                  -- as typed: 13800138000, +8613800138000, ' 138 0013 8000 '
  full_name   text,
  crm_id      text,                  -- CRM customer number when the shop knows it
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
-- Incremental reads page by the compound cursor (updated_at, id).
CREATE INDEX accounts_updated_at_id_idx ON shop.accounts (updated_at, id);

CREATE TABLE shop.addresses (
  id          bigint PRIMARY KEY,
  account_id  bigint NOT NULL REFERENCES shop.accounts (id),
  province    text NOT NULL,
  city        text NOT NULL,
  line1       text NOT NULL,
  postcode    text,                  -- null in Hong Kong
  updated_at  timestamptz NOT NULL
);
CREATE INDEX addresses_updated_at_id_idx ON shop.addresses (updated_at, id);
CREATE INDEX addresses_account_id_idx ON shop.addresses (account_id);

-- orders_soap: tables behind the legacy SOAP order service (demo/php/orders). The hub never
-- reads them directly; it goes through the SOAP API.
CREATE SCHEMA orders_legacy;

CREATE TABLE orders_legacy.orders (
  -- "C" collation: the SOAP paging order must not depend on the server's locale
  order_no       text COLLATE "C" PRIMARY KEY,
  customer_no    text,               -- CRM customer number; null for guest checkouts
  contact_phone  text,
  status         text NOT NULL,
  total_amount   numeric(12,2) NOT NULL,
  currency       char(3) NOT NULL,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX orders_updated_at_order_no_idx ON orders_legacy.orders (updated_at, order_no);

-- No foreign key, as in the original: the legacy app enforced it (mostly).
CREATE TABLE orders_legacy.order_lines (
  order_no    text COLLATE "C" NOT NULL,
  line_no     integer NOT NULL,
  sku         text NOT NULL,
  name        text NOT NULL,
  qty         integer NOT NULL,
  unit_price  numeric(12,2) NOT NULL,
  PRIMARY KEY (order_no, line_no)
);

-- tickets_php: the PHP 5 era ticket system (demo/php/tickets).
CREATE SCHEMA tickets_legacy;

CREATE TABLE tickets_legacy.tickets (
  id               bigint PRIMARY KEY,
  subject          text NOT NULL,
  body             text,
  status           smallint NOT NULL,  -- 0 待处理, 1 处理中, 2 已解决, 3 已关闭
  priority         smallint NOT NULL,  -- 1 low, 2 normal, 3 urgent
  customer_email   text,
  customer_phone   text,
  shop_account_id  bigint,             -- shop.accounts.id, in another system: no FK
  -- Wall-clock Asia/Shanghai time without zone, the way the PHP app wrote date('Y-m-d H:i:s').
  created_at       timestamp NOT NULL,
  updated_at       timestamp NOT NULL
);
CREATE INDEX tickets_updated_at_id_idx ON tickets_legacy.tickets (updated_at, id);
