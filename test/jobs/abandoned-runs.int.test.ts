/**
 * Runs left `running` by a killed process (an --inline sync, a replay, a worker that died
 * before its job knew the run's id): their process beats while it lives, and the scheduler
 * fails a run that stopped beating with SYNC_RUN_ABANDONED and sends its end to ClickHouse
 * `sync_runs`, which its dead process never will. Real PostgreSQL, Redis and ClickHouse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { silentLogger } from '../../config/log.js';
import type { ResolvedConfig } from '../../config/load.js';
import { createScheduler } from '../../jobs/scheduler.js';
import { countBatch, reapAbandonedRuns, runHeartbeat, setRunStatus, startRun } from '../../pipelines/run-record.js';
import { insertSyncRunRow } from '../../pipelines/sinks/sync-runs.js';
import { scratchClickhouse, type ScratchClickhouse } from '../helpers/clickhouse.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { configYaml, testConfig, testQueue, type TestQueue } from './fixture.js';

let db: ScratchDb;
let ch: ScratchClickhouse;
let q: TestQueue;
let config: ResolvedConfig;

/** A run as its process left it: `running`, last heard of `silentS` seconds ago (null: a row from before heartbeats, by started_at). */
async function leftRun(silentS: number, heartbeat = true): Promise<number> {
  const run = await startRun(db.pool, 'shop_pg', 'accounts', 'incremental', 'cli');
  await db.pool.query(
    `UPDATE hub.sync_run SET started_at = now() - make_interval(secs => $2), heartbeat_at = CASE WHEN $3 THEN now() - make_interval(secs => $2) END WHERE id = $1`,
    [run.id, silentS, heartbeat],
  );
  return run.id;
}

async function run(id: number) {
  const res = await db.pool.query('SELECT status, error_code, error_message, finished_at FROM hub.sync_run WHERE id = $1', [id]);
  return res.rows[0];
}

beforeAll(async () => {
  db = await scratchDatabase('jobs_abandoned_runs');
  ch = await scratchClickhouse('jobs_abandoned_runs');
  q = await testQueue('jobs-abandoned-runs');
  config = await testConfig(configYaml(''));
}, 120_000);

afterAll(async () => {
  await q?.close();
  await ch?.close();
  await db?.close();
});

describe('abandoned runs', () => {
  it('fails running runs silent for longer than the limit, and only those', async () => {
    const killed = await leftRun(600);
    const beforeHeartbeats = await leftRun(600, false);
    const alive = await leftRun(5);
    const done = await leftRun(600);
    await db.pool.query(`UPDATE hub.sync_run SET status = 'succeeded', finished_at = now() WHERE id = $1`, [done]);

    expect((await reapAbandonedRuns(db.pool, 120_000)).sort((a, b) => a - b)).toEqual([killed, beforeHeartbeats]);
    expect(await run(killed)).toMatchObject({ status: 'failed', error_code: 'SYNC_RUN_ABANDONED', error_message: expect.stringMatching(/no sign of life since \d{4}-\d\d-\d\dT.*committed batches stay/) });
    expect((await run(killed)).finished_at).toBeInstanceOf(Date);
    expect(await run(alive)).toMatchObject({ status: 'running', error_code: null });
    expect(await run(done)).toMatchObject({ status: 'succeeded', error_code: null });
    expect(await reapAbandonedRuns(db.pool, 120_000)).toEqual([]);
  });

  it('a run whose process beats stays running', async () => {
    const id = await leftRun(600);
    const stop = runHeartbeat(db.pool, id, (err) => { throw err; }, 50);
    try {
      for (let i = 0; i < 100; i++) {
        const { rows } = await db.pool.query(`SELECT heartbeat_at > now() - interval '10 seconds' AS fresh FROM hub.sync_run WHERE id = $1`, [id]);
        if (rows[0].fresh) break;
        await sleep(20);
      }
      expect(await reapAbandonedRuns(db.pool, 120_000)).toEqual([]);
      expect((await run(id)).status).toBe('running');
    } finally {
      stop();
    }
  });

  it('a committed batch beats at the time it counts, not when its transaction began (a long batch is not a silent run)', async () => {
    const id = await leftRun(600);
    const tx = await db.pool.connect();
    try {
      await tx.query('BEGIN');
      await tx.query('SELECT pg_sleep(1.5)');
      await countBatch(tx, id, 10, 10, 0);
      // Measured from the transaction's start (now()), which came before the 1.5 s sleep: a beat
      // stamped with now() is 0 s after it, one stamped when the batch counts at least 1.5 s,
      // however long the machine then takes to ask.
      const { rows } = await tx.query<{ after_begin: number; lag: number }>(
        'SELECT extract(epoch FROM heartbeat_at - now())::float8 AS after_begin, extract(epoch FROM clock_timestamp() - heartbeat_at)::float8 AS lag FROM hub.sync_run WHERE id = $1',
        [id],
      );
      await tx.query('COMMIT');
      expect(rows[0]!.after_begin).toBeGreaterThanOrEqual(1.5);
      expect(rows[0]!.lag).toBeGreaterThanOrEqual(0);
    } finally {
      tx.release();
    }
  });

  it('the scheduler fails them when it starts (and then on its sweep timer)', async () => {
    const killed = await leftRun(60);
    const s = createScheduler({ config, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, abandonedRunMs: 30_000, clickhouse: ch.client });
    try {
      s.start();
      for (let i = 0; i < 100 && (await run(killed)).status === 'running'; i++) await sleep(50);
      expect(await run(killed)).toMatchObject({ status: 'failed', error_code: 'SYNC_RUN_ABANDONED' });
    } finally {
      await s.stop();
    }
  });

  describe('in ClickHouse sync_runs', () => {
    const STREAM = 'addresses';

    /** What runSync sent of the run while it ran (the last row its process got out). */
    async function sentRunning(id: number): Promise<void> {
      const { rows } = await db.pool.query<{ source: string; stream: string; mode: string; started_at: Date }>('SELECT source, stream, mode, started_at FROM hub.sync_run WHERE id = $1', [id]);
      const r = rows[0]!;
      await insertSyncRunRow(ch.client, db.pool, { runId: id, source: r.source, stream: r.stream, mode: r.mode, status: 'running', startedAt: r.started_at, finishedAt: null, recordsRead: 100, recordsWritten: 100, recordsFailed: 0, errorCode: null });
    }

    /** A run of the stream silent for 10 minutes, as its process left it. */
    async function killedRun(): Promise<number> {
      const run = await startRun(db.pool, 'shop_pg', STREAM, 'incremental', 'cli');
      await countBatch(db.pool, run.id, 100, 100, 0);
      await db.pool.query(`UPDATE hub.sync_run SET started_at = now() - interval '10 minutes', heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [run.id]);
      await sentRunning(run.id);
      return run.id;
    }

    const current = (ids: number[]) =>
      ch.rows<{ run_id: string; status: string; error_code: string; finished_at: string; records_read: string }>(
        `SELECT run_id, status, error_code, finished_at, records_read FROM sync_runs_current WHERE run_id IN (${ids.join(', ')}) ORDER BY run_id`,
      );

    it('the runs the scheduler fails reach sync_runs_current once each, failed, in one insert, and the freshness query shows it', async () => {
      // An earlier run of the stream that succeeded, as runSync reported it.
      const earlier = await startRun(db.pool, 'shop_pg', STREAM, 'incremental', 'cli');
      await setRunStatus(db.pool, earlier.id, 'succeeded');
      const { rows } = await db.pool.query<{ finished_at: Date }>('SELECT finished_at FROM hub.sync_run WHERE id = $1', [earlier.id]);
      await insertSyncRunRow(ch.client, db.pool, { runId: earlier.id, source: 'shop_pg', stream: STREAM, mode: 'incremental', status: 'succeeded', startedAt: earlier.startedAt, finishedAt: rows[0]!.finished_at, recordsRead: 5, recordsWritten: 5, recordsFailed: 0, errorCode: null });
      const killed = [await killedRun(), await killedRun()];

      const s = createScheduler({ config, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, clickhouse: ch.client });
      try {
        expect((await s.reapAbandonedRuns()).sort((a, b) => a - b)).toEqual(killed);
      } finally {
        await s.stop();
      }

      const rowsNow = await current(killed);
      expect(rowsNow.map((r) => ({ id: Number(r.run_id), status: r.status, code: r.error_code, read: Number(r.records_read) }))).toEqual(
        killed.map((id) => ({ id, status: 'failed', code: 'SYNC_RUN_ABANDONED', read: 100 })),
      );
      for (const r of rowsNow) expect(r.finished_at).not.toBe('1970-01-01 00:00:00');
      const versions = await ch.rows<{ version: string }>(`SELECT DISTINCT version FROM sync_runs WHERE run_id IN (${killed.join(', ')}) AND status = 'failed'`);
      expect(versions).toHaveLength(1);

      const freshness = await ch.rows<{ source: string; stream: string; last_success_at: string | null; last_status: string; last_error_code: string; runs: string; failed_runs: string }>(
        fs.readFileSync(path.join(PROJECT_ROOT, 'sql', 'clickhouse', 'queries', 'sync_freshness.sql'), 'utf8'),
      );
      expect(freshness.find((r) => r.source === 'shop_pg' && r.stream === STREAM)).toMatchObject({
        last_success_at: expect.any(String),
        last_status: 'failed',
        last_error_code: 'SYNC_RUN_ABANDONED',
        runs: '3',
        failed_runs: '2',
      });
    });

    it('a send that fails is made again at the next sweep', async () => {
      const killed = await killedRun();
      let refused = 0;
      // ClickHouse refuses the first insert (down for a moment), then answers.
      const flaky = new Proxy(ch.client, {
        get(target, prop, receiver) {
          if (prop === 'insert' && refused === 0) {
            return () => {
              refused++;
              return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:18123'));
            };
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      }) as ClickHouseClient;
      const s = createScheduler({ config, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, clickhouse: flaky });
      try {
        expect(await s.reapAbandonedRuns()).toEqual([killed]);
        expect(refused).toBe(1);
        expect(await current([killed])).toMatchObject([{ status: 'running' }]);
        expect(await s.reapAbandonedRuns()).toEqual([]);
        expect(await current([killed])).toMatchObject([{ status: 'failed', error_code: 'SYNC_RUN_ABANDONED' }]);
      } finally {
        await s.stop();
      }
    });
  });
});
