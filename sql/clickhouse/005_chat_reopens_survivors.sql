-- Chat analytics: every reopen of a conversation is a contact, and chats are counted under
-- the customer a merge left whether or not a gateway heard of the merge. Adds the table
-- `conversation_reopens` and the views `customer_survivors`, `conversation_reopens_current`;
-- recreates `conversations_current` and `chat_messages_current` (002, 004) with the same
-- columns. Every statement can be run again (ClickHouse has no transactions); nothing here
-- adds a column, which 18.16 cannot make conditional (no ADD COLUMN IF NOT EXISTS).
--
-- Reopens: a visitor writing again within `gateway.reopen_within_s` of a close reopens the
-- same conversation (gateway/store/reopen.ts), so its one `opened_at` stood for two contacts.
-- With each conversation row it sends, the gateway sends the conversation's latest reopen:
-- `reopen_no` is gateway.conversation.reopen_count after it (1 for the first), `reopened_at`
-- its time; re-sending one is harmless. PostgreSQL keeps only the latest reopen's time, so
-- should a conversation be reopened twice between two analytics flushes (closed and written
-- to again within `gateway.analytics.flush_ms`), the earlier reopen has no row.
-- Reopens from before this migration reached no table: a conversation reopened then gets
-- its latest reopen's row when it next changes, not the earlier ones.
CREATE TABLE IF NOT EXISTS conversation_reopens (
  conversation_id  String,
  reopen_no        UInt32,
  reopened_at      DateTime,
  version          UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (conversation_id, reopen_no);

-- Each customer a merge absorbed, and the customer it ended in. Chat rows carry the customer
-- the gateway knew when it sent them, and a gateway re-sends them under the survivor only if
-- it was running when the merge's `customer.updated` event came (a nightly sync with no
-- gateway up leaves them under the absorbed customer for good); the chat views below put
-- them under the survivor from the pipeline's tombstones instead. A tombstone (`deleted = 1`,
-- 002) names the survivor as it stood when the tombstone was sent: when that survivor is
-- absorbed in turn, only its own tombstone is sent, so chains are followed here, up to 8
-- tombstones (`transform` looks one hop up per call). A tombstone without `merged_into`
-- (a customer that never existed, from pipelines/sinks/clickhouse-repair.ts) is no merge.
-- `transform` refuses empty arrays, hence the (0, 0) pair: no customer has id 0.
CREATE VIEW IF NOT EXISTS customer_survivors AS
WITH
  (
    SELECT (arrayConcat([toUInt64(0)], groupArray(customer_id)), arrayConcat([toUInt64(0)], groupArray(into_id)))
    FROM
    (
      SELECT customer_id, argMax(merged_into, version) AS into_id
      FROM customers
      GROUP BY customer_id
      HAVING argMax(deleted, version) = 1 AND into_id != 0
    )
  ) AS hop,
  transform(into_id, hop.1, hop.2, into_id) AS hop2,
  transform(hop2, hop.1, hop.2, hop2) AS hop3,
  transform(hop3, hop.1, hop.2, hop3) AS hop4,
  transform(hop4, hop.1, hop.2, hop4) AS hop5,
  transform(hop5, hop.1, hop.2, hop5) AS hop6,
  transform(hop6, hop.1, hop.2, hop6) AS hop7,
  transform(hop7, hop.1, hop.2, hop7) AS hop8
SELECT
  customer_id,
  hop8 AS survivor_id
FROM
(
  SELECT customer_id, argMax(merged_into, version) AS into_id
  FROM customers
  GROUP BY customer_id
  HAVING argMax(deleted, version) = 1 AND into_id != 0
);

-- Conversations under the survivor of the customer the gateway sent (the sent one when it was
-- not absorbed). Recreated, as in 004: a view keeps the definition it was created with.
-- The subqueries are named: current ClickHouse refuses a join of unnamed ones.
DROP TABLE IF EXISTS conversations_current;

CREATE VIEW IF NOT EXISTS conversations_current AS
SELECT
  conversation_id,
  if(survivor_id = 0, sent_customer_id, survivor_id) AS customer_id,
  channel,
  page,
  team,
  agent_id,
  status,
  opened_at,
  assigned_at,
  first_response_at,
  closed_at,
  message_count
FROM
(
  SELECT
    conversation_id,
    argMax(customer_id, version)                 AS sent_customer_id,
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
  GROUP BY conversation_id
) AS c
ANY LEFT JOIN
(
  SELECT customer_id AS sent_customer_id, survivor_id
  FROM customer_survivors
) AS s USING (sent_customer_id);

-- Messages under their conversation's customer (004: a message whose conversation row never
-- reached ClickHouse keeps its own), then that customer's survivor, so messages and
-- conversations agree. 18.16 takes one JOIN per SELECT: the second join wraps the first.
DROP TABLE IF EXISTS chat_messages_current;

CREATE VIEW IF NOT EXISTS chat_messages_current AS
SELECT
  conversation_id,
  seq,
  sender_kind,
  agent_id,
  if(survivor_id = 0, sent_customer_id, survivor_id) AS customer_id,
  team,
  text_length,
  created_at
FROM
(
  SELECT
    conversation_id,
    seq,
    sender_kind,
    agent_id,
    if(conversation_known = 1, conversation_customer_id, message_customer_id) AS sent_customer_id,
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
  ) AS c USING (conversation_id)
) AS mc
ANY LEFT JOIN
(
  SELECT customer_id AS sent_customer_id, survivor_id
  FROM customer_survivors
) AS s USING (sent_customer_id);

-- One row per reopen, under its conversation's customer as `conversations_current` has it
-- (0 while the conversation row has not reached ClickHouse).
CREATE VIEW IF NOT EXISTS conversation_reopens_current AS
SELECT
  conversation_id,
  reopen_no,
  reopened_at,
  customer_id
FROM
(
  SELECT
    conversation_id,
    reopen_no,
    argMax(reopened_at, version)  AS reopened_at
  FROM conversation_reopens
  GROUP BY conversation_id, reopen_no
) AS r
ANY LEFT JOIN
(
  SELECT conversation_id, customer_id
  FROM conversations_current
) AS c USING (conversation_id);
