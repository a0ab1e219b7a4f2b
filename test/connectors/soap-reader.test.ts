/**
 * The SOAP stream reader on a scripted service: the (cursor, key) order check resuming relies
 * on, the end of token paging, and errors about records that name where they come from.
 */
import { describe, expect, it } from 'vitest';
import { JunctionError } from '../../config/errors.js';
import { CUT_MARKER, MAX_JSON_DEPTH } from '../../connectors/json.js';
import { MAX_STALE_PAGES, readSoapStream, type OperationCall, type SoapStreamOptions } from '../../connectors/soap/reader.js';
import type { Checkpoint, JsonValue, SourceRecord } from '../../connectors/types.js';
import { errorOf } from '../helpers/errors.js';

const order = (orderNo: string, updatedAt: string): SourceRecord => ({ orderNo, updatedAt });

/** A service answering one page per call, with a page token while pages are left. */
function service(pages: SourceRecord[][]): OperationCall {
  let i = 0;
  return async () => {
    const page = pages[i] ?? [];
    i += 1;
    return { orders: { order: page }, ...(i < pages.length ? { nextPageToken: `t${i}` } : {}) };
  };
}

const TOKEN_STREAM: SoapStreamOptions = {
  operation: 'listOrdersUpdatedSince',
  args: { since: '{{cursor}}', pageToken: '{{page.token}}' },
  cursor: 'updatedAt',
  key: 'orderNo',
  page: { token: 'nextPageToken', size: 2 },
  record_path: 'orders.order',
};
const SINGLE_STREAM: SoapStreamOptions = { ...TOKEN_STREAM, page: undefined };

async function read(stream: SoapStreamOptions, pages: SourceRecord[][], checkpoint: Checkpoint | null = null): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  const options = { batchSize: 10, pageSize: 2, source: 'orders_soap', stream: 'orders' };
  for await (const batch of readSoapStream(stream, checkpoint, options, service(pages))) out.push(...batch.records);
  return out;
}

describe('readSoapStream order check', () => {
  // The demo's old answer: updatedAt at whole seconds, sorted by microseconds. O-200 changed at
  // 10:00:05.100 and O-150 at 10:00:05.800 come as (10:00:05, O-200), (10:00:05, O-150); after
  // the checkpoint (10:00:05, O-200), O-150 would be dropped as already read.
  const secondsSent = [order('O-200', '2025-01-01T10:00:05+08:00'), order('O-150', '2025-01-01T10:00:05+08:00')];

  it.each([
    ['token pages, resuming', TOKEN_STREAM, [secondsSent], { cursor: '2025-01-01T10:00:05+08:00', key: 'O-200' }],
    ['a single call, first read', SINGLE_STREAM, [secondsSent], null],
    [
      'across token pages',
      TOKEN_STREAM,
      [[order('O-1', '2025-01-01T10:00:01Z'), order('O-2', '2025-01-01T10:00:03Z')], [order('O-3', '2025-01-01T10:00:02Z')]],
      null,
    ],
  ])('%s: records out of (cursor, key) order fail with CONN_CURSOR naming source, stream and key', async (_name, stream, pages, checkpoint) => {
    const err = await errorOf(read(stream, pages, checkpoint));
    expect(err.code).toBe('CONN_CURSOR');
    expect(err.where).toMatchObject({ source: 'orders_soap' });
    expect(err.where?.key).toBe(pages.flat().at(-1)!.orderNo);
    expect(err.message).toMatch(/^stream orders: /);
    expect(err.format()).toMatch(/^orders_soap key=O-(150|3): stream orders: .*not ordered by \(updatedAt, orderNo\)/);
  });

  it('in order, with the same instant written in another offset and ties on the checkpoint: reads what follows the checkpoint', async () => {
    const pages = [
      [order('O-100', '2025-01-01T10:00:05.1+08:00'), order('O-200', '2025-01-01T02:00:05.100Z')],
      [order('O-150', '2025-01-01T10:00:05.8+08:00'), order('O-050', '2025-01-01T10:00:06+08:00')],
    ];
    const got = await read(TOKEN_STREAM, pages, { cursor: '2025-01-01T10:00:05.1+08:00', key: 'O-200' });
    expect(got.map((r) => r.orderNo)).toEqual(['O-150', 'O-050']);
  });
});

describe('readSoapStream resuming on integer keys', () => {
  // xsd:int keys arrive as numbers; hub.checkpoint keeps a key as text (pipelines/checkpoint.ts),
  // so a stored key 99 comes back as "99". Compared as text, 100 and 101 sorted before it and
  // the records tied with the checkpoint were dropped without a word.
  const T = '2025-01-01T10:00:00+08:00';
  const tied = [98, 99, 100, 101].map((orderNo) => ({ orderNo, updatedAt: T }));
  const INT_STREAM: SoapStreamOptions = { ...TOKEN_STREAM, page: undefined };

  it.each([
    ['the stored text of the key', '99'],
    ['the key as the service sent it', 99],
  ])('from %s: reads the tied records with higher keys', async (_name, key) => {
    const got = await read(INT_STREAM, [tied], { cursor: T, key });
    expect(got.map((r) => r.orderNo)).toEqual([100, 101]);
  });

  it('does not read again the tied records at or before a stored key with more digits', async () => {
    const got = await read(INT_STREAM, [[99, 100, 101].map((orderNo) => ({ orderNo, updatedAt: T }))], { cursor: T, key: '100' });
    expect(got.map((r) => r.orderNo)).toEqual([101]);
  });
});

/**
 * A service answering `page(n)` to the n-th call (from 0) and always a fresh page token, as
 * some do past their last page. It throws after 50 calls so that a reader paging forever
 * fails the test instead of hanging it.
 */
function endless(page: (n: number) => SourceRecord[]): { call: OperationCall; calls: () => number } {
  let n = 0;
  const call: OperationCall = async () => {
    if (n >= 50) throw new Error('paged 50 times: the reader does not stop');
    const records = page(n);
    n += 1;
    return { orders: records.length > 0 ? { order: records } : null, nextPageToken: `t${n}` };
  };
  return { call, calls: () => n };
}

async function readWith(stream: SoapStreamOptions, call: OperationCall, checkpoint: Checkpoint | null = null): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  const options = { batchSize: 10, pageSize: 2, source: 'orders_soap', stream: 'orders' };
  for await (const batch of readSoapStream(stream, checkpoint, options, call)) out.push(...batch.records);
  return out;
}

describe('readSoapStream token paging ends', () => {
  it('at the first empty page, whatever its token', async () => {
    const svc = endless((n) => (n === 0 ? [order('O-1', '2025-01-01T10:00:01Z'), order('O-2', '2025-01-01T10:00:02Z')] : []));
    expect((await readWith(TOKEN_STREAM, svc.call)).map((r) => r.orderNo)).toEqual(['O-1', 'O-2']);
    expect(svc.calls()).toBe(2);
  });

  it.each([
    ['with a cursor: the last record again', TOKEN_STREAM],
    ['without a cursor: the same page again', { ...TOKEN_STREAM, cursor: undefined }],
  ])('%s on every page fails with CONN_BAD_RESPONSE naming source, stream and operation', async (_name, stream) => {
    const svc = endless(() => [order('O-1', '2025-01-01T10:00:01Z')]);
    const err = await errorOf(readWith(stream, svc.call));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.where).toEqual({ source: 'orders_soap' });
    expect(err.details).toMatchObject({ stream: 'orders', operation: 'listOrdersUpdatedSince' });
    expect(err.message).toMatch(/^stream orders: listOrdersUpdatedSince returned \d+ pages in a row with nothing new/);
    expect(svc.calls()).toBe(MAX_STALE_PAGES + 1);
  });

  it('pages of ties the checkpoint already covers are progress, not stale pages', async () => {
    // 12 orders at one instant, two a page; resuming after O-10 skips five pages of them.
    const at = '2025-01-01T10:00:05Z';
    const all = Array.from({ length: 12 }, (_, i) => order(`O-${String(i + 1).padStart(2, '0')}`, at));
    const svc = endless((n) => all.slice(n * 2, n * 2 + 2));
    const got = await readWith(TOKEN_STREAM, svc.call, { cursor: at, key: 'O-10' });
    expect(got.map((r) => r.orderNo)).toEqual(['O-11', 'O-12']);
  });
});

describe('readSoapStream errors about records', () => {
  const nested = (levels: number): JsonValue => (levels === 0 ? 'v' : { x: nested(levels - 1) });

  it('an item that is not a record names source, stream and operation', async () => {
    const err = await errorOf(read(SINGLE_STREAM, [[order('O-1', '2025-01-01T10:00:01Z'), 'junk' as unknown as SourceRecord]]));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.where).toEqual({ source: 'orders_soap' });
    expect(err.details).toMatchObject({ stream: 'orders', operation: 'listOrdersUpdatedSince', item: 1 });
    expect(err.message).toBe('stream orders: listOrdersUpdatedSince response: item 1 at orders.order is not a record');
  });

  it(`a record nested deeper than ${MAX_JSON_DEPTH} levels is handed out cut there (map dead-letters it), one at the limit whole`, async () => {
    // The record is level 1; `lines: nested(n)` adds n objects, levels 2 to n + 1.
    const atLimit = { ...order('O-1', '2025-01-01T10:00:01Z'), lines: nested(MAX_JSON_DEPTH - 1) };
    expect(await read(SINGLE_STREAM, [[atLimit]])).toEqual([atLimit]);

    const tooDeep = { ...order('O-2', '2025-01-01T10:00:02Z'), lines: nested(MAX_JSON_DEPTH + 500) };
    const [first, cut] = await read(SINGLE_STREAM, [[order('O-1', '2025-01-01T10:00:01Z'), tooDeep]]);
    expect(first).toEqual(order('O-1', '2025-01-01T10:00:01Z'));
    const kept = { ...order('O-2', '2025-01-01T10:00:02Z'), lines: nested(MAX_JSON_DEPTH - 1) };
    // The same shape down to the limit, the stand-in where the rest was.
    expect(JSON.stringify(cut)).toBe(JSON.stringify(kept).replace('"v"', JSON.stringify({ [CUT_MARKER]: `nested deeper than ${MAX_JSON_DEPTH} levels; cut here` })));
  });
});

describe('readSoapStream faults on a start the caller chose', () => {
  const fault = (faultcode: string, faultstring: string) =>
    new JunctionError('CONN_SOAP_FAULT', `orders_soap listOrdersUpdatedSince: SOAP fault ${faultcode}: ${faultstring}`, {
      where: { source: 'orders_soap' },
      details: { faultcode, faultstring, httpStatus: 500 },
    });
  const SINCE_FAULT = fault('SOAP-ENV:Client', 'since must be an xs:dateTime, e.g. 2025-01-01T00:00:00+08:00');
  /** What `read --since 1700000000` and a backfill's `--from 1700000000` hand the reader. */
  const START: Checkpoint = { cursor: '1700000000', key: null };

  /** A service that fails its call number `at` (from 0) with `err`; before it, one order a page and a token. */
  function failingAt(at: number, err: Error): OperationCall {
    let n = 0;
    return async () => {
      n += 1;
      if (n - 1 === at) throw err;
      return { orders: { order: [order(`O-${n}`, `2025-01-01T10:00:0${n}Z`)] }, nextPageToken: `t${n}` };
    };
  }

  it('a Client fault naming the argument the start is sent in, on the first call, is CONN_CURSOR naming the start and the fault', async () => {
    const err = await errorOf(readWith(TOKEN_STREAM, failingAt(0, SINCE_FAULT), START));
    expect(err.code).toBe('CONN_CURSOR');
    expect(err.cause).toBe(SINCE_FAULT);
    expect(err.where).toEqual({ source: 'orders_soap' });
    expect(err.details).toMatchObject({ checkpoint: START, operation: 'listOrdersUpdatedSince', argument: 'since', faultcode: 'SOAP-ENV:Client' });
    expect(err.message).toBe(
      'stream orders: the start 1700000000 does not fit its cursor (updatedAt): listOrdersUpdatedSince refused it in argument since with SOAP fault SOAP-ENV:Client: since must be an xs:dateTime, e.g. 2025-01-01T00:00:00+08:00',
    );
  });

  it.each([
    ['a Server fault', fault('SOAP-ENV:Server', 'database error while reading since'), 0, START],
    ['a Client fault about another argument', fault('SOAP-ENV:Client', 'pageSize must be between 1 and 1000'), 0, START],
    ['a Client fault naming the operation only', fault('SOAP-ENV:Client', 'listOrdersUpdatedSince is disabled'), 0, START],
    ['a fault on a later page', SINCE_FAULT, 1, START],
    ['a fault resuming a stored checkpoint', SINCE_FAULT, 0, { cursor: '2025-01-01T10:00:05Z', key: 'O-1' }],
    ['a fault on a first read (no start given)', SINCE_FAULT, 0, null],
  ])('%s stays the service\'s CONN_SOAP_FAULT', async (_name, err, at, checkpoint) => {
    expect(await errorOf(readWith(TOKEN_STREAM, failingAt(at, err), checkpoint))).toBe(err);
  });
});

describe('readSoapStream from a start the caller chose', () => {
  // `read --since 2025-12-01T00:00:00`: the service reads the offset-less start in its own zone
  // (+08:00) and answers from 2025-12-01T00:00:00+08:00 on, hours before the start read as UTC.
  const START: Checkpoint = { cursor: '2025-12-01T00:00:00', key: null };
  const answer = [order('A', '2025-12-01T03:00:00+08:00'), order('B', '2025-12-02T00:00:00+08:00')];
  const WINDOW_STREAM: SoapStreamOptions = { ...TOKEN_STREAM, args: { from: '{{window.since}}', to: '{{window.until}}' }, page: { window: '1d' } };

  it.each([
    ['token pages', TOKEN_STREAM],
    ['a single call', SINGLE_STREAM],
    ['time windows', WINDOW_STREAM],
  ])('%s: every record the service answers is handed out, none filtered against the start read as UTC', async (_name, stream) => {
    let calls = 0;
    const call: OperationCall = async () => ({ orders: calls++ === 0 ? { order: answer } : null });
    const out: SourceRecord[] = [];
    const options = { batchSize: 10, pageSize: 2, source: 'orders_soap', stream: 'orders', now: Date.parse('2025-12-03T00:00:00Z') };
    for await (const batch of readSoapStream(stream, START, options, call)) out.push(...batch.records);
    expect(out.map((r) => r.orderNo)).toEqual(['A', 'B']);
  });
});
