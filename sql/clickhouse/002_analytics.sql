-- Analytics tables: orders (with their lines), tickets, the customer dimension, chat
-- conversations and messages. Syncs re-send rows (a crashed batch is sent again, a record
-- that changes or moves to another customer is sent again), so every table is a
-- ReplacingMergeTree keyed like its source with a `version` that grows with each send
-- (microseconds of the hub PostgreSQL clock, read after the batch took its locks), and
-- analysts read the `*_current` views, which show each row once in its latest state.
--
-- Runs on the Debian 18.16 server and on current ClickHouse: no DateTime64,
-- LowCardinality (18.16 refuses it without an experimental setting), is_deleted or
-- Nullable key columns. argMax skips NULL arguments, so a nullable column is read as
-- `argMax(tuple(col), version).1`: a tuple holding NULL is not NULL, so a latest NULL
-- (say, a ticket reopened) wins over an older value.
-- Times are DateTime (UTC seconds); absent strings are ''. `deleted = 1` rows are tombstones
-- (a merged-away customer; a row sent by a batch whose transaction then rolled back, found
-- by pipelines/sinks/clickhouse-repair.ts): the views leave those keys out.

-- Orders as the unified view holds them, lines as parallel arrays (one element per line):
-- a re-sent order replaces its lines too, which a separate lines table could not do
-- without deletes. `order_lines_current` unrolls them.
CREATE TABLE IF NOT EXISTS orders (
  source           String,
  stream           String,
  source_key       String,
  customer_id      UInt64,
  order_no         String,
  status           String,
  total_amount     Nullable(Decimal(18, 2)),
  currency         String,
  contact_phone    String,
  ordered_at       Nullable(DateTime),
  updated_at       Nullable(DateTime),
  line_sku         Array(String),
  line_name        Array(String),
  line_qty         Array(Int32),
  line_unit_price  Array(Decimal(18, 2)),
  synced_at        DateTime,
  deleted          UInt8,
  version          UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (source, stream, source_key);

CREATE TABLE IF NOT EXISTS tickets (
  source            String,
  stream            String,
  source_key        String,
  customer_id       UInt64,
  ticket_no         String,
  subject           String,
  status            String,
  priority          String,
  created_at        Nullable(DateTime),
  updated_at        Nullable(DateTime),
  first_response_at Nullable(DateTime),
  resolved_at       Nullable(DateTime),
  synced_at         DateTime,
  deleted           UInt8,
  version           UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (source, stream, source_key);

-- The customer dimension: the golden record, the identity keys its records carry
-- (`kind:value` split into two parallel arrays) and how many source records it has.
-- A customer absorbed by a merge is sent once more as a tombstone (`deleted = 1`,
-- `merged_into` = the survivor); the view leaves it out, and its orders and tickets are
-- re-sent with the survivor's id.
CREATE TABLE IF NOT EXISTS customers (
  customer_id      UInt64,
  name             String,
  email            String,
  phone            String,
  gender           String,
  birthday         Nullable(Date),
  province         String,
  city             String,
  vip_level        String,
  account_manager  String,
  created_at       Nullable(DateTime),
  updated_at       Nullable(DateTime),
  identity_kinds   Array(String),
  identity_values  Array(String),
  sources          Array(String),
  record_count     UInt32,
  merged_into      UInt64,
  deleted          UInt8,
  version          UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY customer_id;

-- Chat (written by the gateway): one row per conversation, re-sent as it is assigned,
-- answered and closed; one row per message, keyed by the conversation's sequence number
-- (messages do not change, but a gateway retry may send one twice).
-- `conversation_id` is text so the gateway's id type does not leak into analytics.
CREATE TABLE IF NOT EXISTS conversations (
  conversation_id   String,
  customer_id       UInt64,
  channel           String,
  page              String,
  team              String,
  agent_id          String,
  status            String,
  opened_at         DateTime,
  assigned_at       Nullable(DateTime),
  first_response_at Nullable(DateTime),
  closed_at         Nullable(DateTime),
  message_count     UInt32,
  version           UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY conversation_id;

CREATE TABLE IF NOT EXISTS chat_messages (
  conversation_id  String,
  seq              UInt64,
  sender_kind      String,
  agent_id         String,
  customer_id      UInt64,
  team             String,
  text_length      UInt32,
  created_at       DateTime,
  version          UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (conversation_id, seq);

CREATE VIEW IF NOT EXISTS orders_current AS
SELECT
  source,
  stream,
  source_key,
  argMax(customer_id, version)              AS customer_id,
  argMax(order_no, version)                 AS order_no,
  argMax(status, version)                   AS status,
  argMax(tuple(total_amount), version).1    AS total_amount,
  argMax(currency, version)                 AS currency,
  argMax(contact_phone, version)            AS contact_phone,
  argMax(tuple(ordered_at), version).1      AS ordered_at,
  argMax(tuple(updated_at), version).1      AS updated_at,
  argMax(line_sku, version)                 AS line_sku,
  argMax(line_name, version)                AS line_name,
  argMax(line_qty, version)                 AS line_qty,
  argMax(line_unit_price, version)          AS line_unit_price,
  max(synced_at)                            AS synced_at
FROM orders
GROUP BY source, stream, source_key
HAVING argMax(deleted, version) = 0;

CREATE VIEW IF NOT EXISTS order_lines_current AS
SELECT
  source,
  stream,
  source_key,
  customer_id,
  order_no,
  status,
  ordered_at,
  line_no,
  sku,
  name,
  qty,
  unit_price
FROM orders_current
ARRAY JOIN
  arrayEnumerate(line_sku) AS line_no,
  line_sku AS sku,
  line_name AS name,
  line_qty AS qty,
  line_unit_price AS unit_price;

CREATE VIEW IF NOT EXISTS tickets_current AS
SELECT
  source,
  stream,
  source_key,
  argMax(customer_id, version)                 AS customer_id,
  argMax(ticket_no, version)                   AS ticket_no,
  argMax(subject, version)                     AS subject,
  argMax(status, version)                      AS status,
  argMax(priority, version)                    AS priority,
  argMax(tuple(created_at), version).1         AS created_at,
  argMax(tuple(updated_at), version).1         AS updated_at,
  argMax(tuple(first_response_at), version).1  AS first_response_at,
  argMax(tuple(resolved_at), version).1        AS resolved_at,
  max(synced_at)                               AS synced_at
FROM tickets
GROUP BY source, stream, source_key
HAVING argMax(deleted, version) = 0;

CREATE VIEW IF NOT EXISTS customers_current AS
SELECT
  customer_id,
  argMax(name, version)                   AS name,
  argMax(email, version)                  AS email,
  argMax(phone, version)                  AS phone,
  argMax(gender, version)                 AS gender,
  argMax(tuple(birthday), version).1      AS birthday,
  argMax(province, version)               AS province,
  argMax(city, version)                   AS city,
  argMax(vip_level, version)              AS vip_level,
  argMax(account_manager, version)        AS account_manager,
  argMax(tuple(created_at), version).1    AS created_at,
  argMax(tuple(updated_at), version).1    AS updated_at,
  argMax(identity_kinds, version)         AS identity_kinds,
  argMax(identity_values, version)        AS identity_values,
  argMax(sources, version)                AS sources,
  argMax(record_count, version)           AS record_count
FROM customers
GROUP BY customer_id
HAVING argMax(deleted, version) = 0;

CREATE VIEW IF NOT EXISTS conversations_current AS
SELECT
  conversation_id,
  argMax(customer_id, version)                 AS customer_id,
  argMax(channel, version)                     AS channel,
  argMax(page, version)                        AS page,
  argMax(team, version)                        AS team,
  argMax(agent_id, version)                    AS agent_id,
  argMax(status, version)                      AS status,
  argMax(opened_at, version)                   AS opened_at,
  argMax(tuple(assigned_at), version).1        AS assigned_at,
  argMax(tuple(first_response_at), version).1  AS first_response_at,
  argMax(tuple(closed_at), version).1          AS closed_at,
  argMax(message_count, version)               AS message_count
FROM conversations
GROUP BY conversation_id;

CREATE VIEW IF NOT EXISTS chat_messages_current AS
SELECT
  conversation_id,
  seq,
  argMax(sender_kind, version)  AS sender_kind,
  argMax(agent_id, version)     AS agent_id,
  argMax(customer_id, version)  AS customer_id,
  argMax(team, version)         AS team,
  argMax(text_length, version)  AS text_length,
  argMax(created_at, version)   AS created_at
FROM chat_messages
GROUP BY conversation_id, seq;
