/**
 * The private world of `bench sync`, beside the running stack but sharing none of its data:
 * an estate of its own (PostgreSQL `junction_bench_estate`, FerretDB database `app_bench`,
 * and its own PHP SOAP and REST servers reading that estate), a scratch hub database and
 * ClickHouse database, and a Redis database number. Worker processes get the same
 * environment, so the demo config's `${VAR}`s resolve to this estate for them too.
 *
 * The estate is seeded once per scale and reused: a marker file keeps the seed's counts and
 * ground-truth digest, and the live counts must still equal them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { PROJECT_ROOT, stackSettings, withDatabase, type StackSettings } from '../../config/env.js';
import { seedEstate } from '../../demo/seed/seed-estate.js';
import { stackDown, stackUp } from '../../demo/stack/stack.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { migrateClickhouse, migratePostgres } from '../../sql/migrate.js';
import { unifiedTables } from '../../demo/forget-estate.js';

export const HUB_DB = 'junction_bench_sync';
const ESTATE_DB = 'junction_bench_estate';
const MONGO_DB = 'app_bench';
const REDIS_DB = 15;
/** The bench's PHP servers listen this far above the stack's. */
const PORT_OFFSET = 100;

export interface BenchWorld {
  /** Environment of the bench's processes (added to process.env). */
  env: Record<string, string>;
  settings: StackSettings;
  hubUrl: string;
}

/** The bench's environment, derived from the stack's settings. */
export function benchWorld(base: StackSettings = stackSettings()): BenchWorld {
  const redis = new URL(base.services.redis.url);
  redis.pathname = `/${REDIS_DB}`;
  const mongo = new URL(base.services.mongo.url);
  mongo.pathname = `/${MONGO_DB}`;
  const hubUrl = withDatabase(base.services.postgres.url, HUB_DB);
  const env: Record<string, string> = {
    JUNCTION_DATA_DIR: path.join(base.dataDir, 'bench-sync'),
    JUNCTION_PG_URL: hubUrl,
    JUNCTION_ESTATE_DATABASE: ESTATE_DB,
    JUNCTION_MONGO_URL: mongo.toString(),
    JUNCTION_REDIS_URL: redis.toString(),
    JUNCTION_CLICKHOUSE_DATABASE: HUB_DB,
    JUNCTION_ORDERS_SOAP_PORT: String(base.services.orders_soap.port + PORT_OFFSET),
    JUNCTION_TICKETS_PORT: String(base.services.tickets_php.port + PORT_OFFSET),
  };
  // External legacy servers read their own estate: the bench cannot give them this one.
  if (base.services.orders_soap.external || base.services.tickets_php.external) {
    throw new Error('bench sync starts its own PHP SOAP and REST servers on its own estate; unset JUNCTION_ORDERS_SOAP_URL and JUNCTION_TICKETS_URL');
  }
  return { env, settings: stackSettings({ ...process.env, ...env }), hubUrl };
}

interface Marker {
  scale: number;
  groundTruthSha256: string;
  counts: Record<string, number>;
}

const markerFile = (w: BenchWorld) => path.join(w.settings.dataDir, 'estate.json');

/** Live counts of the streams the marker checks. */
async function liveCounts(w: BenchWorld): Promise<Record<string, number>> {
  const db = new pg.Client({ connectionString: withDatabase(w.settings.services.postgres.url, ESTATE_DB) });
  const mongo = new MongoClient(w.settings.services.mongo.url, { serverSelectionTimeoutMS: 5000 });
  try {
    await db.connect();
    const res = await db.query(`SELECT to_regclass('shop.accounts') IS NOT NULL AND to_regclass('orders_legacy.orders') IS NOT NULL
      AND to_regclass('tickets_legacy.tickets') IS NOT NULL AS ok`);
    if (!res.rows[0]?.ok) return {};
    const c = (await db.query(`SELECT (SELECT count(*) FROM shop.accounts)::int AS accounts, (SELECT count(*) FROM shop.addresses)::int AS addresses,
      (SELECT count(*) FROM orders_legacy.orders)::int AS orders, (SELECT count(*) FROM tickets_legacy.tickets)::int AS tickets`)).rows[0];
    await mongo.connect();
    const users = await mongo.db().collection('users').countDocuments();
    return { 'shop_pg.accounts': c.accounts, 'shop_pg.addresses': c.addresses, 'orders_soap.orders': c.orders, 'tickets_php.tickets': c.tickets, 'app_mongo.users': users };
  } catch {
    return {};
  } finally {
    await db.end().catch(() => undefined);
    await mongo.close();
  }
}

/** Seeds the bench estate at `scale` unless the marker and the live counts say it holds that. */
export async function ensureBenchEstate(w: BenchWorld, scale: number, log: (line: string) => void): Promise<Marker> {
  const file = markerFile(w);
  const marker = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Marker) : undefined;
  if (marker?.scale === scale) {
    const live = await liveCounts(w);
    if (Object.keys(live).length > 0 && Object.entries(live).every(([k, n]) => marker.counts[k] === n)) {
      log(`bench estate at scale ${scale} already seeded (ground truth ${marker.groundTruthSha256.slice(0, 12)}…)`);
      return marker;
    }
  }
  log(`seeding the bench estate (${ESTATE_DB}, mongo ${MONGO_DB}) at scale ${scale} (once)…`);
  fs.rmSync(file, { force: true });
  const summary = await seedEstate({
    scale,
    settings: w.settings,
    outDir: path.join(w.settings.dataDir, 'estate'),
    onProgress: (done, total) => done % 20_000 < 1000 && log(`  ${done}/${total} people`),
  });
  const fresh: Marker = { scale, groundTruthSha256: summary.groundTruthSha256, counts: summary.counts };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(fresh, null, 2));
  return fresh;
}

/** The bench's own PHP servers over its estate. */
export async function startLegacyServers(w: BenchWorld, log: (line: string) => void): Promise<() => Promise<void>> {
  await stackUp({ settings: w.settings, only: ['orders_soap', 'tickets_php'], log });
  return async () => {
    await stackDown({ settings: w.settings, only: ['orders_soap', 'tickets_php'], log });
  };
}

async function adminPg(w: BenchWorld, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: withDatabase(w.settings.services.postgres.url, 'postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** An empty hub: PostgreSQL and ClickHouse databases created afresh with every migration. */
export async function freshHub(w: BenchWorld): Promise<void> {
  await adminPg(w, `DROP DATABASE IF EXISTS ${HUB_DB} WITH (FORCE)`);
  await adminPg(w, `CREATE DATABASE ${HUB_DB}`);
  await migratePostgres(w.hubUrl, path.join(PROJECT_ROOT, 'sql', 'postgres'));
  const ch = createClickhouseClient(w.settings, { database: 'default' });
  try {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${HUB_DB}` });
  } finally {
    await ch.close();
  }
  await migrateClickhouse(w.settings.services.clickhouse.url, HUB_DB, path.join(PROJECT_ROOT, 'sql', 'clickhouse'));
}

/** Empties the unified view and the checkpoints (run history stays), for a second sync from scratch. */
export async function emptyUnifiedView(db: pg.ClientBase): Promise<void> {
  await db.query(`TRUNCATE ${(await unifiedTables(db)).join(', ')}, hub.checkpoint RESTART IDENTITY CASCADE`);
}

/** Drops the hub databases (the estate stays for the next run). */
export async function dropHub(w: BenchWorld): Promise<void> {
  await adminPg(w, `DROP DATABASE IF EXISTS ${HUB_DB} WITH (FORCE)`);
  const ch = createClickhouseClient(w.settings, { database: 'default' });
  try {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${HUB_DB}` });
  } finally {
    await ch.close();
  }
}
