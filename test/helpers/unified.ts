/**
 * What the unified-view tests share: a scratch database of their own with the migrations
 * applied (so destructive tests never touch the hub's), hand-built MappedRecords (the map
 * stage is not needed to test resolution), identity rules written inline, and queries that
 * read back the partition of source records into customers.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import { PROJECT_ROOT } from '../../config/env.js';
import type { JsonValue } from '../../connectors/types.js';
import type { TargetName } from '../../pipelines/model.js';
import { resolveRules, type ResolveRules, type RulesSource } from '../../pipelines/resolve/rules.js';
import type { FieldOrigin, MappedRecord } from '../../pipelines/types.js';
import { migratePostgres } from '../../sql/migrate.js';
import { freshDatabase } from './scratch-pool.js';

export interface ScratchDb {
  url: string;
  pool: pg.Pool;
  /** Empties the unified schema (ids restart). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Creates `junction_test_<name>` afresh and applies every committed PostgreSQL migration. */
export async function scratchDatabase(name: string): Promise<ScratchDb> {
  const { url, pool, close } = await freshDatabase(`junction_test_${name}`, 6);
  await migratePostgres(url, path.join(PROJECT_ROOT, 'sql/postgres'));
  return {
    url,
    pool,
    reset: async () => {
      await pool.query(`TRUNCATE unified.customer_attribute, unified.merge_log, unified.crm_profile, unified.ticket, unified."order",
        unified.source_record, unified.mapping_origin, unified.identity_capped, unified.customer_identity, unified.customer RESTART IDENTITY`);
    },
    close,
  };
}

/** Runs `fn` in a transaction of its own connection. */
export async function inTx<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    const out = await fn(tx);
    await tx.query('COMMIT');
    return out;
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    tx.release();
  }
}

/** The demo's kinds, with a phone cap that tests can set. */
export function testRules(overrides: Partial<RulesSource['identity']> & { phoneCap?: number; attributes?: RulesSource['attributes'] } = {}): ResolveRules {
  const { phoneCap = 2, attributes, ...identity } = overrides;
  return resolveRules({
    identity: {
      default_region: 'CN',
      kinds: {
        crm_id: { priority: 100, normalize: 'none', blocked: [] },
        shop_account: { priority: 90, normalize: 'none', blocked: [] },
        app_user: { priority: 90, normalize: 'none', blocked: [] },
        email: { priority: 50, normalize: 'email', blocked: ['test@test.com'] },
        phone: { priority: 40, normalize: 'phone', blocked: ['13800000000'], cardinality_cap: phoneCap },
      },
      ...identity,
    },
    attributes,
  });
}

export interface RecordSpec {
  target?: TargetName;
  fields?: Record<string, JsonValue>;
  /** `[kind, value]` pairs, already normalized as the map stage would. */
  keys?: [string, string][];
  /** Lines of the fields' definitions in a pretend mapping file. */
  lines?: Record<string, number>;
}

/** A MappedRecord for `source/stream/key`; its payload hash follows its content. */
export function mapped(ref: string, spec: RecordSpec = {}): MappedRecord {
  const [source = '', stream = '', ...rest] = ref.split('/');
  const sourceKey = rest.join('/');
  const fields = spec.fields ?? {};
  const identities = (spec.keys ?? []).map(([kind, value]) => ({ kind, value }));
  const origins: Record<string, FieldOrigin> = {};
  for (const f of Object.keys(fields)) origins[f] = { file: `mappings/${source}.${stream}.yaml`, line: spec.lines?.[f] ?? 10 };
  const raw = { fields, identities } as unknown as Record<string, JsonValue>;
  return {
    source,
    stream,
    target: spec.target ?? 'customer',
    sourceKey,
    fields,
    identities,
    payloadHash: createHash('sha256').update(JSON.stringify(raw)).digest('hex'),
    raw,
    origins,
    mappingVersion: `mappings/${source}.${stream}.yaml@test`,
  };
}

/** The partition of source records into customers: sorted groups of `source/stream/key`. */
export async function partitionOf(db: pg.Pool | pg.ClientBase): Promise<string[][]> {
  const { rows } = await db.query<{ refs: string[] }>(
    `SELECT array_agg(source || '/' || stream || '/' || source_key ORDER BY source, stream, source_key) AS refs
       FROM unified.source_record GROUP BY customer_id ORDER BY min(source || '/' || stream || '/' || source_key)`,
  );
  return rows.map((r) => r.refs);
}

/** The customer id of a source record. */
export async function customerOf(db: pg.Pool | pg.ClientBase, ref: string): Promise<number> {
  const [source, stream, ...rest] = ref.split('/');
  const { rows } = await db.query<{ customer_id: string }>(
    'SELECT customer_id FROM unified.source_record WHERE source = $1 AND stream = $2 AND source_key = $3',
    [source, stream, rest.join('/')],
  );
  if (!rows[0]) throw new Error(`no source record ${ref}`);
  return Number(rows[0].customer_id);
}
