/**
 * The BullMQ options every sync job is enqueued with (CLI, scheduler, ops API): retries with
 * exponential backoff from `pipelines.attempts` / `backoff_ms`. BullMQ reads attempts and
 * backoff from the job, not the worker, so whoever enqueues passes these.
 */
import type { JobsOptions } from 'bullmq';
import type { PipelinesConfig } from '../config/schema.js';

/** Job log lines kept (the worker logs why it delayed a job: stream busy, circuit open…). */
const KEEP_LOGS = 50;

export function syncJobOptions(pipelines: Pick<PipelinesConfig, 'attempts' | 'backoff_ms'>): JobsOptions {
  return {
    attempts: pipelines.attempts,
    backoff: { type: 'exponential', delay: pipelines.backoff_ms },
    keepLogs: KEEP_LOGS,
  };
}
