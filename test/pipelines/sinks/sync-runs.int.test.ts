/**
 * Run rows in ClickHouse `sync_runs` are versioned by the hub PostgreSQL's clock, not by the
 * sending worker's: a run started by a worker whose clock ran an hour ahead, then resumed
 * and finished by another, shows its final state in `sync_runs_current`. Real PostgreSQL
 * (source and hub) and ClickHouse.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JunctionError } from '../../../config/errors.js';
import { loadConfig, type ResolvedConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/log.js';
import { scratchClickhouse, type ScratchClickhouse } from '../../helpers/clickhouse.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../../helpers/unified.js';

const ROWS = 600;
let hub: ScratchDb;
let src: ScratchSource;
let ch: ScratchClickhouse;
let config: ResolvedConfig;

beforeAll(async () => {
  hub = await scratchDatabase('sync_runs_clock');
  src = await scratchSource('sync_runs_clock', ROWS);
  ch = await scratchClickhouse('sync_runs_clock');
  config = await loadConfig(writeSyncConfig(tempDir('sync-runs-clock'), { sourceUrl: src.url, pipelines: '{ batch_size: 200 }' }));
}, 120_000);

afterAll(async () => {
  await ch?.close();
  await src?.close();
  await hub?.close();
});

describe('sync_runs versions', () => {
  it('a run resumed by a worker whose clock is behind the first one still ends as succeeded in sync_runs_current', async () => {
    // Each worker is a process of its own: a fresh copy of the pipeline modules (and their state).
    const worker = async () => {
      vi.resetModules();
      return (await import('../../../pipelines/run-sync.js')).runSync;
    };
    const base = { config, pool: hub.pool, source: SOURCE, stream: STREAM, clickhouse: ch.client, log: silentLogger, runRowEvery: 1 };
    // The first worker: its clock an hour ahead; it stalls after its first batch (as when its
    // stream lock expired) and the run goes back to the queue.
    const realNow = Date.now.bind(Date);
    const ahead = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
    const stall = new AbortController();
    let runId = 0;
    try {
      const runSync = await worker();
      await expect(
        runSync({
          ...base,
          signal: stall.signal,
          onRunStarted: (id) => {
            runId = id;
          },
          onBatch: () => stall.abort(new JunctionError('SYNC_LOCK_LOST', 'test: the first worker stalled', { retryable: true })),
          failureStatus: () => ({ status: 'queued' }),
        }),
      ).rejects.toThrow(/cancelled/);
    } finally {
      ahead.mockRestore();
    }
    expect(runId).toBeGreaterThan(0);
    const [before] = await ch.rows<{ status: string }>(`SELECT status FROM sync_runs_current WHERE run_id = ${runId}`);
    expect(before?.status).toBe('queued');

    // Another worker, on time, resumes the run and finishes it.
    const done = await (await worker())({ ...base, resumeRunId: runId });
    expect(done.runId).toBe(runId);
    const rows = await ch.rows<{ status: string; records_read: string }>(`SELECT status, records_read FROM sync_runs_current WHERE run_id = ${runId}`);
    expect(rows.map((r) => ({ status: r.status, read: Number(r.records_read) }))).toEqual([{ status: 'succeeded', read: ROWS }]);
  }, 120_000);
});
