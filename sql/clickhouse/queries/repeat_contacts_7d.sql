-- Repeat contacts within 7 days: customers who came back (a ticket or a chat) within 7 days
-- of their previous contact. `repeat_contacts` counts the contacts that followed the
-- customer's previous one by at most 7 days (604800 s); a customer listed here had at least
-- two contacts within 7 days. Merged customers count as one, under the survivor.
-- A chat contact is a conversation opened, or reopened: a visitor writing again soon after a
-- close (gateway.reopen_within_s) reopens the same conversation, and each reopen is a
-- contact at its own time (`conversation_reopens_current`, one row per reopen). `chats`
-- counts both.
SELECT
  customer_id,
  count()                     AS contacts,
  countIf(kind = 'ticket')    AS tickets,
  countIf(kind = 'chat')      AS chats,
  arraySort(groupArray(at))   AS times,
  arraySum(arrayMap(i -> i > 1 AND times[i] - times[i - 1] <= 604800, arrayEnumerate(times))) AS repeat_contacts,
  toDateTime(min(at))         AS first_contact_at,
  toDateTime(max(at))         AS last_contact_at
FROM
(
  SELECT customer_id, toUInt32(assumeNotNull(created_at)) AS at, 'ticket' AS kind
  FROM tickets_current WHERE customer_id != 0 AND created_at IS NOT NULL
  UNION ALL
  SELECT customer_id, toUInt32(opened_at) AS at, 'chat' AS kind
  FROM conversations_current WHERE customer_id != 0
  UNION ALL
  SELECT customer_id, toUInt32(reopened_at) AS at, 'chat' AS kind
  FROM conversation_reopens_current WHERE customer_id != 0
)
GROUP BY customer_id
HAVING repeat_contacts > 0
ORDER BY repeat_contacts DESC, customer_id;
