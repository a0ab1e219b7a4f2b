/**
 * The demo's first sync of every stream that has a mapping: all enqueued at once on the hub's
 * workers (one job per stream, as always), each followed through the queue's events with a
 * progress line every few seconds and a summary line at the end.
 */
import { QueueEvents } from 'bullmq';
import type { ResolvedConfig } from '../config/load.js';
import { syncJobOptions } from '../pipelines/job-options.js';
import { QUEUE_PREFIX, SYNC_QUEUE, enqueueSync, redisConnection, syncQueue } from '../pipelines/queue.js';
import type { SyncJobProgress } from '../pipelines/queue.js';
import type { SyncSummary } from '../pipelines/run-sync.js';
import { summaryLine, type ProgressView } from './sync-progress.js';
import { waitForJob } from './sync-wait.js';

const PROGRESS_EVERY_MS = 3000;

/** Progress as plain lines (several streams at once would fight over one terminal bar). */
function lineView(ref: string, log: (line: string) => void): ProgressView {
  let last = 0;
  return {
    update(p: SyncJobProgress) {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      log(`${ref}: ${p.read} read, ${p.loaded} loaded, ${p.failed} dead-lettered…`);
    },
    note: (line) => log(`${ref}: ${line}`),
    stop: () => undefined,
  };
}

/** The streams the demo syncs: every mapping whose source is enabled. */
export function demoStreams(config: ResolvedConfig): { source: string; stream: string }[] {
  return config.mappings
    .map((m) => ({ source: m.mapping.source, stream: m.mapping.stream }))
    .filter(({ source }) => (config.sources[source] as { enabled?: boolean } | undefined)?.enabled !== false);
}

/** Enqueues a sync of each stream and waits for all; a failed stream is reported, not fatal. */
export async function syncDemoStreams(config: ResolvedConfig, redisUrl: string, log: (line: string) => void): Promise<{ ok: SyncSummary[]; failed: string[] }> {
  const connection = redisConnection(redisUrl);
  const eventsConnection = redisConnection(redisUrl);
  const queue = syncQueue(connection);
  const events = new QueueEvents(SYNC_QUEUE, { connection: eventsConnection, prefix: QUEUE_PREFIX });
  const ok: SyncSummary[] = [];
  const failed: string[] = [];
  try {
    await events.waitUntilReady();
    await Promise.all(
      demoStreams(config).map(async ({ source, stream }) => {
        const ref = `${source}.${stream}`;
        const job = await enqueueSync(queue, { source, stream, mode: 'incremental', trigger: 'demo' }, syncJobOptions(config.pipelines));
        try {
          const summary = await waitForJob(job, { queue, events, view: lineView(ref, log), timeoutMs: 15 * 60_000 });
          ok.push(summary);
          log(summaryLine(ref, summary, String(job.id)));
        } catch (err) {
          failed.push(ref);
          log(`${ref}: failed: ${(err as Error).message}`);
        }
      }),
    );
  } finally {
    await events.close();
    await queue.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
  return { ok, failed };
}
