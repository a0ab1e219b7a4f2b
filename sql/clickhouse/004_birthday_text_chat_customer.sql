-- Birthdays before 1970, and chat messages counted under their conversation's current
-- customer. Touches only `customers`, `customers_current` and `chat_messages_current` (002):
-- it does not depend on any other migration.
--
-- Birthdays: `Date` starts at 1970-01-01 (18.16 has no Date32, and stores 1965-03-02 as day
-- 0, read back as 0000-00-00; current ClickHouse clamps it to 1970-01-01). The column becomes
-- the text PostgreSQL sends, 'YYYY-MM-DD', which holds any birthday on both servers, compares
-- and sorts as a date, and reads as a date where one is needed (`toDate32(birthday)` on current
-- ClickHouse; `toInt32(substring(birthday, 1, 4))` for the year on 18.16). Rows sent before
-- keep their converted value; 0000-00-00 (a birthday 18.16 could not hold, or 1970-01-01 itself)
-- reads as NULL until the customer is sent again.
--
-- The views are recreated: a view keeps the column types it was created with (18.16 writes
-- them in its metadata), and dropping it first leaves nothing that depends on the column
-- while its type changes. Each statement can be run again (ClickHouse has no transactions).
DROP TABLE IF EXISTS customers_current;

ALTER TABLE customers MODIFY COLUMN birthday Nullable(String);

CREATE VIEW IF NOT EXISTS customers_current AS
SELECT
  customer_id,
  argMax(name, version)                                   AS name,
  argMax(email, version)                                  AS email,
  argMax(phone, version)                                  AS phone,
  argMax(gender, version)                                 AS gender,
  nullIf(argMax(tuple(birthday), version).1, '0000-00-00') AS birthday,
  argMax(province, version)                               AS province,
  argMax(city, version)                                   AS city,
  argMax(vip_level, version)                              AS vip_level,
  argMax(account_manager, version)                        AS account_manager,
  argMax(tuple(created_at), version).1                    AS created_at,
  argMax(tuple(updated_at), version).1                    AS updated_at,
  argMax(identity_kinds, version)                         AS identity_kinds,
  argMax(identity_values, version)                        AS identity_values,
  argMax(sources, version)                                AS sources,
  argMax(record_count, version)                           AS record_count
FROM customers
GROUP BY customer_id
HAVING argMax(deleted, version) = 0;

-- Chat messages under their conversation's current customer. A message row keeps the
-- customer its conversation had when it was sent; a merge then re-links the conversation to
-- the survivor (the gateway re-sends the conversation row), and the view follows it, so every
-- message of the conversation moves with one row rather than a re-send of its whole history.
-- A message whose conversation row never reached ClickHouse keeps its own customer. The
-- subqueries are named: current ClickHouse refuses a join of unnamed ones.
DROP TABLE IF EXISTS chat_messages_current;

CREATE VIEW IF NOT EXISTS chat_messages_current AS
SELECT
  conversation_id,
  seq,
  sender_kind,
  agent_id,
  if(conversation_known = 1, conversation_customer_id, message_customer_id) AS customer_id,
  team,
  text_length,
  created_at
FROM
(
  SELECT
    conversation_id,
    seq,
    argMax(sender_kind, version)  AS sender_kind,
    argMax(agent_id, version)     AS agent_id,
    argMax(customer_id, version)  AS message_customer_id,
    argMax(team, version)         AS team,
    argMax(text_length, version)  AS text_length,
    argMax(created_at, version)   AS created_at
  FROM chat_messages
  GROUP BY conversation_id, seq
) AS m
ANY LEFT JOIN
(
  SELECT
    conversation_id,
    argMax(customer_id, version)  AS conversation_customer_id,
    toUInt8(1)                    AS conversation_known
  FROM conversations
  GROUP BY conversation_id
) AS c USING (conversation_id);
