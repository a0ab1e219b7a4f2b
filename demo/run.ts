/**
 * `junction demo` (what `npm run demo` runs): brings the sample legacy estate up — stack,
 * migrations, seed — and prints what runs where. Every step is idempotent, so running it
 * again only checks that everything is in place.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { StackSettings } from '../config/env.js';
import type { ResolvedConfig } from '../config/load.js';
import { withDatabase } from '../config/env.js';
import { createClickhouseClient } from '../pipelines/sinks/clickhouse-client.js';
import { migrateAll } from '../sql/migrate.js';
import { forgetEstate } from './forget-estate.js';
import { DEMO_AGENT_PASSWORD, demoAgents, demoTeams } from './agents.js';
import { stackUp } from './stack/stack.js';
import type { ServiceStatus } from './stack/stack.js';
import { seedEstate } from './seed/seed-estate.js';
import { DEFAULT_SCALE, digestEstate } from './seed/generate.js';
import { hubClient } from '../sql/hub-connection.js';
import { hubDown } from './hub.js';
import { USERS_COLLECTION, appDatabase } from './seed/write-mongo.js';

export interface DemoOptions {
  settings: StackSettings;
  /** Seed again even when the estate is already seeded. */
  reseed?: boolean;
  scale?: number;
  log: (line: string) => void;
}

export interface DemoSummary {
  services: ServiceStatus[];
  seeded: 'now' | 'already';
  groundTruth: string;
}

/**
 * True when the estate database holds exactly what the generator makes at this scale (the
 * tests reseed it at other scales) and the ground truth exists. Generating the counts without
 * writing takes well under a second at the default scale.
 */
export async function estateIsSeeded(settings: StackSettings, scale: number, groundTruth?: string): Promise<boolean> {
  if (groundTruth !== undefined && !fs.existsSync(groundTruth)) return false;
  const expected = digestEstate({ scale }).counts;
  const client = new pg.Client({ connectionString: withDatabase(settings.services.postgres.url, settings.estateDatabase) });
  await client.connect();
  try {
    const res = await client.query(`SELECT to_regclass('shop.accounts') IS NOT NULL AND to_regclass('orders_legacy.orders') IS NOT NULL
      AND to_regclass('tickets_legacy.tickets') IS NOT NULL AS ok`);
    if (!res.rows[0]?.ok) return false;
    const counts = await client.query(`SELECT (SELECT count(*) FROM shop.accounts)::int AS accounts,
      (SELECT count(*) FROM orders_legacy.orders)::int AS orders, (SELECT count(*) FROM tickets_legacy.tickets)::int AS tickets`);
    const row = counts.rows[0] as { accounts: number; orders: number; tickets: number };
    const inPostgres = row.accounts === expected['shop_pg.accounts'] && row.orders === expected['orders_soap.orders'] && row.tickets === expected['tickets_php.tickets'];
    // The seed empties the app users before PostgreSQL commits: a seed stopped in between
    // rolls PostgreSQL back but leaves MongoDB short.
    return inPostgres && (await appUserCount(settings.services.mongo.url)) === expected['app_mongo.users'];
  } finally {
    await client.end();
  }
}

/** Documents in the app's users collection (the stack's FerretDB). */
async function appUserCount(url: string): Promise<number> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  try {
    return await appDatabase(client, url).collection(USERS_COLLECTION).countDocuments();
  } finally {
    await client.close();
  }
}

/** {@link forgetEstate} on the stack's hub database and ClickHouse. */
async function forgetOldEstate(settings: StackSettings): Promise<void> {
  const db = hubClient(settings.services.postgres.url);
  const clickhouse = createClickhouseClient(settings);
  await db.connect();
  try {
    await forgetEstate(db, clickhouse);
  } finally {
    await db.end();
    await clickhouse.close();
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { settings, log } = options;
  log('starting the stack…');
  const services = await stackUp({ settings, log });
  log('applying migrations…');
  for (const r of await migrateAll(settings, log)) log(`${r.engine}: ${r.applied.length} applied, ${r.alreadyApplied} already applied`);

  const groundTruth = path.join(settings.dataDir, 'estate', 'ground_truth.csv');
  let seeded: DemoSummary['seeded'] = 'already';
  const scale = options.scale ?? DEFAULT_SCALE;
  if (options.reseed || !(await estateIsSeeded(settings, scale, groundTruth))) {
    // The demo's hub (left running by an earlier demo) would sync the old estate into the
    // view being forgotten; it is started again after. Forgetting comes before the seed, so
    // a run stopped anywhere in between finds the estate unseeded and does both again.
    await hubDown(settings, log);
    await forgetOldEstate(settings);
    log('the hub forgot the previous estate (unified view, checkpoints, dead letters, synced analytics): the first sync reads everything');
    log('seeding the demo estate…');
    const summary = await seedEstate({ scale, settings });
    log(`seeded ${summary.scale} people: ${Object.entries(summary.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    seeded = 'now';
  } else {
    log('the estate is already seeded (junction demo --reseed to refill it)');
  }
  return { services, seeded, groundTruth };
}

export interface HubDescription {
  config: ResolvedConfig;
  /** Streams whose first sync failed. */
  failed: string[];
}

/** The demo default of `ops.admin_token`: shown, since it is no secret; a real one never is. */
const DEMO_ADMIN_TOKEN = 'demo-admin-token-change-me';

/** The "what runs where" text printed at the end of `junction demo`. */
export function describeDemo(summary: DemoSummary, settings: StackSettings, hub?: HubDescription): string {
  const url = (name: string) => summary.services.find((s) => s.name === name)?.url ?? '?';
  const estateUrl = withDatabase(settings.services.postgres.url, settings.estateDatabase);
  return [
    'Junction demo estate is up.',
    '',
    'Legacy systems (the sources in config/junction.yaml):',
    `  orders_soap   SOAP 1.1 order service   WSDL ${url('orders_soap')}`,
    `  tickets_php   PHP ticket REST API (GBK) ${url('tickets_php')}api.php`,
    `  shop_pg       PostgreSQL shop schema   ${estateUrl}`,
    `  app_mongo     app users on FerretDB    ${url('mongo')}`,
    '  crm_oracle    Oracle CRM               off (set ORACLE_URL; DDL in demo/oracle/)',
    '',
    'Hub services:',
    `  PostgreSQL    ${url('postgres')}`,
    `  Redis         ${url('redis')}`,
    `  ClickHouse    ${url('clickhouse')} (database ${settings.clickhouseDatabase})`,
    ...(hub ? hubLines(hub) : []),
    '',
    `Ground truth for identity resolution: ${summary.groundTruth}`,
    '',
    'Try:',
    '  npx junction check                      # config, mappings and every source',
    '  npx junction read tickets_php.tickets -n 3',
    '  npx junction discover shop_pg',
    '  npx junction sync shop_pg.accounts       # queue a sync and watch it (--inline: in this process)',
    '  npx junction schedules list',
    '  npx junction dlq list',
    `  npx junction customers evaluate --truth ${summary.groundTruth}`,
    '  npx junction stack status               # npx junction stack down to stop',
  ].join('\n');
}

function hubLines({ config, failed }: HubDescription): string[] {
  const ops = `http://127.0.0.1:${config.ops.port}`;
  const token = config.ops.admin_token === DEMO_ADMIN_TOKEN ? `demo token: ${DEMO_ADMIN_TOKEN}` : 'token: ops.admin_token (JUNCTION_ADMIN_TOKEN)';
  return [
    '',
    'The hub (junction start --role all --demo, log in .junction/logs/hub.log):',
    `  ops API       ${ops}/api/ops/sources   (Authorization: Bearer …, ${token})`,
    `  queue board   ${ops}/ops/queues        (any user name, the token as password)`,
    `  metrics       ${ops}/metrics, health ${ops}/readyz`,
    `  chat gateway  http://127.0.0.1:${config.gateway.port}/ (WebSocket /ws)`,
    failed.length > 0 ? `  first sync FAILED for: ${failed.join(', ')} (see junction dlq list and the hub log)` : '  first sync of every stream: done',
    ...browserLines(config),
  ];
}

/** The pages, with the demo logins (public demo credentials, like the demo admin token). */
function browserLines(config: ResolvedConfig): string[] {
  const gateway = `http://127.0.0.1:${config.gateway.port}`;
  const agents = demoAgents(demoTeams(config.gateway));
  const width = Math.max(...agents.map((a) => a.email.length));
  const token = config.ops.admin_token === DEMO_ADMIN_TOKEN ? `admin token ${DEMO_ADMIN_TOKEN}` : 'admin token: ops.admin_token (JUNCTION_ADMIN_TOKEN)';
  return [
    '',
    'Open in a browser:',
    `  agent console ${gateway}/agent   log in as one of (password ${DEMO_AGENT_PASSWORD}):`,
    ...agents.map((a) => `                ${a.email.padEnd(width)}  ${a.name}`),
    ...(config.gateway.demo_shop ? [`  demo shop     ${gateway}/demo/shop   (sign in as a shopper, then chat with the bubble)`] : []),
    `  ops console   http://127.0.0.1:${config.ops.port}/ops   (${token})`,
  ];
}
