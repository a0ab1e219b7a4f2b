/**
 * Reading a REST stream page by page after a checkpoint, tie-safe and drift-safe.
 *
 * The API must return records ordered by (cursor, key) and, for incremental reads, filter
 * with `cursor >= cursor_param` (inclusive; the demo's `updated_since`). Every record is
 * placed at its position (cursor parsed with `cursor_format`, key compared numerically when
 * both are integers) and handed out only if it lies strictly after the last one handed out
 * (initially the checkpoint), so re-reading a tie is harmless.
 *
 * Page numbers (and offsets) drift on a table that changes during the read: when an earlier
 * record is updated, it moves to the end and everything after it shifts one place towards
 * the front, so "page 2" skips a record. So the reader re-bases instead of counting pages:
 *
 *   1. request page `start` (offset 0) with `cursor_param = since` (the checkpoint's cursor,
 *      in the source's own format);
 *   2. hand out the records after the last position;
 *   3. a page with fewer than `size` records (or, when `envelope.total` is declared, the last
 *      of the `total` the query matched) ends the read;
 *   4. otherwise, if the page spans more than one cursor value, set `since` to the last
 *      record's cursor and go back to page `start`: the ties at that value come again and are
 *      skipped by position, and nothing after them can have shifted out of reach;
 *   5. if the whole page shares one cursor value (more ties than a page), set `since` to it
 *      and advance the page number: only then do page numbers count, within one cursor value.
 *
 * Left: a record inside such a tie run that is updated while the run is being paged shifts
 * the rest of the run by one (one record of the run can be missed until it changes again).
 * Token (`cursor`) and `next_link` paging follow the server's tokens; the position filter
 * still applies. Batches are cut from the handed-out records; each carries the checkpoint of
 * its last record, and is only yielded once its page was read completely.
 */
import { JunctionError } from '../../config/errors.js';
import type { Logger } from '../../config/log.js';
import type { Batch, Checkpoint, JsonValue, ReadOptions, SourceRecord } from '../types.js';
import { CursorCodec, comparePositions, checkpointPosition, type CursorFormat, type Position } from './cursor.js';
import { getPath, recordsAt } from './envelope.js';
import type { RequestSpec, RestClient, RestResponse } from './http.js';

/** `page:` of a rest stream (resolved config). */
export type PageConfig =
  | { style: 'page_number'; size: number; param: string; size_param: string; start: number }
  | { style: 'offset'; size: number; param: string; size_param: string }
  | { style: 'cursor'; size: number; param: string; size_param: string; next: string }
  | { style: 'next_link'; size: number; size_param: string; next?: string | undefined };

/** A rest stream (resolved config). */
export interface RestStream {
  path: string;
  method: 'GET' | 'POST';
  query: Readonly<Record<string, string | number | boolean>>;
  cursor?: string | readonly [string, string] | undefined;
  key: string;
  cursor_param?: string | undefined;
  cursor_format?: CursorFormat | undefined;
  page?: PageConfig | undefined;
  record_path?: string | undefined;
}

/** What one stream read needs. */
export interface StreamContext {
  source: string;
  name: string;
  stream: RestStream;
  client: RestClient;
  /** envelope.list and envelope.total of the source. */
  listPath: string | undefined;
  totalPath: string | undefined;
  log: Logger;
}

/** The cursor and key fields of a stream (`cursor: [c, k]` names both). */
export function streamFields(stream: RestStream): { cursor: string | undefined; key: string } {
  if (Array.isArray(stream.cursor)) return { cursor: stream.cursor[0], key: stream.cursor[1] };
  return { cursor: stream.cursor as string | undefined, key: stream.key };
}

/** The `Link: <url>; rel="next"` target, if any. */
export function linkHeaderNext(value: string | null): string | undefined {
  for (const part of (value ?? '').split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /\brel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

const str = (v: string | number | boolean) => String(v);

/** The first page's request, and how to get from one page to the next. */
class Pager {
  position: number;
  token: string | undefined;
  link: string | undefined;
  /** Records fetched since the filter last changed (compared with `total`). */
  fetched = 0;
  private readonly seen = new Set<string>();
  private previousFirst: string | undefined;

  constructor(
    private readonly source: string,
    private readonly stream: RestStream,
    private readonly totalPath: string | undefined,
  ) {
    const page = stream.page;
    this.position = page?.style === 'page_number' ? page.start : 0;
  }

  request(since: string | number | undefined): RequestSpec {
    const stream = this.stream;
    const page = stream.page;
    if (this.link !== undefined) return { path: stream.path, link: this.link, query: {}, method: stream.method };
    const query: Record<string, string> = Object.fromEntries(Object.entries(stream.query).map(([k, v]) => [k, str(v)]));
    if (stream.cursor_param && since !== undefined) query[stream.cursor_param] = String(since);
    if (page) query[page.size_param] = String(page.size);
    if (page?.style === 'page_number' || page?.style === 'offset') query[page.param] = String(this.position);
    if (page?.style === 'cursor' && this.token !== undefined) query[page.param] = this.token;
    return { path: stream.path, query, method: stream.method };
  }

  /** Refuses a token or link that comes back (an API ignoring it would loop forever). */
  guard(marker: string): void {
    if (this.seen.has(marker)) throw this.repeated(marker);
    this.seen.add(marker);
  }

  /** Refuses a page that starts like the previous one: the API ignores the page parameter. */
  checkRepeat(first: SourceRecord | undefined): void {
    if (!first) return;
    const id = JSON.stringify(first);
    if (id === this.previousFirst) throw this.repeated('same first record');
    this.previousFirst = id;
  }

  private repeated(what: string): JunctionError {
    return new JunctionError('CONN_BAD_RESPONSE', `${this.stream.path}: the API returned the same page again (${what}); does it ignore the paging parameter?`, {
      where: { source: this.source },
    });
  }

  /** Whether the query that produced `count` more records has more (short page or total). */
  more(res: RestResponse, count: number): boolean {
    this.fetched += count;
    const total = this.totalPath === undefined ? undefined : Number(getPath(res.body, this.totalPath));
    if (total !== undefined && Number.isFinite(total)) return this.fetched < total;
    return count >= (this.stream.page?.size ?? Infinity);
  }
}

/** The first page's request with `size` records (check and discover probe with it). */
export function firstPageRequest(stream: RestStream, size: number): RequestSpec {
  const probe: RestStream = { ...stream, page: stream.page ? { ...stream.page, size } : undefined };
  return new Pager('', probe, undefined).request(undefined);
}

function keyValue(record: SourceRecord, field: string, source: string): string | number {
  const v = getPath(record, field) as JsonValue | undefined;
  if (typeof v === 'string' || typeof v === 'number') return v;
  throw new JunctionError('CONN_CURSOR', `record without a usable ${field} (got ${JSON.stringify(v ?? null)})`, { where: { source } });
}

/**
 * The positions of a page's records, checking what checkpoints rely on: the page is ordered
 * by (cursor, key), and nothing lies before the `since` filter that was sent.
 */
function place(
  ctx: StreamContext,
  codec: CursorCodec,
  records: readonly SourceRecord[],
  fields: { cursor: string; key: string },
  since: string | number | undefined,
  sinceRank: Position['rank'] | undefined,
): Position[] {
  const { source, stream } = ctx;
  const positions: Position[] = [];
  for (const record of records) {
    const key = keyValue(record, fields.key, source);
    const pos: Position = { rank: codec.rank(getPath(record, fields.cursor) as JsonValue, key), key };
    const prev = positions[positions.length - 1];
    if (prev && comparePositions(codec, prev, pos) > 0) {
      throw new JunctionError('CONN_CURSOR', `${stream.path}: records are not ordered by (${fields.cursor}, ${fields.key}); checkpoints need that order`, {
        where: { source, key: String(key) },
      });
    }
    if (sinceRank !== undefined && codec.compare(pos.rank, sinceRank) < 0) {
      throw new JunctionError('CONN_CURSOR', `${stream.path}: a record before ${stream.cursor_param}=${since}; the API does not filter by it, or cursor_format does not match`, {
        where: { source, key: String(key) },
      });
    }
    positions.push(pos);
  }
  return positions;
}

/** Reads `ctx.stream` after `checkpoint`; see the file header for the algorithm. */
export async function* readStream(ctx: StreamContext, checkpoint: Checkpoint | null, options: ReadOptions = {}): AsyncGenerator<Batch> {
  const { stream, source } = ctx;
  const fields = streamFields(stream);
  const codec = new CursorCodec(source, stream.cursor_format);
  const page = stream.page;
  const batchSize = Math.max(1, options.batchSize ?? page?.size ?? 1000);
  const incremental = fields.cursor !== undefined && stream.cursor_param !== undefined;
  let last: Position | null = fields.cursor ? checkpointPosition(codec, checkpoint) : null;
  let since = incremental && checkpoint?.cursor != null ? codec.toSource(checkpoint.cursor) : undefined;
  const pager = new Pager(source, stream, ctx.totalPath);
  let pending: { record: SourceRecord; cp: Checkpoint | null }[] = [];
  let handed = 0;
  const limit = options.limit ?? Infinity;

  const cut = (all: boolean): Batch | undefined => {
    if (pending.length === 0 || (!all && pending.length < batchSize)) return undefined;
    const part = pending.slice(0, batchSize);
    pending = pending.slice(part.length);
    return { records: part.map((p) => p.record), checkpoint: part[part.length - 1]!.cp };
  };

  while (handed < limit) {
    if (options.signal?.aborted) throw new JunctionError('CONN_ABORTED', `${ctx.name}: cancelled`, { where: { source } });
    const spec = pager.request(since);
    const res = await ctx.client.request(spec, { signal: options.signal });
    const records = recordsAt(res.body, stream.record_path ?? ctx.listPath, { source, path: stream.path });
    if (page) pager.checkRepeat(records[0]);

    const sinceRank = since === undefined ? undefined : codec.rank(since);
    const positions = fields.cursor ? place(ctx, codec, records, fields as { cursor: string; key: string }, since, sinceRank) : [];
    records.forEach((record, i) => {
      const pos = positions[i];
      if (handed >= limit) return;
      if (pos && last && comparePositions(codec, pos, last) <= 0) return;
      if (pos) last = pos;
      handed += 1;
      const cp = pos ? { cursor: getPath(record, fields.cursor!) as string | number, key: pos.key as string | number } : null;
      pending.push({ record, cp });
    });
    for (let b = cut(false); b; b = cut(false)) yield b;

    if (!page || records.length === 0 || handed >= limit) break;
    const more = pager.more(res, records.length);
    if (page.style === 'cursor') {
      const token = getPath(res.body, page.next);
      if (token === undefined || token === null || token === '') break;
      pager.token = String(token);
      pager.guard(`token ${pager.token}`);
    } else if (page.style === 'next_link') {
      const link = page.next === undefined ? linkHeaderNext(res.headers.get('link')) : getPath(res.body, page.next);
      if (typeof link !== 'string' || link === '') break;
      pager.link = link;
      pager.guard(`link ${link}`);
    } else {
      if (!more) break;
      const first = positions[0];
      const end = positions[positions.length - 1];
      const advance = () => {
        pager.position += page.style === 'page_number' ? 1 : records.length;
      };
      if (!incremental || !first || !end) {
        advance();
      } else if (codec.compare(first.rank, end.rank) === 0 && sinceRank !== undefined && codec.compare(end.rank, sinceRank) === 0) {
        advance(); // a run of ties longer than the pages read so far at this value
        ctx.log.debug({ stream: ctx.name, since, position: pager.position }, 'paging through a run of equal cursor values');
      } else {
        const endCursor = getPath(records[records.length - 1]!, fields.cursor!) as string | number;
        const tieRun = codec.compare(first.rank, end.rank) === 0;
        since = endCursor;
        pager.position = page.style === 'page_number' ? page.start : 0;
        pager.fetched = 0;
        // A page of one value newer than `since` is exactly page 1 at that value: skip to page 2.
        if (tieRun) {
          pager.fetched = records.length;
          advance();
        }
      }
    }
  }
  for (let b = cut(true); b; b = cut(true)) yield b;
}
