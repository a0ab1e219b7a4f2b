/**
 * `junction sync` as a user runs it (a child process), against a Redis database of its own
 * (JUNCTION_REDIS_URL …/12), a scratch hub and ClickHouse database, and a worker started by
 * the test when one is wanted: enqueue and wait, --no-wait, the hint and --timeout when no
 * worker runs, a failed job's code and exit status, --inline, and argument errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { QUEUE_PREFIX, SYNC_QUEUE, type SyncJobData, type SyncJobResult } from '../../pipelines/queue.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { startWorker, type RunningWorker } from '../../pipelines/worker.js';
import { migrateClickhouse } from '../../sql/migrate.js';
import { runCli } from '../helpers/cli.js';
import { redisUrlWithDb } from '../helpers/queue-harness.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const ROWS = 600;
const CH_DB = 'junction_test_sync_cli';
const REF = `${SOURCE}.${STREAM}`;
const settings = stackSettings();
const redisUrl = redisUrlWithDb(12);

let hub: ScratchDb;
let src: ScratchSource;
let ch: ClickHouseClient;
let redis: Redis;
let queue: Queue<SyncJobData, SyncJobResult>;
let configFile: string;
let config: ResolvedConfig;
let env: NodeJS.ProcessEnv;
let worker: { running: RunningWorker; redis: Redis } | undefined;

async function startTestWorker(cfg: ResolvedConfig): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const running = await startWorker({ config: cfg, pool: hub.pool, connection, log: silentLogger, clickhouse: ch, eventsChannel: '{jt-sync-cli}:events' });
  worker = { running, redis: connection };
}

function sync(...args: string[]) {
  return runCli(['sync', REF, '-c', configFile, ...args], env);
}

beforeAll(async () => {
  hub = await scratchDatabase('sync_cli');
  src = await scratchSource('sync_cli', ROWS);
  await migrateClickhouse(settings.services.clickhouse.url, CH_DB, path.join(PROJECT_ROOT, 'sql', 'clickhouse'));
  ch = createClickhouseClient(settings, { database: CH_DB });
  configFile = writeSyncConfig(tempDir('sync-cli'), { sourceUrl: src.url, pipelines: '{ batch_size: 100, attempts: 2, backoff_ms: 100 }' });
  config = await loadConfig(configFile);
  env = { JUNCTION_REDIS_URL: redisUrl, JUNCTION_PG_URL: hub.url, JUNCTION_CLICKHOUSE_DATABASE: CH_DB, JUNCTION_LOG_LEVEL: 'error' };
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  queue = new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection: redis, prefix: QUEUE_PREFIX });
  await queue.obliterate({ force: true });
}, 180_000);

afterEach(async () => {
  if (worker) {
    await worker.running.close();
    worker.redis.disconnect();
    worker = undefined;
  }
  await queue.obliterate({ force: true });
});

afterAll(async () => {
  await queue?.close();
  await redis?.flushdb();
  redis?.disconnect();
  await ch?.command({ query: `DROP DATABASE IF EXISTS ${CH_DB}` });
  await ch?.close();
  await src?.close();
  await hub?.close();
});

describe('junction sync (queued)', () => {
  it('--no-wait --json prints the job id; the job waits in the queue with the retry options of the config', async () => {
    const out = await sync('--no-wait', '--json', '--full');
    expect(out.code, out.stderr).toBe(0);
    const printed = JSON.parse(out.stdout) as { jobId: string; source: string; mode: string };
    expect(printed).toMatchObject({ source: SOURCE, stream: STREAM, mode: 'full' });
    const job = await queue.getJob(printed.jobId);
    expect(job?.data).toMatchObject({ source: SOURCE, stream: STREAM, mode: 'full', trigger: 'cli' });
    expect(job?.opts).toMatchObject({ attempts: 2, backoff: { type: 'exponential', delay: 100 } });
    expect(await job?.getState()).toBe('waiting');
  });

  it('with no worker running, says so after a few seconds and gives up at --timeout with JOB_WAIT_TIMEOUT', async () => {
    const out = await sync('--timeout', '5');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/no worker has taken job \d+ yet: start one with junction start --role worker/);
    expect(out.stderr).toMatch(/\[JOB_WAIT_TIMEOUT\]/);
  }, 30_000);

  it('waits for the worker and prints the summary (exit 0)', async () => {
    await startTestWorker(config);
    const out = await sync('--json');
    expect(out.code, out.stderr).toBe(0);
    const summary = JSON.parse(out.stdout) as SyncJobResult & { jobId: string };
    expect(summary).toMatchObject({ source: SOURCE, stream: STREAM, mode: 'incremental', read: ROWS, loaded: ROWS, failed: 0 });
    expect((await queue.getJob(summary.jobId))?.returnvalue?.runId).toBe(summary.runId);
    const human = await sync();
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^${REF}: job \\d+, run \\d+ \\(incremental\\) read 0 records`));
  }, 120_000);

  it('exits 1 with the code of a job that failed', async () => {
    const url = new URL(src.url);
    url.username = 'nobody_junction_test';
    await startTestWorker(await loadConfig(writeSyncConfig(tempDir('sync-cli-bad'), { sourceUrl: url.toString(), pipelines: '{ attempts: 2 }' })));
    const out = await sync();
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^junction: job \d+: .* \[CONN_AUTH_FAILED\]$/m);
    const json = await sync('--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'CONN_AUTH_FAILED', message: expect.stringMatching(/^job \d+: /), details: { jobId: expect.any(String) } } });
    expect(json.stderr).toMatch(/^junction: job \d+: .* \[CONN_AUTH_FAILED\]$/m);
  }, 120_000);
});

describe('junction sync (in this process, and arguments)', () => {
  it('--inline --full runs here without a worker', async () => {
    const out = await sync('--inline', '--full', '--json');
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ mode: 'full', read: ROWS, failed: 0 });
    expect(await queue.count()).toBe(0);
  }, 120_000);

  it.each([
    [['--from', '2025-01-01'], /from\/to only apply to a backfill.*\[SYNC_BAD_RANGE\]/],
    [['--backfill'], /needs a start \(from\).*\[SYNC_BAD_RANGE\]/],
    [['--backfill', '--from', '2025-02-01', '--to', '2025-01-01'], /--from 2025-02-01 is after --to 2025-01-01.*\[SYNC_BAD_RANGE\]/],
    [['--full', '--backfill', '--from', '2025-01-01'], /exclude each other.*\[SYNC_BAD_RANGE\]/],
    [['--backfill', '--from', '2025-01-01', '--to', 'garbage'], /--to "garbage" is not a cursor value: expected an ISO-8601 date.*\[SYNC_BAD_RANGE\]/],
    [['--backfill', '--from', 'garbage'], /--from "garbage" is not a cursor value.*\[SYNC_BAD_RANGE\]/],
    [['--backfill', '--from', '2025-02-30'], /--from "2025-02-30" is not a cursor value.*\[SYNC_BAD_RANGE\]/],
    [['--backfill', '--from', '2025-01-01', '--to', '100'], /--from 2025-01-01 is a time but --to 100 is a number.*\[SYNC_BAD_RANGE\]/],
  ])('refuses %j before enqueueing anything', async (args, message) => {
    const out = await sync('--no-wait', ...args);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(message);
    expect(await queue.count()).toBe(0);
  });

  it('refuses a disabled source queued as --inline does (CONN_SOURCE_DISABLED), enqueueing nothing', async () => {
    const dir = tempDir('sync-cli-disabled');
    const file = writeSyncConfig(dir, { sourceUrl: src.url });
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    type: postgres\n', '    type: postgres\n    enabled: false\n'));
    for (const args of [['--no-wait'], [], ['--inline']]) {
      const out = await runCli(['sync', REF, '-c', file, ...args], env);
      expect(out.code, args.join(' ')).toBe(1);
      expect(out.stderr).toMatch(/source legacy_pg is disabled in config \[CONN_SOURCE_DISABLED\]/);
    }
    expect(await queue.count()).toBe(0);
  }, 60_000);
});
