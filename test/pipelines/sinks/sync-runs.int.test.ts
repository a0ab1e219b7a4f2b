/**
 * Run rows in ClickHouse `sync_runs` are versioned by the hub PostgreSQL's clock, not by the
 * sending worker's: a run started by a worker whose clock ran an hour ahead, then resumed
 * and finished by another, shows its final state in `sync_runs_current`. A run whose final
 * row ClickHouse did not take is ended there by the stream's next run. Real PostgreSQL
 * (source and hub) and ClickHouse.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JunctionError } from '../../../config/errors.js';
import { loadConfig, type ResolvedConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/log.js';
import { runSync } from '../../../pipelines/run-sync.js';
import { sendRunStates } from '../../../pipelines/sinks/sync-runs.js';
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

  it('a run whose final row ClickHouse did not take is shown ended once the stream’s next run starts', async () => {
    await hub.pool.query('DELETE FROM hub.sync_run; DELETE FROM hub.checkpoint');
    await ch.client.command({ query: 'TRUNCATE TABLE sync_runs' });
    // ClickHouse blips exactly when the run's final row is sent; every other insert goes through.
    const flaky = new Proxy(ch.client, {
      get(target, prop, receiver) {
        if (prop === 'insert') {
          return (args: Parameters<ClickHouseClient['insert']>[0]) => {
            const values = args.values as Record<string, unknown>[];
            if (args.table === 'sync_runs' && values.some((v) => v.status === 'succeeded')) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' }));
            return target.insert(args);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const base = { config, pool: hub.pool, source: SOURCE, stream: STREAM, log: silentLogger };
    const first = await runSync({ ...base, clickhouse: flaky });
    const state = (runId: number) => ch.rows<{ status: string; read: string }>(`SELECT status, toString(records_read) AS read FROM sync_runs_current WHERE run_id = ${runId}`);
    expect(await state(first.runId)).toEqual([{ status: 'running', read: '0' }]);

    const second = await runSync({ ...base, clickhouse: ch.client });
    expect(await state(first.runId)).toEqual([{ status: 'succeeded', read: String(ROWS) }]);
    expect(await state(second.runId)).toEqual([{ status: 'succeeded', read: '0' }]);
    // Nothing more to send: a third run sends no row for the first two (the latest version, not
    // a count of rows, which a background merge may lower).
    const latest = async () => (await ch.rows<{ v: string }>(`SELECT toString(max(version)) AS v FROM sync_runs WHERE run_id IN (${first.runId}, ${second.runId})`))[0]!.v;
    const before = await latest();
    await runSync({ ...base, clickhouse: ch.client });
    expect(await latest()).toBe(before);
  }, 120_000);

  it('clamps run times a DateTime cannot hold (before 1970, after 2106) instead of letting them wrap', async () => {
    const { rows } = await hub.pool.query(
      `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at, finished_at)
       VALUES ('shop_pg', 'accounts', 'incremental', 'succeeded', 'cli', '1900-01-01T00:00:00Z', '2200-01-01T00:00:00Z') RETURNING id`,
    );
    const runId = Number(rows[0].id);
    expect(await sendRunStates(ch.client, hub.pool, [runId])).toBe(1);
    expect(await ch.rows(`SELECT toUInt32(started_at) AS started, toUInt32(finished_at) AS finished FROM sync_runs_current WHERE run_id = ${runId}`)).toEqual([
      { started: 0, finished: 4_294_967_295 },
    ]);
  });
});
