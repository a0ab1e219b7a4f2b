/**
 * One sync of a source stream in this process: extract → map → resolve → load, batch by
 * batch. Each batch's data, dead letters and checkpoint commit in one PostgreSQL
 * transaction, so a crash at any point re-reads at most the uncommitted batch and the
 * idempotent load makes that harmless. (The BullMQ worker runs these same stages.)
 */
import type pg from 'pg';
import { JunctionError, isJunctionError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';
import { createConnector } from '../connectors/index.js';
import type { Checkpoint } from '../connectors/types.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { writeDeadLetters } from './dead-letter.js';
import { applyBatch } from './load/apply-batch.js';
import { compileMapping } from './map/compile.js';
import { mapBatch } from './map/map-batch.js';
import { resolveRules } from './resolve/rules.js';

export type SyncMode = 'incremental' | 'full';

export interface SyncProgress {
  batches: number;
  read: number;
  loaded: number;
  unchanged: number;
  failed: number;
  customersCreated: number;
  merged: number;
}

export interface SyncSummary extends SyncProgress {
  runId: number;
  source: string;
  stream: string;
  mode: SyncMode;
  checkpoint: Checkpoint | null;
  durationMs: number;
}

export interface SyncOptions {
  config: ResolvedConfig;
  pool: pg.Pool;
  source: string;
  stream: string;
  /** `full` reads from the beginning; `incremental` after the stored checkpoint. @defaultValue 'incremental' */
  mode?: SyncMode;
  /** Records per batch. @defaultValue 1000 */
  batchSize?: number;
  /** Who started it, stored on the run (`cli`, `schedule:<name>`, `ops`). @defaultValue 'cli' */
  trigger?: string;
  signal?: AbortSignal;
  log: Logger;
  onBatch?: (progress: SyncProgress) => void;
}

/** SQLSTATEs worth re-running the batch transaction for: serialization failure, deadlock. */
const TRANSIENT_SQLSTATE = new Set(['40001', '40P01']);
const BATCH_ATTEMPTS = 3;

async function inTransaction<T>(pool: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      const out = await work(tx);
      await tx.query('COMMIT');
      return out;
    } catch (err) {
      await tx.query('ROLLBACK').catch(() => undefined);
      const sqlstate = (err as { code?: string }).code;
      if (attempt < BATCH_ATTEMPTS && sqlstate && TRANSIENT_SQLSTATE.has(sqlstate)) continue;
      throw err;
    } finally {
      tx.release();
    }
  }
}

async function startRun(pool: pg.Pool, source: string, stream: string, mode: SyncMode, trigger: string): Promise<number> {
  const res = await pool.query<{ id: string }>(
    `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at) VALUES ($1, $2, $3, 'running', $4, now()) RETURNING id`,
    [source, stream, mode, trigger],
  );
  return Number(res.rows[0]!.id);
}

async function finishRun(pool: pg.Pool, runId: number, status: 'succeeded' | 'failed' | 'cancelled', error?: { code: string; message: string }): Promise<void> {
  await pool.query(`UPDATE hub.sync_run SET status = $2, finished_at = now(), error_code = $3, error_message = $4 WHERE id = $1`, [
    runId,
    status,
    error?.code ?? null,
    error?.message ?? null,
  ]);
}

/** Runs one sync to the end of the stream (or until aborted) and returns its counts. */
export async function syncInline(options: SyncOptions): Promise<SyncSummary> {
  const { config, pool, source, stream, log } = options;
  const mode = options.mode ?? 'incremental';
  const started = performance.now();
  const loadedMapping = config.mappings.find((m) => m.mapping.source === source && m.mapping.stream === stream);
  if (!loadedMapping) {
    throw new JunctionError('SYNC_NO_MAPPING', `no mapping in ${config.file} reads ${source}.${stream}; add one under mappings:`, { where: { source } });
  }
  const compiled = compileMapping(loadedMapping, config);
  const rules = resolveRules(config);
  const connector = createConnector(source, config.sources[source] as { type: string }, { log });
  const runId = await startRun(pool, source, stream, mode, options.trigger ?? 'cli');
  const progress: SyncProgress = { batches: 0, read: 0, loaded: 0, unchanged: 0, failed: 0, customersCreated: 0, merged: 0 };
  let checkpoint = mode === 'full' ? null : await readCheckpoint(pool, source, stream);
  try {
    const batches = connector.read(stream, checkpoint, { batchSize: options.batchSize ?? 1000, signal: options.signal });
    for await (const batch of batches) {
      const mapped = await mapBatch(compiled, source, stream, batch.records);
      const result = await inTransaction(pool, async (tx) => {
        const applied = await applyBatch(tx, mapped.records, rules);
        const failures = [...mapped.failures, ...applied.failures];
        await writeDeadLetters(tx, runId, failures);
        await writeCheckpoint(tx, source, stream, batch.checkpoint, batch.records.length);
        await tx.query(
          `UPDATE hub.sync_run SET records_read = records_read + $2, records_written = records_written + $3, records_failed = records_failed + $4 WHERE id = $1`,
          [runId, batch.records.length, applied.loaded, failures.length],
        );
        return { applied, failed: failures.length };
      }).catch((err: unknown) => {
        if (isJunctionError(err)) throw err;
        throw new JunctionError('SYNC_BATCH_FAILED', `batch ${progress.batches + 1} of ${source}.${stream} failed: ${(err as Error).message}`, {
          cause: err,
          where: { source },
          details: { sqlstate: (err as { code?: string }).code },
          retryable: TRANSIENT_SQLSTATE.has((err as { code?: string }).code ?? ''),
        });
      });
      checkpoint = batch.checkpoint;
      progress.batches += 1;
      progress.read += batch.records.length;
      progress.loaded += result.applied.loaded;
      progress.unchanged += result.applied.unchanged;
      progress.failed += result.failed;
      progress.customersCreated += result.applied.customersCreated;
      progress.merged += result.applied.merged;
      options.onBatch?.({ ...progress });
    }
    await finishRun(pool, runId, 'succeeded');
  } catch (err) {
    const code = isJunctionError(err) ? err.code : 'SYNC_BATCH_FAILED';
    await finishRun(pool, runId, code === 'CONN_ABORTED' ? 'cancelled' : 'failed', { code, message: (err as Error).message }).catch(() => undefined);
    throw err;
  } finally {
    await connector.close();
  }
  log.info({ runId, source, stream, ...progress }, 'sync finished');
  return { runId, source, stream, mode, checkpoint, durationMs: Math.round(performance.now() - started), ...progress };
}
