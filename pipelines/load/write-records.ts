/**
 * Writes source records and entity rows (orders, tickets, CRM profiles): the batch's new and
 * changed records as one upsert per table, and the re-pointing of stored records that
 * changed customer as one update per table. Rows go through COPY into staging tables
 * (see copy.ts). Never a statement per row.
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
export async function writeSourceRecords(db: Db, records: readonly ResolvedRecord[], syncedAt: Date): Promise<void> {
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
  await copyUpsert(db, {
    table: 'unified.source_record',
    stage: 'junction_stage_record',
    columns: RECORD_COLUMNS,
    rows: records.map(({ record: r, keys, customerId }) => [
      r.source, r.stream, r.sourceKey, r.target, String(customerId), r.payloadHash, keys,
      feedsGolden(r.target) ? JSON.stringify(r.fields) : '{}', r.mappingVersion, at,
    ]),
    conflict: ['source', 'stream', 'source_key'],
    update: RECORD_COLUMNS.slice(3),
  });
}

/** Upserts the batch's orders, tickets and CRM profiles into their tables. */
export async function writeEntities(db: Db, records: readonly ResolvedRecord[], syncedAt: Date): Promise<void> {
  const at = syncedAt.toISOString();
  for (const target of ENTITY_TARGETS) {
    const mine = records.filter((r) => r.record.target === target);
    if (mine.length === 0) continue;
    const fields = fieldsOf(target);
    const json = fields.map((f) => TARGETS[target].fields[f]!.type === 'json');
    await copyUpsert(db, {
      table: tableOf(target),
      stage: `junction_stage_${target}`,
      columns: ['source', 'stream', 'source_key', 'customer_id', 'synced_at', ...fields],
      rows: mine.map(({ record: r, customerId }) => [
        r.source, r.stream, r.sourceKey, String(customerId), at, ...fields.map((f, i) => copyValue(r.fields[f], json[i])),
      ]),
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
