/**
 * The sync queue's contract, shared by the workers (pipelines/worker.ts), the scheduler and
 * ops API (jobs/) and the CLI: the queue name, what a job carries, and the Redis key names.
 * Every key shares one hash tag, `{junction}`, so the layout works on Redis Cluster too.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { SyncProgress, SyncSummary } from './sync-inline.js';

/** BullMQ key prefix: a hash tag, so one queue's keys land on one Cluster slot. */
export const QUEUE_PREFIX = '{junction}';
export const SYNC_QUEUE = 'sync';

export type SyncJobMode = 'incremental' | 'full' | 'backfill';

/** One sync job: a whole (source, stream, mode) run, read and loaded batch by batch. */
export interface SyncJobData {
  source: string;
  stream: string;
  mode: SyncJobMode;
  /** Backfill range on the stream's cursor (inclusive), ISO text or number as the cursor holds. */
  from?: string;
  to?: string;
  /** Who asked for it: `cli`, `schedule:<name>`, `ops`, `replay`. */
  trigger: string;
  /** Overrides `pipelines.batch_size`. */
  batchSize?: number;
  /** Set by the worker on the first attempt, so that a retried job resumes the same hub.sync_run row. */
  runId?: number;
}

/** What `job.updateProgress` carries while a sync runs (the CLI's progress bar reads it). */
export interface SyncJobProgress extends SyncProgress {
  runId: number;
  /** Records the run will have read when it ends, once the source counted them (see SyncProgressUpdate). */
  total?: number;
}

export type SyncJobResult = SyncSummary;

/** Redis keys outside BullMQ's own. */
export const redisKeys = {
  /** Held by the worker running a job of this stream (value: job id), with a TTL it refreshes. */
  streamLock: (source: string, stream: string) => `${QUEUE_PREFIX}:lock:${source}.${stream}`,
  /** Sorted set of the jobs of a source running now (member job id, score lease expiry ms). */
  sourceSlots: (source: string) => `${QUEUE_PREFIX}:slots:${source}`,
  /** Hash: state (closed|open|half_open), failures, opened_at, reason, code. */
  circuit: (source: string) => `${QUEUE_PREFIX}:circuit:${source}`,
  /** Rate-limit counters of a source shared by every worker. */
  rateLimit: (source: string) => `${QUEUE_PREFIX}:rate:${source}`,
};

/** Pub/sub channel of `customer.updated` events (JSON {@link CustomerUpdatedEvent}). */
export const CUSTOMER_UPDATED_CHANNEL = `${QUEUE_PREFIX}:events:customer.updated`;

export interface CustomerUpdatedEvent {
  type: 'customer.updated';
  /** Customers whose golden record, identities or records changed (absorbed ones included). */
  customerIds: number[];
  /** Absorbed customer → the customer it went into. */
  absorbed: { id: number; into: number }[];
  source: string;
  stream: string;
  runId: number;
  at: string;
}

/** A Redis connection as BullMQ wants it (blocking commands must not time out). */
export function redisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

export function syncQueue(connection: ConnectionOptions): Queue<SyncJobData, SyncJobResult> {
  return new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection, prefix: QUEUE_PREFIX });
}

/** Adds a sync job. A deterministic `jobId` (a schedule tick) makes a second add a no-op. */
export async function enqueueSync(queue: Queue<SyncJobData, SyncJobResult>, data: SyncJobData, opts: JobsOptions = {}, timeoutMs = ENQUEUE_TIMEOUT_MS) {
  const add = queue.add(`${data.source}.${data.stream}`, data, { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 }, ...opts });
  // BullMQ's connections (maxRetriesPerRequest: null) hold a command until Redis is back:
  // an ops request or a schedule tick would wait for ever. Past the bound the caller reports
  // JOB_ENQUEUE_FAILED, and the add may still go through once Redis returns. A job with its
  // own id (a schedule tick's) is then the one job of that id, which the tick's retry finds;
  // one without is removed when it lands, or the caller's retry would make it two.
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`redis did not take the job within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  add.then(
    (job) => (timedOut && opts.jobId === undefined ? job.remove().catch(() => undefined) : undefined),
    () => undefined,
  );
  return Promise.race([add, late]).finally(() => clearTimeout(timer));
}

/** How long {@link enqueueSync} waits for Redis to take a job. */
export const ENQUEUE_TIMEOUT_MS = 5_000;
