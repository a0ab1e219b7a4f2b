/**
 * The BullMQ sync worker against the real services: a job goes from the queue to the unified
 * view with its checkpoint and events; two workers never run one stream at once; transient
 * failures are retried, permanent ones fail at once with their code; backfills and full
 * syncs keep their own position; a worker shutting down hands its job to another.
 * Everything runs on a Redis database and key prefix of its own and scratch databases.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { syncJobOptions } from '../../pipelines/job-options.js';
import { enqueueSync, type CustomerUpdatedEvent, type SyncJobData } from '../../pipelines/queue.js';
import { insertSyncRunRow } from '../../pipelines/sinks/sync-runs.js';
import { assertFence, takeFence } from '../../pipelines/stream-fence.js';
import { startWorker, type RunningWorker, type WorkerOptions } from '../../pipelines/worker.js';
import { migrateClickhouse } from '../../sql/migrate.js';
import { freePort, queueHarness, type QueueHarness } from '../helpers/queue-harness.js';
import { SOURCE, STREAM, hashDiff, scratchSource, sourceHashes, tempDir, unifiedHashes, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const ROWS = 3000;
const CH_DB = 'junction_test_worker';
const PIPELINES = '{ batch_size: 200, worker_concurrency: 2, attempts: 3, backoff_ms: 100, circuit: { failures: 5, open_ms: 1000 } }';
const settings = stackSettings();

let hub: ScratchDb;
let src: ScratchSource;
let h: QueueHarness;
let ch: ClickHouseClient;
let config: ResolvedConfig;
const running: { worker: RunningWorker; redis: Redis }[] = [];

/** A config like the main one whose source is reached at `url`. */
async function configFor(url: string, pipelines = PIPELINES): Promise<ResolvedConfig> {
  return loadConfig(writeSyncConfig(tempDir('worker'), { sourceUrl: url, pipelines }));
}

/** A worker as another process would run it: its own Redis connection. */
async function worker(cfg = config, extra: Partial<WorkerOptions> = {}): Promise<RunningWorker> {
  const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
  const w = await startWorker({ config: cfg, pool: hub.pool, connection: redis, log: silentLogger, clickhouse: ch, prefix: h.prefix, keys: h.keys, eventsChannel: h.channel, ...extra });
  running.push({ worker: w, redis });
  return w;
}

function enqueue(data: Partial<SyncJobData> = {}, cfg = config) {
  return enqueueSync(h.queue, { source: SOURCE, stream: STREAM, mode: 'incremental', trigger: 'test', ...data }, syncJobOptions(cfg.pipelines));
}

async function resetHub(): Promise<void> {
  await hub.reset();
  await hub.pool.query('TRUNCATE hub.checkpoint, hub.dead_letter, hub.sync_run CASCADE');
}

async function runs() {
  const res = await hub.pool.query<{ id: string; status: string; mode: string; records_read: string; error_code: string | null; started_at: Date; finished_at: Date | null }>(
    'SELECT id, status, mode, records_read, error_code, started_at, finished_at FROM hub.sync_run WHERE source = $1 AND stream = $2 ORDER BY id',
    [SOURCE, STREAM],
  );
  return res.rows;
}

async function checkpoint(stream = STREAM) {
  const res = await hub.pool.query<{ cursor_value: string; cursor_key: string }>('SELECT cursor_value, cursor_key FROM hub.checkpoint WHERE source = $1 AND stream = $2', [SOURCE, stream]);
  return res.rows[0];
}

async function expectExact(cfg = config): Promise<void> {
  expect(hashDiff(await sourceHashes(cfg), await unifiedHashes(hub.pool))).toEqual([]);
}

beforeAll(async () => {
  hub = await scratchDatabase('worker');
  src = await scratchSource('worker', ROWS);
  h = await queueHarness('worker', 11);
  await migrateClickhouse(settings.services.clickhouse.url, CH_DB, path.join(PROJECT_ROOT, 'sql', 'clickhouse'));
  ch = createClient({ url: settings.services.clickhouse.url, database: CH_DB });
  config = await configFor(src.url);
}, 180_000);

afterEach(async () => {
  for (const { worker: w, redis } of running.splice(0)) {
    await w.close();
    redis.disconnect();
  }
  await h.clean();
});

afterAll(async () => {
  await h?.close();
  await ch?.command({ query: `DROP DATABASE IF EXISTS ${CH_DB}` });
  await ch?.close();
  await src?.close();
  await hub?.close();
});

describe('sync worker', () => {
  it('takes a queued job to the unified view, moves the checkpoint and publishes customer.updated per batch', async () => {
    const sub = new Redis(h.redisUrl);
    const events: CustomerUpdatedEvent[] = [];
    sub.on('message', (_channel: string, message: string) => events.push(JSON.parse(message) as CustomerUpdatedEvent));
    await sub.subscribe(h.channel);
    try {
      await worker();
      const job = await enqueue();
      const result = await job.waitUntilFinished(h.events, 120_000);
      expect(result).toMatchObject({ read: ROWS, loaded: ROWS, failed: 0, batches: ROWS / 200, mode: 'incremental' });
      await expectExact();

      const last = await src.pool.query<{ order_no: string; updated_at: Date }>('SELECT order_no, updated_at FROM legacy.orders ORDER BY updated_at DESC, order_no DESC LIMIT 1');
      const cp = await checkpoint();
      expect(cp?.cursor_key).toBe(last.rows[0]!.order_no);
      expect(Date.parse(cp!.cursor_value)).toBe(last.rows[0]!.updated_at.getTime());

      const [run] = await runs();
      expect(run).toMatchObject({ status: 'succeeded', mode: 'incremental', records_read: String(ROWS), error_code: null });
      // total: what `junction sync` turns into a percentage and an ETA.
      const progress = (await h.queue.getJob(job.id!))!.progress as { runId: number; read: number; total?: number };
      expect(progress).toMatchObject({ runId: Number(run!.id), read: ROWS, total: ROWS });

      // One event per batch, after its commit: every customer that received a record is in one.
      while (events.length < ROWS / 200) await new Promise((r) => setTimeout(r, 50));
      expect(events.length).toBe(ROWS / 200);
      for (const e of events) expect(e).toMatchObject({ type: 'customer.updated', source: SOURCE, stream: STREAM, runId: Number(run!.id) });
      const announced = new Set(events.flatMap((e) => e.customerIds));
      const owners = await hub.pool.query<{ customer_id: string }>('SELECT DISTINCT customer_id FROM unified.source_record');
      for (const r of owners.rows) expect(announced.has(Number(r.customer_id)), `customer ${r.customer_id}`).toBe(true);
    } finally {
      sub.disconnect();
    }
  }, 180_000);

  it('never runs two jobs of one stream at once, even on two workers, and the data is exact', async () => {
    await resetHub();
    await worker();
    await worker();
    const jobs = await Promise.all([enqueue(), enqueue()]);
    const results = await Promise.all(jobs.map((j) => j.waitUntilFinished(h.events, 120_000)));
    const rows = await runs();
    expect(rows).toHaveLength(2);
    const [a, b] = rows.sort((x, y) => x.started_at.getTime() - y.started_at.getTime());
    // The second run began after the first ended: with both read from the same checkpoint
    // (no lock), they would overlap and read the stream twice.
    expect(b!.started_at.getTime()).toBeGreaterThanOrEqual(a!.finished_at!.getTime());
    expect(results.reduce((n, r) => n + r.read, 0)).toBe(ROWS);
    await expectExact();
  }, 180_000);

  it('retries a transient failure (source unreachable) with backoff, then succeeds', async () => {
    await resetHub();
    const port = await freePort();
    const url = new URL(src.url);
    url.port = String(port);
    const cfg = await configFor(url.toString());
    const w = await worker(cfg);
    const failures: string[] = [];
    let proxy: Promise<TcpProxy> | undefined;
    w.worker.on('failed', (_job, err) => {
      failures.push(err.message);
      // The source comes back after the first failed attempt.
      proxy ??= startTcpProxy('127.0.0.1', settings.services.postgres.port, { port });
    });
    try {
      const job = await enqueue({}, cfg);
      const result = await job.waitUntilFinished(h.events, 120_000);
      expect(result.read).toBe(ROWS);
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures[0]).toMatch(/^CONN_UNREACHABLE: /);
      const done = (await h.queue.getJob(job.id!))!;
      // attemptsMade counts the successful attempt too
      expect(done.attemptsMade).toBe(failures.length + 1);
      await expectExact(config);
      const [run] = await runs();
      expect(run).toMatchObject({ status: 'succeeded', records_read: String(ROWS) });
    } finally {
      await (await proxy)?.destroy();
    }
  }, 180_000);

  it('fails a permanent error at once (attemptsMade 1) with its code, on the job and on the run', async () => {
    await resetHub();
    const url = new URL(src.url);
    url.username = 'nobody_junction_test';
    const cfg = await configFor(url.toString());
    await worker(cfg);
    const job = await enqueue({}, cfg);
    const err = await job.waitUntilFinished(h.events, 120_000).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^CONN_AUTH_FAILED: /);
    const failed = (await h.queue.getJob(job.id!))!;
    expect(await failed.getState()).toBe('failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.opts.attempts).toBe(3);
    const [run] = await runs();
    expect(run).toMatchObject({ status: 'failed', error_code: 'CONN_AUTH_FAILED' });
  }, 120_000);

  it('fails a job for an undeclared stream at once, without a run', async () => {
    await worker();
    const job = await enqueue({ stream: 'nope' });
    const err = await job.waitUntilFinished(h.events, 60_000).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^CFG_UNKNOWN_REF: .*no stream nope/);
    expect((await h.queue.getJob(job.id!))!.attemptsMade).toBe(1);
  }, 60_000);

  it('fails the run of a job refused on a retry (a range or source no longer accepted), which stayed running before', async () => {
    await resetHub();
    await worker();
    const { rows } = await hub.pool.query<{ id: string }>(
      `INSERT INTO hub.sync_run (source, stream, mode, status, trigger) VALUES ($1, $2, 'backfill', 'running', 'test') RETURNING id`,
      [SOURCE, STREAM],
    );
    const runId = Number(rows[0]!.id);
    const job = await enqueue({ mode: 'backfill', from: 'yesterday', to: 'today', runId } as Partial<SyncJobData>);
    const err = await job.waitUntilFinished(h.events, 60_000).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^SYNC_BAD_RANGE: /);
    expect(await runs()).toMatchObject([{ id: String(runId), status: 'failed', error_code: 'SYNC_BAD_RANGE' }]);
    expect((await runs())[0]!.finished_at).not.toBeNull();
  }, 60_000);

  it('sends the run of a job refused on a retry to ClickHouse as failed: sync_runs_current and the freshness query show it', async () => {
    await resetHub();
    await worker();
    const { rows } = await hub.pool.query<{ id: string; started_at: Date }>(
      `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at) VALUES ($1, $2, 'backfill', 'running', 'test', now()) RETURNING id, started_at`,
      [SOURCE, STREAM],
    );
    const runId = Number(rows[0]!.id);
    // What its first attempt's runSync sent when it started.
    const running = { runId, source: SOURCE, stream: STREAM, mode: 'backfill', status: 'running', startedAt: rows[0]!.started_at, finishedAt: null, recordsRead: 0, recordsWritten: 0, recordsFailed: 0, errorCode: null };
    await insertSyncRunRow(ch, hub.pool, running);
    const job = await enqueue({ mode: 'backfill', from: 'yesterday', to: 'today', runId } as Partial<SyncJobData>);
    const err = await job.waitUntilFinished(h.events, 60_000).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^SYNC_BAD_RANGE: /);
    // The worker sends after failing the run in PostgreSQL, around when BullMQ reports the job failed.
    const current = async () =>
      (await ch.query({ query: `SELECT status, error_code, finished_at FROM sync_runs_current WHERE run_id = ${runId}`, format: 'JSONEachRow' })).json<{ status: string; error_code: string; finished_at: string }>();
    for (let i = 0; i < 100 && (await current())[0]?.status !== 'failed'; i++) await sleep(50);
    const [row, ...more] = await current();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ status: 'failed', error_code: 'SYNC_BAD_RANGE' });
    expect(row!.finished_at).not.toBe('1970-01-01 00:00:00');
    const freshness = await ch.query({ query: fs.readFileSync(path.join(PROJECT_ROOT, 'sql', 'clickhouse', 'queries', 'sync_freshness.sql'), 'utf8'), format: 'JSONEachRow' });
    const stream = (await freshness.json<{ source: string; stream: string; last_status: string; last_error_code: string }>()).find((r) => r.source === SOURCE && r.stream === STREAM);
    expect(stream).toMatchObject({ last_status: 'failed', last_error_code: 'SYNC_BAD_RANGE' });
  }, 60_000);

  it('leaves a succeeded run as it is when its job comes back and is refused', async () => {
    await resetHub();
    await worker();
    const { rows } = await hub.pool.query<{ id: string }>(
      `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, finished_at) VALUES ($1, $2, 'backfill', 'succeeded', 'test', now()) RETURNING id`,
      [SOURCE, STREAM],
    );
    const job = await enqueue({ mode: 'backfill', from: 'yesterday', to: 'today', runId: Number(rows[0]!.id) } as Partial<SyncJobData>);
    const err = await job.waitUntilFinished(h.events, 60_000).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^SYNC_BAD_RANGE: /);
    expect(await runs()).toMatchObject([{ status: 'succeeded', error_code: null }]);
  }, 60_000);

  it('a backfill reads its range on its own position and leaves the stream checkpoint alone; a full sync re-reads everything', async () => {
    await resetHub();
    await worker();
    await (await enqueue()).waitUntilFinished(h.events, 120_000);
    const before = await checkpoint();
    // updated_at is 2025-01-01 + floor(i / 3) s: 300 rows in [200 s, 299 s].
    const from = '2025-01-01T00:03:20Z';
    const to = '2025-01-01T00:04:59Z';
    const back = await (await enqueue({ mode: 'backfill', from, to })).waitUntilFinished(h.events, 120_000);
    expect(back.read).toBeGreaterThanOrEqual(300);
    expect(back.read).toBeLessThanOrEqual(300 + 200);
    expect(back.unchanged).toBe(back.read);
    expect(await checkpoint()).toEqual(before);
    expect(await checkpoint(`${STREAM}#backfill#${back.runId}`)).toBeUndefined();

    const full = await (await enqueue({ mode: 'full' })).waitUntilFinished(h.events, 120_000);
    expect(full).toMatchObject({ read: ROWS, unchanged: ROWS, loaded: 0 });
    expect(await checkpoint()).toEqual(before);
    expect(await checkpoint(`${STREAM}#full#${full.runId}`)).toBeUndefined();
  }, 180_000);

  it('a job whose stream another job took meanwhile (it stalled past its lock) commits no further batch: SYNC_LOCK_LOST, rolled back, retried, exact', async () => {
    await resetHub();
    const w = await worker(config, { concurrency: 1 });
    const failures: string[] = [];
    w.worker.on('failed', (_job, err) => failures.push(err.message));
    let taken = false;
    // After its first committed batch, another worker takes the stream (as it would once this
    // one's lock expired): its fence goes up, and this attempt's next COMMIT must not land.
    w.worker.on('progress', () => {
      if (taken) return;
      taken = true;
      void takeFence(hub.pool, SOURCE, STREAM);
    });
    const job = await enqueue({ mode: 'full', batchSize: 50 });
    const result = await job.waitUntilFinished(h.events, 120_000);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^SYNC_LOCK_LOST: .*another job took the stream/);
    const done = (await h.queue.getJob(job.id!))!;
    expect(done.attemptsMade).toBe(2);
    const rows = await runs();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(result.runId).toBe(Number(rows[0]!.id));
    await expectExact();
  }, 180_000);

  it("a stalled attempt refused by the fence leaves the run's status to the job that took the stream, in PostgreSQL and ClickHouse", async () => {
    await resetHub();
    const once = await configFor(src.url, PIPELINES.replace('attempts: 3', 'attempts: 1'));
    const w = await worker(once, { concurrency: 1 });
    let runId = 0;
    let other: Promise<unknown> | undefined;
    // What the job that took the stream does: its run ends (here, at once) under a newer fence.
    // The status first: the refused attempt's own write can only come after the fence rose.
    w.worker.on('progress', (job) => {
      if (other) return;
      runId = (job.progress as { runId: number }).runId;
      other = hub.pool
        .query(`UPDATE hub.sync_run SET status = 'succeeded', finished_at = now() WHERE id = $1`, [runId])
        .then(() => takeFence(hub.pool, SOURCE, STREAM))
        .then(() => insertSyncRunRow(ch, hub.pool, { runId, source: SOURCE, stream: STREAM, mode: 'full', status: 'succeeded', startedAt: new Date(), finishedAt: new Date(), errorCode: null, recordsRead: 0, recordsWritten: 0, recordsFailed: 0 }));
    });
    const job = await enqueue({ mode: 'full', batchSize: 50 }, once);
    const err = await job.waitUntilFinished(h.events, 120_000).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^SYNC_LOCK_LOST: .*another job took the stream/);
    await other;
    expect(await runs()).toMatchObject([{ status: 'succeeded', error_code: null }]);
    const sent = await (await ch.query({ query: `SELECT status FROM sync_runs_current WHERE run_id = ${runId}`, format: 'JSONEachRow' })).json<{ status: string }>();
    expect(sent).toEqual([{ status: 'succeeded' }]);
  }, 180_000);

  it('a job steps back as busy while a frozen earlier holder keeps a batch open on the fence, and runs once it commits', async () => {
    await resetHub();
    const old = (await takeFence(hub.pool, SOURCE, STREAM))!;
    const frozen = await hub.pool.connect();
    try {
      await frozen.query('BEGIN');
      await assertFence(frozen, SOURCE, STREAM, old);
      await worker(config, { fenceWaitMs: 200, busyRetryMs: 200 });
      const job = await enqueue({ mode: 'full' });
      let logs: string[] = [];
      for (let i = 0; i < 100 && logs.length === 0; i++) {
        await sleep(100);
        logs = (await h.queue.getJobLogs(job.id!)).logs;
      }
      expect(logs[0]).toMatch(/waiting: .*an earlier job that stalled still has a batch open \(waited 0\.2 s for it\)$/);
      expect(await runs()).toEqual([]);
      await frozen.query('COMMIT');
      const result = await job.waitUntilFinished(h.events, 120_000);
      expect(result).toMatchObject({ read: ROWS, failed: 0 });
      expect((await h.queue.getJob(job.id!))!.attemptsMade).toBe(1);
    } finally {
      frozen.release();
    }
    await expectExact();
  }, 180_000);

  it('a worker shutting down hands its running job back; another worker resumes the same run exactly', async () => {
    await resetHub();
    const first = await worker(config, { concurrency: 1 });
    const job = await enqueue({ mode: 'full', batchSize: 100 });
    await new Promise<void>((resolve) => first.worker.on('progress', () => resolve()));
    await first.close();
    const state = await (await h.queue.getJob(job.id!))!.getState();
    expect(['delayed', 'waiting']).toContain(state);
    await worker();
    const result = await job.waitUntilFinished(h.events, 120_000);
    const done = (await h.queue.getJob(job.id!))!;
    // handing back used no attempt: the one counted is the attempt that succeeded
    expect(done.attemptsMade).toBe(1);
    const rows = await runs();
    expect(rows).toHaveLength(1);
    // Resumed from its own position: every row read exactly once across both workers.
    expect(rows[0]).toMatchObject({ status: 'succeeded', mode: 'full', records_read: String(ROWS) });
    expect(result.runId).toBe(Number(rows[0]!.id));
    await expectExact();
  }, 180_000);
});
