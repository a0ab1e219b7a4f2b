/**
 * Writes what resolution decided about customers: new customers and golden records (rows
 * whose values did not change are left alone), merges (`merged_into`), identity rows,
 * capped values, the merge log and custom attributes. One statement per kind of write.
 */
import type pg from 'pg';
import type { JsonValue } from '../../connectors/types.js';
import { TARGETS } from '../model.js';
import { decodeKey } from '../resolve/keys.js';
import type { IdentityRow } from '../resolve/region.js';
import type { AnchorInfo, CustomerChange } from '../resolve/plan.js';
import type { ResolveRules } from '../resolve/rules.js';
import { columnList } from '../unified/columns.js';
import { copyToStage, copyUpsert, copyValue } from './copy.js';
import type { Golden } from './golden.js';
import { packLineage } from './lineage.js';

type Db = pg.ClientBase;
const FIELDS = Object.keys(TARGETS.customer.fields);
const STAGE = 'junction_stage_customer';
const IDENTITY_COLUMNS = ['kind', 'value', 'customer_id', 'state'];
const JSON_FIELDS = new Set(FIELDS.filter((f) => (TARGETS.customer.fields as Record<string, { type: string }>)[f]?.type === 'json'));

/**
 * Inserts the new customers and updates the golden record of existing ones that changed,
 * and stores changed named-anchor counts (`anchors`, which lets resolution stand a customer
 * in as one node).
 */
export async function writeGolden(db: Db, goldens: ReadonlyMap<number, Golden>, newIds: ReadonlySet<number>, anchors: ReadonlyMap<number, AnchorInfo>): Promise<void> {
  const fresh: Record<string, unknown>[] = [];
  const existing: Record<string, unknown>[] = [];
  for (const [id, g] of goldens) (newIds.has(id) ? fresh : existing).push({ id, ...g.values, lineage: g.lineage, anchor: anchors.get(id) ?? null });
  const columns = ['id', ...FIELDS, 'lineage', 'anchors', 'anchor_kinds'];
  const rows = (list: Record<string, unknown>[]) =>
    list.map((c) => {
      const a = c.anchor as AnchorInfo | null;
      return [
        String(c.id), ...FIELDS.map((f) => copyValue(c[f] as JsonValue, JSON_FIELDS.has(f))), JSON.stringify(packLineage(c.lineage as Golden['lineage'])),
        a ? String(a.anchors) : null, a ? a.kinds : null,
      ];
    });
  await copyUpsert(db, { table: 'unified.customer', stage: STAGE, columns, rows: rows(fresh.map((c) => ({ ...c, anchor: c.anchor ?? { anchors: 0, kinds: [] } }))) });
  if (existing.length > 0) {
    // Only rows whose values differ are rewritten (idempotent loads write nothing).
    const cols = [...FIELDS, 'lineage'];
    const set = `${columnList(cols, 's.')}, coalesce(s.anchors, c.anchors), coalesce(s.anchor_kinds, c.anchor_kinds)`;
    await copyToStage(db, STAGE, 'unified.customer', columns, rows(existing));
    await db.query(
      `UPDATE unified.customer c SET (${columnList(cols)}, anchors, anchor_kinds, hub_updated_at) = (${set}, now())
         FROM ${STAGE} s
        WHERE c.id = s.id AND (${columnList(cols, 'c.')}, c.anchors, c.anchor_kinds) IS DISTINCT FROM (${set})`,
    );
    await db.query(`TRUNCATE ${STAGE}`);
  }
  const counts = [...anchors].filter(([id]) => !goldens.has(id));
  if (counts.length > 0) {
    await db.query(
      `UPDATE unified.customer c SET anchors = a.n, anchor_kinds = ARRAY(SELECT jsonb_array_elements_text(a.kinds))
         FROM jsonb_to_recordset($1::jsonb) AS a(id bigint, n int, kinds jsonb)
        WHERE c.id = a.id AND (c.anchors, c.anchor_kinds) IS DISTINCT FROM (a.n, ARRAY(SELECT jsonb_array_elements_text(a.kinds)))`,
      [JSON.stringify(counts.map(([id, a]) => ({ id, n: a.anchors, kinds: a.kinds })))],
    );
  }
}

/**
 * Marks absorbed customers, and re-points customers merged into them earlier (one hop to the
 * survivor). An absorbed customer keeps no golden values, lineage or anchors: its records
 * are the survivor's now, and a tombstone still holding a name, phone and address would be a
 * second copy of the person that no sync ever updates.
 */
export async function writeAbsorbed(db: Db, absorbed: readonly { id: number; into: number }[]): Promise<void> {
  if (absorbed.length === 0) return;
  const params = [absorbed.map((a) => a.id), absorbed.map((a) => a.into)];
  // Customers absorbed earlier by the ones absorbed now follow them (the index on merged_into
  // finds them; their values are already gone). Rows are reached by index, absorbed id by
  // absorbed id (`OFFSET 0` keeps the per-id subqueries): joined as sets, the planner scanned
  // the whole table for every batch.
  const forgotten = [...FIELDS, 'lineage', 'anchors', 'anchor_kinds'];
  await db.query(
    `UPDATE unified.customer c SET (merged_into, hub_updated_at, ${columnList(forgotten)}) =
       (m.survivor, now(), ${FIELDS.map(() => 'NULL').join(', ')}, '{}', 0, '{}')
       FROM (SELECT a.survivor, a.id FROM unnest($1::bigint[], $2::bigint[]) AS a(id, survivor)
             UNION ALL
             SELECT a.survivor, t.id FROM unnest($1::bigint[], $2::bigint[]) AS a(id, survivor)
              CROSS JOIN LATERAL (SELECT older.id FROM unified.customer older WHERE older.merged_into = a.id OFFSET 0) t) m
      WHERE c.id = m.id`,
    params,
  );
}

/**
 * Applies the identity diff: deletes first, so a value moving between customers never holds
 * two `link` rows. Rows of `newCustomers` cannot exist yet (their ids were just drawn from
 * the sequence): they are inserted by a plain COPY, without the stage and the conflict check.
 */
export async function writeIdentities(db: Db, deletes: readonly IdentityRow[], upserts: readonly IdentityRow[], newCustomers: ReadonlySet<number> = new Set()): Promise<void> {
  const rows = (list: readonly IdentityRow[]) =>
    list.map((r) => {
      const at = r.key.indexOf(':');
      return [r.key.slice(0, at), r.key.slice(at + 1), String(r.customerId), r.state];
    });
  if (deletes.length > 0) {
    await copyToStage(db, 'junction_stage_identity', 'unified.customer_identity', IDENTITY_COLUMNS, rows(deletes));
    await db.query(
      `DELETE FROM unified.customer_identity ci USING junction_stage_identity d
        WHERE ci.kind = d.kind AND ci.value = d.value AND ci.customer_id = d.customer_id`,
    );
    await db.query('TRUNCATE junction_stage_identity');
  }
  const inserts = upserts.filter((r) => newCustomers.has(r.customerId));
  await copyUpsert(db, { table: 'unified.customer_identity', stage: 'junction_stage_identity', columns: IDENTITY_COLUMNS, rows: rows(inserts) });
  const updates = inserts.length === 0 ? upserts : upserts.filter((r) => !newCustomers.has(r.customerId));
  if (updates.length > 0) {
    await copyToStage(db, 'junction_stage_identity', 'unified.customer_identity', IDENTITY_COLUMNS, rows(updates));
    await db.query(
      `INSERT INTO unified.customer_identity (kind, value, customer_id, state) SELECT kind, value, customer_id, state FROM junction_stage_identity
       ON CONFLICT (kind, value, customer_id) DO UPDATE SET state = excluded.state WHERE customer_identity.state <> excluded.state`,
    );
    await db.query('TRUNCATE junction_stage_identity');
  }
}

export async function writeCapped(db: Db, capped: readonly { key: string; holders: number; cap: number }[]): Promise<void> {
  if (capped.length === 0) return;
  const keys = capped.map((c) => decodeKey(c.key));
  await db.query(
    `INSERT INTO unified.identity_capped (kind, value, holders, cap)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) ON CONFLICT (kind, value) DO NOTHING`,
    [keys.map((k) => k.kind), keys.map((k) => k.value), capped.map((c) => c.holders), capped.map((c) => c.cap)],
  );
}

/** Capped values back under their cap (or held by nobody): they link again. */
export async function writeUncapped(db: Db, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const decoded = keys.map(decodeKey);
  await db.query(
    `DELETE FROM unified.identity_capped c USING unnest($1::text[], $2::text[]) AS k(kind, value) WHERE c.kind = k.kind AND c.value = k.value`,
    [decoded.map((k) => k.kind), decoded.map((k) => k.value)],
  );
}

export async function writeMergeLog(db: Db, changes: readonly CustomerChange[]): Promise<void> {
  if (changes.length === 0) return;
  await db.query(
    `INSERT INTO unified.merge_log (action, customer_id, absorbed_id, evidence)
     SELECT action, customer_id, absorbed_id, evidence
       FROM jsonb_to_recordset($1::jsonb) AS x(action text, customer_id bigint, absorbed_id bigint, evidence jsonb)`,
    [JSON.stringify(changes.map((c) => ({ action: c.action, customer_id: c.customerId, absorbed_id: c.absorbedId, evidence: c.evidence })))],
  );
}

/**
 * Custom attributes of the recomputed customers: upserts the chosen values, deletes those
 * no record carries any more (and those of absorbed customers).
 */
export async function writeAttributes(db: Db, goldens: ReadonlyMap<number, Golden>, absorbed: readonly number[], rules: ResolveRules): Promise<void> {
  if (rules.attributes.size === 0) return;
  const rows: Record<string, JsonValue>[] = [];
  for (const [id, g] of goldens) {
    for (const [name, { value, lineage }] of g.attributes) {
      const type = rules.attributes.get(name)!;
      rows.push({ customer_id: id, name, type, [`value_${type}`]: value, lineage: { ...lineage } });
    }
  }
  const touched = [...goldens.keys(), ...absorbed];
  await db.query(
    `DELETE FROM unified.customer_attribute a
      WHERE a.customer_id = ANY($1::bigint[])
        AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($2::jsonb) AS k(customer_id bigint, name text)
                         WHERE k.customer_id = a.customer_id AND k.name = a.name)`,
    [touched, JSON.stringify(rows)],
  );
  if (rows.length === 0) return;
  const values = ['value_string', 'value_integer', 'value_decimal', 'value_boolean', 'value_datetime', 'value_date', 'value_json'];
  const cols = ['type', ...values, 'lineage'];
  await db.query(
    `INSERT INTO unified.customer_attribute (customer_id, name, ${cols.join(', ')})
     SELECT customer_id, name, ${cols.join(', ')} FROM jsonb_populate_recordset(null::unified.customer_attribute, $1::jsonb)
     ON CONFLICT (customer_id, name) DO UPDATE SET (${cols.join(', ')}, updated_at) = (${cols.map((c) => `excluded.${c}`).join(', ')}, now())
      WHERE (${cols.map((c) => `customer_attribute.${c}`).join(', ')}) IS DISTINCT FROM (${cols.map((c) => `excluded.${c}`).join(', ')})`,
    [JSON.stringify(rows)],
  );
}
