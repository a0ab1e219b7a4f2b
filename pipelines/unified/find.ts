/**
 * Finds customers from what an agent or engineer has at hand: a customer id (absorbed ids
 * lead to their survivor), an email, a phone (in any format: normalized as mappings do), or
 * a source record `source/stream/key`.
 */
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import { isPhoneRegion, normalizeEmail, normalizePhone } from '../normalize.js';

/**
 * A customer id: a number while JavaScript holds it exactly (every id a bigserial hands out
 * in practice), else its decimal text, so that an id past 2^53 is never rounded to another.
 */
export type CustomerId = number | string;

/** The largest PostgreSQL bigint: unified.customer.id cannot be larger. */
const BIGINT_MAX = 9223372036854775807n;

/** An id as PostgreSQL returns a bigint (text): a number when exact, else the text. */
export function customerIdOf(text: string): CustomerId {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/**
 * A customer id as a user types it: decimal digits within bigint. Checked here rather than
 * by PostgreSQL, whose "out of range for type bigint" reached the user as a raw error.
 * @throws ID_BAD_ID
 */
export function parseCustomerId(text: string): CustomerId {
  const digits = text.trim();
  if (!/^\d+$/.test(digits)) throw new JunctionError('ID_BAD_ID', `${JSON.stringify(text)} is not a customer id: expected digits`);
  const id = BigInt(digits);
  if (id > BIGINT_MAX) throw new JunctionError('ID_BAD_ID', `customer id ${digits} is out of range: ids are PostgreSQL bigints, at most ${BIGINT_MAX}`);
  return customerIdOf(id.toString());
}

const byId = (a: CustomerId, b: CustomerId) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** Follows `merged_into` to the surviving customer. */
export async function survivorOf(db: pg.ClientBase | pg.Pool, id: CustomerId): Promise<CustomerId | null> {
  const { rows } = await db.query<{ id: string; merged_into: string | null }>(
    `WITH RECURSIVE chain(id, merged_into, depth) AS (
       SELECT id, merged_into, 0 FROM unified.customer WHERE id = $1
       UNION ALL
       SELECT c.id, c.merged_into, chain.depth + 1 FROM unified.customer c JOIN chain ON c.id = chain.merged_into WHERE chain.depth < 100)
     SELECT id, merged_into FROM chain WHERE merged_into IS NULL`,
    [id],
  );
  return rows[0] ? customerIdOf(rows[0].id) : null;
}

/** The customers holding the identity `kind`:`value` (normalized). */
async function withIdentity(db: pg.ClientBase | pg.Pool, kind: string, value: string): Promise<CustomerId[]> {
  const { rows } = await db.query<{ customer_id: string }>(
    'SELECT DISTINCT customer_id FROM unified.customer_identity WHERE kind = $1 AND value = $2 ORDER BY customer_id',
    [kind, value],
  );
  return rows.map((r) => customerIdOf(r.customer_id));
}

/**
 * The customers `query` names, sorted; throws ID_NOT_FOUND when none. Digits alone are a
 * customer id and, when they are a valid phone of `region` (13800138000), that phone too:
 * every customer either names.
 */
export async function findCustomers(db: pg.ClientBase | pg.Pool, query: string, region = 'CN'): Promise<CustomerId[]> {
  const q = query.trim();
  let ids: CustomerId[] = [];
  if (/^\d+$/.test(q)) {
    const phone = isPhoneRegion(region) ? normalizePhone(q, region) : null;
    // Past the bigint range digits are no id: ID_BAD_ID unless they are a phone.
    const id = phone === null || BigInt(q) <= BIGINT_MAX ? await survivorOf(db, parseCustomerId(q)) : null;
    ids = [...(id === null ? [] : [id]), ...(phone ? await withIdentity(db, 'phone', phone) : [])];
  } else if (/^[a-z][a-z0-9_]*\/[a-z][a-z0-9_]*\/.+$/.test(q)) {
    const [source, stream, ...key] = q.split('/');
    const { rows } = await db.query<{ customer_id: string }>(
      'SELECT customer_id FROM unified.source_record WHERE source = $1 AND stream = $2 AND source_key = $3',
      [source, stream, key.join('/')],
    );
    ids = rows.map((r) => customerIdOf(r.customer_id));
  } else {
    const email = q.includes('@') ? normalizeEmail(q) : null;
    const phone = !email && isPhoneRegion(region) ? normalizePhone(q, region) : null;
    if (email) ids = await withIdentity(db, 'email', email);
    else if (phone) ids = await withIdentity(db, 'phone', phone);
  }
  if (ids.length === 0) throw new JunctionError('ID_NOT_FOUND', `no customer matches ${JSON.stringify(query)} (an id, an email, a phone or source/stream/key)`);
  return [...new Set(ids)].sort(byId);
}
