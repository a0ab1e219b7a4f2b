/**
 * Waiting for a queued sync job from the CLI: progress from the queue's events, a note when
 * no worker has taken the job after a few seconds (waiting forever in silence is the worst
 * answer to "is anything happening?"), the reason whenever the job is put back to wait (stream
 * busy, circuit open, a retry after a failed attempt), and an optional deadline.
 */
import type { Job, Queue, QueueEvents } from 'bullmq';
import { ERROR_CODES, JunctionError, type ErrorCode } from '../config/errors.js';
import { codeOfFailure } from '../pipelines/classify-error.js';
import type { SyncJobData, SyncJobProgress, SyncJobResult } from '../pipelines/queue.js';
import type { ProgressView } from './sync-progress.js';

export interface WaitOptions {
  queue: Queue<SyncJobData, SyncJobResult>;
  events: QueueEvents;
  view: ProgressView;
  /** Give up (JOB_WAIT_TIMEOUT) after this long; the job stays queued. @defaultValue never */
  timeoutMs?: number;
  /** When to say that no worker took the job. @defaultValue 3000 */
  hintAfterMs?: number;
}

/** The error of a failed job, with the code its worker put at the head of the reason. */
export function jobFailure(jobId: string, reason: string): JunctionError {
  const code = codeOfFailure(reason);
  const details = { jobId };
  if (code && Object.hasOwn(ERROR_CODES, code)) return new JunctionError(code as ErrorCode, `job ${jobId}: ${reason.slice(code.length + 2)}`, { details });
  return new JunctionError('JOB_RUN_FAILED', `job ${jobId} failed: ${reason}`, { details });
}

/** Resolves with the job's result; rejects with its failure (coded) or JOB_WAIT_TIMEOUT. */
export async function waitForJob(job: Job<SyncJobData, SyncJobResult>, o: WaitOptions): Promise<SyncJobResult> {
  const id = String(job.id);
  const said = new Set<string>();
  const say = (line: string) => {
    if (said.has(line)) return;
    said.add(line);
    o.view.note(line);
  };
  let attempts = 0;

  const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
    if (jobId === id && data && typeof data === 'object') o.view.update(data as SyncJobProgress);
  };
  // A job put back to wait: a failed attempt being retried, or a gate (lock, slots, circuit).
  const onDelayed = ({ jobId }: { jobId: string }) => {
    if (jobId !== id) return;
    void (async () => {
      const current = await o.queue.getJob(id);
      if (!current) return;
      if (current.attemptsMade > attempts) {
        attempts = current.attemptsMade;
        say(`attempt ${attempts} failed: ${current.failedReason}; retrying with backoff`);
        return;
      }
      const { logs } = await o.queue.getJobLogs(id, -1, -1);
      if (logs[0]) say(`job ${id} ${logs[0].replace(/^\S+ /, '')}`);
    })().catch(() => undefined);
  };
  o.events.on('progress', onProgress);
  o.events.on('delayed', onDelayed);

  const timers: NodeJS.Timeout[] = [];
  const hint = setTimeout(() => {
    void (async () => {
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'prioritized') return;
      // Not queue.getWorkersCount(): it counts the server's clients by queue name, which
      // includes workers of other databases on the same Redis.
      say(`no worker has taken job ${id} yet: start one with junction start --role worker (or all workers are busy); still waiting`);
    })().catch(() => undefined);
  }, o.hintAfterMs ?? 3000);
  timers.push(hint);

  try {
    const finished = job.waitUntilFinished(o.events).catch((err: unknown) => {
      throw jobFailure(id, (err as Error).message);
    });
    if (o.timeoutMs === undefined) return await finished;
    const deadline = new Promise<never>((_, reject) => {
      timers.push(
        setTimeout(
          () =>
            reject(
              new JunctionError('JOB_WAIT_TIMEOUT', `job ${id} did not finish within ${o.timeoutMs! / 1000} s; it stays in the queue (junction sync --no-wait returns at once)`, {
                details: { jobId: id },
              }),
            ),
          o.timeoutMs,
        ),
      );
    });
    return await Promise.race([finished, deadline]);
  } finally {
    for (const t of timers) clearTimeout(t);
    o.events.off('progress', onProgress);
    o.events.off('delayed', onDelayed);
  }
}
