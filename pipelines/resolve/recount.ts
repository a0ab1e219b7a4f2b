/**
 * Counting a capped value again when a holder lets go of it. A value goes over its cap when
 * one holder too many has it, and that holder may have had it by mistake (a typo, a phone
 * typed into the wrong account): once the changed record no longer holds it, a fresh load of
 * the final records would count one holder fewer and link the rest. So when a batch's
 * changed record drops a capped value, every customer still holding it is read with the
 * batch, and the partition counts the value afresh instead of taking it as capped: under
 * the cap it links again (and leaves unified.identity_capped), over it it stays capped.
 */
import type pg from 'pg';
import { decodeKey } from './keys.js';
import { lockStripes } from './region.js';
import type { ResolveRules } from './rules.js';

/**
 * Values held by more customers than this are not counted again: a switchboard number a
 * thousand accounts share stays capped whoever lets go of it, and costs nothing to change.
 */
export const MAX_RECOUNT_HOLDERS = 200;

export interface Recount {
  /** The capped values counted again. */
  keys: Set<string>;
  /** Their holders (customer id → row version, read with the keys). */
  holders: Map<number, string>;
}

/** The keys of capped kinds that `before` holds and `after` does not. */
export function droppedCappedKeys(before: readonly string[], after: readonly string[], rules: ResolveRules): string[] {
  const kept = new Set(after);
  return before.filter((key) => !kept.has(key) && rules.kinds.get(decodeKey(key).kind)?.cap != null);
}

/** Which of `keys` are capped now (unlocked: used to decide which stripes to take). */
async function cappedOf(db: pg.ClientBase, keys: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>(
    `SELECT k.key FROM (SELECT e AS key, split_part(e, ':', 1) AS kind, substr(e, strpos(e, ':') + 1) AS value
                          FROM jsonb_array_elements_text($1::jsonb) AS e) k
       JOIN unified.identity_capped cap ON cap.kind = k.kind AND cap.value = k.value`,
    [JSON.stringify(keys)],
  );
  return rows.map((r) => r.key);
}

/**
 * Which of `keys` are capped, with every customer holding them (values with more than
 * {@link MAX_RECOUNT_HOLDERS} holders left out). Takes the capped values' lock stripes first,
 * so that no batch holding them caps or links them meanwhile. They come after the batch's own
 * stripes, out of order: a worker taking the same two the other way round deadlocks, which
 * PostgreSQL breaks (40P01), and a deadlock is a transient failure the batch is retried
 * after. Only batches dropping a capped value take them. A worker splitting or merging a
 * holder changes its holders without those stripes, but rewrites that holder's row: the
 * versions returned let lockRegion see it and call this again ({@link Owners.reread}).
 */
export async function cappedToRecount(db: pg.ClientBase, keys: readonly string[], rules: ResolveRules): Promise<Recount> {
  const recount: Recount = { keys: new Set(), holders: new Map() };
  if (keys.length === 0) return recount;
  const capped = await cappedOf(db, [...new Set(keys)]);
  if (capped.length === 0) return recount;
  await lockStripes(db, capped, rules.lockStripes);
  const { rows } = await db.query<{ key: string; customer_id: string; version: string; holders: string }>(
    `WITH k AS (SELECT e AS key, split_part(e, ':', 1) AS kind, substr(e, strpos(e, ':') + 1) AS value
                  FROM jsonb_array_elements_text($1::jsonb) AS e)
     SELECT k.key, ci.customer_id, c.xmin::text AS version, count(*) OVER (PARTITION BY k.key) AS holders
       FROM k
       JOIN unified.identity_capped cap ON cap.kind = k.kind AND cap.value = k.value
       JOIN unified.customer_identity ci ON ci.kind = k.kind AND ci.value = k.value
       JOIN unified.customer c ON c.id = ci.customer_id`,
    [JSON.stringify(capped)],
  );
  for (const r of rows) {
    if (Number(r.holders) > MAX_RECOUNT_HOLDERS) continue;
    recount.keys.add(r.key);
    recount.holders.set(Number(r.customer_id), r.version);
  }
  return recount;
}
