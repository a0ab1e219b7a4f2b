-- gateway.append_messages (007) again, reading gateway.message and gateway.conversation
-- only by index probe, per request of its batch, whatever plan is cached.
--
-- PL/pgSQL caches its statements' plans per connection. A plan made while gateway.message
-- was small read the whole table (a hash join over a sequential scan, or a sequential scan
-- per request), and the gateway's long-lived connections kept using it as the table grew:
-- under `npm run bench -- gateway`, 2,684 sequential scans read 33.6 million rows for 35,309
-- messages (pg_stat_user_tables), and PostgreSQL's CPU per message grew with the table.
-- Every read here is by key, so the function runs with sequential scans off, and looks the
-- requests up through LATERAL subqueries (one index probe each). Forcing a fresh plan per
-- call instead (plan_cache_mode) also avoids the scans but pays the planning every batch.
-- Measured by calling the function alone (batches of 10 messages
-- into 900 conversations, CPU of the backend from /proc), microseconds per message: 007
-- 604 -> 711 -> 814 at 40k -> 50k -> 60k rows; custom plan each call ~110-170; this version
-- 44-52, flat (batches of 50: ~35 with either). The test that a growing table is probed by
-- index: test/gateway/append.int.test.ts.
-- The conversations are still locked in id order first (no deadlock between instances).
CREATE OR REPLACE FUNCTION gateway.append_messages(p_conv bigint[], p_sender text[], p_client text[], p_text text[])
RETURNS TABLE (ord integer, outcome text, first_ord integer, seq bigint, msg_text text, at timestamptz)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off
AS $fn$
#variable_conflict use_column
BEGIN
  -- The batch's conversations are locked in id order first, so writers on overlapping
  -- batches (two instances) cannot deadlock; the statement below takes its snapshot after
  -- the locks, so it sees an original that a racing writer committed meanwhile.
  PERFORM 1
  FROM (SELECT DISTINCT u.id FROM unnest(p_conv) AS u(id) ORDER BY u.id) k,
       LATERAL (SELECT 1 FROM gateway.conversation c WHERE c.id = k.id FOR NO KEY UPDATE) l;
  RETURN QUERY
  WITH req AS (
    SELECT k.n::integer AS n, k.c, k.s, k.cm, k.t
    FROM unnest(p_conv, p_sender, p_client, p_text) WITH ORDINALITY AS k(c, s, cm, t, n)
  ), sorted AS (
    SELECT r.n, r.c, r.s, r.cm, r.t, m.seq AS known_seq, m.text AS known_text, m.created_at AS known_at,
           cv.status, cv.last_seq, min(r.n) OVER (PARTITION BY r.c, r.s, r.cm) AS first_n
    FROM req r
    LEFT JOIN LATERAL (
      SELECT m.seq, m.text, m.created_at FROM gateway.message m
      WHERE m.conversation_id = r.c AND m.sender_id = r.s AND m.client_msg_id = r.cm
    ) m ON true
    LEFT JOIN LATERAL (SELECT cv.status, cv.last_seq FROM gateway.conversation cv WHERE cv.id = r.c) cv ON true
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

