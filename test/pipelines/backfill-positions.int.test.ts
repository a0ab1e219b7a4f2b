/**
 * Backfills of one stream keep separate positions: a backfill resumed after another backfill
 * of later dates was stopped midway reads its whole own range (with one shared position row
 * it resumed at the other's position, passed its `to` at once and skipped most of its range).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJunctionError } from '../../config/errors.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { runSync, type RunSyncOptions } from '../../pipelines/run-sync.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

// updated_at = 2025-01-01 00:00:00Z + floor(i / 3) s for rows 1..900.
const ROWS = 900;
const A = { from: '2025-01-01T00:00:00Z', to: '2025-01-01T00:01:39Z' };
const B = { from: '2025-01-01T00:03:20Z', to: '2025-01-01T00:04:59Z' };
let hub: ScratchDb;
let src: ScratchSource;
let config: ResolvedConfig;

beforeAll(async () => {
  hub = await scratchDatabase('backfill_positions');
  src = await scratchSource('backfill_positions', ROWS);
  config = await loadConfig(writeSyncConfig(tempDir('backfill_positions'), { sourceUrl: src.url, mappingVersion: 2, pipelines: '{ batch_size: 100 }' }));
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await src?.close();
});

const backfill = (range: { from: string; to: string }, more: Partial<RunSyncOptions> = {}) =>
  runSync({ config, pool: hub.pool, source: SOURCE, stream: STREAM, mode: 'backfill', ...range, batchSize: 100, log: silentLogger, ...more });

/** Starts a backfill and stops it after its first batch; resolves with its run id. */
async function stoppedAfterOneBatch(range: { from: string; to: string }): Promise<number> {
  const stop = new AbortController();
  let runId = 0;
  const err = await backfill(range, { signal: stop.signal, onRunStarted: (id) => void (runId = id), onBatch: () => stop.abort() }).catch((e: unknown) => e);
  expect(isJunctionError(err) && err.code).toBe('CONN_ABORTED');
  return runId;
}

describe('backfill positions', () => {
  it('a backfill resumed after another stopped midway reads its whole range, and its position goes when it ends', async () => {
    const a = await stoppedAfterOneBatch(A);
    await stoppedAfterOneBatch(B);
    const resumed = await backfill(A, { resumeRunId: a });
    // Range A holds 300 rows (100 s of updated_at, 3 rows a second).
    expect(resumed.read).toBeGreaterThanOrEqual(300);
    const { rows } = await hub.pool.query<{ stream: string }>('SELECT stream FROM hub.checkpoint WHERE source = $1 ORDER BY stream', [SOURCE]);
    // B's position stays (its run may still be retried); A's went with its end.
    expect(rows.map((r) => r.stream)).toEqual([expect.stringMatching(new RegExp(`^${STREAM}#backfill#\\d+$`))]);
    expect(rows[0]!.stream).not.toBe(`${STREAM}#backfill#${a}`);
  });
});
