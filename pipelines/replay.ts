/**
 * `junction dlq replay`: stored dead-letter payloads re-run through the *current* mapping,
 * resolved and loaded like a sync batch. Per (source, stream) a `hub.sync_run` (trigger
 * `replay`) is recorded; per chunk of letters one PostgreSQL transaction holds the load, the
 * ClickHouse outbox entry and the letters' new state, so a crash replays the chunk again
 * harmlessly; the chunk's ClickHouse rows are sent once it has committed (an entry a crash
 * left behind goes with the stream's next sync). As in a sync (run-sync.ts), a ClickHouse
 * outage never stops PostgreSQL: after the first failed send the replay stops sending (the
 * entries stay in the outbox, for the stream's next sync), replays every chunk and ends its
 * run succeeded, the failure reported in the stream's summary (`clickhouse`).
 *
 * A letter that loads is marked `replayed_at`/`replay_run_id`. One that fails again stays
 * unreplayed, its stage, code, message and mapping version updated in place (the payload is
 * never touched), so the next replay after another fix picks it up. A letter whose record
 * has since been loaded by a sync, or that a newer letter of the same key replaces, is
 * marked replayed without loading its older payload (counted as `superseded`); asked for by
 * id, such a letter has the newer one replayed in its place.
 *
 * Outdated is decided per chunk, under the records' stripe locks ({@link outdatedLetters}),
 * not only when the letters are selected: a sync may dead-letter a newer version of a record
 * while the replay runs (writing a letter takes none of the record's locks). Two rules, on
 * the order of source reads, never on when a replay ran:
 * - a newer letter of the same record (a larger id) exists: this one is superseded, and that
 *   one, still pending, is replayed in its place in the same run;
 * - the record's `synced_at` is later than the letter's `created_at`: a sync read the record
 *   again after the letter was written. A replayed record's `synced_at` is therefore the time
 *   its letter was written (PostgreSQL's clock, when its data was read from the source), not
 *   the replay's: a replay's own load never makes a newer letter look outdated.
 * A letter written without a key (MAP_MISSING_KEY) is checked on the key the current mapping
 * gives its record, a letter the mapping now keys differently on both keys.
 *
 * A stream's run is recorded once the replay has taken a letter: a replay that finds its
 * letters taken by another one running at the same time (or replayed since it looked)
 * records nothing. The run is a replay, not a sync of the source: status and freshness
 * figures leave trigger `replay` out of the last successful sync.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { isJunctionError, JunctionError, type ErrorCode } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';
import type { SourceRecord } from '../connectors/types.js';
import { payloadOf, storableText } from './dead-letter.js';
import { outdatedLetters } from './replay-outdated.js';
import { applyBatch } from './load/apply-batch.js';
import { addBatchResult, applyIsolating, emptyBatchResult } from './load/isolate.js';
import { compileMapping, type CompiledMapping } from './map/compile.js';
import { mapRecord, type MapOutcome } from './map/map-batch.js';
import { classifyError } from './classify-error.js';
import { customerEventPublisher } from './events.js';
import { linkableKeys, recordRef } from './resolve/keys.js';
import { lockStripes } from './resolve/region.js';
import { resolveRules, type ResolveRules } from './resolve/rules.js';
import { countBatch, REPLAY_TRIGGER, runHeartbeat, setRunStatus, startRun, type RunRow } from './run-record.js';
import { batchSelection, type RowSelection } from './sinks/clickhouse.js';
import { enqueueRows, OutboxSender } from './sinks/clickhouse-outbox.js';
import { insertSyncRunRow } from './sinks/sync-runs.js';
import type { MappedRecord, RecordFailure } from './types.js';
import { inTransaction, RETRY_TX_SQLSTATE } from './transaction.js';

export interface ReplayFilter {
  source?: string;
  stream?: string;
  /** Only letters created at or after this time. */
  since?: Date;
  /** Only these dead-letter ids. */
  ids?: number[];
}

/** What happened to the letters of one (source, stream). */
export interface ReplayStreamSummary {
  source: string;
  stream: string;
  /** The `hub.sync_run` of this replay (trigger `replay`). */
  runId: number;
  /**
   * Letters the filter selected (by id) whose record has a newer pending letter the filter
   * left out, or one a sync wrote while the replay ran: that one (`by`) was replayed in their
   * place, and theirs counted as superseded. Present when there are any.
   */
  replacedBy?: { id: number; by: number }[];
  selected: number;
  loaded: number;
  failedAgain: number;
  superseded: number;
  /**
   * Why nothing of this stream could be replayed (no mapping, a mapping that does not
   * compile), or why its replay stopped (the letters of the chunks before stay replayed).
   */
  error?: { code: string; message: string };
  /**
   * Why the replayed rows did not all reach ClickHouse (`SYNC_CLICKHOUSE_FAILED`, …): the
   * first failed send, after which the replay sent no more; the letters are replayed in
   * PostgreSQL all the same, the unsent entries stay in the outbox and the stream's next sync
   * sends them first. Present only then.
   */
  clickhouse?: { code: string; message: string };
}

export interface ReplaySummary {
  /** Letters taken (those of a newer letter replayed in place of a selected one included). */
  selected: number;
  /** Letters whose record now loaded (marked replayed). */
  loaded: number;
  /** Letters that failed again (kept, with the new error), or whose stream cannot be replayed. */
  failedAgain: number;
  /**
   * Letters marked replayed without loading their payload: a sync loaded their record after
   * they failed, or a newer letter of the same record was replayed instead.
   */
  superseded: number;
  streams: ReplayStreamSummary[];
}

export interface ReplayOptions {
  config: ResolvedConfig;
  /** At least two connections: a stream's run is recorded on one while a chunk's transaction holds its letters. */
  pool: pg.Pool;
  /** When given, the replayed records' rows are sent to ClickHouse after each chunk commits. */
  clickhouse?: ClickHouseClient;
  /** When given, `customer.updated` is published for the customers each chunk touched. */
  redis?: Redis;
  log: Logger;
  filter: ReplayFilter;
  /** Letters per transaction. @defaultValue config.pipelines.batch_size */
  chunkSize?: number;
}

interface Letter {
  id: number;
  sourceKey: string | null;
  payload: SourceRecord;
  /** When the letter was written (PostgreSQL's clock): when its payload was read from the source. */
  createdAt: Date;
}

interface ChunkOutcome {
  /** Letters this chunk took (locked and not replayed yet). */
  read: number;
  loaded: number;
  failedAgain: number;
  superseded: number;
  customerIds: number[];
  absorbed: { id: number; into: number }[];
  /** Its ClickHouse outbox entry, sent once the chunk has committed. */
  outbox: { id: number; selection: RowSelection } | null;
  /** Superseded letters (`id`) and the newer pending letter of their record (`by`) to replay in their place. */
  replacedBy: { id: number; by: number }[];
}

interface StreamContext {
  source: string;
  stream: string;
  /** The stream's run id, recorded on first call. */
  run: () => Promise<number>;
  compiled: CompiledMapping;
  rules: ResolveRules;
  options: ReplayOptions;
}

/** The letters of one stream to replay, as ids only (payloads are read chunk by chunk). */
interface StreamLetters {
  /** The newest pending letter of each record (and every letter without a key). */
  replay: number[];
  /** Selected letters of a record with a newer pending letter: outdated, superseded. */
  older: number[];
  replacedBy: { id: number; by: number }[];
}

/**
 * The letters to look at, per stream. Of several unreplayed letters of one record only the
 * newest is replayed, whether the filter selects it or not: the others carry an outdated
 * payload and are superseded. So a selected older letter brings its record's newest letter
 * in (`replacedBy`); the filter is applied to the pending letters after the newest of each
 * record is known, never before.
 */
async function selectLetters(pool: pg.Pool, filter: ReplayFilter): Promise<Map<string, StreamLetters>> {
  const res = await pool.query<{ id: string; source: string; stream: string; newest: boolean; in_place_of: string[] | null }>(
    `WITH pending AS (
       SELECT id, source, stream, created_at,
              CASE WHEN source_key IS NULL THEN id ELSE max(id) OVER (PARTITION BY source, stream, source_key) END AS newest_id
         FROM hub.dead_letter WHERE replayed_at IS NULL),
     picked AS (
       SELECT id, source, stream, newest_id FROM pending
        WHERE ($1::text IS NULL OR source = $1) AND ($2::text IS NULL OR stream = $2)
          AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::bigint[] IS NULL OR id = ANY($4)))
     SELECT id, source, stream, id = newest_id AS newest, NULL::bigint[] AS in_place_of FROM picked
     UNION ALL
     SELECT newest_id, source, stream, true, array_agg(id ORDER BY id) FROM picked p
      WHERE newest_id <> id AND NOT EXISTS (SELECT 1 FROM picked q WHERE q.id = p.newest_id)
      GROUP BY newest_id, source, stream
     ORDER BY source, stream, id`,
    [filter.source ?? null, filter.stream ?? null, filter.since ?? null, filter.ids?.length ? filter.ids : null],
  );
  const groups = new Map<string, StreamLetters>();
  for (const r of res.rows) {
    const key = `${r.source}\u001f${r.stream}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { replay: [], older: [], replacedBy: [] }));
    (r.newest ? g.replay : g.older).push(Number(r.id));
    for (const asked of r.in_place_of ?? []) g.replacedBy.push({ id: Number(asked), by: Number(r.id) });
  }
  return groups;
}

async function markReplayed(tx: pg.ClientBase, ids: readonly number[], runId: number): Promise<void> {
  if (ids.length === 0) return;
  await tx.query('UPDATE hub.dead_letter SET replayed_at = now(), replay_run_id = $2 WHERE id = ANY($1::bigint[])', [ids, runId]);
}

/** The letter keeps its payload; the error is the one of this attempt. */
async function markFailedAgain(tx: pg.ClientBase, failed: readonly { id: number; failure: RecordFailure }[]): Promise<void> {
  if (failed.length === 0) return;
  await tx.query(
    `UPDATE hub.dead_letter d SET stage = f.stage, error_code = f.code, error_message = f.message, mapping_version = f.version
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS f(id, stage, code, message, version)
      WHERE d.id = f.id`,
    [
      failed.map((f) => f.id),
      failed.map((f) => f.failure.stage),
      failed.map((f) => f.failure.code),
      failed.map((f) => storableText(f.failure.message)),
      failed.map((f) => f.failure.mappingVersion ?? null),
    ],
  );
}

/** One chunk in the caller's transaction: lock the letters, map, lock their records, load, mark. */
async function replayChunk(tx: pg.ClientBase, ctx: StreamContext, ids: readonly number[]): Promise<ChunkOutcome> {
  // SKIP LOCKED: a second replay running at the same time leaves these to this one.
  const res = await tx.query<{ id: string; source_key: string | null; payload: unknown; created_at: Date }>(
    `SELECT d.id, d.source_key, d.payload, d.created_at FROM hub.dead_letter d
      WHERE d.id = ANY($1::bigint[]) AND d.replayed_at IS NULL
      ORDER BY d.id
        FOR UPDATE OF d SKIP LOCKED`,
    [ids],
  );
  // Taken by a replay running at the same time, or replayed since they were selected.
  if (res.rows.length === 0) return { read: 0, loaded: 0, failedAgain: 0, superseded: 0, customerIds: [], absorbed: [], outbox: null, replacedBy: [] };
  const runId = await ctx.run();
  const letters: Letter[] = res.rows.map((r) => ({ id: Number(r.id), sourceKey: r.source_key, payload: payloadOf<SourceRecord>(r.payload), createdAt: r.created_at }));
  const outcomes: { letter: Letter; outcome: MapOutcome }[] = [];
  for (const letter of letters) {
    let outcome = mapRecord(ctx.compiled, letter.payload);
    if (outcome instanceof Promise) outcome = await outcome;
    outcomes.push({ letter, outcome });
  }
  // The stripes resolution will lock (records and their keys), all at once and in order, before
  // looking at what syncs stored: taking some now and more later could deadlock with a sync.
  const names: string[] = [];
  for (const { letter, outcome } of outcomes) {
    if (letter.sourceKey !== null) names.push(recordRef({ source: ctx.source, stream: ctx.stream, sourceKey: letter.sourceKey }));
    if (outcome.ok) names.push(recordRef(outcome.record), ...linkableKeys(outcome.record.identities, ctx.rules, outcome.record.fields));
  }
  await lockStripes(tx, names, ctx.rules.lockStripes);

  // The record keys each letter stands for; of the chunk's letters of one record, the newest.
  const keys = new Map<number, string[]>();
  const newestInChunk = new Map<string, number>();
  for (const { letter, outcome } of outcomes) {
    const mine = new Set<string>();
    if (letter.sourceKey !== null) mine.add(letter.sourceKey);
    if (outcome.ok) mine.add(outcome.record.sourceKey);
    keys.set(letter.id, [...mine]);
    for (const k of mine) newestInChunk.set(k, Math.max(newestInChunk.get(k) ?? 0, letter.id));
  }
  const outdated = await outdatedLetters(tx, ctx.source, ctx.stream, keys);
  for (const [id, ks] of keys) {
    const newer = Math.max(...ks.map((k) => newestInChunk.get(k)!), id);
    if (newer > id && !outdated.has(id)) outdated.set(id, null); // the newer one loads in this chunk
  }
  const superseded = letters.filter((l) => outdated.has(l.id)).map((l) => l.id);
  const replacedBy = [...outdated].filter(([, by]) => by !== null).map(([id, by]) => ({ id, by: by! }));
  const failed: { id: number; failure: RecordFailure }[] = [];
  const mapped: { id: number; record: MappedRecord; at: Date }[] = [];
  for (const { letter, outcome } of outcomes) {
    if (outdated.has(letter.id)) continue;
    if (outcome.ok) mapped.push({ id: letter.id, record: outcome.record, at: letter.createdAt });
    else failed.push({ id: letter.id, failure: outcome.failure });
  }

  // As a sync batch: a record PostgreSQL refuses fails again alone (ID_LOAD_REFUSED), the rest
  // load. Its synced_at is the time its letter was written (when the data was read from the
  // source), not now: a record a replay loaded must not make a letter written after its own
  // look outdated. So the records are loaded in groups of one letter time (the letters of one
  // sync batch share theirs), oldest first.
  const result = emptyBatchResult();
  const groups = new Map<number, { at: Date; items: typeof mapped }>();
  for (const m of mapped) {
    const g = groups.get(m.at.getTime());
    if (g) g.items.push(m);
    else groups.set(m.at.getTime(), { at: m.at, items: [m] });
  }
  const loaded: number[] = [];
  for (const [, { at, items }] of [...groups].sort(([a], [b]) => a - b)) {
    const part = await applyIsolating(tx, items.map((m) => m.record), ctx.rules, (t, records, rules) => applyBatch(t, records, rules, { syncedAt: at }));
    const loadFailures = new Map(part.failures.map((f) => [f.sourceKey, f]));
    for (const m of items) {
      const failure = loadFailures.get(m.record.sourceKey);
      if (failure) failed.push({ id: m.id, failure });
      else loaded.push(m.id);
    }
    addBatchResult(result, part);
  }
  result.customerIds = [...new Set(result.customerIds)].sort((a, b) => a - b);
  const selection = batchSelection(result);
  const outboxId = ctx.options.clickhouse ? await enqueueRows(tx, ctx.source, ctx.stream, runId, selection) : null;
  await markReplayed(tx, [...loaded, ...superseded], runId);
  await markFailedAgain(tx, failed);
  await countBatch(tx, runId, letters.length, loaded.length, failed.length);
  return {
    read: letters.length, loaded: loaded.length, failedAgain: failed.length, superseded: superseded.length,
    customerIds: result.customerIds, absorbed: result.absorbed, outbox: outboxId === null ? null : { id: outboxId, selection }, replacedBy,
  };
}

function compileFor(config: ResolvedConfig, source: string, stream: string): CompiledMapping | { code: ErrorCode; message: string } {
  const loaded = config.mappings.find((m) => m.mapping.source === source && m.mapping.stream === stream);
  if (!loaded) return { code: 'SYNC_NO_MAPPING', message: `no mapping in ${config.file} reads ${source}.${stream}; add one under mappings:` };
  try {
    return compileMapping(loaded, config);
  } catch (err) {
    if (isJunctionError(err)) return { code: err.code, message: err.message };
    throw err;
  }
}

/** The run's final state to ClickHouse `sync_runs` (analysts see replays as runs too). */
async function sendRun(options: ReplayOptions, run: RunRow, summary: ReplayStreamSummary): Promise<void> {
  if (!options.clickhouse) return;
  const row = {
    runId: run.id, source: summary.source, stream: summary.stream, mode: 'incremental', trigger: REPLAY_TRIGGER, status: summary.error ? 'failed' : 'succeeded',
    startedAt: run.startedAt, finishedAt: new Date(), recordsRead: summary.selected, recordsWritten: summary.loaded, recordsFailed: summary.failedAgain,
    errorCode: summary.error?.code ?? null,
  };
  // The replay is committed in PostgreSQL; a missing analytics row must not turn it into a
  // failure. The stream's next sync sends a lost one from hub.sync_run (sendUnreportedRuns).
  await insertSyncRunRow(options.clickhouse, options.pool, row).catch((err: unknown) => options.log.warn({ err, runId: run.id }, 'sync run not sent to ClickHouse'));
}

async function finish(options: ReplayOptions, run: RunRow, summary: ReplayStreamSummary): Promise<void> {
  await setRunStatus(options.pool, run.id, summary.error ? 'failed' : 'succeeded', summary.error);
  await sendRun(options, run, summary);
}

function replayError(err: unknown, source: string, stream: string, runId: number | undefined): JunctionError {
  if (isJunctionError(err)) return err;
  const sqlstate = (err as { code?: string }).code;
  return new JunctionError('SYNC_BATCH_FAILED', `replay of ${source}.${stream} failed: ${(err as Error).message}`, {
    cause: err,
    where: { source },
    details: { sqlstate, runId },
    retryable: RETRY_TX_SQLSTATE.has(sqlstate ?? ''),
  });
}

/** The stream's run is recorded on first use: only once the replay has taken a letter. */
function lazyRun(options: ReplayOptions, source: string, stream: string) {
  let started: Promise<RunRow> | undefined;
  let stopBeating: (() => void) | undefined;
  return {
    start: async (): Promise<RunRow> => {
      started ??= startRun(options.pool, source, stream, 'incremental', REPLAY_TRIGGER).then((run) => {
        stopBeating = runHeartbeat(options.pool, run.id, (err) => options.log.warn({ err, runId: run.id }, 'run heartbeat not recorded'));
        return run;
      });
      return started;
    },
    /** The run if one was recorded (a failed start is no run). */
    get: async (): Promise<RunRow | null> => (started ? started.catch(() => null) : null),
    stop: () => stopBeating?.(),
  };
}

/** One stream's letters; null when it took none (nothing recorded). */
async function replayStream(options: ReplayOptions, rules: ResolveRules, source: string, stream: string, ids: StreamLetters): Promise<ReplayStreamSummary | null> {
  const { pool, config, log } = options;
  const compiled = compileFor(config, source, stream);
  if (!('version' in compiled)) {
    const run = await startRun(pool, source, stream, 'incremental', REPLAY_TRIGGER);
    const selected = ids.replay.length + ids.older.length;
    const summary: ReplayStreamSummary = { source, stream, runId: run.id, selected, loaded: 0, failedAgain: selected, superseded: 0, error: compiled };
    await finish(options, run, summary);
    return summary;
  }
  const run = lazyRun(options, source, stream);
  const ctx: StreamContext = { source, stream, run: async () => (await run.start()).id, rules, compiled, options };
  const publish = options.redis ? customerEventPublisher(options.redis, { log }) : undefined;
  const chunkSize = options.chunkSize ?? config.pipelines.batch_size;
  const counts = { selected: 0, loaded: 0, failedAgain: 0, superseded: 0 };
  const replacedBy = [...ids.replacedBy];
  // As a sync's (run-sync.ts): the first failed send is kept and later entries stay in the
  // outbox, while every chunk is replayed.
  const outbox = options.clickhouse ? new OutboxSender(pool, options.clickhouse, { log: log.child({ source, stream }) }) : null;
  let clickhouse: { code: string; message: string } | undefined;
  // The letters to replay; a chunk adds the newer letters a sync wrote meanwhile in place of those it superseded.
  const queue = [...ids.replay];
  const queued = new Set(queue);
  try {
    for (let i = 0; i < queue.length; ) {
      const chunk = queue.slice(i, i + chunkSize);
      i += chunk.length;
      const outcome = await inTransaction(pool, (tx) => replayChunk(tx, ctx, chunk));
      counts.selected += outcome.read;
      counts.loaded += outcome.loaded;
      counts.failedAgain += outcome.failedAgain;
      counts.superseded += outcome.superseded;
      if (outcome.read === 0) continue;
      for (const r of outcome.replacedBy) {
        if (queued.has(r.by)) continue; // replayed by this run anyway
        replacedBy.push(r);
        queue.push(r.by);
        queued.add(r.by);
      }
      if (outcome.outbox) await outbox!.send(outcome.outbox.id, outcome.outbox.selection);
      await publish?.({ runId: (await run.start()).id, source, stream, result: outcome });
    }
    // Older letters of a record whose newest letter was just handled carry an outdated payload.
    const older = ids.older.length === 0 ? 0 : await inTransaction(pool, async (tx) => {
      const taken = await tx.query<{ id: string }>('SELECT id FROM hub.dead_letter WHERE id = ANY($1::bigint[]) AND replayed_at IS NULL FOR UPDATE SKIP LOCKED', [ids.older]);
      if (taken.rows.length === 0) return 0;
      const runId = await ctx.run();
      await markReplayed(tx, taken.rows.map((r) => Number(r.id)), runId);
      await countBatch(tx, runId, taken.rows.length, 0, 0);
      return taken.rows.length;
    });
    counts.selected += older;
    counts.superseded += older;
    // The replay is committed in PostgreSQL: ClickHouse being away is reported, not a failure.
    await outbox?.flush().catch((err: unknown) => {
      const { code, message } = classifyError(err);
      clickhouse = { code, message };
      log.warn({ err, source, stream }, 'ClickHouse: replayed rows not sent; the stream\'s next sync sends them');
    });
  } catch (err) {
    await outbox?.settle();
    // Recorded as this stream's failure (its run, or one started for it now); the letters its
    // committed chunks replayed stay replayed, and the other streams go on. Only a failure
    // nothing can be recorded of (PostgreSQL away) ends the whole replay.
    const recorded = (await run.get()) ?? (await startRun(pool, source, stream, 'incremental', REPLAY_TRIGGER).catch(() => null));
    const error = replayError(err, source, stream, recorded?.id);
    if (!recorded) throw error;
    const summary: ReplayStreamSummary = { source, stream, runId: recorded.id, ...counts, error: { code: error.code, message: error.message } };
    await finish(options, recorded, summary).catch(() => undefined);
    log.warn({ err: error, source, stream, runId: recorded.id }, 'dead-letter replay of a stream failed; the other streams go on');
    return summary;
  } finally {
    run.stop();
  }
  const recorded = await run.get();
  if (!recorded) return null;
  const summary: ReplayStreamSummary = { source, stream, runId: recorded.id, ...counts, ...(replacedBy.length ? { replacedBy } : {}), ...(clickhouse ? { clickhouse } : {}) };
  await finish(options, recorded, summary);
  log.info({ ...summary }, 'dead letters replayed');
  return summary;
}

/** Replays the letters `filter` selects that were not replayed yet, stream by stream. */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplaySummary> {
  const groups = await selectLetters(options.pool, options.filter);
  const rules = resolveRules(options.config);
  const total: ReplaySummary = { selected: 0, loaded: 0, failedAgain: 0, superseded: 0, streams: [] };
  for (const [key, ids] of groups) {
    const [source, stream] = key.split('\u001f') as [string, string];
    const s = await replayStream(options, rules, source, stream, ids);
    if (!s) continue;
    total.streams.push(s);
    total.selected += s.selected;
    total.loaded += s.loaded;
    total.failedAgain += s.failedAgain;
    total.superseded += s.superseded;
  }
  return total;
}
