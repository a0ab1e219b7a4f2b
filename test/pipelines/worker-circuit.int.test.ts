/**
 * The per-source circuit shared in Redis: the state machine on its own (open after N
 * failures, one probe at a time, closed by success), then a worker whose source goes away
 * (nothing listening where the config points): retries, the circuit opens with its reason,
 * the source's jobs wait instead of failing, and once a TCP proxy brings the source back
 * a probe succeeds, the circuit closes and the jobs finish with exact data.
 */
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { admitToCircuit, listCircuits, readCircuit, recordCircuitFailure, recordCircuitSuccess } from '../../pipelines/circuit.js';
import { syncJobOptions } from '../../pipelines/job-options.js';
import { enqueueSync } from '../../pipelines/queue.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { startWorker, type RunningWorker } from '../../pipelines/worker.js';
import { migrateClickhouse } from '../../sql/migrate.js';
import { freePort, queueHarness, until, type QueueHarness } from '../helpers/queue-harness.js';
import { SOURCE, STREAM, hashDiff, scratchSource, sourceHashes, tempDir, unifiedHashes, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const settings = stackSettings();
const CH_DB = 'junction_test_circuit';
let h: QueueHarness;

beforeAll(async () => {
  h = await queueHarness('circuit', 11);
});

afterAll(async () => {
  await h?.close();
});

describe('circuit state in Redis', () => {
  // open_ms is the time the test has to see the circuit refuse once it opened: a few Redis
  // calls, which a loaded machine may take far more than a few hundred ms for.
  const settingsFor = { failures: 2, openMs: 2000, probeLeaseMs: 10_000 };
  /** Sleeps until just past `at` (ms since the epoch, a time from the circuit: Redis' clock). */
  const sleepPast = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now()) + 20));

  it('opens after N failures in a row, admits one probe after open_ms, closes on success and re-opens on a probe failure', async () => {
    const src = 'unit_src';
    expect(await admitToCircuit(h.redis, src, 'a', settingsFor, h.keys)).toEqual({ admitted: true, probe: false });
    expect(await recordCircuitFailure(h.redis, src, { code: 'CONN_TIMEOUT', message: 'slow' }, settingsFor, h.keys)).toBe(false);
    expect((await readCircuit(h.redis, src, h.keys)).state).toBe('closed');
    expect(await recordCircuitFailure(h.redis, src, { code: 'CONN_UNREACHABLE', message: 'refused' }, settingsFor, h.keys)).toBe(true);

    const open = await readCircuit(h.redis, src, h.keys);
    expect(open).toMatchObject({ source: src, state: 'open', failures: 2, code: 'CONN_UNREACHABLE', reason: 'refused' });
    expect(Date.parse(open.nextProbeAt!) - Date.parse(open.openedAt!)).toBe(settingsFor.openMs);
    const refused = await admitToCircuit(h.redis, src, 'b', settingsFor, h.keys);
    expect(refused).toEqual({ admitted: false, state: 'open', retryAt: Date.parse(open.nextProbeAt!) });

    await sleepPast(Date.parse(open.nextProbeAt!));
    expect(await admitToCircuit(h.redis, src, 'probe-1', settingsFor, h.keys)).toEqual({ admitted: true, probe: true });
    expect(await admitToCircuit(h.redis, src, 'other', settingsFor, h.keys)).toMatchObject({ admitted: false, state: 'half_open' });
    expect(await admitToCircuit(h.redis, src, 'probe-1', settingsFor, h.keys)).toEqual({ admitted: true, probe: true });

    // The probe fails: open again for open_ms.
    expect(await recordCircuitFailure(h.redis, src, { code: 'CONN_UNREACHABLE', message: 'still refused' }, settingsFor, h.keys)).toBe(true);
    const reopened = await readCircuit(h.redis, src, h.keys);
    expect(reopened.state).toBe('open');
    await sleepPast(Date.parse(reopened.nextProbeAt!));
    expect(await admitToCircuit(h.redis, src, 'probe-2', settingsFor, h.keys)).toEqual({ admitted: true, probe: true });
    await recordCircuitSuccess(h.redis, src, h.keys);
    const closed = await readCircuit(h.redis, src, h.keys);
    expect(closed).toMatchObject({ state: 'closed', failures: 0, code: null, reason: null, openedAt: null, nextProbeAt: null });
    expect(await admitToCircuit(h.redis, src, 'c', settingsFor, h.keys)).toEqual({ admitted: true, probe: false });

    const all = await listCircuits(h.redis, [src, 'never_failed'], h.keys);
    expect([...all.keys()]).toEqual([src, 'never_failed']);
    expect(all.get('never_failed')).toMatchObject({ state: 'closed', failures: 0 });
  });

  it('a probe whose worker died is replaced once its lease ends', async () => {
    const src = 'lease_src';
    // The lease is the time the test has to see the next attempt refused: generous, for a loaded machine.
    const s = { failures: 1, openMs: 100, probeLeaseMs: 2000 };
    await recordCircuitFailure(h.redis, src, { code: 'CONN_TIMEOUT', message: 'x' }, s, h.keys);
    await new Promise((r) => setTimeout(r, 120));
    expect(await admitToCircuit(h.redis, src, 'dead-probe', s, h.keys)).toMatchObject({ admitted: true });
    const next = await admitToCircuit(h.redis, src, 'next', s, h.keys);
    expect(next).toMatchObject({ admitted: false, state: 'half_open' });
    await sleepPast((next as { retryAt: number }).retryAt);
    expect(await admitToCircuit(h.redis, src, 'next', s, h.keys)).toEqual({ admitted: true, probe: true });
  });
});

describe('a source going down and coming back', () => {
  const ROWS = 1000;
  let hub: ScratchDb;
  let src: ScratchSource;
  let ch: ClickHouseClient;
  let config: ResolvedConfig;
  let port: number;
  let proxy: TcpProxy | undefined;
  let worker: RunningWorker | undefined;
  let workerRedis: Redis | undefined;

  beforeAll(async () => {
    hub = await scratchDatabase('circuit');
    src = await scratchSource('circuit', ROWS);
    await migrateClickhouse(settings.services.clickhouse.url, CH_DB, path.join(PROJECT_ROOT, 'sql', 'clickhouse'));
    ch = createClickhouseClient(settings, { database: CH_DB });
    port = await freePort();
    const url = new URL(src.url);
    url.port = String(port);
    config = await loadConfig(
      writeSyncConfig(tempDir('circuit'), { sourceUrl: url.toString(), pipelines: '{ batch_size: 250, attempts: 10, backoff_ms: 100, circuit: { failures: 2, open_ms: 1500 } }' }),
    );
  }, 180_000);

  afterAll(async () => {
    await worker?.close();
    workerRedis?.disconnect();
    await proxy?.destroy();
    await ch?.command({ query: `DROP DATABASE IF EXISTS ${CH_DB}` });
    await ch?.close();
    await src?.close();
    await hub?.close();
  });

  it('retries, opens the circuit with its reason, pauses the source’s jobs, and recovers by itself after a probe', async () => {
    workerRedis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
    worker = await startWorker({ config, pool: hub.pool, connection: workerRedis, log: silentLogger, clickhouse: ch, prefix: h.prefix, keys: h.keys, eventsChannel: h.channel });
    const failed: string[] = [];
    worker.worker.on('failed', (_job, err) => failed.push(err.message));
    const opts = syncJobOptions(config.pipelines);
    const first = await enqueueSync(h.queue, { source: SOURCE, stream: STREAM, mode: 'incremental', trigger: 'test' }, opts);

    const open = await until(async () => {
      const c = await readCircuit(h.redis, SOURCE, h.keys);
      return c.state === 'open' ? c : undefined;
    });
    expect(open).toMatchObject({ code: 'CONN_UNREACHABLE', failures: 2 });
    expect(open.reason).toBeTruthy();
    expect(Date.parse(open.nextProbeAt!)).toBeGreaterThan(Date.parse(open.openedAt!));
    // Only the attempt before the opening was a retry; the one that opened it paused instead.
    expect(failed.every((m) => m.startsWith('CONN_UNREACHABLE: '))).toBe(true);
    expect(failed.length).toBeLessThan(2);

    // A job of the same source arriving now waits for the circuit, with the reason logged.
    const second = await enqueueSync(h.queue, { source: SOURCE, stream: STREAM, mode: 'full', trigger: 'test' }, opts);
    const waitedFor = await until(async () => {
      const [firstLogs, secondLogs] = await Promise.all([h.queue.getJobLogs(first.id!), h.queue.getJobLogs(second.id!)]);
      const line = [...firstLogs.logs, ...secondLogs.logs].find((l) => /circuit of legacy_pg is (open|half_open)|circuit of legacy_pg opened/.test(l));
      return line;
    });
    expect(waitedFor).toMatch(/CONN_UNREACHABLE/);
    expect(await first.getState()).not.toBe('failed');

    proxy = await startTcpProxy('127.0.0.1', settings.services.postgres.port, { port });
    const [a, b] = await Promise.all([first.waitUntilFinished(h.events, 120_000), second.waitUntilFinished(h.events, 120_000)]);
    expect(a.read + b.read).toBeGreaterThanOrEqual(ROWS);
    expect(await readCircuit(h.redis, SOURCE, h.keys)).toMatchObject({ state: 'closed', failures: 0, code: null });
    expect(hashDiff(await sourceHashes(await loadConfig(writeSyncConfig(tempDir('circuit-direct'), { sourceUrl: src.url }))), await unifiedHashes(hub.pool))).toEqual([]);
    for (const job of [first, second]) {
      const done = (await h.queue.getJob(job.id!))!;
      expect(done.attemptsMade).toBeLessThan(10);
      // Its committed batches reset the give-up clock of its wait for the circuit.
      expect(done.data).not.toHaveProperty('circuitWaitSince');
    }
  }, 180_000);
});

describe('a source that does not come back', () => {
  const chDb = `${CH_DB}_give_up`;
  let hub: ScratchDb;
  let ch: ClickHouseClient;
  let worker: RunningWorker | undefined;
  let workerRedis: Redis | undefined;

  beforeAll(async () => {
    hub = await scratchDatabase('circuit_give_up');
    await migrateClickhouse(settings.services.clickhouse.url, chDb, path.join(PROJECT_ROOT, 'sql', 'clickhouse'));
    ch = createClickhouseClient(settings, { database: chDb });
  }, 180_000);

  afterAll(async () => {
    await worker?.close();
    workerRedis?.disconnect();
    await ch?.command({ query: `DROP DATABASE IF EXISTS ${chDb}` });
    await ch?.close();
    await hub?.close();
  });

  it('fails the job with SYNC_SOURCE_DOWN and the last source error once it has waited give_up_ms, and its run is failed', async () => {
    // Nothing listens on this port for the whole test.
    const deadUrl = `postgres://junction:junction@127.0.0.1:${await freePort()}/nowhere`;
    const config = await loadConfig(
      writeSyncConfig(tempDir('circuit-give-up'), { sourceUrl: deadUrl, pipelines: '{ batch_size: 250, attempts: 10, backoff_ms: 100, circuit: { failures: 1, open_ms: 300, give_up_ms: 1500 } }' }),
    );
    // Its own source name in Redis: the circuit of the test above is left as it was.
    const keys = { ...h.keys, circuit: (source: string) => h.keys.circuit(`give-up:${source}`) };
    workerRedis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
    worker = await startWorker({ config, pool: hub.pool, connection: workerRedis, log: silentLogger, clickhouse: ch, prefix: h.prefix, keys, eventsChannel: h.channel, busyRetryMs: 100 });
    const startedAt = Date.now();
    const job = await enqueueSync(h.queue, { source: SOURCE, stream: STREAM, mode: 'incremental', trigger: 'test' }, syncJobOptions(config.pipelines));

    const error = await job.waitUntilFinished(h.events, 60_000).then(
      () => null,
      (err: Error) => err.message,
    );
    expect(error).toMatch(/^SYNC_SOURCE_DOWN: legacy_pg has not come back in \d+ s \(pipelines\.circuit\.give_up_ms\); last error CONN_UNREACHABLE: /);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1500);
    const done = (await h.queue.getJob(job.id!))!;
    // It paused (no attempt used) rather than spending its 10 attempts.
    expect(done.attemptsMade).toBeLessThan(10);
    const { rows } = await hub.pool.query(`SELECT status, error_code FROM hub.sync_run WHERE source = $1 ORDER BY id DESC LIMIT 1`, [SOURCE]);
    expect(rows[0]).toEqual({ status: 'failed', error_code: 'SYNC_SOURCE_DOWN' });
  }, 90_000);
});
