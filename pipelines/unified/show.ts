/**
 * Everything the unified view holds about one customer: the golden record with the lineage
 * of each field, identities, source records, and the merges that shaped it.
 */
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import type { JsonValue } from '../../connectors/types.js';
import { TARGETS } from '../model.js';
import { customerIdOf, type CustomerId } from './find.js';

export interface CustomerView {
  id: CustomerId;
  /** Golden values by field (model fields, then custom attributes). */
  fields: Record<string, JsonValue>;
  lineage: Record<string, JsonValue>;
  /**
   * Custom attributes by name, each value as JSON of its declared type: integer a number (text
   * past 2^53), boolean, json as stored, decimal exact text, datetime UTC ISO-8601 (`…T03:04:05.000Z`),
   * date `YYYY-MM-DD`, string.
   */
  attributes: { name: string; type: string; value: JsonValue; lineage: JsonValue }[];
  identities: { kind: string; value: string; state: string }[];
  records: { source: string; stream: string; sourceKey: string; target: string; syncedAt: string; pinned: boolean; keys: string[] }[];
  /** merge_log entries naming this customer, oldest first. */
  history: { at: string; action: string; customerId: CustomerId; absorbedId: CustomerId; evidence: JsonValue }[];
  /** Customers merged into this one. */
  absorbed: CustomerId[];
}

type Db = pg.ClientBase | pg.Pool;

/**
 * An attribute's value read from the one column its type fills (sql/postgres/002_unified.sql),
 * as JSON of that type and whatever the session's TimeZone or DateStyle: one text column for all
 * made `false` a truthy "false" and json an encoded string. Integers past 2^53 stay text, which a
 * number would round (as customer ids do); decimals are exact text, as model decimals come;
 * datetimes are in `Date.toISOString()`'s form, as records' and history's times.
 */
const ATTRIBUTE_VALUE = `CASE type
  WHEN 'integer' THEN CASE WHEN value_integer BETWEEN ${-Number.MAX_SAFE_INTEGER} AND ${Number.MAX_SAFE_INTEGER} THEN to_jsonb(value_integer) ELSE to_jsonb(value_integer::text) END
  WHEN 'decimal' THEN to_jsonb(value_decimal::text)
  WHEN 'boolean' THEN to_jsonb(value_boolean)
  WHEN 'datetime' THEN to_jsonb(to_char(value_datetime AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
  WHEN 'date' THEN to_jsonb(value_date)
  WHEN 'json' THEN value_json
  ELSE to_jsonb(value_string) END`;

/**
 * Runs the queries at once on a pool; one after another on a client (a client runs one query
 * at a time anyway, and pg deprecates queueing several).
 */
async function runQueries<T extends unknown[]>(db: Db, queries: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  if ('totalCount' in db) return (await Promise.all(queries.map((q) => q()))) as T;
  const out: unknown[] = [];
  for (const q of queries) out.push(await q());
  return out as T;
}

export async function showCustomer(db: Db, id: CustomerId): Promise<CustomerView> {
  const fields = Object.keys(TARGETS.customer.fields);
  const c = await db.query<Record<string, JsonValue>>(
    `SELECT id, ${fields.map((f) => (['datetime', 'date'].includes(TARGETS.customer.fields[f]!.type) ? `to_json("${f}") #>> '{}' AS "${f}"` : `"${f}"`)).join(', ')},
            unified.lineage_expanded(lineage) AS lineage, merged_into FROM unified.customer WHERE id = $1`,
    [id],
  );
  const row = c.rows[0];
  if (!row) throw new JunctionError('ID_NOT_FOUND', `no customer ${id}`);
  if (row.merged_into !== null) throw new JunctionError('ID_NOT_FOUND', `customer ${id} was merged into ${String(row.merged_into)}`);
  const [attrs, ids, recs, log, absorbed] = await runQueries(db, [
    () => db.query(`SELECT name, type, ${ATTRIBUTE_VALUE} AS value, lineage FROM unified.customer_attribute WHERE customer_id = $1 ORDER BY name`, [id]),
    // The customer's identities are its records' keys; their rows (by primary key) give the state.
    () => db.query(
      `SELECT k.kind, k.value, ci.state
         FROM (SELECT DISTINCT split_part(key, ':', 1) AS kind, substr(key, strpos(key, ':') + 1) AS value
                 FROM unified.source_record sr, unnest(sr.identity_keys) AS key WHERE sr.customer_id = $1) k
         JOIN unified.customer_identity ci ON ci.kind = k.kind AND ci.value = k.value AND ci.customer_id = $1
        ORDER BY k.kind, k.value`,
      [id],
    ),
    () => db.query(
      `SELECT source, stream, source_key, target, synced_at, pinned, identity_keys FROM unified.source_record
        WHERE customer_id = $1 ORDER BY source, stream, source_key`,
      [id],
    ),
    () => db.query('SELECT at, action, customer_id, absorbed_id, evidence FROM unified.merge_log WHERE customer_id = $1 OR absorbed_id = $1 ORDER BY id', [id]),
    () => db.query<{ id: string }>('SELECT id FROM unified.customer WHERE merged_into = $1 ORDER BY id', [id]),
  ]);
  return {
    id,
    fields: Object.fromEntries(fields.map((f) => [f, row[f] ?? null])),
    lineage: row.lineage as Record<string, JsonValue>,
    attributes: attrs.rows,
    identities: ids.rows,
    records: recs.rows.map((r) => ({
      source: r.source,
      stream: r.stream,
      sourceKey: r.source_key,
      target: r.target,
      syncedAt: (r.synced_at as Date).toISOString(),
      pinned: r.pinned,
      keys: r.identity_keys,
    })),
    history: log.rows.map((r) => ({ at: (r.at as Date).toISOString(), action: r.action, customerId: customerIdOf(r.customer_id), absorbedId: customerIdOf(r.absorbed_id), evidence: r.evidence })),
    absorbed: absorbed.rows.map((r) => customerIdOf(r.id)),
  };
}
