/**
 * `npm run bench -- resolve`: resolve + load of N mapped records of the demo estate into a
 * scratch unified view, in records/s, compared in the same run with the physical floor: a
 * raw `COPY` of the same rows into a temp table plus one `INSERT … ON CONFLICT` merge into a
 * table shaped like unified.source_record. Records are built straight from the generator
 * (a plain TypeScript mapping, so the figure does not depend on the mapping engine) and
 * loaded stream by stream, as syncs would, in batches of `batchSize`. The pairwise quality
 * against the generator's ground truth is reported too (one extra query).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PROJECT_ROOT, stackSettings, withDatabase, type StackSettings } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import type { JsonValue } from '../../connectors/types.js';
import { generateEstate } from '../../demo/seed/generate.js';
import { applyBatch } from '../../pipelines/load/apply-batch.js';
import type { TargetName } from '../../pipelines/model.js';
import { normalizeEmail, normalizePhone } from '../../pipelines/normalize.js';
import { resolveRules, type ResolveRules } from '../../pipelines/resolve/rules.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { evaluate } from '../../pipelines/unified/evaluate.js';
import { migratePostgres } from '../../sql/migrate.js';

export interface ResolveBenchOptions {
  /** Mapped records to load. @defaultValue 200000 */
  scale?: number;
  /** Records per batch (one transaction each). @defaultValue 5000 */
  batchSize?: number;
  /** Identity rules. @defaultValue those of config/junction.yaml */
  rules?: ResolveRules;
  settings?: StackSettings;
  /** Progress and result lines (stderr when `json`). */
  log?: (line: string) => void;
  /** Print the figures as one JSON line at the end. */
  json?: boolean;
}

export interface ResolveBenchFigures {
  bench: 'resolve';
  records: number;
  batchSize: number;
  seconds: number;
  recordsPerSec: number;
  customers: number;
  merges: number;
  raw: { seconds: number; recordsPerSec: number };
  /** recordsPerSec / raw.recordsPerSec: the share of the physical floor's speed reached. */
  ratio: number;
  quality: { precision: number; recall: number };
}

const DB = 'junction_bench_resolve';
const ORDER_STATUS: Record<string, string> = {
  PENDING_PAYMENT: 'pending', PAID: 'paid', SHIPPED: 'shipped', COMPLETED: 'delivered', CANCELLED: 'cancelled', REFUNDED: 'refunded',
};
const TICKET_STATUS = ['open', 'pending', 'resolved', 'closed'];
const TICKET_PRIORITY: Record<number, string> = { 1: 'low', 2: 'normal', 3: 'urgent' };

const iso = (ms: number) => new Date(ms).toISOString();
const phone = (p: string | number | null | undefined) => (p === null || p === undefined ? null : normalizePhone(p, 'CN'));
const email = (e: string | null | undefined) => (e ? normalizeEmail(e) : null);

function record(source: string, stream: string, target: TargetName, key: string, fields: Record<string, JsonValue>, keys: [string, string | null][]): MappedRecord {
  const file = `mappings/${source}.${stream}.yaml`;
  const origins = Object.fromEntries(Object.keys(fields).map((f, i) => [f, { file, line: 10 + i }]));
  const raw = { key, ...fields };
  return {
    source, stream, target, sourceKey: key, fields,
    identities: keys.filter((k): k is [string, string] => k[1] !== null).map(([kind, value]) => ({ kind, value })),
    payloadHash: createHash('sha256').update(JSON.stringify(raw)).digest('hex'),
    raw, origins, mappingVersion: `${file}@bench`,
  };
}

/** N mapped records of the estate, stream by stream, and the ground truth of those records. */
export function benchRecords(scale: number): { records: MappedRecord[]; truth: Map<string, string> } {
  const streams: MappedRecord[][] = [[], [], [], [], []];
  const truth = new Map<string, string>();
  let count = 0;
  // ~3.75 records per person without addresses: generate a little more than needed.
  for (const b of generateEstate({ scale: Math.ceil(scale / 3.5) + 10, seed: 'bench-resolve' })) {
    for (const c of b.crmCustomers) {
      streams[0]!.push(record('crm_oracle', 'customers', 'crm_profile', c.crmId, {
        crm_id: c.crmId, name: c.name, email: email(c.email), phone: phone(c.mobile), vip_level: String(c.vipLevel), account_manager: c.accountManager, updated_at: iso(c.updatedAt),
      }, [['crm_id', c.crmId], ['email', email(c.email)], ['phone', phone(c.mobile)]]));
    }
    for (const a of b.shopAccounts) {
      streams[1]!.push(record('shop_pg', 'accounts', 'customer', String(a.id), {
        name: a.fullName, email: email(a.email), phone: phone(a.phone), created_at: iso(a.createdAt), updated_at: iso(a.updatedAt),
      }, [['shop_account', String(a.id)], ['crm_id', a.crmId], ['email', email(a.email)], ['phone', phone(a.phone)]]));
    }
    for (const u of b.appUsers) {
      streams[2]!.push(record('app_mongo', 'users', 'customer', u.id, {
        nickname: u.nickname, email: email(u.email), phone: phone(u.phone), created_at: iso(u.createdAt), updated_at: iso(u.updatedAt),
      }, [['app_user', u.id], ['wechat_unionid', u.unionid ?? null], ['wechat_openid', u.openid], ['email', email(u.email)], ['phone', phone(u.phone)]]));
    }
    for (const o of b.orders) {
      streams[3]!.push(record('orders_soap', 'orders', 'order', o.orderNo, {
        order_no: o.orderNo, status: ORDER_STATUS[o.status] ?? null, total_amount: o.totalAmount, currency: o.currency,
        contact_phone: phone(o.contactPhone), ordered_at: iso(o.createdAt), updated_at: iso(o.updatedAt),
      }, [['crm_id', o.customerNo], ['phone', phone(o.contactPhone)]]));
    }
    for (const t of b.tickets) {
      streams[4]!.push(record('tickets_php', 'tickets', 'ticket', String(t.id), {
        ticket_no: String(t.id), subject: t.subject, body: t.body, status: TICKET_STATUS[t.status] ?? null, priority: TICKET_PRIORITY[t.priority] ?? null,
        created_at: iso(t.createdAt), updated_at: iso(t.updatedAt),
      }, [['email', email(t.customerEmail)], ['phone', phone(t.customerPhone)], ['shop_account', t.shopAccountId === null ? null : String(t.shopAccountId)]]));
    }
    for (const t of b.truth) truth.set(`${t.source}\u001f${t.stream}\u001f${t.sourceKey}`, t.personId);
    count = streams.reduce((n, s) => n + s.length, 0);
    if (count >= scale) break;
  }
  // Trim every stream in proportion, so all streams stay represented at any scale.
  const keep = Math.min(1, scale / count);
  const records = streams.flatMap((s) => s.slice(0, Math.round(s.length * keep))).slice(0, scale);
  return { records, truth };
}

async function admin(settings: StackSettings, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: withDatabase(settings.services.postgres.url, 'postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** CSV field for COPY (quoted: payloads carry commas, quotes and newlines). */
const csv = (v: string | null) => (v === null ? '' : `"${v.replaceAll('"', '""')}"`);

/** The physical floor: COPY all rows into a temp table, one INSERT … ON CONFLICT into the real one. */
async function rawPeer(db: pg.Client, records: readonly MappedRecord[]): Promise<number> {
  await db.query(`CREATE TABLE IF NOT EXISTS public.raw_source_record (
    source text NOT NULL, stream text NOT NULL, source_key text NOT NULL, target text NOT NULL, payload_hash text NOT NULL,
    identity_keys text[] NOT NULL, fields jsonb NOT NULL, origins jsonb NOT NULL, synced_at timestamptz NOT NULL,
    UNIQUE (source, stream, source_key))`);
  await db.query('TRUNCATE public.raw_source_record');
  const at = new Date().toISOString();
  const started = performance.now();
  await db.query('BEGIN');
  await db.query(`CREATE TEMP TABLE raw_stage (LIKE public.raw_source_record) ON COMMIT DROP`);
  const lines = function* () {
    for (const r of records) {
      const keys = `{${r.identities.map((k) => `"${`${k.kind}:${k.value}`.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
      yield `${[r.source, r.stream, r.sourceKey, r.target, r.payloadHash, keys, JSON.stringify(r.fields), JSON.stringify(r.origins), at].map(csv).join(',')}\n`;
    }
  };
  await pipeline(Readable.from(lines()), db.query(copyFrom('COPY raw_stage FROM STDIN WITH (FORMAT csv)')));
  await db.query(`INSERT INTO public.raw_source_record SELECT * FROM raw_stage
    ON CONFLICT (source, stream, source_key) DO UPDATE SET payload_hash = excluded.payload_hash, identity_keys = excluded.identity_keys,
      fields = excluded.fields, origins = excluded.origins, synced_at = excluded.synced_at`);
  await db.query('COMMIT');
  return (performance.now() - started) / 1000;
}

export async function benchResolve(options: ResolveBenchOptions = {}): Promise<ResolveBenchFigures> {
  const scale = options.scale ?? 200_000;
  const batchSize = options.batchSize ?? 5000;
  const settings = options.settings ?? stackSettings();
  const log = options.log ?? ((line: string) => (options.json ? console.error(line) : console.log(line)));
  const rules = options.rules ?? resolveRules(await loadConfig(path.join(PROJECT_ROOT, 'config/junction.yaml')));

  log(`building ${scale.toLocaleString('en')} mapped records from the demo generator…`);
  const { records, truth } = benchRecords(scale);
  await admin(settings, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin(settings, `CREATE DATABASE ${DB}`);
  const url = withDatabase(settings.services.postgres.url, DB);
  await migratePostgres(url, path.join(PROJECT_ROOT, 'sql/postgres'));
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    log(`resolve + load in batches of ${batchSize}…`);
    let merges = 0;
    const started = performance.now();
    for (let i = 0; i < records.length; i += batchSize) {
      await db.query('BEGIN');
      const result = await applyBatch(db, records.slice(i, i + batchSize), rules);
      await db.query('COMMIT');
      merges += result.merged;
      if (result.failures.length) throw new Error(`bench records failed to load: ${result.failures[0]!.message}`);
    }
    const seconds = (performance.now() - started) / 1000;
    log('raw peer: COPY into a temp table + one INSERT … ON CONFLICT…');
    const rawSeconds = await rawPeer(db, records);
    const customers = Number((await db.query('SELECT count(*) AS n FROM unified.customer WHERE merged_into IS NULL')).rows[0].n);
    const quality = await evaluate(db, truth);
    const recordsPerSec = Math.round(records.length / seconds);
    const rawRate = Math.round(records.length / rawSeconds);
    const figures: ResolveBenchFigures = {
      bench: 'resolve',
      records: records.length,
      batchSize,
      seconds: Number(seconds.toFixed(2)),
      recordsPerSec,
      customers,
      merges,
      raw: { seconds: Number(rawSeconds.toFixed(2)), recordsPerSec: rawRate },
      ratio: Number((recordsPerSec / rawRate).toFixed(3)),
      quality: { precision: Number(quality.precision.toFixed(5)), recall: Number(quality.recall.toFixed(5)) },
    };
    log(`resolve + load: ${figures.records.toLocaleString('en')} records in ${figures.seconds} s = ${recordsPerSec.toLocaleString('en')} rec/s ` +
      `(${customers.toLocaleString('en')} customers, ${merges} merges)`);
    log(`raw COPY + INSERT … ON CONFLICT: ${figures.raw.seconds} s = ${rawRate.toLocaleString('en')} rec/s; ratio ${figures.ratio}`);
    log(`quality vs ground truth: precision ${figures.quality.precision}, recall ${figures.quality.recall}`);
    if (options.json) console.log(JSON.stringify(figures));
    return figures;
  } finally {
    await db.end();
    await admin(settings, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  }
}
