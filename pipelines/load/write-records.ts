/**
 * Writes source records and entity rows (orders, tickets, CRM profiles): the batch's new
 * records as one COPY per table, its changed records as one upsert per table, and the
 * re-pointing of stored records that changed customer as one update per table. Upserts go
 * through COPY into staging tables (see copy.ts). Never a statement per row.
 */
import type pg from 'pg';
import { TARGETS } from '../model.js';
import { copyUpsert, copyValue } from './copy.js';
import { feedsGolden, type MovedRecord, type ResolvedRecord } from '../resolve/plan.js';
import type { FieldOrigin } from '../types.js';
import { ENTITY_TARGETS, fieldsOf, tableOf } from '../unified/columns.js';

type Db = pg.ClientBase;

const RECORD_COLUMNS = ['source', 'stream', 'source_key', 'target', 'customer_id', 'payload_hash', 'identity_keys', 'fields', 'mapping_version', 'synced_at'];

/**
 * Upserts the batch's records into unified.source_record, and the field origins of their
 * mapping versions into unified.mapping_origin (once per version, not per record).
 */
export async function writeSourceRecords(db: Db, records: readonly ResolvedRecord[], syncedAt: Date, inserted: ReadonlySet<string> = new Set()): Promise<void> {
  if (records.length === 0) return;
  const at = syncedAt.toISOString();
  const origins = new Map<string, Record<string, FieldOrigin>>();
  for (const { record: r } of records) {
    const known = origins.get(r.mappingVersion);
    if (!known) origins.set(r.mappingVersion, { ...r.origins });
    else for (const f in r.origins) known[f] ??= r.origins[f]!;
  }
  await db.query(
    `INSERT INTO unified.mapping_origin (mapping_version, origins) SELECT key, value FROM jsonb_each($1::jsonb)
     ON CONFLICT (mapping_version) DO UPDATE SET origins = mapping_origin.origins || excluded.origins
      WHERE NOT mapping_origin.origins @> excluded.origins`,
    [JSON.stringify(Object.fromEntries(origins))],
  );
  const row = ({ record: r, keys, customerId }: ResolvedRecord) => [
    r.source, r.stream, r.sourceKey, r.target, String(customerId), r.payloadHash, keys,
    feedsGolden(r.target) ? JSON.stringify(r.fields) : '{}', r.mappingVersion, at,
  ];
  const [fresh, stored] = byInserted(records, inserted);
  // New records COPY straight into the table (the stage and the conflict check cost as much as the insert).
  await copyUpsert(db, { table: 'unified.source_record', stage: 'junction_stage_record', columns: RECORD_COLUMNS, rows: fresh.map(row) });
  await copyUpsert(db, {
    table: 'unified.source_record',
    stage: 'junction_stage_record',
    columns: RECORD_COLUMNS,
    rows: stored.map(row),
    conflict: ['source', 'stream', 'source_key'],
    update: RECORD_COLUMNS.slice(3),
  });
}

/** `records` split into those in `inserted` (no stored row) and the others. */
function byInserted(records: readonly ResolvedRecord[], inserted: ReadonlySet<string>): [ResolvedRecord[], ResolvedRecord[]] {
  const fresh: ResolvedRecord[] = [];
  const stored: ResolvedRecord[] = [];
  for (const r of records) (inserted.has(r.ref) ? fresh : stored).push(r);
  return [fresh, stored];
}

/**
 * Upserts the batch's orders, tickets and CRM profiles into their tables; records in
 * `inserted` (no source record stored, hence no entity row: both are written together) are
 * inserted without a conflict check.
 */
export async function writeEntities(db: Db, records: readonly ResolvedRecord[], syncedAt: Date, inserted: ReadonlySet<string> = new Set()): Promise<void> {
  const at = syncedAt.toISOString();
  for (const target of ENTITY_TARGETS) {
    const mine = records.filter((r) => r.record.target === target);
    if (mine.length === 0) continue;
    const fields = fieldsOf(target);
    const json = fields.map((f) => TARGETS[target].fields[f]!.type === 'json');
    const columns = ['source', 'stream', 'source_key', 'customer_id', 'synced_at', ...fields];
    const row = ({ record: r, customerId }: ResolvedRecord) => [
      r.source, r.stream, r.sourceKey, String(customerId), at, ...fields.map((f, i) => copyValue(r.fields[f], json[i])),
    ];
    const [fresh, stored] = byInserted(mine, inserted);
    await copyUpsert(db, { table: tableOf(target), stage: `junction_stage_${target}`, columns, rows: fresh.map(row) });
    await copyUpsert(db, {
      table: tableOf(target),
      stage: `junction_stage_${target}`,
      columns,
      rows: stored.map(row),
      conflict: ['source', 'stream', 'source_key'],
      update: ['customer_id', 'synced_at', ...fields],
    });
  }
}

/**
 * Points stored records (and their entity rows) that changed customer at their new one, and
 * rewrites the row of every customer that lost records: concurrent resolution compares
 * customer row versions to know whether what it looked up still holds (see lockRegion).
 */
export async function moveRecords(db: Db, moved: readonly MovedRecord[], losers: readonly number[]): Promise<void> {
  if (losers.length > 0) await db.query('UPDATE unified.customer SET hub_updated_at = now() WHERE id = ANY($1::bigint[])', [losers]);
  if (moved.length === 0) return;
  const cols = [moved.map((m) => m.source), moved.map((m) => m.stream), moved.map((m) => m.sourceKey), moved.map((m) => m.customerId)];
  for (const table of ['unified.source_record', ...ENTITY_TARGETS.filter((t) => moved.some((m) => m.target === t)).map(tableOf)]) {
    await db.query(
      `UPDATE ${table} t SET customer_id = m.customer_id
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS m(source, stream, source_key, customer_id)
        WHERE t.source = m.source AND t.stream = m.stream AND t.source_key = m.source_key`,
      cols,
    );
  }
}
