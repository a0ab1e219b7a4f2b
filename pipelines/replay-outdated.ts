/**
 * Dead letters a replay must not load: a newer version of their record was read from the
 * source since (see {@link outdatedLetters}; pipelines/replay.ts uses it per chunk).
 */
import type pg from 'pg';

/**
 * Which letters are outdated, read under the stripe locks of their records: a sync batch
 * loading one of them either committed before (and is seen here) or waits for this chunk, so
 * a letter is never loaded over a newer version being committed. `keys` are the record keys
 * each letter stands for (its own, and the one the current mapping gives when that differs
 * or the letter has none). A letter is outdated when, for one of its keys,
 * - a newer letter exists (a larger id, replayed or not): a sync read the record again and it
 *   failed again. Letters take none of the record's locks, so one may still be committed after
 *   this look; it is then newer than the payload this chunk loads, and not outdated by it
 *   (next rule), so the next replay loads it;
 * - the record's `synced_at` is later than the letter's `created_at`: a sync loaded it since.
 *   A replay writes the time its letter was written as `synced_at` (see {@link replayChunk}),
 *   so only source reads count. Both times come from PostgreSQL's clock: a sync batch writes
 *   its transaction's start as `synced_at`, as its letters' `created_at`.
 * Returns the outdated letters, each with the newest pending letter of its record when one
 * is newer than it (`by`, to replay in its place), else null.
 */
export async function outdatedLetters(tx: pg.ClientBase, source: string, stream: string, keys: ReadonlyMap<number, readonly string[]>): Promise<Map<number, number | null>> {
  const pairs = [...keys].flatMap(([id, ks]) => ks.map((k) => [id, k] as const));
  if (pairs.length === 0) return new Map();
  const { rows } = await tx.query<{ id: string; outdated: boolean; by: string | null }>(
    `WITH f AS (SELECT * FROM unnest($3::bigint[], $4::text[]) AS f(id, key)),
     newer AS (
       SELECT n.source_key, max(n.id) AS newest, max(n.id) FILTER (WHERE n.replayed_at IS NULL) AS newest_pending
         FROM hub.dead_letter n
        WHERE n.id > (SELECT min(id) FROM f) AND n.source = $1 AND n.stream = $2 AND n.source_key IN (SELECT key FROM f)
        GROUP BY n.source_key)
     SELECT f.id,
            coalesce(bool_or(nw.newest > f.id OR sr.synced_at > d.created_at), false) AS outdated,
            max(nw.newest_pending) FILTER (WHERE nw.newest_pending > f.id) AS by
       FROM f
       JOIN hub.dead_letter d ON d.id = f.id
       LEFT JOIN newer nw ON nw.source_key = f.key
       LEFT JOIN unified.source_record sr ON sr.source = $1 AND sr.stream = $2 AND sr.source_key = f.key
      GROUP BY f.id`,
    [source, stream, pairs.map(([id]) => id), pairs.map(([, k]) => k)],
  );
  return new Map(rows.filter((r) => r.outdated).map((r) => [Number(r.id), r.by === null ? null : Number(r.by)]));
}
