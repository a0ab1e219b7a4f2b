/**
 * Which unified customer a visitor's signed identity names. Read-only on the `unified`
 * schema (its writer is the pipeline's resolver). Only `link` identities count: a capped or
 * shared value names no one for sure, so the conversation stays unlinked rather than guess.
 */
import type { IdentityClaims } from '../auth/identity.js';
import type { Db } from './db.js';

/** Claims in the order they are trusted to name one person: the site's own id first. */
const ORDER = ['external_id', 'email', 'phone'] as const;

/**
 * The customer the first resolvable claim links to, following merges to the survivor.
 * @param externalIdKind identity kind of `external_id` (`gateway.external_id_kind`)
 */
export async function findCustomerByIdentity(db: Db, claims: IdentityClaims, externalIdKind: string): Promise<number | null> {
  const kinds: string[] = [];
  const values: string[] = [];
  for (const key of ORDER) {
    const value = claims[key];
    if (value === undefined) continue;
    kinds.push(key === 'external_id' ? externalIdKind : key);
    values.push(value);
  }
  if (kinds.length === 0) return null;
  const { rows } = await db.query<{ customer_id: string }>(
    `WITH RECURSIVE claim AS (
       SELECT c.ord, i.customer_id FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(kind, value, ord)
       JOIN unified.customer_identity i ON i.kind = c.kind AND i.value = c.value AND i.state = 'link'
       ORDER BY c.ord LIMIT 1
     ), chain AS (
       SELECT cu.id, cu.merged_into, 0 AS depth FROM unified.customer cu JOIN claim ON cu.id = claim.customer_id
       UNION ALL
       SELECT cu.id, cu.merged_into, chain.depth + 1 FROM unified.customer cu JOIN chain ON cu.id = chain.merged_into WHERE chain.depth < 32
     )
     SELECT id AS customer_id FROM chain WHERE merged_into IS NULL LIMIT 1`,
    [kinds, values],
  );
  return rows[0] ? Number(rows[0].customer_id) : null;
}

/** The customer `id` became through merges (itself when it was not absorbed); null when there is no such customer. */
export async function survivorOf(db: Db, id: number): Promise<number | null> {
  const { rows } = await db.query<{ id: string }>(
    `WITH RECURSIVE chain AS (
       SELECT id, merged_into, 0 AS depth FROM unified.customer WHERE id = $1
       UNION ALL
       SELECT cu.id, cu.merged_into, chain.depth + 1 FROM unified.customer cu JOIN chain ON cu.id = chain.merged_into WHERE chain.depth < 32
     )
     SELECT id FROM chain WHERE merged_into IS NULL LIMIT 1`,
    [id],
  );
  return rows[0] ? Number(rows[0].id) : null;
}
