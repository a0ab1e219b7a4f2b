/** The SOAP stream reader on a scripted service: the (cursor, key) order check resuming relies on. */
import { describe, expect, it } from 'vitest';
import { readSoapStream, type OperationCall, type SoapStreamOptions } from '../../connectors/soap/reader.js';
import type { Checkpoint, SourceRecord } from '../../connectors/types.js';
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
