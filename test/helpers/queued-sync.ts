/**
 * A whole hub of a test's own for syncs through the queue and worker processes: a scratch
 * hub database, ClickHouse database and source (test/helpers/sync-fixture.ts), a Redis
 * database number (worker processes use the production key prefix, so isolation is by
 * database, or by a Redis server of the test's own), the config written for them, and
 * `junction start --role worker` processes started with that environment.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { syncJobOptions } from '../../pipelines/job-options.js';
import { SYNC_QUEUE, QUEUE_PREFIX, enqueueSync, type SyncJobData, type SyncJobResult } from '../../pipelines/queue.js';
import { scratchClickhouse, type ScratchClickhouse } from './clickhouse.js';
import { SOURCE, STREAM, scratchSource, tempDir, unifiedCounts, writeSyncConfig, type ScratchSource } from './sync-fixture.js';
import { scratchDatabase, type ScratchDb } from './unified.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export interface QueuedSyncOptions {
  /** Names the scratch databases: `junction_test_<name>`, `junction_test_<name>_src`. */
  name: string;
  /** Source rows. */
  rows: number;
  /** The Redis the workers and the test share, with its database number (`redis://…/7`). */
  redisUrl: string;
  /** The source URL the config gets, from the scratch source's (to put a TCP proxy between). @defaultValue the source's own */
  sourceUrl?: (url: string) => string | Promise<string>;
  /** The config's `pipelines:` section (YAML flow style). */
  pipelines?: string;
}

export type JobEnd = { state: 'completed'; result: SyncJobResult } | { state: 'failed'; reason: string };

export interface QueuedSync {
  hub: ScratchDb;
  ch: ScratchClickhouse;
  src: ScratchSource;
  dir: string;
  configFile: string;
  config: ResolvedConfig;
  /** What worker processes and CLI runs get on top of this process's environment. */
  env: NodeJS.ProcessEnv;
  /** The test's connection to the workers' Redis (circuit hashes, the queue). */
  redis: Redis;
  queue: Queue<SyncJobData, SyncJobResult>;
  /** Starts a worker process (stopped by `close`). */
  startWorker(concurrency?: number): Promise<WorkerProcess>;
  /** Enqueues the stream's sync as the CLI does, with a fixed job id. */
  enqueue(jobId: string, mode?: SyncJobData['mode']): Promise<void>;
  /**
   * Polls the job until it completed or failed for good. Redis may be away for a while
   * (its errors are retried); fails early, with their output, when every worker died.
   */
  waitForJob(jobId: string, timeoutMs: number, workers?: () => readonly WorkerProcess[]): Promise<JobEnd>;
  /** Records of the stream in the unified view now. */
  loaded(): Promise<number>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function queuedSync(options: QueuedSyncOptions): Promise<QueuedSync> {
  const hub = await scratchDatabase(options.name);
  const ch = await scratchClickhouse(options.name);
  const src = await scratchSource(options.name, options.rows);
  const dir = tempDir(options.name);
  const configFile = writeSyncConfig(dir, { sourceUrl: options.sourceUrl ? await options.sourceUrl(src.url) : src.url, pipelines: options.pipelines });
  const config = await loadConfig(configFile);
  const env = {
    JUNCTION_PG_DATABASE: `junction_test_${options.name}`,
    JUNCTION_CLICKHOUSE_DATABASE: ch.database,
    JUNCTION_REDIS_URL: options.redisUrl,
    JUNCTION_LOG_LEVEL: 'warn',
  };
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  await redis.flushdb();
  const queue = new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection: redis, prefix: QUEUE_PREFIX });
  // A test may restart Redis: connection errors until it is back are expected, and retried.
  redis.on('error', () => undefined);
  queue.on('error', () => undefined);
  const workers: WorkerProcess[] = [];

  return {
    hub, ch, src, dir, configFile, config, env, redis, queue,
    startWorker: async (concurrency) => {
      const w = await startWorkerProcess({ configFile, env, concurrency });
      workers.push(w);
      return w;
    },
    enqueue: async (jobId, mode = 'incremental') => {
      await enqueueSync(queue, { source: SOURCE, stream: STREAM, mode, trigger: 'test' }, { ...syncJobOptions(config.pipelines), jobId });
    },
    waitForJob: async (jobId, timeoutMs, alive = () => workers) => {
      const deadline = Date.now() + timeoutMs;
      let lastError: unknown;
      while (Date.now() < deadline) {
        const running = alive();
        if (running.length > 0 && running.every((w) => w.exited)) {
          throw new Error(`every worker exited while job ${jobId} was not done:\n${running.map((w) => w.output().slice(-3000)).join('\n---\n')}`);
        }
        try {
          const job = await queue.getJob(jobId);
          const state = job ? await job.getState() : 'missing';
          if (state === 'completed') return { state, result: job!.returnvalue };
          if (state === 'failed') return { state, reason: job!.failedReason };
          if (state === 'missing') throw new Error(`job ${jobId} is not in the queue`);
        } catch (err) {
          lastError = err; // Redis restarting: ask again
        }
        await sleep(250);
      }
      throw new Error(`job ${jobId} did not finish within ${timeoutMs} ms (last error: ${String(lastError)}); ` +
        `loaded ${(await unifiedCounts(hub.pool)).records} records; worker output:\n${workers.map((w) => w.output().slice(-3000)).join('\n---\n')}`);
    },
    loaded: async () => (await unifiedCounts(hub.pool)).records,
    close: async () => {
      await Promise.all(workers.map((w) => (w.exited ? undefined : w.stop(10_000))));
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await hub.close();
      await ch.close();
      await src.close();
    },
  };
}
