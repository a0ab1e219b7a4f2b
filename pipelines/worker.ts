/**
 * A worker process's sync processor on BullMQ (`junction start --role worker`). It only
 * wires the stages together (pipelines/run-sync.ts) behind the gates that hold across every
 * worker process:
 *
 * 1. the stream lock — one job per (source, stream) at a time (stream-lock.ts), and its
 *    fence in PostgreSQL, so that a job that stalled past the lock commits nothing once
 *    another has the stream (stream-fence.ts);
 * 2. the source's slots — at most `max_jobs` jobs of a source at a time (source-slots.ts);
 * 3. the source's circuit — no jobs of a failing source until a probe succeeds (circuit.ts).
 *
 * A job that finds a gate closed is not failed: it goes back to the delayed set
 * (`moveToDelayed` + `DelayedError`, no attempt used) and is picked up again later, with the
 * reason in its job log. Errors are handled by type (classify-error.ts): transient ones are
 * thrown for BullMQ to retry with the job's exponential backoff (job-options.ts); permanent
 * ones fail the job at once (`UnrecoverableError`, the code at the head of the reason);
 * a source whose circuit is open pauses its job until the next probe instead of retrying,
 * for up to `pipelines.circuit.give_up_ms`: a probe failing after that fails the job
 * (SYNC_SOURCE_DOWN).
 *
 * Crash safety: BullMQ's job lock (`lockDuration`) and the stream lock expire within
 * seconds of a `kill -9`; the stalled check (`stalledInterval`) puts the job back in the
 * queue, and the next attempt resumes the same run from its last committed batch.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { stackSettings } from '../config/env.js';
import { JunctionError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';
import { admitToCircuit, readCircuit, recordCircuitFailure, recordCircuitSuccess, type CircuitSettings } from './circuit.js';
import { classifyError, failureText, type ErrorClass } from './classify-error.js';
import { customerEventPublisher } from './events.js';
import { QUEUE_PREFIX, SYNC_QUEUE, redisKeys, type SyncJobData, type SyncJobProgress, type SyncJobResult } from './queue.js';
import { failUnfinishedRun, type RunStatus } from './run-record.js';
import { createClickhouseClient } from './sinks/clickhouse-client.js';
import { sendRunStates } from './sinks/sync-runs.js';
import { checkSyncRequest, runSync, type RunFailure, type SyncProgress } from './run-sync.js';
import { acquireSourceSlot, type SourceSlot } from './source-slots.js';
import { assertFence, takeFence } from './stream-fence.js';
import { acquireStreamLock, streamLockHolder, type StreamLock } from './stream-lock.js';

/** The Redis keys the worker uses besides BullMQ's (tests pass their own prefix). */
export type PipelineKeys = Pick<typeof redisKeys, 'streamLock' | 'sourceSlots' | 'circuit' | 'rateLimit'>;

export interface WorkerOptions {
  config: ResolvedConfig;
  pool: pg.Pool;
  /** Redis connection for BullMQ (maxRetriesPerRequest null); also used for locks, circuits, events. */
  connection: Redis;
  log: Logger;
  /** Jobs run at once in this process. @defaultValue config.pipelines.worker_concurrency */
  concurrency?: number;
  /** The analytics feed. @defaultValue createClickhouseClient() for the stack's ClickHouse */
  clickhouse?: ClickHouseClient;
  /** BullMQ key prefix. @defaultValue QUEUE_PREFIX */
  prefix?: string;
  /** @defaultValue redisKeys */
  keys?: PipelineKeys;
  /** Channel of `customer.updated` events. @defaultValue CUSTOMER_UPDATED_CHANNEL */
  eventsChannel?: string;
  /**
   * BullMQ's job lock, and the stream lock's expiry: a killed worker's job is taken again
   * about this long (plus `stalledIntervalMs`) after it died. @defaultValue 5000
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died. @defaultValue 2000 */
  stalledIntervalMs?: number;
  /** Times a job may lose its worker before BullMQ fails it. @defaultValue 1000 */
  maxStalledCount?: number;
  /** Delay of a job whose stream or source is busy before it looks again. @defaultValue 1000 */
  busyRetryMs?: number;
  /**
   * How long taking a stream's fence waits for a batch its previous holder has open before
   * the job steps back as busy (that holder froze mid-COMMIT). @defaultValue 10000
   */
  fenceWaitMs?: number;
}

export interface RunningWorker {
  /** The BullMQ worker (events: completed, failed, progress…). */
  readonly worker: Worker<SyncJobData, SyncJobResult>;
  /**
   * Stops taking jobs and ends the running ones after their current batch commits; they
   * go back to the queue (no attempt used) for another worker to resume.
   */
  close(): Promise<void>;
}

/**
 * A job as the worker stores it: the run it started, so a retry resumes that run, and since
 * when (ms, Redis's clock) it has been waiting for its source's circuit (unset again by a
 * committed batch, or when it is admitted with the circuit closed).
 */
type RunningJobData = SyncJobData & { runId?: number; circuitWaitSince?: number };

/** What a failed attempt leads to. */
type Outcome =
  | { kind: 'requeue' }
  | { kind: 'pause'; until: number; c: ErrorClass }
  | { kind: 'retry'; c: ErrorClass; final: boolean }
  /** `verdict`: the failure is the worker's decision (`c` is not the error's own class): the run records `c`. */
  | { kind: 'fail'; c: ErrorClass; cancelled?: boolean; verdict?: boolean };

/** Default `max_jobs` of a source not listed under pipelines.sources (config/schema.ts). */
const DEFAULT_MAX_JOBS = 2;
const CLOSING = new JunctionError('CONN_ABORTED', 'the worker is shutting down');

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`startWorker: option ${name} must be a positive integer, got ${String(value)}`);
  return v;
}

const jitter = (ms: number) => Math.floor(Math.random() * ms);

/** Starts a worker on the sync queue; resolves once it is connected and taking jobs. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { config, pool, connection: redis, log } = options;
  const concurrency = positiveInt('concurrency', options.concurrency, config.pipelines.worker_concurrency);
  const lockMs = positiveInt('lockDurationMs', options.lockDurationMs, 5000);
  const stalledMs = positiveInt('stalledIntervalMs', options.stalledIntervalMs, 2000);
  const busyMs = positiveInt('busyRetryMs', options.busyRetryMs, 1000);
  const fenceWaitMs = positiveInt('fenceWaitMs', options.fenceWaitMs, 10_000);
  const keys = options.keys ?? redisKeys;
  const ownClickhouse = options.clickhouse ? undefined : createClickhouseClient(stackSettings(), { log });
  const clickhouse = options.clickhouse ?? ownClickhouse!;
  const publish = customerEventPublisher(redis, { channel: options.eventsChannel, log });
  const circuit: CircuitSettings = { failures: config.pipelines.circuit.failures, openMs: config.pipelines.circuit.open_ms };
  const giveUpMs = config.pipelines.circuit.give_up_ms;
  const running = new Map<string, AbortController>();
  let closing = false;
  const prefix = options.prefix ?? QUEUE_PREFIX;
  // For reading job logs only (the worker below takes the jobs).
  const queue = new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection: redis, prefix });

  /**
   * Back to the delayed set until `at`, with why in the job's log. A job polling a busy
   * stream every second logs its reason once, not once a poll (jobs enqueued without
   * `keepLogs` would keep every line).
   */
  async function delay(job: Job<SyncJobData, SyncJobResult>, token: string, at: number, why: string): Promise<never> {
    const line = `waiting: ${why}`;
    const last = await queue.getJobLogs(String(job.id), -1, -1).catch(() => ({ logs: [] as string[] }));
    if (!last.logs[0]?.endsWith(line)) await job.log(`${new Date().toISOString()} ${line}`).catch(() => undefined);
    await job.moveToDelayed(at, token);
    throw new DelayedError(why);
  }

  /** Milliseconds on Redis's clock: the give-up wait is started and judged by different workers, whose own clocks may disagree. */
  async function sharedNow(): Promise<number> {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Back to the delayed set while the source's circuit is open; the first such wait starts the job's give-up clock. */
  async function waitForCircuit(job: Job<SyncJobData, SyncJobResult>, token: string, at: number, why: string): Promise<never> {
    const data = job.data as RunningJobData;
    if (data.circuitWaitSince === undefined) await job.updateData({ ...data, circuitWaitSince: await sharedNow() } as RunningJobData);
    return delay(job, token, at, why);
  }

  /** The source answered (a batch committed) or its circuit closed: a later outage gets the whole give_up_ms again. */
  async function endCircuitWait(job: Job<SyncJobData, SyncJobResult>): Promise<void> {
    const { circuitWaitSince, ...rest } = job.data as RunningJobData;
    if (circuitWaitSince !== undefined) await job.updateData(rest);
  }

  /** The source's outage outlasted `give_up_ms` for this job: fail it instead of pausing again. */
  async function gaveUp(job: Job<SyncJobData, SyncJobResult>, source: string, c: ErrorClass): Promise<ErrorClass | null> {
    const since = (job.data as RunningJobData).circuitWaitSince;
    if (since === undefined) return null;
    const waited = (await sharedNow()) - since;
    if (waited < giveUpMs) return null;
    const message = `${source} has not come back in ${Math.round(waited / 1000)} s (pipelines.circuit.give_up_ms); last error ${failureText(c)}`;
    return { code: 'SYNC_SOURCE_DOWN', message, retryable: false, sourceFault: true };
  }

  /** The run of a job refused before it could resume: failed in PostgreSQL, and in ClickHouse since runSync, which reports runs, never ran. */
  async function failRefusedRun(runId: number, c: ErrorClass): Promise<void> {
    const failed = await failUnfinishedRun(pool, runId, { code: c.code, message: c.message }).catch((err: unknown) => {
      log.warn({ err, runId }, 'run status not recorded');
      return false;
    });
    if (failed) await sendRunStates(clickhouse, pool, [runId]).catch((err: unknown) => log.warn({ err, runId }, 'sync run row not sent to ClickHouse'));
  }

  async function processJob(job: Job<SyncJobData, SyncJobResult>, token: string | undefined, cancel: AbortSignal | undefined): Promise<SyncJobResult> {
    if (!token) throw new UnrecoverableError('SYNC_INTERNAL: job without a lock token');
    const data = job.data as RunningJobData;
    const { source, stream } = data;
    try {
      checkSyncRequest(config, data);
    } catch (err) {
      const c = classifyError(err);
      // A job that already started a run (a retry after the source was disabled or removed
      // from config): its run ends here too, or it would show `running` for ever.
      if (data.runId !== undefined) await failRefusedRun(data.runId, c);
      throw new UnrecoverableError(failureText(c));
    }
    if (closing) return delay(job, token, Date.now(), 'the worker is shutting down');
    const attempt = `${job.id}@${token}`;
    const lock = await acquireStreamLock(redis, keys.streamLock(source, stream), attempt, lockMs);
    if (!lock) {
      const holder = await streamLockHolder(redis, keys.streamLock(source, stream));
      return delay(job, token, Date.now() + busyMs + jitter(busyMs / 2), `${source}.${stream} is busy: job ${holder ?? '?'} is syncing it`);
    }
    let slot: SourceSlot | null = null;
    try {
      const cap = config.pipelines.sources[source]?.max_jobs ?? DEFAULT_MAX_JOBS;
      slot = await acquireSourceSlot(redis, keys.sourceSlots(source), attempt, cap, lockMs);
      if (!slot) return await delay(job, token, Date.now() + busyMs + jitter(busyMs / 2), `source ${source} already runs ${cap} job(s) (pipelines.sources.${source}.max_jobs)`);
      const gate = await admitToCircuit(redis, source, attempt, circuit, keys);
      if (!gate.admitted) {
        const c = await readCircuit(redis, source, keys);
        // Half-open: the probe's lease may end late; look again soon in case it closed.
        const at = gate.state === 'half_open' ? Math.min(gate.retryAt, Date.now() + 2 * busyMs) : gate.retryAt;
        return await waitForCircuit(job, token, at + jitter(busyMs), `circuit of ${source} is ${gate.state} after ${c.failures} failure(s): ${c.code ?? ''} ${c.reason ?? ''}; next probe at ${c.nextProbeAt ?? '?'}`);
      }
      // Closed again (another job's probe brought the source back): the outage this job waited through is over.
      if (!gate.probe) await endCircuitWait(job);
      return await runJob(job, token, lock, slot, cancel);
    } finally {
      await Promise.all([slot?.release(), lock.release()]).catch((err: unknown) => log.warn({ err, jobId: job.id }, 'lock or slot not released (it expires by itself)'));
    }
  }

  async function runJob(job: Job<SyncJobData, SyncJobResult>, token: string, lock: StreamLock, slot: SourceSlot, cancel: AbortSignal | undefined): Promise<SyncJobResult> {
    const data = job.data as RunningJobData;
    const { source, stream } = data;
    const jobLog = log.child({ jobId: job.id, source, stream });
    const controller = new AbortController();
    const jobId = String(job.id);
    running.set(jobId, controller);
    const signal = cancel ? AbortSignal.any([cancel, controller.signal]) : controller.signal;
    const heartbeat = setInterval(() => {
      void Promise.all([lock.refresh(), slot.renew()]).then(
        ([held, leased]) => {
          if (!held || !leased) controller.abort(new JunctionError('SYNC_LOCK_LOST', `${source}.${stream}: the stream lock or source slot expired (this worker stalled)`, { retryable: true }));
        },
        (err: unknown) => jobLog.warn({ err }, 'lock refresh failed; retrying at the next beat'),
      );
    }, Math.floor(lockMs / 3));
    let outcome: Outcome | undefined;
    let runId = data.runId ?? 0;
    let fence = 0;
    let answered = false;

    const decide = async (err: unknown): Promise<Outcome> => {
      if (outcome) return outcome;
      const why: unknown = controller.signal.aborted ? controller.signal.reason : err;
      if (why === CLOSING) return (outcome = { kind: 'requeue' });
      if (cancel?.aborted) return (outcome = { kind: 'fail', c: { code: 'CONN_ABORTED', message: 'cancelled', retryable: false, sourceFault: false }, cancelled: true });
      const c = classifyError(why);
      let open = false;
      if (c.sourceFault) {
        open = await recordCircuitFailure(redis, source, c, circuit, keys).catch(() => false);
        if (open) jobLog.warn({ code: c.code }, 'circuit opened');
      }
      if (!c.retryable) return (outcome = { kind: 'fail', c });
      const state = c.sourceFault ? await readCircuit(redis, source, keys).catch(() => undefined) : undefined;
      if (state?.state === 'open' && state.nextProbeAt) {
        const down = await gaveUp(job, source, c).catch(() => null);
        return (outcome = down ? { kind: 'fail', c: down, verdict: true } : { kind: 'pause', until: Date.parse(state.nextProbeAt), c });
      }
      return (outcome = { kind: 'retry', c, final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) });
    };
    const failureOf = (o: Outcome): RunFailure => {
      const status: RunStatus = o.kind === 'fail' ? (o.cancelled ? 'cancelled' : 'failed') : o.kind === 'retry' && o.final ? 'failed' : 'queued';
      return o.kind === 'fail' && o.verdict ? { status, error: { code: o.c.code, message: o.c.message } } : { status };
    };

    try {
      // Taken under the stream lock: from here on, a job that held the stream before can no
      // longer commit (it stalled past its lock; stream-fence.ts).
      const taken = await takeFence(pool, source, stream, fenceWaitMs);
      if (taken === null) {
        return await delay(job, token, Date.now() + busyMs + jitter(busyMs / 2), `${source}.${stream}: an earlier job that stalled still has a batch open (waited ${fenceWaitMs / 1000} s for it)`);
      }
      fence = taken;
      // Closing or cancelled while it waited: no run is started or resumed.
      signal.throwIfAborted();
      const base = job.progress && typeof job.progress === 'object' ? (job.progress as Partial<SyncJobProgress>) : undefined;
      const summary = await runSync({
        config,
        pool,
        source,
        stream,
        mode: data.mode,
        from: data.from,
        to: data.to,
        batchSize: data.batchSize,
        trigger: data.trigger,
        signal,
        log: jobLog,
        clickhouse,
        connector: { rateLimit: { redis, key: keys.rateLimit(source) } },
        resumeRunId: data.runId,
        resumeProgress: base?.runId === data.runId ? (base as Partial<SyncProgress>) : undefined,
        onRunStarted: async (id) => {
          runId = id;
          const withRun: RunningJobData = { ...data, runId: id };
          if (data.runId !== id) await job.updateData(withRun);
        },
        beforeCommit: async (tx) => {
          await lock.assertHeld();
          await assertFence(tx, source, stream, fence);
        },
        // A stalled attempt waking after another took the stream must not turn the run that
        // attempt may have finished back to queued or failed (the Redis lock is lost by then
        // either way; the fence says whether anyone else started).
        beforeStatusCommit: (tx) => assertFence(tx, source, stream, fence),
        onCommitted: async (batch) => {
          await publish(batch);
          if (!answered) {
            answered = true;
            await recordCircuitSuccess(redis, source, keys);
            await endCircuitWait(job);
          }
        },
        onBatch: async (p) => {
          await job.updateProgress({ ...p, runId } satisfies SyncJobProgress).catch((err: unknown) => jobLog.warn({ err }, 'progress not updated'));
        },
        failureStatus: async (err) => failureOf(await decide(err)),
      });
      await recordCircuitSuccess(redis, source, keys);
      return summary;
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      const o = await decide(err);
      jobLog.warn({ outcome: o.kind, code: 'c' in o ? o.c.code : undefined, attempt: job.attemptsMade + 1 }, 'sync attempt ended early');
      switch (o.kind) {
        case 'requeue':
          return await delay(job, token, Date.now(), 'the worker shut down mid-run; resuming on another worker');
        case 'pause':
          return await waitForCircuit(job, token, o.until + jitter(busyMs), `circuit of ${source} opened (${failureText(o.c)}); waiting for the next probe`);
        case 'fail':
          throw new UnrecoverableError(failureText(o.c));
        case 'retry':
          throw new Error(failureText(o.c), { cause: err });
      }
    } finally {
      clearInterval(heartbeat);
      running.delete(jobId);
    }
  }

  const worker = new Worker<SyncJobData, SyncJobResult>(SYNC_QUEUE, processJob, {
    connection: redis,
    prefix,
    concurrency,
    lockDuration: lockMs,
    stalledInterval: stalledMs,
    maxStalledCount: positiveInt('maxStalledCount', options.maxStalledCount, 1000),
    // Jobs carry their own retention (enqueueSync); these apply to jobs added without it.
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 5000 },
  });
  worker.on('error', (err) => log.error({ err }, 'sync worker error'));
  await worker.waitUntilReady();
  log.info({ concurrency, prefix }, 'sync worker started');

  return {
    worker,
    close: async () => {
      closing = true;
      const closed = worker.close();
      for (const controller of running.values()) controller.abort(CLOSING);
      await closed;
      await queue.close();
      await ownClickhouse?.close();
    },
  };
}
