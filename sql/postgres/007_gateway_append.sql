-- Appending a batch of chat messages in one round trip (gateway/store/append.ts, the group
-- commit's flush). It was six (BEGIN, lock, duplicate lookup, seq update, insert, COMMIT);
-- under load every round trip waits for a turn of the gateway's busy event loop, so the
-- count of round trips, not PostgreSQL's work, set the message latency.
--
-- Per request (in array order, `ord` from 1) one row:
--   'new'        stored now with `seq`;
--   'stored'     its (conversation, sender, clientMsgId) was stored before: the original's
--                seq, text and time (a resend);
--   'repeat'     an earlier request of this batch (`first_ord`) has the same key and is new;
--   'not_found'  no such conversation;  'closed'  the conversation is closed.
-- Seqs are dense per conversation in array order. Writers: gateway/store/append.ts only.
CREATE FUNCTION gateway.append_messages(p_conv bigint[], p_sender text[], p_client text[], p_text text[])
RETURNS TABLE (ord integer, outcome text, first_ord integer, seq bigint, msg_text text, at timestamptz)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
BEGIN
  -- The batch's conversations are locked in id order first, so writers on overlapping
  -- batches (two instances) cannot deadlock; the statement below takes its snapshot after
  -- the locks, so it sees an original that a racing writer committed meanwhile.
  PERFORM 1 FROM gateway.conversation c WHERE c.id = ANY (p_conv) ORDER BY c.id FOR NO KEY UPDATE;
  RETURN QUERY
  WITH req AS (
    SELECT k.n::integer AS n, k.c, k.s, k.cm, k.t
    FROM unnest(p_conv, p_sender, p_client, p_text) WITH ORDINALITY AS k(c, s, cm, t, n)
  ), sorted AS (
    SELECT r.n, r.c, r.s, r.cm, r.t, m.seq AS known_seq, m.text AS known_text, m.created_at AS known_at,
           cv.status, cv.last_seq, min(r.n) OVER (PARTITION BY r.c, r.s, r.cm) AS first_n
    FROM req r
    LEFT JOIN gateway.message m ON m.conversation_id = r.c AND m.sender_id = r.s AND m.client_msg_id = r.cm
    LEFT JOIN gateway.conversation cv ON cv.id = r.c
  ), fresh AS (
    SELECT f.n, f.c, f.s, f.cm, f.t, f.last_seq + row_number() OVER (PARTITION BY f.c ORDER BY f.n) AS new_seq
    FROM sorted f
    WHERE f.known_seq IS NULL AND f.status = 'open' AND f.n = f.first_n
  ), inserted AS (
    INSERT INTO gateway.message (conversation_id, seq, sender_id, client_msg_id, text, sender_kind, created_at)
    SELECT f.c, f.new_seq, f.s, f.cm, f.t, split_part(f.s, ':', 1), now() FROM fresh f
  ), counted AS (
    -- The first agent message of a conversation is its first response (analytics).
    UPDATE gateway.conversation cv
    SET last_seq = cv.last_seq + v.added, updated_at = now(),
        first_response_at = CASE WHEN v.agent AND cv.first_response_at IS NULL THEN now() ELSE cv.first_response_at END
    FROM (SELECT f.c, count(*) AS added, bool_or(split_part(f.s, ':', 1) = 'agent') AS agent FROM fresh f GROUP BY f.c) v
    WHERE cv.id = v.c
  )
  SELECT x.n,
         CASE WHEN x.known_seq IS NOT NULL THEN 'stored'
              WHEN x.status IS NULL THEN 'not_found'
              WHEN x.status <> 'open' THEN 'closed'
              WHEN x.n <> x.first_n THEN 'repeat'
              ELSE 'new' END,
         x.first_n::integer,
         coalesce(x.known_seq, f.new_seq),
         coalesce(x.known_text, x.t),
         coalesce(x.known_at, now())
  FROM sorted x LEFT JOIN fresh f ON f.n = x.n
  ORDER BY x.n;
END
$fn$;
