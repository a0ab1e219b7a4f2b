/**
 * What the queued-sync, replay and reliability tests share: a scratch source database with a
 * legacy order table of N rows (PostgreSQL, read by the real postgres connector), a small
 * config + mapping written to a temp folder that points at it, and the checks that the
 * unified view holds exactly the source: the same keys, each with the payload hash of the
 * source row as the connector reads it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import type { ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import { sha256Json } from '../../pipelines/map/canonical-json.js';
import { freshDatabase } from './scratch-pool.js';

export const SOURCE = 'legacy_pg';
export const STREAM = 'orders';

export interface ScratchSource {
  /** URL of the scratch source database (what the config's source reads). */
  url: string;
  pool: pg.Pool;
  /** Rows in legacy.orders now. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/**
 * `junction_test_<name>_src` afresh, with `legacy.orders` holding `rows` orders of
 * `rows / 5` customers (linked by email). `updated_at` repeats every 3 rows, so pages end
 * inside runs of equal cursor values (the compound cursor must be tie-safe).
 */
export async function scratchSource(name: string, rows: number): Promise<ScratchSource> {
  const { url, pool, close } = await freshDatabase(`junction_test_${name}_src`, 2);
  await pool.query(`CREATE SCHEMA legacy;
    CREATE TABLE legacy.orders (
      order_no text PRIMARY KEY, customer_email text, status text NOT NULL, total text NOT NULL,
      created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE INDEX orders_cursor_idx ON legacy.orders (updated_at, order_no);`);
  await pool.query(
    `INSERT INTO legacy.orders
     SELECT 'SO' || lpad(i::text, 7, '0'), 'c' || (i % $2) || '@example.com', (ARRAY['PAID','SHIPPED','COMPLETED','CANCELLED'])[1 + i % 4],
            ((i % 997) + 0.5)::text, timestamptz '2025-01-01 00:00:00+00' + i * interval '1 second',
            timestamptz '2025-01-01 00:00:00+00' + (i / 3) * interval '1 second'
       FROM generate_series(1, $1) AS i`,
    [rows, Math.max(1, Math.floor(rows / 5))],
  );
  await pool.query('ANALYZE legacy.orders');
  return {
    url,
    pool,
    count: async () => Number((await pool.query('SELECT count(*) AS n FROM legacy.orders')).rows[0].n),
    close,
  };
}

/** The order statuses of the mapping; `ON_HOLD` is only known from mapping version 2 on. */
const STATUS_V1 = { PAID: 'paid', SHIPPED: 'shipped', COMPLETED: 'delivered', CANCELLED: 'cancelled' };
const STATUS_V2 = { ...STATUS_V1, ON_HOLD: 'pending' };

export interface SyncConfigOptions {
  /** The source database URL (a TCP proxy's, to take the source away). */
  sourceUrl: string;
  /** 1: an unknown status fails the record; 2: ON_HOLD maps to pending. @defaultValue 1 */
  mappingVersion?: 1 | 2;
  /** YAML of the `pipelines:` section (flow style). */
  pipelines?: string;
}

/** Writes `junction.yaml` and the mapping into `dir` (created if needed); returns the config path. */
export function writeSyncConfig(dir: string, options: SyncConfigOptions): string {
  fs.mkdirSync(dir, { recursive: true });
  const status = options.mappingVersion === 2 ? STATUS_V2 : STATUS_V1;
  fs.writeFileSync(
    path.join(dir, `${SOURCE}.${STREAM}.yaml`),
    `version: 1
source: ${SOURCE}
stream: ${STREAM}
target: order
key: order_no
identity:
  - { kind: email, value: customer_email }
fields:
  order_no: order_no
  # no default: a status this map does not know fails the record (dead letter)
  status: { from: status, map: ${JSON.stringify(status)} }
  total_amount: { from: total, parse: number }
  ordered_at: created_at
  updated_at: updated_at
`,
  );
  const file = path.join(dir, 'junction.yaml');
  fs.writeFileSync(
    file,
    `version: 1
sources:
  ${SOURCE}:
    type: postgres
    url: ${options.sourceUrl}
    max_connections: 2
    streams:
      ${STREAM}: { table: legacy.orders, cursor: [updated_at, order_no], key: order_no }
mappings:
  - ${SOURCE}.${STREAM}.yaml
identity:
  default_region: CN
  kinds:
    email: { priority: 50, normalize: email }
pipelines: ${options.pipelines ?? '{ batch_size: 1000 }'}
`,
  );
  return file;
}

/** A fresh temp folder for a test's config files. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `junction-${prefix}-`));
}

/** Every source row's key → SHA-256 of the record as the connector reads it (what load stores). */
export async function sourceHashes(config: ResolvedConfig): Promise<Map<string, string>> {
  const connector = createConnector(SOURCE, config.sources[SOURCE] as { type: string }, { log: silentLogger });
  const out = new Map<string, string>();
  try {
    for await (const batch of connector.read(STREAM, null, { batchSize: 5000 })) {
      for (const r of batch.records) out.set(String(r.order_no), sha256Json(r));
    }
  } finally {
    await connector.close();
  }
  return out;
}

/** The unified view's records of the stream: key → payload hash (a key appears once by the PK). */
export async function unifiedHashes(hub: pg.Pool): Promise<Map<string, string>> {
  const res = await hub.query<{ source_key: string; payload_hash: string }>(
    'SELECT source_key, payload_hash FROM unified.source_record WHERE source = $1 AND stream = $2',
    [SOURCE, STREAM],
  );
  return new Map(res.rows.map((r) => [r.source_key, r.payload_hash]));
}

/** Keys that differ between two key → hash maps (missing, extra or changed), at most `limit`. */
export function hashDiff(expected: Map<string, string>, actual: Map<string, string>, limit = 10): string[] {
  const out: string[] = [];
  for (const [k, h] of expected) {
    if (out.length >= limit) return out;
    if (!actual.has(k)) out.push(`missing ${k}`);
    else if (actual.get(k) !== h) out.push(`changed ${k}`);
  }
  for (const k of actual.keys()) {
    if (out.length >= limit) return out;
    if (!expected.has(k)) out.push(`extra ${k}`);
  }
  return out;
}

/** Records of the stream in the unified view (the `order` rows too must match). */
export async function unifiedCounts(hub: pg.Pool): Promise<{ records: number; orders: number }> {
  const res = await hub.query<{ records: number; orders: number }>(
    `SELECT (SELECT count(*)::int FROM unified.source_record WHERE source = $1 AND stream = $2) AS records,
            (SELECT count(*)::int FROM unified."order" WHERE source = $1 AND stream = $2) AS orders`,
    [SOURCE, STREAM],
  );
  return res.rows[0]!;
}
