/**
 * Whether a stream has sync work going on right now: a job of it still in the queue
 * (waiting, active, delayed for a retry…) or its stream lock held by a worker. A schedule
 * tick that finds either, of its own mode or a full sync (which covers an incremental one), is
 * skipped rather than piling a second job behind the first; a full tick while an incremental
 * job runs is enqueued, and the stream lock makes it wait its turn.
 */
import type { JobType, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { redisKeys, type SyncJobData, type SyncJobResult } from '../pipelines/queue.js';
import { streamLockHolder } from '../pipelines/stream-lock.js';

/** The Redis key names jobs/ reads besides BullMQ's own; tests pass their own prefix. */
export interface JobKeys {
  streamLock(source: string, stream: string): string;
  circuit(source: string): string;
}

export const DEFAULT_KEYS: JobKeys = { streamLock: redisKeys.streamLock, circuit: redisKeys.circuit };

/** Queue states in which a job has not finished yet (a paused queue keeps its jobs in `waiting`). */
export const UNFINISHED_STATES: JobType[] = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'];

export interface StreamActivity {
  /** Human-readable: which job holds the stream and in which state. */
  reason: string;
  jobId: string | undefined;
}

/**
 * The job keeping `source.stream` busy, or null when it is idle. With `mode`, only a job of
 * that mode or a full sync counts.
 */
export async function streamActivity(
  queue: Queue<SyncJobData, SyncJobResult>,
  redis: Redis,
  keys: JobKeys,
  source: string,
  stream: string,
  mode?: SyncJobData['mode'],
): Promise<StreamActivity | null> {
  const covers = (data: SyncJobData | undefined) => mode === undefined || data?.mode === mode || data?.mode === 'full';
  const holder = await streamLockHolder(redis, keys.streamLock(source, stream));
  // A lock whose job cannot be read (removed from the queue meanwhile) counts as busy.
  const held = holder === null ? undefined : await queue.getJob(holder);
  if (holder !== null && (held === undefined || covers(held.data))) {
    return { reason: `${source}.${stream} is locked by running job ${holder}`, jobId: holder };
  }
  for (const state of UNFINISHED_STATES) {
    // A handful of jobs per stream at most: reading them all is cheaper than keeping an index.
    const jobs = await queue.getJobs([state]);
    const job = jobs.find((j) => j?.data?.source === source && j.data.stream === stream && covers(j.data));
    if (job) return { reason: `job ${job.id} of ${source}.${stream} is still ${state}`, jobId: job.id };
  }
  return null;
}
