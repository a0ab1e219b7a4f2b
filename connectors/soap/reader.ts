/**
 * Paging of a SOAP stream, independent of HTTP: given a function that calls the stream's
 * operation with rendered arguments, yields batches after a checkpoint.
 *
 * Resuming: the service is asked for records with cursor >= the checkpoint's cursor (the
 * `since` semantics of legacy list operations, e.g. the demo's listOrdersUpdatedSince) and
 * the reader drops every record whose `(cursor, key)` is <= the checkpoint, comparing
 * times as instants. So records sharing the checkpoint's cursor value are neither lost nor
 * repeated, provided the service orders by `(cursor, key)` and sends the cursor at the
 * precision it orders by. Token and single reads check that order on what they receive and
 * fail with CONN_CURSOR when it does not hold: a service that sorts by a finer value than it
 * sends (seconds sent, microseconds sorted) would otherwise have changes dropped as "already
 * read" without a trace.
 *
 * A start the caller chose (`{cursor: X, key: null}`: `read --since X`, a backfill's
 * `--from X`) is not filtered here: the service's `>= since` is the inclusive filter. It reads
 * an X without an offset as a wall clock in its own zone (the demo: Asia/Shanghai), as the SQL
 * and REST connectors let their sources read one; comparing X here as UTC would drop the
 * records of the offset's hours in between.
 *
 * - `page: { token, size }`: one call per page of `size` records (what the service allows),
 *   passing the previous page's token back, until the token is empty or a page has no
 *   records. A token seen before, or {@link MAX_STALE_PAGES} pages in a row that bring
 *   nothing new, fail with CONN_BAD_RESPONSE: such a service would be paged forever.
 * - `page: { window }`: one call per time window `[since, since + window)` up to the time
 *   the read started; a window's records are sorted by `(cursor, key)` and anything at or
 *   before the last record handed out is dropped, so inclusive window ends do no harm.
 *   With `max` (the most records the service returns for one call: legacy list operations
 *   often cut a result off at some number without saying so), a window that brings `max`
 *   records or more may be cut: it is split in two and each half asked again, down to
 *   {@link MIN_WINDOW_MS}; a window that narrow still full fails with CONN_BAD_RESPONSE
 *   rather than skip what the service left out.
 * - no `page`: a single call.
 *
 * Batches are `batchSize` records whatever the pages are (several pages make one batch, or
 * a page several), each checkpointed after its last record.
 */
import { JunctionError } from '../../config/errors.js';
import type { Batch, Checkpoint, SourceRecord } from '../types.js';
import { compareCursorKey, formatInstant, parseInstant, type CursorKey } from './cursor-order.js';
import { recordsAt, valueAt, type RecordsFrom } from './records.js';
import { startRefused } from './start-fault.js';
import { renderArgs, type ArgValue, type TemplateValues } from './templates.js';

/** A stream as the reader needs it (the config's stream entry). */
export interface SoapStreamOptions {
  operation: string;
  args: Record<string, ArgValue>;
  /** `updatedAt`, or `[updatedAt, orderNo]`. */
  cursor?: string | [string, string] | undefined;
  key: string;
  page?: { token: string; size: number } | { window: string; max?: number | undefined } | undefined;
  record_path: string;
  /** Cursor value of a first read (no checkpoint). @defaultValue 1970-01-01T00:00:00Z */
  start?: string | undefined;
}

export interface StreamReadOptions {
  batchSize: number;
  /** Records asked per call (`{{page.size}}`): the stream's `page.size`, or less for a preview. */
  pageSize: number;
  limit?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Where errors point. */
  source: string;
  /** The stream's name, for errors. */
  stream?: string | undefined;
  /** The end of the last window. @defaultValue Date.now() when the read starts */
  now?: number;
}

/** Calls the stream's operation once. */
export type OperationCall = (args: Record<string, ArgValue>) => Promise<unknown>;

export const DEFAULT_START = '1970-01-01T00:00:00Z';

/**
 * Token pages in a row that bring nothing new (the previous page's last record again, or
 * the same records again) before the read fails. One could be a service's quirk at a page
 * boundary; a few in a row mean it ignores the token it handed out.
 */
export const MAX_STALE_PAGES = 3;

/** The narrowest window a full one is split down to (`page.max`). */
export const MIN_WINDOW_MS = 1000;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `6h` → milliseconds. */
export function windowMs(window: string, source?: string): number {
  const m = /^(\d+)([smhd])$/.exec(window);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!(ms > 0)) {
    throw new JunctionError('CONN_CURSOR', `invalid window ${JSON.stringify(window)}: expected a duration such as 6h`, source === undefined ? {} : { where: { source } });
  }
  return ms;
}

/** The `(cursor, key)` field names of a stream; no cursor field means full reads only. */
export function cursorFields(stream: Pick<SoapStreamOptions, 'cursor' | 'key'>): { cursor: string | undefined; key: string } {
  if (Array.isArray(stream.cursor)) return { cursor: stream.cursor[0], key: stream.cursor[1] };
  return { cursor: stream.cursor, key: stream.key };
}

function aborted(signal: AbortSignal | undefined, source: string): void {
  if (signal?.aborted) throw new JunctionError('CONN_ABORTED', 'reading was cancelled', { where: { source } });
}

/** Batches of a stream after `checkpoint`. */
export async function* readSoapStream(
  stream: SoapStreamOptions,
  checkpoint: Checkpoint | null,
  options: StreamReadOptions,
  call: OperationCall,
): AsyncGenerator<Batch> {
  const fields = cursorFields(stream);
  if (checkpoint && fields.cursor === undefined) {
    throw new JunctionError('CONN_CURSOR', 'this stream has no cursor: it can only be read in full', { where: { source: options.source } });
  }
  const position = (record: SourceRecord): CursorKey => ({
    cursor: fields.cursor === undefined ? null : record[fields.cursor],
    key: record[fields.key],
  });
  const checkpointOf = (record: SourceRecord): Checkpoint | null => {
    if (fields.cursor === undefined) return null;
    const cursor = record[fields.cursor];
    const key = record[fields.key];
    if (!isScalar(cursor) || key === undefined || key === null || !isScalar(key)) {
      throw new JunctionError('CONN_CURSOR', `a record lacks a scalar ${fields.cursor} or ${fields.key}: cannot checkpoint after it`, {
        where: { source: options.source, key: isScalar(key) ? String(key) : undefined },
      });
    }
    return { cursor, key };
  };

  // Only a stored checkpoint (it has a key) is filtered against: see the module comment.
  let last: CursorKey | null = checkpoint && checkpoint.key !== null ? { cursor: checkpoint.cursor, key: checkpoint.key } : null;
  let left = options.limit ?? Infinity;
  const from: RecordsFrom = { source: options.source, stream: options.stream, operation: stream.operation, key: fields.key };
  let pending: SourceRecord[] = [];
  const take = (): Batch => {
    aborted(options.signal, options.source);
    const records = pending;
    pending = [];
    return { records, checkpoint: checkpointOf(records[records.length - 1]!) };
  };

  // The last record received (token and single reads), to check the service's order.
  let received: CursorKey | null = null;
  const checkOrder = (record: SourceRecord): void => {
    const at = position(record);
    if (received && compareCursorKey(received, at) > 0) {
      const shown = (p: CursorKey) => `(${JSON.stringify(p.cursor ?? null)}, ${JSON.stringify(p.key ?? null)})`;
      throw new JunctionError(
        'CONN_CURSOR',
        `stream ${options.stream ?? stream.operation}: ${stream.operation} returned ${shown(at)} after ${shown(received)}: records are not ordered by (${fields.cursor}, ${fields.key}) as sent, so resuming after a checkpoint could skip records`,
        { where: { source: options.source, key: isScalar(at.key) ? String(at.key) : undefined }, details: { stream: options.stream, operation: stream.operation } },
      );
    }
    received = at;
  };

  const checkProgress = progressCheck(stream, options, fields.cursor !== undefined, position);

  for await (const page of pages(stream, checkpoint, options, firstCallFromStart(stream, checkpoint, options, call))) {
    const records = page.records ?? recordsAt(page.result, stream.record_path, from);
    // An empty page ends token paging whatever its token says, as in the REST reader: some
    // services hand out a fresh token past the last page, and would be paged forever.
    if (page.kind === 'token' && records.length === 0) break;
    if (page.kind === 'window') records.sort((a, b) => compareCursorKey(position(a), position(b)));
    else if (fields.cursor !== undefined) records.forEach(checkOrder);
    if (page.kind === 'token') checkProgress(records);
    // Token and single pages arrive in service order, all after the start but for the records
    // that share the checkpoint's cursor: `last` stays the checkpoint for them.
    const fresh = last && fields.cursor !== undefined ? records.filter((r) => compareCursorKey(position(r), last!) > 0) : records;
    for (const record of fresh) {
      if (left <= 0) break;
      pending.push(record);
      left -= 1;
      if (pending.length >= options.batchSize) yield take();
    }
    if (page.kind === 'window' && fresh.length > 0) last = position(fresh[fresh.length - 1]!);
    if (left <= 0) break;
  }
  if (pending.length > 0) yield take();
}

/**
 * `call`, whose first call fails with CONN_CURSOR when the service refuses the start the
 * caller chose (`{cursor: X, key: null}`: `read --since X`, a backfill's `--from X`; a stored
 * checkpoint always has a key). Later calls start where the service's own records or tokens
 * say, so their faults are not about the start (start-fault.ts).
 */
function firstCallFromStart(stream: SoapStreamOptions, checkpoint: Checkpoint | null, options: StreamReadOptions, call: OperationCall): OperationCall {
  if (!checkpoint || checkpoint.key !== null || checkpoint.cursor === null) return call;
  const read = { source: options.source, stream: options.stream ?? stream.operation, operation: stream.operation, args: stream.args, cursor: cursorFields(stream).cursor };
  let first = true;
  return async (args) => {
    if (!first) return call(args);
    first = false;
    return call(args).catch((err: unknown) => Promise.reject(startRefused(err, read, checkpoint) ?? err));
  };
}

/**
 * A check run on each non-empty token page, failing after {@link MAX_STALE_PAGES} in a row
 * that bring nothing new. With a cursor, pages are checked to be in `(cursor, key)` order,
 * so a page that ends where the previous one ended only repeats its last record; without
 * one, nothing is ordered, and a page equal to the previous one is what a service ignoring
 * the token sends.
 */
function progressCheck(
  stream: SoapStreamOptions,
  options: StreamReadOptions,
  ordered: boolean,
  position: (record: SourceRecord) => CursorKey,
): (records: SourceRecord[]) => void {
  let previous: { end: CursorKey; text: string } | undefined;
  let stale = 0;
  return (records) => {
    const end = position(records[records.length - 1]!);
    const text = ordered ? '' : JSON.stringify(records);
    const nothingNew = previous !== undefined && (ordered ? compareCursorKey(end, previous.end) <= 0 : text === previous.text);
    stale = nothingNew ? stale + 1 : 0;
    previous = { end, text };
    if (stale >= MAX_STALE_PAGES) {
      throw new JunctionError(
        'CONN_BAD_RESPONSE',
        `stream ${options.stream ?? stream.operation}: ${stream.operation} returned ${stale} pages in a row with nothing new, each with a next page token: paging would not end`,
        { where: { source: options.source }, details: { stream: options.stream, operation: stream.operation, pages: stale } },
      );
    }
  };
}

function isScalar(value: unknown): value is string | number {
  return typeof value === 'string' || typeof value === 'number';
}

interface Page {
  kind: 'token' | 'window' | 'single';
  result: unknown;
  /** The result's records, when the pager already read them (a window with `max`). */
  records?: SourceRecord[];
}

async function* pages(stream: SoapStreamOptions, checkpoint: Checkpoint | null, options: StreamReadOptions, call: OperationCall): AsyncGenerator<Page> {
  const start = checkpoint?.cursor ?? stream.start ?? DEFAULT_START;
  const page = stream.page;
  if (page && 'window' in page) {
    yield* windows(stream, start, { width: windowMs(page.window, options.source), max: page.max }, options, call);
    return;
  }
  const size = page ? options.pageSize : undefined;
  if (!page) {
    aborted(options.signal, options.source);
    yield { kind: 'single', result: await call(renderArgs(stream.args, { cursor: start, page: { size } })) };
    return;
  }
  let token: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    aborted(options.signal, options.source);
    const values: TemplateValues = { cursor: start, page: { token: token ?? null, size } };
    const result = await call(renderArgs(stream.args, values));
    yield { kind: 'token', result };
    const next = valueAt(result, page.token);
    if (next === undefined || next === null || next === '') return;
    token = typeof next === 'string' ? next : String(next);
    if (seen.has(token)) {
      throw new JunctionError(
        'CONN_BAD_RESPONSE',
        `stream ${options.stream ?? stream.operation}: ${stream.operation} returned the same page token twice: paging would not end`,
        { where: { source: options.source }, details: { stream: options.stream, operation: stream.operation } },
      );
    }
    seen.add(token);
  }
}

async function* windows(
  stream: SoapStreamOptions,
  start: string | number,
  page: { width: number; max: number | undefined },
  options: StreamReadOptions,
  call: OperationCall,
): AsyncGenerator<Page> {
  const startText = String(start);
  const instant = parseInstant(startText);
  if (!instant) {
    throw new JunctionError('CONN_CURSOR', `cursor ${JSON.stringify(startText)} is not an ISO-8601 time: windows need one`, {
      where: { source: options.source },
    });
  }
  const end = options.now ?? Date.now();
  const from: RecordsFrom = { source: options.source, stream: options.stream, operation: stream.operation, key: cursorFields(stream).key };
  const ask = async (sinceText: string, until: number) => {
    aborted(options.signal, options.source);
    const untilText = formatInstant(until);
    return call(renderArgs(stream.args, { cursor: sinceText, window: { since: sinceText, until: untilText }, page: {} }));
  };
  let since = instant[0];
  let sinceText = startText;
  while (since < end) {
    const until = Math.min(since + page.width, end);
    // Windows still to ask, the earliest last; a full one is replaced by its two halves.
    const todo: [number, string, number][] = [[since, sinceText, until]];
    while (todo.length > 0) {
      const [from_, fromText, to] = todo.pop()!;
      const result = await ask(fromText, to);
      // Read here only to count them with `max`; the reader then takes them as they are.
      const records = page.max === undefined ? undefined : recordsAt(result, stream.record_path, from);
      const count = records?.length ?? 0;
      if (page.max !== undefined && count >= page.max) {
        // Halves on whole seconds (services take xsd:dateTime at least to the second).
        const mid = from_ + Math.max(MIN_WINDOW_MS, Math.floor((to - from_) / 2 / MIN_WINDOW_MS) * MIN_WINDOW_MS);
        if (mid >= to) {
          throw new JunctionError(
            'CONN_BAD_RESPONSE',
            `stream ${options.stream ?? stream.operation}: ${stream.operation} returned ${count} records for the window ${fromText} – ${formatInstant(to)}, its max (page.max ${page.max}): the service may have cut records off, and a window cannot be narrower than ${MIN_WINDOW_MS / 1000} s`,
            { where: { source: options.source }, details: { stream: options.stream, operation: stream.operation, since: fromText, until: formatInstant(to), max: page.max } },
          );
        }
        todo.push([mid, formatInstant(mid), to], [from_, fromText, mid]);
        continue;
      }
      yield { kind: 'window', result, records };
    }
    since = until;
    sinceText = formatInstant(until);
  }
}
