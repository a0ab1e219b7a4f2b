/**
 * `junction sync <source>.<stream> [--full | --backfill --from X [--to Y]] [--inline]
 * [--no-wait] [--timeout S] [--json]`: by default enqueues a sync job for the workers and
 * waits for it with live progress; `--no-wait` prints the job id and returns; `--inline`
 * runs the same batch runner in this process (no queue, no stream lock, no events).
 * A failed sync exits 1 with its error code.
 */
import type { Command } from 'commander';
import { QueueEvents } from 'bullmq';
import { stackSettings } from '../../config/env.js';
import { JunctionError } from '../../config/errors.js';
import type { ResolvedConfig } from '../../config/load.js';
import { createLogger } from '../../config/log.js';
import { syncJobOptions } from '../../pipelines/job-options.js';
import { QUEUE_PREFIX, SYNC_QUEUE, enqueueSync, redisConnection, syncQueue, type SyncJobData } from '../../pipelines/queue.js';
import { checkSyncRequest, runSync, type SyncMode, type SyncSummary } from '../../pipelines/run-sync.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { MAX_BATCH_SIZE, positiveInt, positiveIntUpTo } from '../options.js';
import { loadCliConfig, parseStreamRef } from '../sources.js';
import { progressView, summaryLine } from '../sync-progress.js';
import { waitForJob } from '../sync-wait.js';
import { connectRedis } from '../cli-redis.js';
import { printJson } from '../json-output.js';
import { hubPool } from '../../sql/hub-connection.js';

interface SyncCliOptions {
  full?: boolean;
  backfill?: boolean;
  from?: string;
  to?: string;
  inline?: boolean;
  wait: boolean;
  timeout?: number;
  batchSize?: number;
  config?: string;
  json?: boolean;
}

export function registerSync(program: Command): void {
  program
    .command('sync')
    .argument('<source.stream>', 'the stream to sync, e.g. shop_pg.accounts')
    .description('sync one source stream into the unified view and ClickHouse: queued for the workers (default) or in this process (--inline)')
    .option('--full', 'read the whole stream from the beginning instead of after the checkpoint')
    .option('--backfill', 're-read a range of the stream (--from, --to) without moving its checkpoint')
    .option('--from <cursor>', 'backfill start on the stream cursor, inclusive (e.g. 2025-01-01)')
    .option('--to <cursor>', 'backfill end on the stream cursor (default: the end of the stream)')
    .option('--inline', 'run in this process instead of on a worker')
    .option('--no-wait', 'enqueue, print the job id and return')
    .option('--timeout <seconds>', 'stop waiting after this long (JOB_WAIT_TIMEOUT); the job stays queued', positiveInt)
    .option('--batch-size <n>', `records per batch, at most ${MAX_BATCH_SIZE} (default: pipelines.batch_size)`, positiveIntUpTo(MAX_BATCH_SIZE))
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print the summary (or, with --no-wait, the job) as one JSON object; a failed job as {error}')
    .action(async (ref: string, opts: SyncCliOptions) => {
      const config = await loadCliConfig(opts.config);
      const { source, stream } = parseStreamRef(config, ref);
      if (opts.full && opts.backfill) throw new JunctionError('SYNC_BAD_RANGE', '--full and --backfill exclude each other');
      const mode: SyncMode = opts.backfill ? 'backfill' : opts.full ? 'full' : 'incremental';
      const request = { source, stream, mode, from: opts.from, to: opts.to };
      checkSyncRequest(config, request);
      const summary = opts.inline ? await syncHere(config, ref, request, opts) : await syncQueued(config, ref, request, opts);
      if (!summary) return;
      if (opts.json) printJson(summary);
      else console.log(summaryLine(ref, summary, 'jobId' in summary ? String(summary.jobId) : undefined));
    });
}

type Request = Pick<SyncJobData, 'source' | 'stream' | 'mode' | 'from' | 'to'>;

async function syncHere(config: ResolvedConfig, ref: string, request: Request, opts: SyncCliOptions): Promise<SyncSummary> {
  const settings = stackSettings();
  const pool = hubPool(settings.services.postgres.url, { max: 4 });
  const log = createLogger({ secrets: config, level: process.env.JUNCTION_LOG_LEVEL ?? 'warn' });
  const clickhouse = createClickhouseClient(settings, { log });
  const view = progressView(ref, !opts.json);
  try {
    return await runSync({ config, pool, ...request, batchSize: opts.batchSize, trigger: 'cli --inline', log, clickhouse, onBatch: (p) => view.update(p) });
  } finally {
    view.stop();
    await clickhouse.close();
    await pool.end();
  }
}

/** Fails fast with a clear line when Redis is not there (BullMQ would retry forever). */
async function checkRedis(url: string): Promise<void> {
  // Connecting is the check: connectRedis fails with STACK_NOT_RUNNING and the reason.
  (await connectRedis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null })).disconnect();
}

async function syncQueued(config: ResolvedConfig, ref: string, request: Request, opts: SyncCliOptions): Promise<(SyncSummary & { jobId: string }) | undefined> {
  const url = stackSettings().services.redis.url;
  await checkRedis(url);
  const connection = redisConnection(url);
  const eventsConnection = redisConnection(url);
  const queue = syncQueue(connection);
  // Listening before the job exists, so that no event of it can be missed.
  const events = opts.wait ? new QueueEvents(SYNC_QUEUE, { connection: eventsConnection, prefix: QUEUE_PREFIX }) : undefined;
  const view = progressView(ref, !opts.json);
  try {
    await events?.waitUntilReady();
    const data: SyncJobData = { ...request, trigger: 'cli', ...(opts.batchSize ? { batchSize: opts.batchSize } : {}) };
    const job = await enqueueSync(queue, data, syncJobOptions(config.pipelines));
    const jobId = String(job.id);
    if (!events) {
      if (opts.json) printJson({ jobId, ...request });
      else console.log(`job ${jobId} queued: ${ref} (${request.mode})`);
      return undefined;
    }
    if (!opts.json) view.note(`job ${jobId} queued: ${ref} (${request.mode})`);
    // A failed job or the deadline rejects with a coded error naming the job (details.jobId),
    // which bin/cli.ts prints as every failure: one line on stderr, {error} under --json.
    const result = await waitForJob(job, { queue, events, view, timeoutMs: opts.timeout === undefined ? undefined : opts.timeout * 1000 });
    return { ...result, jobId };
  } finally {
    view.stop();
    await events?.close();
    await queue.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
}
