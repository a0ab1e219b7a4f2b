/**
 * The total a sync's progress carries (the progress bar's percentage and ETA): what the
 * source counts after the run's start, counted beside the first pages; none for a backfill
 * that ends mid-stream.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { runSync, type RunSyncOptions, type SyncProgressUpdate } from '../../pipelines/run-sync.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

// updated_at = 2025-01-01 00:00:00Z + floor(i / 3) s for rows 1..600.
const ROWS = 600;
let hub: ScratchDb;
let src: ScratchSource;
let config: ResolvedConfig;

beforeAll(async () => {
  hub = await scratchDatabase('sync_total');
  src = await scratchSource('sync_total', ROWS);
  config = await loadConfig(writeSyncConfig(tempDir('sync_total'), { sourceUrl: src.url, mappingVersion: 2, pipelines: '{ batch_size: 100 }' }));
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await src?.close();
});

/** The progress of every batch of one sync. */
async function progressOf(more: Partial<RunSyncOptions>): Promise<SyncProgressUpdate[]> {
  const seen: SyncProgressUpdate[] = [];
  await runSync({ config, pool: hub.pool, source: SOURCE, stream: STREAM, batchSize: 100, log: silentLogger, onBatch: (p) => void seen.push(p), ...more });
  return seen;
}

describe('sync progress total', () => {
  it('a full sync counts the whole stream; an incremental one what changed after its checkpoint', async () => {
    const full = await progressOf({ mode: 'full' });
    expect(full).toHaveLength(6);
    // The count answers beside the first pages: from then on every batch carries it.
    expect(full.at(-1)).toMatchObject({ read: ROWS, total: ROWS });
    expect(full.filter((p) => p.total !== undefined).every((p) => p.total === ROWS)).toBe(true);

    await src.pool.query(`UPDATE legacy.orders SET updated_at = timestamptz '2026-01-01 00:00:00+00' + (substr(order_no, 3)::int) * interval '1 second' WHERE substr(order_no, 3)::int <= 150`);
    const incremental = await progressOf({ mode: 'incremental' });
    expect(incremental.at(-1)).toMatchObject({ read: 150, total: 150 });
  });

  it('a backfill with an end carries no total (a count to the end of the stream would promise too much)', async () => {
    const bounded = await progressOf({ mode: 'backfill', from: '2025-01-01T00:00:00Z', to: '2025-01-01T00:01:00Z' });
    expect(bounded.length).toBeGreaterThan(0);
    expect(bounded.every((p) => p.total === undefined)).toBe(true);
  });

  it("takes a stream's own batch_size when the sync is given none, before pipelines.batch_size", async () => {
    const file = writeSyncConfig(tempDir('sync_total_own'), { sourceUrl: src.url, mappingVersion: 2, pipelines: '{ batch_size: 100 }' });
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('key: order_no }', 'key: order_no, batch_size: 150 }'));
    const own = await loadConfig(file);
    const seen: SyncProgressUpdate[] = [];
    await runSync({ config: own, pool: hub.pool, source: SOURCE, stream: STREAM, mode: 'full', log: silentLogger, onBatch: (p) => void seen.push(p) });
    expect(seen).toHaveLength(ROWS / 150);
    const unset: SyncProgressUpdate[] = [];
    await runSync({ config, pool: hub.pool, source: SOURCE, stream: STREAM, mode: 'full', log: silentLogger, onBatch: (p) => void unset.push(p) });
    expect(unset).toHaveLength(ROWS / 100);
  });
});
