/**
 * CONTRACT STUB (being implemented): a BullMQ worker process's sync processor.
 */
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';

export interface WorkerOptions {
  config: ResolvedConfig;
  pool: pg.Pool;
  /** Redis connection for BullMQ (maxRetriesPerRequest null). */
  connection: Redis;
  log: Logger;
  /** Jobs run at once in this process. @defaultValue config.pipelines.worker_concurrency */
  concurrency?: number;
}

export interface RunningWorker {
  /** Finishes the running batches' transactions and stops taking jobs. */
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  void options;
  throw new Error('not implemented yet');
}
