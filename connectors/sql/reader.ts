/**
 * Keyset pagination on the compound cursor `(cursor, key)`: each page is "the next n rows
 * ordered by (cursor, key) strictly after the last one handed out", so rows sharing one
 * cursor value across a page boundary are neither lost nor read twice, and no OFFSET ever
 * rescans what was read. Each batch carries the checkpoint of its last row; a failure
 * yields nothing more, so the consumer keeps the checkpoint of the last complete batch.
 */
import pRetry from 'p-retry';
import { isJunctionError, JunctionError } from '../../config/errors.js';
import type { Logger } from '../../config/log.js';
import type { Batch, Checkpoint, ReadOptions, SourceRecord } from '../types.js';
import type { SqlDialect } from './dialects.js';
import type { ColumnInfo, SqlDriver, SqlResult } from './driver.js';
import { countQuery, nullKeysetQuery, pageQuery, type PageStart, type SqlStatement } from './query-builder.js';
import type { StreamPlan } from './stream-plan.js';
import { cursorTime, isIsoWithOffset } from '../cursor-value.js';

/**
 * Retries of one page (or of the column lookup its start is bound with) after a transient
 * failure (connection lost, deadlock) before the error reaches the consumer. Reads are
 * idempotent, so a retry is safe. Statement timeouts are not retried here: the same
 * statement would likely time out again, and the sync job retries from its checkpoint with
 * a longer back-off.
 */
const PAGE_RETRIES = 2;

/** What the reader needs from its connector. */
export interface ReaderContext {
  source: string;
  dialect: SqlDialect;
  driver: SqlDriver;
  log: Logger;
  /** The stream's columns (cached by the connector); only asked when the driver has `bindValue`. */
  columns(plan: StreamPlan): Promise<ColumnInfo[]>;
}

/** CONN_ABORTED, keeping the signal's reason as the cause. */
export function abortError(source: string, cause?: unknown): JunctionError {
  return new JunctionError('CONN_ABORTED', `reading ${source} was cancelled`, { cause, where: { source } });
}

export function throwIfAborted(signal: AbortSignal | undefined, source: string): void {
  if (signal?.aborted) throw abortError(source, signal.reason);
}

function cursorError(source: string, message: string, details?: Record<string, unknown>): JunctionError {
  return new JunctionError('CONN_CURSOR', message, { where: { source }, details });
}

/**
 * SQLSTATEs of a value the database cannot read as its column's type: an invalid or
 * out-of-range date-time, a number or text it cannot parse.
 */
const VALUE_MISFITS = new Set(['22007', '22008', '22P02', '22003']);

/**
 * CONN_CURSOR for a first page the database refused because the start the caller gave does
 * not fit the cursor or key column (`read --since 1700000000` on a timestamp column, a
 * backfill `--from 5`); undefined for any other failure, which stays as it was.
 */
function startMisfit(err: unknown, source: string, plan: StreamPlan, start: Checkpoint): JunctionError | undefined {
  const sqlstate = isJunctionError(err) ? (err.details as { sqlstate?: unknown } | undefined)?.sqlstate : undefined;
  if (typeof sqlstate !== 'string' || !VALUE_MISFITS.has(sqlstate)) return undefined;
  const columns = [plan.cursor, plan.tiebreak].filter((c) => c !== undefined).join(', ');
  return new JunctionError(
    'CONN_CURSOR',
    `stream ${plan.name}: the start ${JSON.stringify(start)} does not fit its cursor (${columns}): ${(err as JunctionError).message.replace(`${source}: `, '')} (SQLSTATE ${sqlstate})`,
    { cause: err, where: { source }, details: { checkpoint: start, sqlstate } },
  );
}

function isScalar(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** The checkpoint after `record`: its cursor and tie-breaking key, both non-null scalars. */
export function checkpointOf(plan: StreamPlan, record: SourceRecord, source: string): Checkpoint {
  const key = record[plan.tiebreak];
  const cursor = plan.cursor === undefined ? null : record[plan.cursor];
  if (plan.cursor !== undefined && !isScalar(cursor)) {
    // NULL sorts after every value and never satisfies `>`: such rows cannot be paged by this
    // cursor. Say so instead of silently skipping them.
    throw cursorError(
      source,
      `stream ${plan.name}: cursor column ${plan.cursor} is ${cursor === null || cursor === undefined ? 'NULL or missing' : 'not a scalar'} in a row (key ${JSON.stringify(key)}); use a NOT NULL cursor, e.g. COALESCE(...) in a query stream`,
      { stream: plan.name, column: plan.cursor },
    );
  }
  if (!isScalar(key)) {
    throw cursorError(source, `stream ${plan.name}: key column ${plan.tiebreak} is NULL, missing or not a scalar in a row`, {
      stream: plan.name,
      column: plan.tiebreak,
    });
  }
  return { cursor: cursor as string | number | null, key };
}

/** What {@link refuseNullKeyset} means for a user: a note of the SQL connectors' reference. */
export const NULL_KEYSET_NOTE =
  'A read fails with CONN_CURSOR when any row of the stream has a NULL cursor or tie-breaking key, which no read after a checkpoint could reach: make the column NOT NULL, or read a `query` that gives it a value (COALESCE). The check is one query when a read ends, none on a table whose two columns are NOT NULL.';

/**
 * CONN_CURSOR when a row of the stream has a NULL cursor or tie-breaking key. NULL fails every
 * `>` and `>=`, so such a row is read only when it happens to fall in a read's first page
 * (NULLs sort last); {@link checkpointOf} catches it only when it ends a page. Without this,
 * a read would end as if complete and every later run would skip the row for good.
 * Asked once, when a read ends; skipped when the catalog says a table's keyset columns are
 * NOT NULL (a declared query's columns are never trusted: an outer join makes NULLs).
 */
async function refuseNullKeyset(ctx: ReaderContext, plan: StreamPlan, signal: AbortSignal | undefined): Promise<void> {
  const keyset = plan.cursor === undefined ? [plan.tiebreak] : [plan.cursor, plan.tiebreak];
  if ('table' in plan.from) {
    const columns = await retrying(ctx, plan, signal, 'column lookup', () => ctx.columns(plan));
    if (keyset.every((name) => columns.some((c) => c.name === name && !c.nullable))) return;
  }
  const statement = nullKeysetQuery(ctx.dialect, plan);
  const { rows } = await retrying(ctx, plan, signal, 'NULL keyset check', () => ctx.driver.query(statement, { timeoutMs: plan.timeoutMs, signal, expectedRows: 1 }));
  const row = rows[0];
  if (!row) return;
  const column = keyset.find((c) => row[c] === null || row[c] === undefined) ?? keyset[0]!;
  const fix =
    column === plan.cursor
      ? `make ${column} NOT NULL, or read the stream through a query that gives it a value (COALESCE(${column}, <a fallback column or time>) AS ${column})`
      : `make ${column} NOT NULL, or ${plan.cursor === undefined ? 'page the stream by' : `break ties of ${plan.cursor} on`} a NOT NULL unique column`;
  throw cursorError(
    ctx.source,
    `stream ${plan.name}: ${column} is NULL in at least one row (key ${JSON.stringify(row[plan.key] ?? null)}); reads after a checkpoint never see such rows: ${fix}`,
    { stream: plan.name, column },
  );
}

/** The page start for `checkpoint`, or null for "from the beginning". */
async function pageStart(ctx: ReaderContext, plan: StreamPlan, checkpoint: Checkpoint | null, signal: AbortSignal | undefined): Promise<PageStart | null> {
  if (!checkpoint || (checkpoint.cursor === null && checkpoint.key === null)) return null;
  const { cursor, key } = checkpoint;
  if ((cursor !== null && !isScalar(cursor)) || (key !== null && !isScalar(key))) {
    throw cursorError(ctx.source, `stream ${plan.name}: checkpoint values must be strings or numbers`, { checkpoint });
  }
  if (plan.cursor === undefined && cursor !== null) {
    throw cursorError(ctx.source, `stream ${plan.name} has no cursor, but the checkpoint has one`, { checkpoint });
  }
  if (plan.cursor !== undefined && cursor === null) {
    throw cursorError(ctx.source, `stream ${plan.name}: the checkpoint has a key but no ${plan.cursor} value`, { checkpoint });
  }
  const bindValue = ctx.driver.bindValue?.bind(ctx.driver);
  if (!bindValue) return { cursor, key };
  // Asked between pages on first use: a lost connection is retried like a page.
  const columns = await retrying(ctx, plan, signal, 'column lookup', () => ctx.columns(plan));
  const bound = (value: string | number | null, name: string | undefined) => {
    if (value === null || name === undefined) return value;
    const column = columns.find((c) => c.name === name);
    if (!column) throw cursorError(ctx.source, `stream ${plan.name} has no column ${name} (columns: ${columns.map((c) => c.name).join(', ')})`);
    return bindValue(value, column);
  };
  return { cursor: bound(cursor, plan.cursor), key: bound(key, plan.tiebreak) };
}

/** One page. */
function runPage(ctx: ReaderContext, plan: StreamPlan, statement: SqlStatement, size: number, signal: AbortSignal | undefined): Promise<SqlResult> {
  return retrying(ctx, plan, signal, 'page query', () => ctx.driver.query(statement, { timeoutMs: plan.timeoutMs, signal, expectedRows: size }));
}

/** A statement retried after transient failures; an abort always surfaces as CONN_ABORTED. */
async function retrying<T>(ctx: ReaderContext, plan: StreamPlan, signal: AbortSignal | undefined, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await pRetry(work, {
      retries: PAGE_RETRIES,
      minTimeout: 200,
      factor: 2,
      signal,
      shouldRetry: ({ error, retriesLeft }) => {
        const retry = isJunctionError(error) && error.retryable && error.code !== 'CONN_TIMEOUT' && !signal?.aborted;
        if (retry) ctx.log.warn({ stream: plan.name, code: (error as JunctionError).code, retriesLeft }, `${what} failed; retrying`);
        return retry;
      },
    });
  } catch (err) {
    if (signal?.aborted && !(isJunctionError(err) && err.code === 'CONN_ABORTED')) throw abortError(ctx.source, err);
    throw err;
  }
}

/**
 * The rows {@link readStream} would hand out after `checkpoint` now: one COUNT(*) with the
 * first page's predicate, under the stream's statement timeout.
 */
export async function countStream(ctx: ReaderContext, plan: StreamPlan, checkpoint: Checkpoint | null, signal: AbortSignal | undefined): Promise<number> {
  const start = await pageStart(ctx, plan, lookBack(plan, checkpoint), signal);
  const { rows } = await runPage(ctx, plan, countQuery(ctx.dialect, plan, start), 1, signal);
  // PostgreSQL names the column n and sends its bigint as text; Oracle names it N.
  return Number(Object.values(rows[0] ?? {})[0] ?? 0);
}

/**
 * Where a read starts: `lookback_s` before the time cursor of a stored checkpoint (inclusive,
 * from its first row), or the checkpoint itself. A transaction that stamps `updated_at = now()`
 * when it starts and commits later makes its row visible behind rows already read; a strict
 * keyset read after them never sees it.
 * Only a checkpoint with a key was stored after rows read: `{ cursor: X, key: null }` is a
 * start the caller chose (`read --since X`, a backfill from X), and nothing before X belongs
 * to it. Only a cursor with an offset is moved: without one (a `date` column's `2026-01-31`)
 * it is a wall clock the database reads in its own zone, and the UTC instant put in its place
 * would be off by that zone's offset.
 */
function lookBack(plan: StreamPlan, checkpoint: Checkpoint | null): Checkpoint | null {
  if (!checkpoint || checkpoint.key === null || plan.lookbackMs === 0 || typeof checkpoint.cursor !== 'string') return checkpoint;
  const at = cursorTime(checkpoint.cursor);
  if (at === null || !isIsoWithOffset(checkpoint.cursor)) return checkpoint;
  return { cursor: new Date(at - plan.lookbackMs).toISOString(), key: null };
}

const sameCheckpoint = (a: Checkpoint | null, b: Checkpoint) => a !== null && a.cursor === b.cursor && a.key === b.key;

/**
 * Batches of `plan` after `checkpoint`. A checkpoint `{ cursor: X, key: null }` starts at
 * cursor value X inclusive; `{ cursor: null, key: null }` or null starts at the beginning.
 */
export async function* readStream(ctx: ReaderContext, plan: StreamPlan, checkpoint: Checkpoint | null, options: ReadOptions = {}): AsyncGenerator<Batch> {
  const { signal } = options;
  const batchSize = options.batchSize ?? plan.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new JunctionError('CFG_INVALID_VALUE', `read option batchSize must be a positive integer, got ${batchSize}`, { where: { source: ctx.source } });
  }
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  const from = lookBack(plan, checkpoint);
  // Read again from before the checkpoint, the first page may end where it did.
  let last = from === checkpoint ? checkpoint : null;
  throwIfAborted(signal, ctx.source);
  let start = await pageStart(ctx, plan, from, signal);
  let first = true;
  while (remaining > 0) {
    throwIfAborted(signal, ctx.source);
    const size = Math.min(batchSize, remaining);
    const page = runPage(ctx, plan, pageQuery(ctx.dialect, plan, start, size), size, signal);
    // Only the first page starts where the caller said; later ones start at a row read.
    const { rows } = await (first && from ? page.catch((err: unknown) => Promise.reject(startMisfit(err, ctx.source, plan, from) ?? err)) : page);
    first = false;
    // A short page is the last: the read has seen everything a keyset can reach.
    const ends = rows.length < size;
    if (rows.length === 0) {
      await refuseNullKeyset(ctx, plan, signal);
      return;
    }
    const next = checkpointOf(plan, rows[rows.length - 1]!, ctx.source);
    if (sameCheckpoint(last, next)) {
      // The checkpoint did not advance: the database compares the cursor at a finer
      // precision than the driver returns it. Stop rather than loop on one page forever.
      throw cursorError(ctx.source, `stream ${plan.name}: the checkpoint did not advance past ${JSON.stringify(next)}; the cursor's precision exceeds what the driver returns`, {
        checkpoint: next,
      });
    }
    last = next;
    remaining -= rows.length;
    // Before the last batch, so a refused read hands out no checkpoint past rows it skipped.
    if (ends) await refuseNullKeyset(ctx, plan, signal);
    yield { records: rows, checkpoint: next };
    if (ends) return;
    start = await pageStart(ctx, plan, next, signal);
  }
}
