/**
 * The whole inline sync against the live demo estate, into a scratch hub database: every
 * source record lands exactly once, identity resolution meets the quality bar against the
 * generator's ground truth, re-runs change nothing, and an interrupted sync resumes from the
 * checkpoint committed with its last batch.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { isJunctionError } from '../../config/errors.js';
import type { ResolvedConfig } from '../../config/load.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { seedEstate } from '../../demo/seed/seed-estate.js';
import { syncInline } from '../../pipelines/sync-inline.js';
import { evaluate, readTruth } from '../../pipelines/unified/evaluate.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const STREAMS = ['shop_pg.accounts', 'shop_pg.addresses', 'app_mongo.users', 'orders_soap.orders', 'tickets_php.tickets'] as const;
const outDir = path.join(PROJECT_ROOT, '.junction', 'test-sync');
let db: ScratchDb;
let config: ResolvedConfig;
let counts: Record<string, number>;

async function syncAll(mode: 'incremental' | 'full') {
  const out = [];
  for (const ref of STREAMS) {
    const [source, stream] = ref.split('.') as [string, string];
    out.push(await syncInline({ config, pool: db.pool, source, stream, mode, log: silentLogger, batchSize: 500 }));
  }
  return out;
}

async function sourceRecordCounts(): Promise<Record<string, number>> {
  const res = await db.pool.query<{ ref: string; n: number; distinct_keys: number }>(
    `SELECT source || '.' || stream AS ref, count(*)::int AS n, count(DISTINCT source_key)::int AS distinct_keys FROM unified.source_record GROUP BY 1`,
  );
  for (const r of res.rows) expect(r.distinct_keys, r.ref).toBe(r.n);
  return Object.fromEntries(res.rows.map((r) => [r.ref, r.n]));
}

beforeAll(async () => {
  const summary = await seedEstate({ scale: 2000, settings: stackSettings(), outDir });
  counts = summary.counts;
  db = await scratchDatabase('sync_inline');
  config = await loadConfig(path.join(PROJECT_ROOT, 'config', 'junction.yaml'));
}, 300_000);

afterAll(async () => {
  await db?.close();
  fs.rmSync(outDir, { recursive: true, force: true });
});

describe('junction sync --inline on the demo estate', () => {
  it('loads every source record exactly once, with no dead letters', async () => {
    const runs = await syncAll('incremental');
    for (const r of runs) expect(r.failed, `${r.source}.${r.stream}`).toBe(0);
    const loaded = await sourceRecordCounts();
    for (const ref of STREAMS) expect(loaded[ref], ref).toBe(counts[ref]);
    const dead = await db.pool.query('SELECT count(*)::int AS n FROM hub.dead_letter');
    expect(dead.rows[0].n).toBe(0);
  }, 300_000);

  // Issue 4's bar (precision >= 0.999, recall >= 0.98) holds on the whole estate, CRM included:
  // test/pipelines/resolve/quality.int.test.ts. Synced here without the Oracle CRM (no server),
  // the estate loses the records that bridge email and phone, and the bar is out of reach for
  // any resolver: joining every record of a person that shares a key with another of theirs,
  // except through a phone shared by a family, scores recall 0.973 on this estate; the rest
  // are orders known only by a family's phone, which no key tells apart, and tickets known only
  // by an email that only the CRM holds. Resolution reaches precision 0.998 / recall 0.972 here;
  // the false merges are family members that nothing the phone's cap counts tells apart (one
  // with an email, the other with a CRM number only, no id at all, or orders known only by the
  // phone). These floors guard what it reaches.
  it('resolves identities with precision >= 0.998 and recall >= 0.97 against the ground truth (without the CRM: see above)', async () => {
    const truth = readTruth(path.join(outDir, 'ground_truth.csv'));
    const e = await evaluate(db.pool, truth);
    expect(e.onlyInView).toBe(0);
    expect(e.records).toBe(STREAMS.reduce((n, ref) => n + counts[ref]!, 0));
    expect(e.precision).toBeGreaterThanOrEqual(0.998);
    expect(e.recall).toBeGreaterThanOrEqual(0.97);
  }, 120_000);

  it('an incremental re-run reads nothing; a full re-run changes nothing', async () => {
    const customersBefore = (await db.pool.query('SELECT count(*)::int AS n FROM unified.customer WHERE merged_into IS NULL')).rows[0].n;
    for (const r of await syncAll('incremental')) expect(r.read, `${r.source}.${r.stream}`).toBe(0);
    const full = await syncAll('full');
    for (const r of full) {
      expect(r.read, `${r.source}.${r.stream}`).toBe(counts[`${r.source}.${r.stream}`]);
      expect(r.loaded, `${r.source}.${r.stream}`).toBe(0);
      expect(r.unchanged, `${r.source}.${r.stream}`).toBe(r.read);
    }
    const customersAfter = (await db.pool.query('SELECT count(*)::int AS n FROM unified.customer WHERE merged_into IS NULL')).rows[0].n;
    expect(customersAfter).toBe(customersBefore);
  }, 300_000);

  it('an interrupted sync keeps the checkpoint of its last committed batch and resumes exactly', async () => {
    await db.reset();
    await db.pool.query('TRUNCATE hub.checkpoint');
    const controller = new AbortController();
    let committed = 0;
    const err = await syncInline({
      config,
      pool: db.pool,
      source: 'orders_soap',
      stream: 'orders',
      batchSize: 400,
      log: silentLogger,
      signal: controller.signal,
      onBatch: (p) => {
        if (p.batches === 2) {
          committed = p.read;
          controller.abort();
        }
      },
    }).catch((e: unknown) => e);
    expect(isJunctionError(err) && err.code).toBe('CONN_ABORTED');
    expect(committed).toBeGreaterThan(0);
    expect((await sourceRecordCounts())['orders_soap.orders']).toBe(committed);
    const run = await db.pool.query(`SELECT status, records_read FROM hub.sync_run WHERE source = 'orders_soap' ORDER BY id DESC LIMIT 1`);
    expect(run.rows[0]).toEqual({ status: 'cancelled', records_read: String(committed) });

    const resumed = await syncInline({ config, pool: db.pool, source: 'orders_soap', stream: 'orders', batchSize: 400, log: silentLogger });
    expect(resumed.read).toBe(counts['orders_soap.orders']! - committed);
    expect((await sourceRecordCounts())['orders_soap.orders']).toBe(counts['orders_soap.orders']);
  }, 300_000);

  it('re-syncs an estate whose records changed their keys under the same source keys (records move between customers)', async () => {
    // The first syncs of the estate are in place (previous test); now every source record
    // gets another person's keys, as when a system is reloaded.
    await syncAll('full');
    const other = await seedEstate({ scale: 300, seed: 'other', settings: stackSettings(), outDir: path.join(outDir, 'other') });
    for (const r of await syncAll('full')) {
      expect(r.failed, `${r.source}.${r.stream}`).toBe(0);
      expect(r.read, `${r.source}.${r.stream}`).toBe(other.counts[`${r.source}.${r.stream}`]);
    }
    // No value links to two customers.
    const dup = await db.pool.query(`SELECT count(*)::int AS n FROM (SELECT kind, value FROM unified.customer_identity WHERE state = 'link' GROUP BY 1, 2 HAVING count(*) > 1) d`);
    expect(dup.rows[0].n).toBe(0);
  }, 300_000);
});
