/**
 * `npm run bench -- read`: full reads through each connector on the large estate, in
 * records/s, each compared in the same run with the bare driver doing the same keyset read
 * (pg, mongodb). SOAP and REST have no bare peer here (the legacy PHP servers are the
 * bottleneck); they report their rate alone.
 */
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { StackSettings } from '../../config/env.js';
import type { ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import type { Connector } from '../../connectors/types.js';
import { estateIsSeeded } from '../../demo/run.js';
import { seedEstate } from '../../demo/seed/seed-estate.js';

export interface ReadBenchOptions {
  settings: StackSettings;
  config: ResolvedConfig;
  scale: number;
  batchSize: number;
  /** Measurements per contender; the best is kept (the least disturbed by the machine). */
  rounds: number;
  /** Cap for the slow legacy HTTP sources. */
  httpLimit: number;
  log: (line: string) => void;
}

export interface ReadFigure {
  kind: string;
  stream: string;
  records: number;
  recordsPerSec: number;
  bareRecordsPerSec?: number;
  /** Connector rate / bare driver rate. */
  ratio?: number;
}

/** Seeds the estate at `scale` unless it already holds exactly that. */
export async function ensureEstate(settings: StackSettings, scale: number, log: (line: string) => void): Promise<void> {
  if (await estateIsSeeded(settings, scale)) return;
  log(`seeding the estate at scale ${scale} (once)…`);
  await seedEstate({ scale, settings, onProgress: (done, total) => done % 20000 < 1000 && log(`  ${done}/${total} people`) });
}

async function timeRead(connector: Connector, stream: string, batchSize: number, limit?: number): Promise<{ records: number; seconds: number }> {
  const started = performance.now();
  let records = 0;
  for await (const batch of connector.read(stream, null, { batchSize, ...(limit ? { limit } : {}) })) records += batch.records.length;
  return { records, seconds: (performance.now() - started) / 1000 };
}

async function barePg(url: string, batchSize: number): Promise<{ records: number; seconds: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  let records = 0;
  let last: { updated_at: Date; id: string } | undefined;
  try {
    for (;;) {
      const res = last
        ? await client.query('SELECT * FROM shop.accounts WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3', [last.updated_at, last.id, batchSize])
        : await client.query('SELECT * FROM shop.accounts ORDER BY updated_at, id LIMIT $1', [batchSize]);
      records += res.rows.length;
      if (res.rows.length < batchSize) break;
      last = res.rows[res.rows.length - 1];
    }
  } finally {
    await client.end();
  }
  return { records, seconds: (performance.now() - started) / 1000 };
}

/**
 * The bare driver's read of the same stream: one find sorted on (updatedAt, _id) with the
 * same batch size — what the connector does (a new keyset query per batch makes FerretDB
 * re-sort the collection every time).
 */
async function bareMongo(url: string, batchSize: number): Promise<{ records: number; seconds: number }> {
  const client = new MongoClient(url);
  await client.connect();
  const users = client.db().collection('users');
  const started = performance.now();
  let records = 0;
  try {
    const cursor = users.find({}).sort({ updatedAt: 1, _id: 1 }).batchSize(batchSize);
    for await (const doc of cursor) if (doc) records += 1;
  } finally {
    await client.close();
  }
  return { records, seconds: (performance.now() - started) / 1000 };
}

const rate = (r: { records: number; seconds: number }) => r.records / r.seconds;

export async function benchRead(options: ReadBenchOptions): Promise<ReadFigure[]> {
  const { settings, config, batchSize, rounds, log } = options;
  await ensureEstate(settings, options.scale, log);
  const open = (source: string) => createConnector(source, config.sources[source] as { type: string }, { log: silentLogger });
  const figures: ReadFigure[] = [];
  const urlOf = (source: string) => String((config.sources[source] as { url?: string }).url);

  const contenders: { kind: string; source: string; stream: string; bare?: () => Promise<{ records: number; seconds: number }>; limit?: number }[] = [
    { kind: 'postgres', source: 'shop_pg', stream: 'accounts', bare: () => barePg(urlOf('shop_pg'), batchSize) },
    { kind: 'mongo', source: 'app_mongo', stream: 'users', bare: () => bareMongo(urlOf('app_mongo'), batchSize) },
    { kind: 'rest', source: 'tickets_php', stream: 'tickets', limit: options.httpLimit },
    { kind: 'soap', source: 'orders_soap', stream: 'orders', limit: options.httpLimit },
  ];
  for (const c of contenders) {
    const connector = open(c.source);
    try {
      log(`${c.kind}: reading ${c.source}.${c.stream}…`);
      // Alternate connector and peer so that drift in the machine's load hits both.
      let mine: { records: number; seconds: number } | undefined;
      let bare: { records: number; seconds: number } | undefined;
      for (let i = 0; i < rounds; i++) {
        const m = await timeRead(connector, c.stream, batchSize, c.limit);
        if (!mine || rate(m) > rate(mine)) mine = m;
        if (c.bare) {
          const b = await c.bare();
          if (!bare || rate(b) > rate(bare)) bare = b;
        }
      }
      const figure: ReadFigure = { kind: c.kind, stream: `${c.source}.${c.stream}`, records: mine!.records, recordsPerSec: Math.round(rate(mine!)) };
      if (bare) {
        if (bare.records !== mine!.records) throw new Error(`${c.kind}: the connector read ${mine!.records} records, the bare driver ${bare.records}`);
        figure.bareRecordsPerSec = Math.round(rate(bare));
        figure.ratio = Number((rate(mine!) / rate(bare)).toFixed(3));
      }
      figures.push(figure);
    } finally {
      await connector.close();
    }
  }
  return figures;
}
