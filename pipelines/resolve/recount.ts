/**
 * Counting a capped value again when a holder lets go of it. A value goes over its cap when
 * one holder too many has it, and that holder may have had it by mistake (a typo, a phone
 * typed into the wrong account): once the changed record no longer holds it, a fresh load of
 * the final records would count one holder fewer and link the rest. So when a batch's
 * changed record drops a capped value, every customer still holding it is read with the
 * batch, and the partition counts the value afresh instead of taking it as capped: under
 * the cap it links again (and leaves unified.identity_capped), over it it stays capped.
 *
 * The same goes for holders found to be one person: a batch merging two customers that both
 * hold a capped value leaves one holder fewer, so resolve runs its pass again with the value
 * counted afresh ({@link cappedAcrossMerges}).
 */
import type pg from 'pg';
import { decodeKey } from './keys.js';
import { KEY_ROWS, lockStripes, type IdentityRow } from './region.js';
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

/**
 * The capped values among `keys`, their lock stripes taken, with every customer holding
 * them: what a batch dropping `keys` counts again. The stripes (taken once; {@link
 * recountHolders} reads the holders again when lockRegion asks) keep any batch holding a
 * value from capping or linking it meanwhile. They come after the batch's own stripes, out of
 * order: a worker taking the same two the other way round deadlocks, which PostgreSQL breaks
 * (40P01), and a deadlock is a transient failure the batch is retried after. Only batches
 * dropping a capped value take them.
 */
export async function cappedToRecount(db: pg.ClientBase, keys: readonly string[], rules: ResolveRules): Promise<Recount> {
  if (keys.length === 0) return { keys: new Set(), holders: new Map() };
  // Unlocked: which stripes to take. A value is capped or linked only under its stripe.
  const { rows } = await db.query<{ key: string }>(`WITH k AS (${KEY_ROWS}) SELECT k.key FROM k JOIN unified.identity_capped cap ON cap.kind = k.kind AND cap.value = k.value`, [
    JSON.stringify([...new Set(keys)]),
  ]);
  const capped = rows.map((r) => r.key);
  if (capped.length === 0) return { keys: new Set(), holders: new Map() };
  await lockStripes(db, capped, rules.lockStripes);
  return recountHolders(db, capped);
}

/**
 * The customers holding the capped values among `keys` (values with more than {@link
 * MAX_RECOUNT_HOLDERS} holders left out), with their row versions. A worker splitting or
 * merging a holder changes the holders without the values' stripes, but rewrites that
 * holder's row: lockRegion sees the version change and the caller reads them again.
 */
export async function recountHolders(db: pg.ClientBase, keys: readonly string[]): Promise<Recount> {
  const recount: Recount = { keys: new Set(), holders: new Map() };
  const { rows } = await db.query<{ key: string; customer_id: string; version: string; holders: string }>(
    `WITH k AS (${KEY_ROWS})
     SELECT k.key, ci.customer_id, c.xmin::text AS version, count(*) OVER (PARTITION BY k.key) AS holders
       FROM k
       JOIN unified.identity_capped cap ON cap.kind = k.kind AND cap.value = k.value
       JOIN unified.customer_identity ci ON ci.kind = k.kind AND ci.value = k.value
       JOIN unified.customer c ON c.id = ci.customer_id`,
    [JSON.stringify(keys)],
  );
  for (const r of rows) {
    if (Number(r.holders) > MAX_RECOUNT_HOLDERS) continue;
    recount.keys.add(r.key);
    recount.holders.set(Number(r.customer_id), r.version);
  }
  return recount;
}

/**
 * Capped values held by two or more of the customers one cluster of `clusters` brings
 * together (by `current`, record ref → the customer it is on): merged, they are one holder
 * where there were several, and a fresh load of the same records may find the value under
 * its cap. `identities` must hold the rows of every customer read record by record (a
 * customer meeting another always is). Values in `skip` (already counted again) are left out.
 */
export function cappedAcrossMerges(clusters: readonly string[][], current: ReadonlyMap<string, number>, identities: readonly IdentityRow[], skip: ReadonlySet<string>): string[] {
  const cappedOf = new Map<number, string[]>();
  for (const row of identities) {
    if (row.state !== 'capped' || skip.has(row.key)) continue;
    const list = cappedOf.get(row.customerId);
    if (list) list.push(row.key);
    else cappedOf.set(row.customerId, [row.key]);
  }
  if (cappedOf.size < 2) return [];
  const out = new Set<string>();
  for (const refs of clusters) {
    const customers = new Set<number>();
    for (const ref of refs) {
      const c = current.get(ref);
      if (c !== undefined && cappedOf.has(c)) customers.add(c);
    }
    if (customers.size < 2) continue;
    const seen = new Set<string>();
    for (const c of customers) {
      for (const key of cappedOf.get(c)!) {
        if (seen.has(key)) out.add(key);
        else seen.add(key);
      }
    }
  }
  return [...out].sort();
}
