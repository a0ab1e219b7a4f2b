/**
 * One sync of a source stream, batch by batch: extract → map → resolve → load. The BullMQ
 * worker and `junction sync --inline` both run this.
 *
 * Each batch commits in one PostgreSQL transaction with its dead letters, its checkpoint,
 * the run's counters and its ClickHouse outbox entry; the ClickHouse rows are read and sent
 * after the COMMIT, while the next batch loads (sinks/clickhouse-outbox.ts), and the run
 * ends once they are all in. A crash anywhere re-reads at most the uncommitted batch:
 * PostgreSQL's upserts skip what they already hold, entries left in the outbox are sent when
 * the stream's next run (or this one's retry) starts, and ClickHouse's ReplacingMergeTree
 * views show a re-sent row once.
 * `customer.updated` events, metrics and job progress follow each COMMIT (never inside it).
 * The next page is read from the source and mapped while the current batch loads
 * (pipelines/prefetch.ts).
 *
 * Checkpoints: `incremental` reads after the stream's checkpoint and moves it. `full` and
 * `backfill` runs keep their own position (`<stream>#full#<run id>`, `<stream>#backfill#<run
 * id>` rows of hub.checkpoint) so a retried job resumes where its last batch committed, and a
 * second backfill of other dates cannot move the first one's position; a full run moves the
 * stream's checkpoint to where it ended, a backfill never touches it. Positions of runs that
 * never finished are deleted after {@link STALE_POSITION_DAYS} days.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { JunctionError, isJunctionError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';
import { streamBatchSizeOf } from '../connectors/fields.js';
import { createConnector } from '../connectors/index.js';
import type { ConnectorContext } from '../connectors/spec.js';
import type { Batch, Checkpoint } from '../connectors/types.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { classifyError, isTransient } from './classify-error.js';
import { writeDeadLetters } from './dead-letter.js';
import { applyBatch, type BatchResult } from './load/apply-batch.js';
import { applyIsolating } from './load/isolate.js';
import { CURSOR_FORMS, cursorKind, pastEnd, type CursorKind } from '../connectors/cursor-value.js';
import { compileMapping } from './map/compile.js';
import { mapBatch } from './map/map-batch.js';
import { batchDuration, recordsFailed, recordsRead, recordsWritten } from './metrics.js';
import { prefetch } from './prefetch.js';
import { resolveRules } from './resolve/rules.js';
import { countBatch, resumeRun, runHeartbeat, setRunStatus, startRun, type RunRow, type RunStatus } from './run-record.js';
import { batchSelection } from './sinks/clickhouse.js';
import { OutboxSender, enqueueRows, sendPending } from './sinks/clickhouse-outbox.js';
import { insertSyncRunRow, sendUnreportedRuns } from './sinks/sync-runs.js';
import { lastReads } from './last-read.js';
import { inTransaction } from './transaction.js';

export type SyncMode = 'incremental' | 'full' | 'backfill';

export interface SyncProgress {
  batches: number;
  read: number;
  loaded: number;
  unchanged: number;
  failed: number;
  customersCreated: number;
  merged: number;
}

/** What `onBatch` gets: the totals so far, and the records the run will have read when it ends. */
export interface SyncProgressUpdate extends SyncProgress {
  /**
   * `read` at the start (a resumed run's earlier batches) plus what the source counted after
   * the start then; never below `read`. Absent until the count answers, and for sources
   * that cannot count (REST, SOAP) or a backfill with an end.
   */
  total?: number;
}

export interface SyncSummary extends SyncProgress {
  runId: number;
  source: string;
  stream: string;
  mode: SyncMode;
  checkpoint: Checkpoint | null;
  durationMs: number;
}

/** A batch as committed: what `customer.updated` events are made of (pipelines/events.ts). */
export interface CommittedBatch {
  runId: number;
  source: string;
  stream: string;
  result: Pick<BatchResult, 'customerIds' | 'absorbed'>;
}

export interface RunSyncOptions {
  config: ResolvedConfig;
  pool: pg.Pool;
  source: string;
  stream: string;
  /** @defaultValue 'incremental' */
  mode?: SyncMode;
  /** Backfill start on the stream's cursor (inclusive); required for `backfill`. */
  from?: string;
  /** Backfill end: reading stops after the first batch whose last cursor value passes it. */
  to?: string;
  /** Records per batch. @defaultValue config.pipelines.batch_size */
  batchSize?: number;
  /** Who started it, stored on the run (`cli`, `schedule:<name>`, `ops`). @defaultValue 'cli' */
  trigger?: string;
  /** Stops between batches: the batch being loaded commits, then the sync ends with CONN_ABORTED. */
  signal?: AbortSignal;
  log: Logger;
  /** The analytics feed; without one, ClickHouse is skipped (the CLI's `--inline` may have none). */
  clickhouse?: ClickHouseClient;
  /** What the source's connector gets besides the logger (a shared rate-limit store). */
  connector?: Omit<ConnectorContext, 'log'>;
  /** Continues this run (a retried job) from its own checkpoint instead of starting a new one. */
  resumeRunId?: number;
  /** Counters a resumed run had reached that hub.sync_run does not keep (batches, unchanged…). */
  resumeProgress?: Partial<SyncProgress>;
  /** The run's id, before any batch (a worker stores it on the job so a retry resumes the run). */
  onRunStarted?: (runId: number) => Promise<void> | void;
  /** In each batch's transaction and the run's last one, just before COMMIT: throw to roll it back (lost lock). */
  beforeCommit?: (tx: pg.PoolClient) => Promise<void>;
  /**
   * In the transaction recording a failed run's status, just before COMMIT, and in the one
   * reading the version of each run row sent to ClickHouse: throw to leave the status alone
   * and send nothing (another job holds the stream now, and the run's state is its to write).
   */
  beforeStatusCommit?: (tx: pg.PoolClient) => Promise<void>;
  /** After each COMMIT (events). */
  onCommitted?: (batch: CommittedBatch) => Promise<void>;
  /** After each COMMIT, with the totals so far (progress bars, job progress). */
  onBatch?: (progress: SyncProgressUpdate) => Promise<void> | void;
  /**
   * The run's status when the sync fails with `err`, and the error to record when the caller
   * decided on another than `err`'s own (a job giving up on its source: SYNC_SOURCE_DOWN).
   * @defaultValue cancelled for CONN_ABORTED, else failed; `err`'s code and message
   */
  failureStatus?: (err: unknown) => RunFailure | Promise<RunFailure>;
  /** Batches between two run rows sent to ClickHouse (besides start and end). @defaultValue 10 */
  runRowEvery?: number;
}

/** How a run that failed is recorded (see SyncOptions.failureStatus). */
export interface RunFailure {
  status: RunStatus;
  error?: { code: string; message: string };
}

/** The hub.checkpoint row a run reads and writes its position in. */
export function positionStream(stream: string, mode: SyncMode, runId: number): string {
  return mode === 'incremental' ? stream : `${stream}#${mode}#${runId}`;
}

/** Days after which the position of a full or backfill run that never finished is deleted. */
export const STALE_POSITION_DAYS = 7;

function aborted(source: string, signal: AbortSignal): JunctionError {
  return new JunctionError('CONN_ABORTED', `sync of ${source} cancelled`, { cause: signal.reason, where: { source } });
}

/** What a sync asks for, as a queued job carries it. */
export interface SyncRequest {
  source: string;
  stream: string;
  mode?: SyncMode;
  from?: string;
  to?: string;
}

/** How the caller's user gave `from` and `to` (CLI options, or the ops API's body fields). */
export interface RangeNames {
  from: string;
  to: string;
}

const CLI_RANGE: RangeNames = { from: '--from', to: '--to' };

/**
 * Throws (not retryable) when the source or stream is not declared, the source is disabled,
 * or the backfill range is wrong: what the CLI refuses before queueing, and a worker before
 * running a job that was queued anyway (the ops API, an older config). A range error names
 * the option as `names` says, and which one it is in `details.field` (`from` or `to`).
 */
export function checkSyncRequest(config: ResolvedConfig, o: SyncRequest, names: RangeNames = CLI_RANGE): void {
  const { source, stream } = o;
  const sourceConfig = Object.hasOwn(config.sources, source) ? config.sources[source] : undefined;
  if (!sourceConfig) throw new JunctionError('CFG_UNKNOWN_REF', `source ${source} is not declared in ${config.file}`, { where: { source } });
  if (!Object.hasOwn(sourceConfig.streams, stream)) {
    throw new JunctionError('CFG_UNKNOWN_REF', `source ${source} has no stream ${stream}; declared: ${Object.keys(sourceConfig.streams).join(', ')}`, { where: { source } });
  }
  // The same refusal as the connector's (connectors/index.ts), but before a job is queued:
  // a queued job of a disabled source could only fail on a worker.
  if (sourceConfig.enabled === false) throw new JunctionError('CONN_SOURCE_DISABLED', `source ${source} is disabled in config`, { where: { source } });
  checkRange(source, stream, o, names);
}

/** The backfill range: only for a backfill, with a start, values connectors can compare, in order. */
function checkRange(source: string, stream: string, o: SyncRequest, names: RangeNames): void {
  const bad = (message: string, field: 'from' | 'to') => new JunctionError('SYNC_BAD_RANGE', message, { where: { source }, details: { field } });
  if (o.mode === 'backfill' && !o.from) throw new JunctionError('SYNC_BAD_RANGE', `a backfill of ${source}.${stream} needs a start (from)`, { where: { source } });
  if (o.mode !== 'backfill' && (o.from !== undefined || o.to !== undefined)) {
    throw new JunctionError('SYNC_BAD_RANGE', `from/to only apply to a backfill (mode is ${o.mode ?? 'incremental'})`, { where: { source } });
  }
  const kinds: Partial<Record<'from' | 'to', CursorKind>> = {};
  for (const option of ['from', 'to'] as const) {
    const value = o[option];
    if (value === undefined) continue;
    const kind = cursorKind(value);
    if (!kind) throw bad(`backfill of ${source}.${stream}: ${names[option]} ${JSON.stringify(value)} is not a cursor value: expected ${CURSOR_FORMS}`, option);
    kinds[option] = kind;
  }
  if (o.from === undefined || o.to === undefined) return;
  if (kinds.from !== kinds.to) {
    throw bad(`backfill of ${source}.${stream}: ${names.from} ${o.from} is a ${kinds.from} but ${names.to} ${o.to} is a ${kinds.to}`, 'to');
  }
  if (pastEnd({ cursor: o.from, key: null }, o.to)) {
    throw bad(`backfill of ${source}.${stream}: ${names.from} ${o.from} is after ${names.to} ${o.to}`, 'from');
  }
}

const emptyProgress = (): SyncProgress => ({ batches: 0, read: 0, loaded: 0, unchanged: 0, failed: 0, customersCreated: 0, merged: 0 });

/** Runs one sync to the end of the stream (or of the backfill range, or until aborted). */
export async function runSync(o: RunSyncOptions): Promise<SyncSummary> {
  const { config, pool, source, stream, log } = o;
  const mode = o.mode ?? 'incremental';
  const labels = { source, stream };
  const started = performance.now();
  checkSyncRequest(config, o);
  const loadedMapping = config.mappings.find((m) => m.mapping.source === source && m.mapping.stream === stream);
  if (!loadedMapping) {
    throw new JunctionError('SYNC_NO_MAPPING', `no mapping in ${config.file} reads ${source}.${stream}; add one under mappings:`, { where: { source } });
  }
  const compiled = compileMapping(loadedMapping, config);
  const rules = resolveRules(config);
  const resumed = o.resumeRunId === undefined ? null : await resumeRun(pool, o.resumeRunId);
  const run: RunRow = resumed ?? (await startRun(pool, source, stream, mode, o.trigger ?? 'cli'));
  const runId = run.id;
  await o.onRunStarted?.(runId);

  const progress: SyncProgress = { ...emptyProgress(), ...(resumed ? o.resumeProgress : {}) };
  if (resumed) Object.assign(progress, { read: run.read, loaded: run.written, failed: run.failed });
  const position = positionStream(stream, mode, runId);
  const summary = (checkpoint: Checkpoint | null): SyncSummary => ({ runId, source, stream, mode, checkpoint, durationMs: Math.round(performance.now() - started), ...progress });
  if (run.status === 'succeeded') return summary(await readCheckpoint(pool, source, stream));
  if (!resumed && mode !== 'incremental') {
    await pool.query(
      `DELETE FROM hub.checkpoint WHERE source = $1 AND (stream = $2 OR (starts_with(stream, $3) AND updated_at < now() - make_interval(days => $4)))`,
      [source, position, `${stream}#`, STALE_POSITION_DAYS],
    );
  }
  const stored = mode === 'incremental' || resumed ? await readCheckpoint(pool, source, position) : null;
  const start: Checkpoint | null = mode === 'backfill' ? (stored ?? { cursor: o.from!, key: null }) : stored;
  let checkpoint = start;

  const sendRunRow = async (status: string, errorCode: string | null = null) => {
    if (!o.clickhouse) return;
    const row = { runId, source, stream, mode, status, startedAt: run.startedAt, finishedAt: status === 'running' ? null : new Date(), errorCode };
    const send = (hub: pg.Pool | pg.PoolClient) =>
      insertSyncRunRow(o.clickhouse!, hub, { ...row, recordsRead: progress.read, recordsWritten: progress.loaded, recordsFailed: progress.failed });
    // The row's version is PostgreSQL's clock, read here under the caller's fence when it has
    // one: a row of an attempt another job has since replaced is refused, or older than every
    // row of that job (its fence waits for this transaction), however long this one stalls.
    // The run row is analytics about the sync, not its data: a failed send is logged and the
    // next one (a few batches on, or the end) carries the state; a lost final row is sent by
    // the stream's next run (sendUnreportedRuns) or `junction analytics repair`. hub.sync_run
    // is authoritative.
    const guard = o.beforeStatusCommit;
    await (guard ? inTransaction(pool, async (tx) => (await guard(tx), send(tx))) : send(pool)).catch((err: unknown) => {
      if (isJunctionError(err) && err.code === 'SYNC_LOCK_LOST') log.info({ runId, source, stream }, 'sync run row not sent: another job holds the stream now');
      else log.warn({ err, runId, source, stream }, 'sync run row not sent to ClickHouse');
    });
  };

  const loadBatch = (batch: Batch, page: Awaited<ReturnType<typeof mapBatch>>) =>
    inTransaction(pool, async (tx) => {
      const mapped = lastReads(batch.records, page); // a key read twice: its last read decides
      // The batch's synced_at is PostgreSQL's clock, as its dead letters' created_at (both the
      // transaction's start): a replay compares the two, which another host's clock would skew.
      const syncedAt = (await tx.query<{ at: Date }>('SELECT now() AS at')).rows[0]!.at;
      const applied = await applyIsolating(tx, mapped.records, rules, (t, records, r) => applyBatch(t, records, r, { syncedAt }));
      const failures = [...mapped.failures, ...applied.failures];
      await writeDeadLetters(tx, runId, failures);
      await writeCheckpoint(tx, source, position, batch.checkpoint, batch.records.length);
      await countBatch(tx, runId, batch.records.length, applied.loaded, failures.length);
      const selection = batchSelection(applied);
      const outboxId = o.clickhouse ? await enqueueRows(tx, source, stream, runId, selection) : null;
      await o.beforeCommit?.(tx);
      return { applied, failed: failures.length, outboxId, selection };
    }).catch((err: unknown): never => {
      if (isJunctionError(err)) throw err;
      throw new JunctionError('SYNC_BATCH_FAILED', `batch ${progress.batches + 1} of ${source}.${stream} failed: ${(err as Error).message}`, {
        cause: err,
        where: { source },
        details: { sqlstate: (err as { code?: string }).code },
        retryable: isTransient(err),
      });
    });

  const connector = createConnector(source, config.sources[source] as { type: string }, { ...o.connector, log });
  const reading = new AbortController();
  // A backfill's end, read as the connector reads its start (a REST source's wall clock is in its own zone).
  const afterEnd = (cp: Checkpoint | null, to: string) =>
    cp?.cursor === null || cp?.cursor === undefined ? false : connector.cursorAfter ? connector.cursorAfter(stream, cp.cursor, to) : pastEnd(cp, to);
  const signal = o.signal ? AbortSignal.any([o.signal, reading.signal]) : reading.signal;
  const every = o.runRowEvery ?? 10;
  // Where the ClickHouse sends say how many times a DateTime could not hold (sinks/datetime.ts).
  const sinkLog = log.child({ source, stream, runId });
  const outbox = o.clickhouse ? new OutboxSender(pool, o.clickhouse, { log: sinkLog }) : null;
  // The progress bar's total, counted beside the first pages and never waited for: a count
  // that fails or is slow only leaves the bar without a percentage. A backfill with an end
  // stops mid-stream, so a count to the stream's end would promise too much.
  let total: number | undefined;
  if (connector.count && !(mode === 'backfill' && o.to !== undefined)) {
    const before = progress.read;
    void connector.count(stream, start, { signal }).then(
      (n) => (total = before + n),
      (err: unknown) => log.debug({ err, source, stream }, 'records not counted: progress without a total'),
    );
  }
  // Signs of life between batches (a slow page, a long count): a run that stops beating was left by a killed process.
  const stopBeating = runHeartbeat(pool, runId, (err) => log.warn({ err, runId }, 'run heartbeat not recorded'));
  try {
    // What an earlier run of the stream committed but did not get to send (a crash, or
    // ClickHouse away). If it still cannot be sent, the sync goes on and tries again at the end.
    let owed: unknown;
    if (o.clickhouse) {
      await sendPending(pool, o.clickhouse, source, stream, { log: sinkLog }).catch((err: unknown) => {
        owed = err;
        log.warn({ err, source, stream }, 'ClickHouse: rows an earlier run owes could not be sent; syncing PostgreSQL anyway');
      });
      // The ends earlier runs could not report (ClickHouse away at their final send, or their
      // process killed just after it ended them); not worth another wait when ClickHouse is away.
      if (owed === undefined) {
        await sendUnreportedRuns(o.clickhouse, pool, source, stream, runId).catch((err: unknown) =>
          log.warn({ err, source, stream }, "ClickHouse: earlier runs' final states not re-sent; the next run tries again"),
        );
      }
    }
    await sendRunRow('running');
    const batches = connector.read(stream, start, { batchSize: o.batchSize ?? streamBatchSizeOf(config, source, stream) ?? config.pipelines.batch_size, signal });
    // Reading and mapping run one batch ahead of loading: the source's latency and the
    // mapping's CPU overlap with the previous batch's transaction.
    async function* mappedBatches() {
      for await (const batch of batches) {
        const t0 = performance.now();
        const mapped = await mapBatch(compiled, source, stream, batch.records);
        yield { batch, mapped, mapMs: performance.now() - t0 };
      }
    }
    for await (const { batch, mapped, mapMs } of prefetch(mappedBatches(), { onStop: () => reading.abort(new DOMException('sync stopped', 'AbortError')) })) {
      if (o.signal?.aborted) throw aborted(source, o.signal);
      const t0 = performance.now();
      const { applied, failed, outboxId, selection } = await loadBatch(batch, mapped);
      if (outboxId !== null) await outbox!.send(outboxId, selection);
      batchDuration.observe(labels, (mapMs + performance.now() - t0) / 1000);
      recordsRead.inc(labels, batch.records.length);
      recordsWritten.inc(labels, applied.loaded);
      recordsFailed.inc(labels, failed);
      checkpoint = batch.checkpoint;
      addBatch(progress, batch.records.length, applied, failed);
      await o.onCommitted?.({ runId, source, stream, result: applied });
      await o.onBatch?.({ ...progress, ...(total === undefined ? {} : { total: Math.max(total, progress.read) }) });
      if (progress.batches % every === 0) await sendRunRow('running');
      if (mode === 'backfill' && o.to !== undefined && afterEnd(batch.checkpoint, o.to)) break;
    }
    await outbox?.flush();
    if (owed !== undefined) await sendPending(pool, o.clickhouse!, source, stream, { log: sinkLog });
    await finishRun(pool, runId, source, stream, mode, checkpoint, position, o.beforeCommit);
    await sendRunRow('succeeded');
  } catch (err) {
    await outbox?.settle();
    // Stopped by the caller for a reason of its own (lost lock, shutdown): record that reason.
    const reason: unknown = o.signal?.aborted && isJunctionError(o.signal.reason) ? o.signal.reason : err;
    const decided = await o.failureStatus?.(err);
    const { code, message } = decided?.error ?? classifyError(reason);
    const status = decided?.status ?? (code === 'CONN_ABORTED' ? 'cancelled' : 'failed');
    await inTransaction(pool, async (tx) => {
      await setRunStatus(tx, runId, status, { code, message });
      await o.beforeStatusCommit?.(tx);
    }).catch((e: unknown) => {
      if (isJunctionError(e) && e.code === 'SYNC_LOCK_LOST') log.info({ runId, source, stream }, 'run status left to the job that holds the stream now');
      else log.warn({ err: e, runId }, 'run status not recorded');
    });
    await sendRunRow(status, code);
    throw err;
  } finally {
    stopBeating();
    reading.abort(new DOMException('sync finished', 'AbortError'));
    await connector.close();
  }
  log.info({ runId, source, stream, mode, ...progress }, 'sync finished');
  return summary(checkpoint);
}

function addBatch(p: SyncProgress, read: number, applied: BatchResult, failed: number): void {
  p.batches += 1;
  p.read += read;
  p.loaded += applied.loaded;
  p.unchanged += applied.unchanged;
  p.failed += failed;
  p.customersCreated += applied.customersCreated;
  p.merged += applied.merged;
}

/**
 * Ends the run in one transaction: a full run read the whole stream, so the stream's
 * checkpoint moves to where it ended, and its position row goes (a backfill's too, leaving
 * the stream's checkpoint alone); the run is marked succeeded. A crash before it re-runs
 * the end (the position row is still there and reads nothing more); after it, a retry finds
 * the run succeeded and does nothing.
 */
async function finishRun(
  pool: pg.Pool, runId: number, source: string, stream: string, mode: SyncMode, checkpoint: Checkpoint | null, position: string,
  beforeCommit: RunSyncOptions['beforeCommit'],
): Promise<void> {
  await inTransaction(pool, async (tx) => {
    if (mode === 'full' && checkpoint !== null) await writeCheckpoint(tx, source, stream, checkpoint, 0);
    if (mode !== 'incremental') await tx.query('DELETE FROM hub.checkpoint WHERE source = $1 AND stream = $2', [source, position]);
    await setRunStatus(tx, runId, 'succeeded');
    await beforeCommit?.(tx);
  });
}
