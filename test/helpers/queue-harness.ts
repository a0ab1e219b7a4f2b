/**
 * A sync queue of a test's own: a Redis database number and a key prefix nobody else uses,
 * the BullMQ queue and its events on them, the worker's key names under the same prefix,
 * and a free loopback port (to point a source at something that can go down and come back).
 */
import net from 'node:net';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { stackSettings } from '../../config/env.js';
import { SYNC_QUEUE, type SyncJobData, type SyncJobResult } from '../../pipelines/queue.js';
import type { PipelineKeys } from '../../pipelines/worker.js';

export interface QueueHarness {
  /** redis://…/<db> */
  redisUrl: string;
  /** A connection fit for BullMQ (maxRetriesPerRequest null). */
  redis: Redis;
  prefix: string;
  keys: PipelineKeys;
  /** The channel the test's workers publish customer.updated on. */
  channel: string;
  queue: Queue<SyncJobData, SyncJobResult>;
  events: QueueEvents;
  /** Empties the queue and deletes the prefix's keys. */
  clean(): Promise<void>;
  close(): Promise<void>;
}

export function redisUrlWithDb(db: number): string {
  const url = new URL(stackSettings().services.redis.url);
  url.pathname = `/${db}`;
  return url.toString();
}

export async function queueHarness(name: string, db: number): Promise<QueueHarness> {
  const redisUrl = redisUrlWithDb(db);
  const prefix = `{jt-${name}}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const keys: PipelineKeys = {
    streamLock: (source, stream) => `${prefix}:lock:${source}.${stream}`,
    sourceSlots: (source) => `${prefix}:slots:${source}`,
    circuit: (source) => `${prefix}:circuit:${source}`,
    rateLimit: (source) => `${prefix}:rate:${source}`,
  };
  const queue = new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection: redis, prefix });
  const eventsRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const events = new QueueEvents(SYNC_QUEUE, { connection: eventsRedis, prefix });
  await events.waitUntilReady();
  const clean = async () => {
    await queue.obliterate({ force: true });
    const stale = await redis.keys(`${prefix}*`);
    if (stale.length > 0) await redis.del(...stale);
  };
  await clean();
  return {
    redisUrl,
    redis,
    prefix,
    keys,
    channel: `${prefix}:events:customer.updated`,
    queue,
    events,
    clean,
    close: async () => {
      await clean();
      await events.close();
      await queue.close();
      eventsRedis.disconnect();
      redis.disconnect();
    },
  };
}

/** A loopback port nothing listens on (now). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it returns a value (not undefined), every `everyMs`; bounded by the test's timeout. */
export async function until<T>(check: () => Promise<T | undefined>, everyMs = 100): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
