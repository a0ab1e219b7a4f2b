/**
 * Ops reads while Redis is away: BullMQ's connection settings (`maxRetriesPerRequest: null`)
 * make ioredis queue commands until Redis is back, so an unbounded read would hang the
 * request. Redis "away" here is a port nothing listens on.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackSettings } from '../../config/env.js';
import type { ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createOpsRegistry, scrape } from '../../jobs/metrics.js';
import { createScheduler } from '../../jobs/scheduler.js';
import { runSchedule } from '../../jobs/schedules.js';
import { streamsStatus } from '../../jobs/streams-status.js';
import { enqueueSync, type SyncJobData, type SyncJobResult } from '../../pipelines/queue.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { testConfig } from './fixture.js';

let db: ScratchDb;
let config: ResolvedConfig;
let away: Redis;
let queue: Queue<SyncJobData, SyncJobResult>;

beforeAll(async () => {
  db = await scratchDatabase('jobs_redis_away');
  config = await testConfig();
  away = new Redis({ host: '127.0.0.1', port: 1, maxRetriesPerRequest: null, retryStrategy: () => 200, lazyConnect: false });
  away.on('error', () => undefined);
  queue = new Queue<SyncJobData, SyncJobResult>('sync', { connection: away, prefix: 'junction-test-away' });
  queue.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  await Promise.race([queue?.close(), new Promise((r) => setTimeout(r, 1000))]);
  away?.disconnect();
  await db?.close();
});

describe('ops reads with Redis away', () => {
  it('the sources status still gives the PostgreSQL figures, with the circuits unknown and why', async () => {
    await db.pool.query(`INSERT INTO hub.checkpoint (source, stream, cursor_value, records_total) VALUES ('shop_pg', 'accounts', '"2026-11-24T10:00:00Z"', 4321)
      ON CONFLICT (source, stream) DO UPDATE SET records_total = 4321`);
    const [source] = await streamsStatus({ config, pool: db.pool, redis: away });
    expect(source).toMatchObject({ name: 'shop_pg', circuit: null, circuitError: 'circuits unknown: redis did not answer within 2000 ms' });
    expect(source!.streams.find((s) => s.stream === 'accounts')).toMatchObject({ recordsTotal: 4321, checkpoint: { cursor: '2026-11-24T10:00:00Z' } });
  }, 15_000);

  it('/metrics keeps the stream gauges, leaves the circuit gauge out and says the circuits could not be read', async () => {
    const own = createOpsRegistry({ config, pool: db.pool, redis: away, queue, log: silentLogger });
    const { text } = await scrape(own);
    expect(text).toContain('junction_stream_records{source="shop_pg",stream="accounts"} 4321');
    expect(text).toContain('junction_ops_collect_ok{part="circuits"} 0');
    expect(text).toContain('junction_ops_collect_ok{part="streams"} 1');
    expect(text).toContain('junction_ops_collect_ok{part="queue"} 0');
    expect(text).not.toMatch(/^junction_circuit_state\{/m);
  }, 15_000);
});

describe('ops writes with Redis away', () => {
  it('running a schedule fails with JOB_ENQUEUE_FAILED instead of waiting for Redis forever', async () => {
    await expect(runSchedule(config, queue, 'accounts-every-minute', 'ops')).rejects.toMatchObject({ code: 'JOB_ENQUEUE_FAILED', message: expect.stringContaining('did not take the job within 5000 ms') });
  }, 15_000);

  it('a schedule tick fails instead of hanging, and the scheduler stops', async () => {
    const s = createScheduler({ config, pool: db.pool, queue, redis: away, log: silentLogger, instance: 'away:1', clickhouse: undefined });
    try {
      await expect(s.tick('accounts-every-minute', new Date(Date.now() + 86_400_000))).rejects.toThrow('redis did not answer within 5000 ms');
    } finally {
      await s.stop();
    }
  }, 20_000);
});

/**
 * A TCP gate in front of the stack's Redis: it accepts connections and holds what clients
 * send until `open()`, as a Redis that is away and comes back does to a queued command.
 */
async function redisGate(): Promise<{ port: number; open(): void; close(): Promise<void> }> {
  const target = new URL(stackSettings().services.redis.url);
  const sockets: net.Socket[] = [];
  const held: { client: net.Socket; chunks: Buffer[]; piped: boolean }[] = [];
  let opened = false;
  const pipe = (entry: (typeof held)[number]) => {
    const up = net.connect(Number(target.port), target.hostname);
    sockets.push(up);
    entry.piped = true;
    for (const chunk of entry.chunks) up.write(chunk);
    entry.client.pipe(up);
    up.pipe(entry.client);
  };
  const server = net.createServer((client) => {
    sockets.push(client);
    const entry = { client, chunks: [] as Buffer[], piped: false };
    client.on('data', (d: Buffer) => {
      if (!entry.piped) entry.chunks.push(d);
    });
    client.on('error', () => undefined);
    held.push(entry);
    if (opened) pipe(entry);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    open() {
      opened = true;
      for (const entry of held) if (!entry.piped) pipe(entry);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a job Redis takes after the caller was told it failed', () => {
  it('is removed when it has no id of its own (the caller\'s retry is the one job); a tick\'s job, with its id, stays', async () => {
    const gate = await redisGate();
    const prefix = `junction-test-late-${process.pid}`;
    const slow = new Redis({ host: '127.0.0.1', port: gate.port, maxRetriesPerRequest: null });
    slow.on('error', () => undefined);
    const lateQueue = new Queue<SyncJobData, SyncJobResult>('sync', { connection: slow, prefix });
    const direct = new Redis(stackSettings().services.redis.url);
    const data: SyncJobData = { source: 'shop_pg', stream: 'accounts', mode: 'incremental', trigger: 'ops' };
    try {
      await expect(enqueueSync(lateQueue, data, {}, 300)).rejects.toThrow('redis did not take the job within 300 ms');
      await expect(enqueueSync(lateQueue, data, { jobId: 'schedule:x:1' }, 300)).rejects.toThrow('within 300 ms');
      gate.open();
      // Both adds land once Redis answers (BullMQ's id counter moves for each) …
      for (let i = 0; i < 100 && (await direct.get(`${prefix}:sync:id`)) !== '2'; i++) await sleep(50);
      expect(await direct.get(`${prefix}:sync:id`)).toBe('2');
      // … and the one without an id is removed.
      let ids: string[] = [];
      for (let i = 0; i < 100; i++) {
        ids = (await lateQueue.getJobs(['waiting', 'delayed', 'prioritized'])).map((j) => String(j.id));
        if (ids.length === 1) break;
        await sleep(50);
      }
      expect(ids).toEqual(['schedule:x:1']);
    } finally {
      await lateQueue.obliterate({ force: true }).catch(() => undefined);
      await lateQueue.close();
      slow.disconnect();
      direct.disconnect();
      await gate.close();
    }
  }, 20_000);
});
