-- gateway.append_messages (009) again, now also deciding who may write: a new message is
-- stored only when its sender may see the conversation at the moment the row is locked,
-- by the same rule as gateway/store/conversations.ts `canSee`:
--   visitor:<id>  the conversation's own visitor;
--   agent:<id>    an enabled agent it is assigned to, or one of its team while it is queued
--                 (a disabled agent writes nowhere, whatever its socket still believes).
-- Anything else gets the outcome 'forbidden' (answered GW_CONVERSATION_NOT_FOUND).
--
-- A socket learns of transfers and closes through Redis fan-out. An event it missed (a
-- Redis outage, a publish that failed after the commit) left it believing it still held a
-- conversation, and it could go on writing into one that had been handed to someone else.
-- The store is now the authority; the socket's own list only saves a round trip.
--
-- A resend of a message already stored is still answered with its original seq, whoever
-- holds the conversation now: it is the sender's own message and stores nothing.
-- Reads stay by index probe as in 009 (sequential scans off, LATERAL lookups).
CREATE OR REPLACE FUNCTION gateway.append_messages(p_conv bigint[], p_sender text[], p_client text[], p_text text[])
RETURNS TABLE (ord integer, outcome text, first_ord integer, seq bigint, msg_text text, at timestamptz)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off
AS $fn$
#variable_conflict use_column
BEGIN
  -- The batch's conversations are locked in id order first, so writers on overlapping
  -- batches (two instances) cannot deadlock; the statement below takes its snapshot after
  -- the locks, so it sees an original, a transfer or a close that committed meanwhile.
  PERFORM 1
  FROM (SELECT DISTINCT u.id FROM unnest(p_conv) AS u(id) ORDER BY u.id) k,
       LATERAL (SELECT 1 FROM gateway.conversation c WHERE c.id = k.id FOR NO KEY UPDATE) l;
  RETURN QUERY
  WITH req AS (
    SELECT k.n::integer AS n, k.c, k.s, k.cm, k.t, split_part(k.s, ':', 1) AS kind, split_part(k.s, ':', 2) AS who
    FROM unnest(p_conv, p_sender, p_client, p_text) WITH ORDINALITY AS k(c, s, cm, t, n)
  ), sorted AS (
    SELECT r.n, r.c, r.s, r.cm, r.t, m.seq AS known_seq, m.text AS known_text, m.created_at AS known_at,
           cv.status, cv.last_seq, min(r.n) OVER (PARTITION BY r.c, r.s, r.cm) AS first_n,
           coalesce(CASE r.kind
             WHEN 'visitor' THEN cv.visitor_id = r.who
             -- CASE, not AND: the cast must only run on digits.
             WHEN 'agent' THEN CASE WHEN r.who ~ '^[0-9]{1,18}$' THEN EXISTS (
               SELECT 1 FROM gateway.agent a
               WHERE a.id = r.who::bigint AND a.disabled_at IS NULL
                 AND (cv.assigned_agent_id = a.id OR (cv.assigned_agent_id IS NULL AND cv.team = a.team))) ELSE false END
             ELSE false
           END, false) AS allowed
    FROM req r
    LEFT JOIN LATERAL (
      SELECT m.seq, m.text, m.created_at FROM gateway.message m
      WHERE m.conversation_id = r.c AND m.sender_id = r.s AND m.client_msg_id = r.cm
    ) m ON true
    LEFT JOIN LATERAL (SELECT cv.status, cv.last_seq, cv.visitor_id, cv.assigned_agent_id, cv.team FROM gateway.conversation cv WHERE cv.id = r.c) cv ON true
  ), fresh AS (
    SELECT f.n, f.c, f.s, f.cm, f.t, f.last_seq + row_number() OVER (PARTITION BY f.c ORDER BY f.n) AS new_seq
    FROM sorted f
    WHERE f.known_seq IS NULL AND f.status = 'open' AND f.allowed AND f.n = f.first_n
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
              WHEN NOT x.allowed THEN 'forbidden'
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
