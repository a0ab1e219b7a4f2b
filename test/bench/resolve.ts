/**
 * `npm run bench -- resolve`: map + resolve + load of N source records of the demo estate
 * (every demo stream, the Oracle CRM's included, as the connectors hand them over) into a
 * scratch unified view, through the committed mappings, stream by stream as syncs would, in
 * batches of `batchSize` (one transaction each), the next batch mapped while one loads.
 * Reported in records/s with the time of each stage, and compared in the same run with the
 * physical floor: a raw `COPY` of the same
 * mapped rows into a temp table plus one `INSERT … ON CONFLICT` merge into a table shaped
 * like unified.source_record. The pairwise quality against the generator's ground truth is
 * reported too (one extra query, outside the timings).
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PROJECT_ROOT, stackSettings, withDatabase, type StackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import type { SourceRecord } from '../../connectors/types.js';
import { generateEstate } from '../../demo/seed/generate.js';
import { load } from '../../pipelines/load/load.js';
import { checkValues } from '../../pipelines/load/values.js';
import { compileMapping } from '../../pipelines/map/compile.js';
import { DEMO_STREAMS, streamRecords, type DemoStream } from '../../pipelines/map/estate-records.js';
import { mapBatch } from '../../pipelines/map/map-batch.js';
import { prefetch } from '../../pipelines/prefetch.js';
import { resolve } from '../../pipelines/resolve/resolve.js';
import { resolveRules } from '../../pipelines/resolve/rules.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { evaluate } from '../../pipelines/unified/evaluate.js';
import { migratePostgres } from '../../sql/migrate.js';
import { cpuDuring } from './cpu.js';

export interface ResolveBenchOptions {
  /** Source records to map, resolve and load. @defaultValue 200000 */
  scale?: number;
  /** Records per batch (one transaction each). @defaultValue 5000 */
  batchSize?: number;
  /** Config whose mappings and identity rules are used. @defaultValue config/junction.yaml */
  config?: ResolvedConfig;
  /** Generator seed of the estate. @defaultValue 'bench-resolve' */
  seed?: string;
  settings?: StackSettings;
  /** Progress and result lines (stderr when `json`). */
  log?: (line: string) => void;
  /** Print the figures as one JSON line at the end. */
  json?: boolean;
}

/** Seconds spent in each stage (their sum is `seconds`, less the loop's own overhead). */
export interface StageSeconds {
  /** mapBatch through the committed mappings: the part not hidden behind the previous batch's load. */
  map: number;
  /** checkValues + resolve (reads and locks). */
  resolve: number;
  /** load (writes). */
  load: number;
  /** BEGIN and COMMIT. */
  commit: number;
}

/** CPU seconds a part of the run used: this process, and its PostgreSQL backend (null when not on this machine). */
export interface CpuSeconds {
  node: number;
  postgres: number | null;
}

export interface ResolveBenchFigures {
  bench: 'resolve';
  records: number;
  batchSize: number;
  seconds: number;
  recordsPerSec: number;
  stages: StageSeconds;
  /** Which side bounds the run: this process (mapping, resolving, building rows) or PostgreSQL. */
  cpu: CpuSeconds;
  customers: number;
  merges: number;
  raw: { seconds: number; recordsPerSec: number; cpu: CpuSeconds };
  /** recordsPerSec / raw.recordsPerSec: the share of the physical floor's speed reached. */
  ratio: number;
  quality: { precision: number; recall: number };
}

const DB = 'junction_bench_resolve';

/** Sync order: profiles and accounts before what points at them (any order gives the same customers). */
const ORDER: readonly DemoStream[] = ['crm_oracle.customers', 'shop_pg.accounts', 'shop_pg.addresses', 'app_mongo.users', 'orders_soap.orders', 'tickets_php.tickets'];

/**
 * About `scale` source records of the estate, stream by stream (every stream trimmed in the
 * same proportion), with the ground truth of those records.
 */
export function benchSourceRecords(scale: number, seed = 'bench-resolve'): { streams: [DemoStream, SourceRecord[]][]; truth: Map<string, string> } {
  const out = new Map<DemoStream, SourceRecord[]>(DEMO_STREAMS.map((s) => [s, []]));
  const truth = new Map<string, string>();
  let count = 0;
  // ~4.7 records per person (addresses and the CRM included): generate a little more than needed.
  for (const b of generateEstate({ scale: Math.ceil(scale / 4.4) + 10, seed })) {
    for (const s of DEMO_STREAMS) {
      const rows = streamRecords(b, s);
      out.get(s)!.push(...rows);
      count += rows.length;
    }
    for (const t of b.truth) truth.set(`${t.source}\u001f${t.stream}\u001f${t.sourceKey}`, t.personId);
    if (count >= scale) break;
  }
  const keep = Math.min(1, scale / count);
  return { streams: ORDER.map((s) => [s, out.get(s)!.slice(0, Math.round(out.get(s)!.length * keep))]), truth };
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

/**
 * The physical floor: COPY all rows into a temp table, one INSERT … ON CONFLICT into the real
 * one. A row holds what the pipeline stores per record; its field origins (the same for all
 * records of a mapping version, stored once per version by the pipeline) are named by the
 * version, as in unified.source_record.
 */
export async function rawPeer(db: pg.Client, records: readonly MappedRecord[]): Promise<number> {
  await db.query('DROP TABLE IF EXISTS public.raw_source_record');
  await db.query(`CREATE TABLE public.raw_source_record (
    source text NOT NULL, stream text NOT NULL, source_key text NOT NULL, target text NOT NULL, payload_hash text NOT NULL,
    identity_keys text[] NOT NULL, fields jsonb NOT NULL, mapping_version text NOT NULL, synced_at timestamptz NOT NULL,
    UNIQUE (source, stream, source_key))`);
  const at = new Date().toISOString();
  const started = performance.now();
  await db.query('BEGIN');
  await db.query(`CREATE TEMP TABLE raw_stage (LIKE public.raw_source_record) ON COMMIT DROP`);
  const lines = function* () {
    for (const r of records) {
      const keys = `{${r.identities.map((k) => `"${`${k.kind}:${k.value}`.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
      yield `${[r.source, r.stream, r.sourceKey, r.target, r.payloadHash, keys, JSON.stringify(r.fields), r.mappingVersion, at].map(csv).join(',')}\n`;
    }
  };
  await pipeline(Readable.from(lines()), db.query(copyFrom('COPY raw_stage FROM STDIN WITH (FORMAT csv)')));
  await db.query(`INSERT INTO public.raw_source_record SELECT * FROM raw_stage
    ON CONFLICT (source, stream, source_key) DO UPDATE SET payload_hash = excluded.payload_hash, identity_keys = excluded.identity_keys,
      fields = excluded.fields, mapping_version = excluded.mapping_version, synced_at = excluded.synced_at`);
  await db.query('COMMIT');
  return (performance.now() - started) / 1000;
}

function cpuFigures(c: { node: number; postgres: number | null }): CpuSeconds {
  return { node: Number(c.node.toFixed(2)), postgres: c.postgres === null ? null : Number(c.postgres.toFixed(2)) };
}

/** `Node 12.3 s, PostgreSQL 8.1 s (61 + 40 µs per record)`. */
function cpuLine(c: CpuSeconds, records: number): string {
  const us = (s: number) => Math.round((s * 1e6) / records);
  if (c.postgres === null) return `Node ${c.node} s (${us(c.node)} µs per record); PostgreSQL's not readable here`;
  return `Node ${c.node} s, PostgreSQL backend ${c.postgres} s (${us(c.node)} + ${us(c.postgres)} µs per record)`;
}

export async function benchResolve(options: ResolveBenchOptions = {}): Promise<ResolveBenchFigures> {
  const scale = options.scale ?? 200_000;
  const batchSize = options.batchSize ?? 5000;
  const settings = options.settings ?? stackSettings();
  const log = options.log ?? ((line: string) => (options.json ? console.error(line) : console.log(line)));
  const config = options.config ?? (await loadConfig(path.join(PROJECT_ROOT, 'config/junction.yaml'), { env: {} }));
  const rules = resolveRules(config);

  log(`generating ${scale.toLocaleString('en')} source records of the demo estate…`);
  const { streams, truth } = benchSourceRecords(scale, options.seed);
  const records = streams.reduce((n, [, rows]) => n + rows.length, 0);
  const mappings = new Map(streams.map(([ref]) => {
    const m = config.mappings.find((x) => `${x.mapping.source}.${x.mapping.stream}` === ref);
    if (!m) throw new Error(`no committed mapping reads ${ref}`);
    return [ref, compileMapping(m, config)] as const;
  }));
  await admin(settings, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin(settings, `CREATE DATABASE ${DB}`);
  const url = withDatabase(settings.services.postgres.url, DB);
  await migratePostgres(url, path.join(PROJECT_ROOT, 'sql/postgres'));
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    // The backend's CPU is read from this machine's process table: only when the server runs here.
    const { rows: [me] } = await db.query<{ pid: number; local: boolean }>(
      `SELECT pg_backend_pid() AS pid, coalesce(host(inet_server_addr()) IN ('127.0.0.1', '::1'), true) AS local`,
    );
    const backend = me!.local ? me!.pid : null;
    log(`map + resolve + load in batches of ${batchSize}…`);
    let merges = 0;
    const stages: StageSeconds = { map: 0, resolve: 0, load: 0, commit: 0 };
    let at = performance.now();
    const lap = (stage: keyof StageSeconds) => {
      const now = performance.now();
      stages[stage] += (now - at) / 1000;
      at = now;
    };
    const started = performance.now();
    const run = await cpuDuring(backend, async () => {
      for (const [ref, rows] of streams) {
        const [source, stream] = ref.split('.') as [string, string];
        // As a sync job does (pipelines/run-sync.ts): the next batch is mapped while this one loads.
        async function* mappedBatches() {
          for (let i = 0; i < rows.length; i += batchSize) yield await mapBatch(mappings.get(ref)!, source, stream, rows.slice(i, i + batchSize));
        }
        at = performance.now();
        for await (const mapped of prefetch(mappedBatches())) {
          lap('map');
          await db.query('BEGIN');
          lap('commit');
          const { ok, failures } = checkValues(mapped.records, rules);
          const resolution = await resolve(ok, db, rules);
          lap('resolve');
          await load(resolution, db, rules);
          lap('load');
          await db.query('COMMIT');
          lap('commit');
          merges += resolution.absorbed.length;
          const failure = mapped.failures[0] ?? failures[0];
          if (failure) throw new Error(`bench record ${failure.source}.${failure.stream} ${failure.sourceKey} failed: ${failure.message}`);
        }
      }
    });
    const seconds = (performance.now() - started) / 1000;
    log('raw peer: COPY into a temp table + one INSERT … ON CONFLICT…');
    // Mapped again, untimed: holding 200k mapped records through the timed run would charge
    // the pipeline with the garbage collector's work on the peer's input.
    const all: MappedRecord[] = [];
    for (const [ref, rows] of streams) {
      const [source, stream] = ref.split('.') as [string, string];
      for (let i = 0; i < rows.length; i += batchSize) all.push(...(await mapBatch(mappings.get(ref)!, source, stream, rows.slice(i, i + batchSize))).records);
    }
    const raw = await cpuDuring(backend, () => rawPeer(db, all));
    const rawSeconds = raw.result;
    const customers = Number((await db.query('SELECT count(*) AS n FROM unified.customer WHERE merged_into IS NULL')).rows[0].n);
    const quality = await evaluate(db, truth);
    const recordsPerSec = Math.round(records / seconds);
    const rawRate = Math.round(records / rawSeconds);
    const round = (n: number) => Number(n.toFixed(2));
    const figures: ResolveBenchFigures = {
      bench: 'resolve',
      records,
      batchSize,
      seconds: round(seconds),
      recordsPerSec,
      stages: { map: round(stages.map), resolve: round(stages.resolve), load: round(stages.load), commit: round(stages.commit) },
      cpu: cpuFigures(run),
      customers,
      merges,
      raw: { seconds: round(rawSeconds), recordsPerSec: rawRate, cpu: cpuFigures(raw) },
      ratio: Number((recordsPerSec / rawRate).toFixed(3)),
      quality: { precision: Number(quality.precision.toFixed(5)), recall: Number(quality.recall.toFixed(5)) },
    };
    log(`map + resolve + load: ${records.toLocaleString('en')} records in ${figures.seconds} s = ${recordsPerSec.toLocaleString('en')} rec/s ` +
      `(${customers.toLocaleString('en')} customers, ${merges} merges)`);
    log(`  stages: map ${figures.stages.map} s, resolve ${figures.stages.resolve} s, load ${figures.stages.load} s, begin/commit ${figures.stages.commit} s`);
    log(`  CPU: ${cpuLine(figures.cpu, records)}`);
    log(`raw COPY + INSERT … ON CONFLICT: ${figures.raw.seconds} s = ${rawRate.toLocaleString('en')} rec/s; ratio ${figures.ratio}`);
    log(`  CPU: ${cpuLine(figures.raw.cpu, records)}`);
    log(`quality vs ground truth: precision ${figures.quality.precision}, recall ${figures.quality.recall}`);
    if (options.json) console.log(JSON.stringify(figures));
    return figures;
  } finally {
    await db.end();
    await admin(settings, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  }
}
