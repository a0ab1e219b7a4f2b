/**
 * The soap connector against the stack's PHP SoapServer (orders_soap, backed by PostgreSQL
 * `junction_estate`, schema `orders_legacy`), plus small local HTTP servers started here for
 * what the real service cannot do on demand: hang, send hostile XML, require auth, page by
 * time window. Expectations come from the database directly. Scratch orders are numbered
 * `ZZCONNTEST-…` and deleted afterwards.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings, withDatabase } from '../../config/env.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import { spec } from '../../connectors/soap.js';
import type { Batch, Checkpoint, Connector, ReadOptions, SourceRecord } from '../../connectors/types.js';
import { seedFixture } from '../demo/estate-fixture.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { errorOf } from '../helpers/errors.js';

const settings = stackSettings();
const WSDL_URL = settings.services.orders_soap.url;
const SCRATCH = 'ZZCONNTEST-';

let db: pg.Client;
let ordersWsdl: string;
const opened: Connector[] = [];
const closers: (() => Promise<void>)[] = [];

const ORDERS_STREAM = {
  operation: 'listOrdersUpdatedSince',
  args: { since: '{{cursor}}', pageToken: '{{page.token}}', pageSize: '{{page.size}}' },
  cursor: 'updatedAt',
  key: 'orderNo',
  page: { token: 'nextPageToken', size: 200 },
  record_path: 'orders.order',
};

/** A connector built from YAML-shaped config through the registry, like config/junction.yaml's orders_soap. */
function connector(extra: Record<string, unknown> = {}): Connector {
  const config = spec.config.parse({
    type: 'soap',
    wsdl: WSDL_URL,
    timeout_ms: 10_000,
    streams: { orders: ORDERS_STREAM, bad_since: { ...ORDERS_STREAM, args: { since: 'not-a-date' } } },
    lookups: { order_status: { operation: 'getOrderStatus', params: ['orderNo'], args: { orderNo: '{{params.orderNo}}' }, timeout_ms: 5000 } },
    ...extra,
  });
  const conn = createConnector('orders_soap_test', config, { log: silentLogger });
  opened.push(conn);
  return conn;
}

async function readAll(conn: Connector, stream: string, checkpoint: Checkpoint | null = null, options: ReadOptions = {}): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of conn.read(stream, checkpoint, options)) batches.push(batch);
  return batches;
}

const recordsOf = (batches: Batch[]): SourceRecord[] => batches.flatMap((b) => b.records);

/** sha256 over `orderNo|epoch ms` lines, in the order given. */
function ordersHash(rows: { orderNo: string; ms: number }[]): string {
  return createHash('sha256')
    .update(rows.map((r) => `${r.orderNo}|${r.ms}`).join('\n'))
    .digest('hex');
}

async function dbOrders(): Promise<{ orderNo: string; ms: number }[]> {
  const { rows } = await db.query<{ order_no: string; updated_at: Date }>(
    'SELECT order_no, updated_at FROM orders_legacy.orders ORDER BY updated_at, order_no',
  );
  return rows.map((r) => ({ orderNo: r.order_no, ms: r.updated_at.getTime() }));
}

/** `updatedAt` as text keeps microseconds, which a Date would round to milliseconds. */
async function insertScratch(orderNos: string[], updatedAt: Date | string): Promise<void> {
  await db.query(
    `INSERT INTO orders_legacy.orders (order_no, customer_no, contact_phone, status, total_amount, currency, created_at, updated_at)
     SELECT no, NULL, NULL, 'PAID', 12.30, 'CNY', $2, $2 FROM unnest($1::text[]) AS no`,
    [orderNos, updatedAt],
  );
}

const deleteScratch = () => db.query('DELETE FROM orders_legacy.orders WHERE order_no LIKE $1', [`${SCRATCH}%`]);

beforeAll(async () => {
  db = new pg.Client({ connectionString: withDatabase(settings.services.postgres.url, settings.estateDatabase) });
  await db.connect();
  const present = await db.query("SELECT to_regclass('orders_legacy.orders') IS NOT NULL AS ok");
  const count = present.rows[0].ok ? Number((await db.query('SELECT count(*) FROM orders_legacy.orders')).rows[0].count) : 0;
  // Only when the estate is not there: reseeding is idempotent but other suites share it.
  if (count === 0) await (await seedFixture()).db.end();
  await deleteScratch();
  ordersWsdl = await readFile(path.join(PROJECT_ROOT, 'demo/php/orders/orders.wsdl'), 'utf8');
});

afterAll(async () => {
  for (const conn of opened) await conn.close().catch(() => undefined);
  for (const close of closers) await close();
  if (db) {
    await deleteScratch();
    await db.end();
  }
});

describe('soap connector against the PHP order service', () => {
  it('reads every order: count, hash over (orderNo, updatedAt) and order equal the database', async () => {
    const expected = await dbOrders();
    const batches = await readAll(connector(), 'orders');
    const got = recordsOf(batches).map((r) => ({ orderNo: r.orderNo as string, ms: Date.parse(r.updatedAt as string) }));
    expect(got).toHaveLength(expected.length);
    expect(ordersHash(got)).toBe(ordersHash(expected));
    expect(batches.slice(0, -1).every((b) => b.records.length === 200)).toBe(true);
    // Values as received: times keep the service's +08:00, decimals stay exact strings.
    const sample = recordsOf(batches)[0]!;
    expect(sample.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    const { rows } = await db.query('SELECT total_amount::text AS t FROM orders_legacy.orders WHERE order_no = $1', [sample.orderNo]);
    expect(sample.totalAmount).toBe(rows[0].t);
    expect(batches.at(-1)!.checkpoint).toEqual({ cursor: recordsOf(batches).at(-1)!.updatedAt, key: expected.at(-1)!.orderNo });
  });

  it('reads after the last checkpoint exactly the orders updated or inserted since', async () => {
    const { rows } = await db.query<{ max: Date }>('SELECT max(updated_at) AS max FROM orders_legacy.orders');
    const t0 = new Date(rows[0]!.max.getTime() + 86_400_000);
    const [a, b, c] = [`${SCRATCH}INC-A`, `${SCRATCH}INC-B`, `${SCRATCH}INC-C`];
    try {
      await insertScratch([a], t0);
      const conn = connector();
      const full = await readAll(conn, 'orders');
      const checkpoint = full.at(-1)!.checkpoint!;
      expect(checkpoint.key).toBe(a);
      expect(Date.parse(checkpoint.cursor as string)).toBe(t0.getTime());

      await db.query('UPDATE orders_legacy.orders SET updated_at = $2, status = $3 WHERE order_no = $1', [a, new Date(t0.getTime() + 3_600_000), 'SHIPPED']);
      await insertScratch([b], new Date(t0.getTime() + 3_601_000));
      // Same updatedAt as the checkpoint and a later key: strictly after it, so it must come.
      await insertScratch([c], t0);

      const next = recordsOf(await readAll(conn, 'orders', checkpoint));
      expect(next.map((r) => [r.orderNo, r.status])).toEqual([
        [c, 'PAID'],
        [a, 'SHIPPED'],
        [b, 'PAID'],
      ]);
    } finally {
      await deleteScratch();
    }
  });

  it('cursor ties: 1,000 orders sharing one updated_at, batches of 64: each exactly once, also when resumed mid-tie', async () => {
    const before = (await dbOrders()).at(-1)!;
    const at = new Date(before.ms + 10 * 86_400_000);
    const nos = Array.from({ length: 1000 }, (_, i) => `${SCRATCH}TIE-${String(i).padStart(4, '0')}`);
    try {
      await insertScratch(nos, at);
      const conn = connector();
      // From the checkpoint of the last real order: exactly the scratch orders follow.
      const start: Checkpoint = { cursor: new Date(before.ms).toISOString(), key: before.orderNo };
      const batches = await readAll(conn, 'orders', start, { batchSize: 64 });
      // Pages of 200 (the stream's page.size) cut into batches of 64: the first page starts
      // with the checkpoint's own order (the service answers updatedAt >= since), which is
      // dropped, so a batch spans two pages now and then.
      expect(batches.map((b) => b.records.length)).toEqual([...Array(15).fill(64), 40]);
      expect(recordsOf(batches).map((r) => r.orderNo)).toEqual(nos);

      // Resuming inside the tie group: the service is asked again from that updatedAt and the
      // connector drops what the checkpoint already covers.
      const mid = batches[4]!.checkpoint!;
      expect(Date.parse(mid.cursor as string)).toBe(at.getTime());
      expect(mid.key).toBe(nos[5 * 64 - 1]);
      const rest = recordsOf(await readAll(conn, 'orders', mid, { batchSize: 64 })).map((r) => r.orderNo);
      expect(rest).toEqual(nos.slice(5 * 64));
    } finally {
      await deleteScratch();
    }
  });

  it('orders changed at different microseconds of one second: each read across a resume, updatedAt at full precision', async () => {
    const before = (await dbOrders()).at(-1)!;
    // A whole second well after every real order, written as Shanghai wall clock.
    const second = new Date(Math.ceil(before.ms / 1000) * 1000 + 30 * 86_400_000).toISOString().replace('.000Z', '');
    const [a, b, c] = [`${SCRATCH}SUB-A`, `${SCRATCH}SUB-B`, `${SCRATCH}SUB-C`];
    try {
      await insertScratch([b], `${second}.100123Z`);
      const conn = connector();
      const start: Checkpoint = { cursor: new Date(before.ms).toISOString(), key: before.orderNo };
      const first = await readAll(conn, 'orders', start);
      expect(recordsOf(first).map((r) => r.orderNo)).toEqual([b]);
      const checkpoint = first.at(-1)!.checkpoint!;

      // Later in the same second, under smaller and larger keys than the checkpoint's.
      await insertScratch([a], `${second}.800456Z`);
      await insertScratch([c], `${second}.100124Z`);
      const next = recordsOf(await readAll(conn, 'orders', checkpoint));
      expect(next.map((r) => r.orderNo)).toEqual([c, a]);
      const shanghai = (iso: string) => new Date(Date.parse(`${iso}Z`) + 8 * 3_600_000).toISOString().slice(0, 19);
      expect(next.map((r) => r.updatedAt)).toEqual([`${shanghai(second)}.100124+08:00`, `${shanghai(second)}.800456+08:00`]);
    } finally {
      await deleteScratch();
    }
  });

  it('asks for page.size records per call whatever the batch size: a batch beyond the service maximum (1000) spans pages', async () => {
    const before = (await dbOrders()).at(-1)!;
    const nos = Array.from({ length: 1200 }, (_, i) => `${SCRATCH}BIG-${String(i).padStart(4, '0')}`);
    try {
      await insertScratch(nos, new Date(before.ms + 20 * 86_400_000));
      const start: Checkpoint = { cursor: new Date(before.ms).toISOString(), key: before.orderNo };
      const batches = await readAll(connector(), 'orders', start, { batchSize: 1100 });
      expect(batches.map((b) => b.records.length)).toEqual([1100, 100]);
      expect(recordsOf(batches).map((r) => r.orderNo)).toEqual(nos);
      expect(batches[0]!.checkpoint!.key).toBe(nos[1099]);
    } finally {
      await deleteScratch();
    }
  });

  it('a SOAP fault becomes CONN_SOAP_FAULT with faultcode and faultstring; Client faults are not retryable', async () => {
    const err = await errorOf(readAll(connector(), 'bad_since'));
    expect(err.code).toBe('CONN_SOAP_FAULT');
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({ faultcode: 'SOAP-ENV:Client', faultstring: expect.stringMatching(/since must be an xs:dateTime/), httpStatus: 500 });

    const notFound = await errorOf(connector().lookup('order_status', { orderNo: `${SCRATCH}NO-SUCH-ORDER` }));
    expect(notFound.code).toBe('CONN_SOAP_FAULT');
    expect(notFound.details).toMatchObject({ faultcode: 'SOAP-ENV:Client', faultstring: `order not found: ${SCRATCH}NO-SUCH-ORDER` });
  });

  it('a start the service refuses (read --since 1700000000, a date without a time) is CONN_CURSOR naming the start and the fault; a fault about another argument is not', async () => {
    for (const since of ['1700000000', '2025-01-01']) {
      const err = await errorOf(readAll(connector(), 'orders', { cursor: since, key: null }));
      expect(err.code).toBe('CONN_CURSOR');
      expect(err.where).toEqual({ source: 'orders_soap_test' });
      expect(err.details).toMatchObject({ checkpoint: { cursor: since, key: null }, operation: 'listOrdersUpdatedSince', argument: 'since', faultcode: 'SOAP-ENV:Client' });
      expect(err.message).toBe(
        `stream orders: the start ${since} does not fit its cursor (updatedAt): listOrdersUpdatedSince refused it in argument since with SOAP fault SOAP-ENV:Client: since must be an xs:dateTime, e.g. 2025-01-01T00:00:00+08:00`,
      );
    }
    // Past the service's largest page (1000): its fault names pageSize, not the start.
    const tooBig = connector({ streams: { orders: { ...ORDERS_STREAM, page: { token: 'nextPageToken', size: 5000 } } } });
    const err = await errorOf(readAll(tooBig, 'orders', { cursor: '2025-01-01T00:00:00+08:00', key: null }));
    expect(err.code).toBe('CONN_SOAP_FAULT');
    expect(err.details).toMatchObject({ faultcode: 'SOAP-ENV:Client', faultstring: expect.stringMatching(/^pageSize must be between 1 and/) });
  });

  it('looks up an order status live', async () => {
    const { rows } = await db.query('SELECT order_no, status, updated_at FROM orders_legacy.orders WHERE order_no NOT LIKE $1 ORDER BY order_no LIMIT 1', [`${SCRATCH}%`]);
    const status = (await connector().lookup('order_status', { orderNo: rows[0].order_no })) as SourceRecord;
    expect(status).toMatchObject({ orderNo: rows[0].order_no, status: rows[0].status });
    expect(Date.parse(status.updatedAt as string)).toBe((rows[0].updated_at as Date).getTime());
  });

  it('refuses non-scalar lookup parameters (CONN_UNSAFE_PARAM) and missing ones (CONN_UNKNOWN_LOOKUP)', async () => {
    expect((await errorOf(connector().lookup('order_status', { orderNo: { $gt: '' } }))).code).toBe('CONN_UNSAFE_PARAM');
    expect((await errorOf(connector().lookup('order_status', { orderNo: ['a', 'b'] }))).code).toBe('CONN_UNSAFE_PARAM');
    expect((await errorOf(connector().lookup('order_status', {}))).code).toBe('CONN_UNKNOWN_LOOKUP');
  });

  it('check() reads the WSDL and finds the operations; discover() gives the order fields from the WSDL types', async () => {
    expect(await connector().check()).toMatchObject({ ok: true });
    const missing = await connector({ lookups: { x: { operation: 'getInvoice', params: ['n'] } } }).check();
    expect(missing).toMatchObject({ ok: false, code: 'CONN_BAD_RESPONSE', detail: 'WSDL lacks operation(s) getInvoice' });
    const [orders] = await connector().discover();
    const fields = Object.fromEntries(orders!.fields.map((f) => [f.name, f]));
    expect(orders!.cursor).toEqual(['updatedAt', 'orderNo']);
    expect(fields.orderNo).toEqual({ name: 'orderNo', type: 'string', nullable: false });
    expect(fields.updatedAt).toEqual({ name: 'updatedAt', type: 'datetime', nullable: false });
    expect(fields.totalAmount?.type).toBe('string');
    expect(fields.lines?.type).toBe('object');
  });

  it('discover() refuses a record_path the WSDL does not have (CONN_BAD_RESPONSE), as read() does, instead of a stream without fields', async () => {
    const typo = connector({ streams: { orders: { ...ORDERS_STREAM, record_path: 'orders.ordr' } } });
    const err = await errorOf(typo.discover());
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.message).toContain('record_path orders.ordr is not in the WSDL');
  });

  it('reads the WSDL from a file:// URL; a file with a DTD is refused like a fetched one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'junction-soap-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const service = new URL(WSDL_URL);
    const wsdl = ordersWsdl.replaceAll('http://localhost/orders.php', `${service.origin}${service.pathname}`);
    await writeFile(path.join(dir, 'orders.wsdl'), wsdl);
    await writeFile(path.join(dir, 'hostile.wsdl'), `<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n${wsdl.replace(/^<\?xml[^>]*>/, '')}`);
    const { rows } = await db.query('SELECT order_no, status FROM orders_legacy.orders WHERE order_no NOT LIKE $1 LIMIT 1', [`${SCRATCH}%`]);
    const fromFile = connector({ wsdl: pathToFileURL(path.join(dir, 'orders.wsdl')).href });
    expect(await fromFile.lookup('order_status', { orderNo: rows[0].order_no })).toMatchObject({ status: rows[0].status });
    const hostile = connector({ wsdl: pathToFileURL(path.join(dir, 'hostile.wsdl')).href });
    expect(await hostile.check()).toMatchObject({ ok: false, code: 'CONN_XML_REFUSED' });
  });

  it('stops with CONN_ABORTED when the signal fires between pages', async () => {
    const controller = new AbortController();
    let seen = 0;
    const err = await errorOf(
      (async () => {
        for await (const _batch of connector().read('orders', null, { batchSize: 10, signal: controller.signal })) {
          seen += 1;
          controller.abort();
        }
      })(),
    );
    expect(err.code).toBe('CONN_ABORTED');
    expect(seen).toBe(1);
  });

  it('the service going down mid-read (proxy cut after the first batch): retryable CONN_UNREACHABLE, only complete batches checkpointed', async () => {
    const target = new URL(WSDL_URL);
    const proxy: TcpProxy = await startTcpProxy(target.hostname, Number(target.port || 80));
    closers.push(() => proxy.destroy());
    // Pages of 50: the read still has pages to fetch after the cut whatever estate another
    // suite seeded last (a few hundred orders at the smallest), even with one page read ahead.
    const conn = connector({
      wsdl: `http://127.0.0.1:${proxy.port}${target.pathname}${target.search}`,
      streams: { orders: { ...ORDERS_STREAM, page: { token: 'nextPageToken', size: 50 } } },
    });
    const checkpoints: (Checkpoint | null)[] = [];
    const err = await errorOf(
      (async () => {
        for await (const batch of conn.read('orders', null, { batchSize: 50 })) {
          checkpoints.push(batch.checkpoint);
          if (checkpoints.length === 1) await proxy.destroy();
        }
      })(),
    );
    expect(err.code).toBe('CONN_UNREACHABLE');
    expect(err.retryable).toBe(true);
    const first = (await dbOrders())[49]!;
    expect(checkpoints).toHaveLength(1);
    expect(checkpoints[0]!.key).toBe(first.orderNo);
    expect(Date.parse(checkpoints[0]!.cursor as string)).toBe(first.ms);
  });
});

/** What a fake service answers to one POST. */
interface Reply {
  status?: number;
  body: string;
  delayMs?: number;
  contentType?: string;
}

interface FakeService {
  url: string;
  wsdlUrl: string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  /** Requests to paths other than the service's (e.g. an external entity's URL). */
  strayHits: string[];
  answered: boolean;
}

/**
 * A local HTTP server that serves `wsdl` (its address rewritten to itself, after an
 * optional `wsdlPrefix`) at `/svc?wsdl` and answers POSTs with `reply(body)`.
 */
async function fakeService(wsdl: string, reply: (body: string) => Reply, wsdlPrefix = ''): Promise<FakeService> {
  const fake: FakeService = { url: '', wsdlUrl: '', requests: [], strayHits: [], answered: false };
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      fake.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (!req.url?.startsWith('/svc')) {
        fake.strayHits.push(req.url ?? '');
        res.end('root:x:0:0:probe');
        return;
      }
      if (req.method === 'GET') {
        res.setHeader('Content-Type', 'text/xml; charset=utf-8');
        res.end(wsdlPrefix + wsdl.replaceAll('http://localhost/orders.php', `${fake.url}/svc`));
        return;
      }
      const r = reply(body);
      const send = () => {
        if (res.destroyed) return;
        fake.answered = true;
        res.writeHead(r.status ?? 200, { 'Content-Type': r.contentType ?? 'text/xml; charset=utf-8' });
        res.end(r.body);
      };
      if (r.delayMs) {
        const timer = setTimeout(send, r.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else send();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.wsdlUrl = `${fake.url}/svc?wsdl`;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return fake;
}

const ENV_OPEN = '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:retail:orders"><SOAP-ENV:Body>';
const ENV_CLOSE = '</SOAP-ENV:Body></SOAP-ENV:Envelope>';

function statusEnvelope(status: string, prolog = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n${prolog}${ENV_OPEN}<ns1:getOrderStatusResponse><ns1:orderNo>SO1</ns1:orderNo>` +
    `<ns1:status>${status}</ns1:status><ns1:updatedAt>2025-01-01T08:00:00+08:00</ns1:updatedAt></ns1:getOrderStatusResponse>${ENV_CLOSE}`
  );
}

const BILLION_LAUGHS =
  '<!DOCTYPE lolz [<!ENTITY lol "lol">' +
  Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
  ']>';

describe('soap connector against hostile and broken services', () => {
  function fakeConnector(fake: FakeService, extra: Record<string, unknown> = {}): Connector {
    return connector({ wsdl: fake.wsdlUrl, streams: {}, lookups: { order_status: { operation: 'getOrderStatus', params: ['orderNo'], timeout_ms: 2000 } }, ...extra });
  }

  it('a lookup against a slow endpoint fails with CONN_TIMEOUT before the service answers', async () => {
    const fake = await fakeService(ordersWsdl, () => ({ body: statusEnvelope('PAID'), delayMs: 20_000 }));
    const conn = fakeConnector(fake);
    const err = await errorOf(conn.lookup('order_status', { orderNo: 'SO1' }, { timeoutMs: 300 }));
    expect(err.code).toBe('CONN_TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(fake.answered).toBe(false);
  });

  it('refuses an XXE response (file:///etc/passwd) with CONN_XML_REFUSED, never reading the file, and keeps working', async () => {
    const passwd = await readFile('/etc/passwd', 'utf8');
    let hostile = true;
    const fake = await fakeService(ordersWsdl, () => ({
      body: hostile ? statusEnvelope('&xxe;', '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n') : statusEnvelope('PAID'),
    }));
    const conn = fakeConnector(fake);
    const err = await errorOf(conn.lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_XML_REFUSED');
    const shown = JSON.stringify({ message: err.message, details: err.details, cause: String(err.cause) });
    expect(shown).not.toContain(passwd.split('\n')[0]);
    expect(shown).not.toContain('root:x:0:0');
    hostile = false;
    expect(await conn.lookup('order_status', { orderNo: 'SO1' })).toMatchObject({ status: 'PAID' });
  });

  it('never fetches an external entity URL', async () => {
    const fake: FakeService = await fakeService(ordersWsdl, () => ({
      body: statusEnvelope('&xxe;', `<!DOCTYPE r [<!ENTITY xxe SYSTEM "${fake.url}/xxe-probe">]>\n`),
    }));
    const err = await errorOf(fakeConnector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_XML_REFUSED');
    expect(fake.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
    expect(fake.strayHits).toEqual([]);
  });

  it('refuses a billion-laughs response with CONN_XML_REFUSED', async () => {
    const fake = await fakeService(ordersWsdl, () => ({ body: statusEnvelope('&lol9;', BILLION_LAUGHS) }));
    const err = await errorOf(fakeConnector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_XML_REFUSED');
    expect(err.details).toEqual({ declaration: 'DOCTYPE' });
  });

  it('refuses a WSDL with a DTD: check() reports CONN_XML_REFUSED and calls fail with it', async () => {
    const fake = await fakeService(ordersWsdl, () => ({ body: statusEnvelope('PAID') }), '<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n');
    const conn = fakeConnector(fake);
    expect(await conn.check()).toMatchObject({ ok: false, code: 'CONN_XML_REFUSED' });
    expect((await errorOf(conn.lookup('order_status', { orderNo: 'SO1' }))).code).toBe('CONN_XML_REFUSED');
    expect(fake.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('caps the response size with CONN_BAD_RESPONSE', async () => {
    const fake = await fakeService(ordersWsdl, () => ({ body: statusEnvelope('X'.repeat(64 * 1024)) }));
    const err = await errorOf(fakeConnector(fake, { max_response_bytes: 16 * 1024 }).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
  });

  it('an HTML 500 page is a retryable CONN_HTTP_ERROR; an HTTP 200 without an envelope is CONN_BAD_RESPONSE', async () => {
    let reply: Reply = { status: 500, contentType: 'text/html', body: '<html><body><h1>500 Internal Server Error</h1></body></html>' };
    const fake = await fakeService(ordersWsdl, () => reply);
    const conn = fakeConnector(fake);
    const err = await errorOf(conn.lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_HTTP_ERROR');
    expect(err.retryable).toBe(true);
    expect(err.details).toEqual({ httpStatus: 500 });
    reply = { status: 200, body: '<?xml version="1.0"?><html><body>maintenance</body></html>' };
    expect((await errorOf(conn.lookup('order_status', { orderNo: 'SO1' }))).code).toBe('CONN_BAD_RESPONSE');
  });

  it('a Server fault is retryable and keeps faultcode and faultstring', async () => {
    const fault = `${ENV_OPEN}<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>database error: 08006</faultstring></SOAP-ENV:Fault>${ENV_CLOSE}`;
    const fake = await fakeService(ordersWsdl, () => ({ status: 500, body: fault }));
    const err = await errorOf(fakeConnector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_SOAP_FAULT');
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ faultcode: 'SOAP-ENV:Server', faultstring: 'database error: 08006' });
  });

  it('sends basic auth on the WSDL fetch and the calls, and a WS-Security UsernameToken in the envelope', async () => {
    const fake = await fakeService(ordersWsdl, () => ({ body: statusEnvelope('PAID') }));
    await fakeConnector(fake, { auth: { type: 'basic', username: 'hub', password: 's3cret' } }).lookup('order_status', { orderNo: 'SO1' });
    const basic = `Basic ${Buffer.from('hub:s3cret').toString('base64')}`;
    expect(fake.requests.map((r) => [r.method, r.headers.authorization])).toEqual([
      ['GET', basic],
      ['POST', basic],
    ]);

    const wsse = await fakeService(ordersWsdl, () => ({ body: statusEnvelope('PAID') }));
    await fakeConnector(wsse, { auth: { type: 'wsse', username: 'hub', password: 's3cret' } }).lookup('order_status', { orderNo: 'SO1' });
    const post = wsse.requests.find((r) => r.method === 'POST')!;
    expect(post.body).toMatch(/<wsse:UsernameToken[\s\S]*<wsse:Username>hub<\/wsse:Username>[\s\S]*PasswordText">s3cret<\/wsse:Password>/);
  });
});

/** A minimal list-by-time-window service: listChanged(from, to) → items whose changedAt is in [from, to). */
const WINDOW_WSDL = `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="Changes" targetNamespace="urn:test:changes" xmlns:tns="urn:test:changes"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types><xsd:schema targetNamespace="urn:test:changes" elementFormDefault="qualified">
    <xsd:complexType name="Item"><xsd:sequence>
      <xsd:element name="id" type="xsd:int"/><xsd:element name="changedAt" type="xsd:dateTime"/><xsd:element name="amount" type="xsd:decimal"/>
    </xsd:sequence></xsd:complexType>
    <xsd:complexType name="Items"><xsd:sequence><xsd:element name="item" type="tns:Item" minOccurs="0"/></xsd:sequence></xsd:complexType>
    <xsd:element name="listChanged"><xsd:complexType><xsd:sequence>
      <xsd:element name="from" type="xsd:dateTime"/><xsd:element name="to" type="xsd:dateTime"/>
    </xsd:sequence></xsd:complexType></xsd:element>
    <xsd:element name="listChangedResponse"><xsd:complexType><xsd:sequence><xsd:element name="items" type="tns:Items"/></xsd:sequence></xsd:complexType></xsd:element>
  </xsd:schema></wsdl:types>
  <wsdl:message name="listChangedRequest"><wsdl:part name="parameters" element="tns:listChanged"/></wsdl:message>
  <wsdl:message name="listChangedResponse"><wsdl:part name="parameters" element="tns:listChangedResponse"/></wsdl:message>
  <wsdl:portType name="ChangesPortType"><wsdl:operation name="listChanged">
    <wsdl:input message="tns:listChangedRequest"/><wsdl:output message="tns:listChangedResponse"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="ChangesBinding" type="tns:ChangesPortType"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="listChanged"><soap:operation soapAction="urn:test:changes#listChanged" style="document"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation></wsdl:binding>
  <wsdl:service name="Changes"><wsdl:port name="ChangesPort" binding="tns:ChangesBinding"><soap:address location="http://localhost/orders.php"/></wsdl:port></wsdl:service>
</wsdl:definitions>`;

describe('soap connector paging by time window', () => {
  // Four days back to now, by whole days. Day 1: one item (the service answers a lone
  // object); day 2: none; day 3: three, one exactly at the day boundary, listed out of
  // order; ids 4 and 5 share a changedAt. Day 1's time is written with +08:00.
  const DAY = 86_400_000;
  const base = Math.floor(Date.now() / DAY) * DAY - 4 * DAY;
  const utc = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const plus8 = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().replace('.000Z', '+08:00');
  const items = [
    { id: 1, changedAt: plus8(base + 10 * 3_600_000), amount: '1.10' },
    { id: 5, changedAt: utc(base + 2.5 * DAY), amount: '5.50' },
    { id: 3, changedAt: utc(base + 2 * DAY), amount: '3.30' },
    { id: 4, changedAt: utc(base + 2.5 * DAY), amount: '4.40' },
  ];
  const byId = (id: number) => items.find((i) => i.id === id)!;

  /** `cap`: the service returns at most this many items a call, earliest first, and says nothing of the rest. */
  async function windowService(cap = Infinity, extra: typeof items = []): Promise<{ fake: FakeService; windows: [string, string][] }> {
    const windows: [string, string][] = [];
    const fake = await fakeService(WINDOW_WSDL, (body) => {
      const from = /<(?:\w+:)?from>([^<]+)</.exec(body)![1]!;
      const to = /<(?:\w+:)?to>([^<]+)</.exec(body)![1]!;
      windows.push([from, to]);
      const hits = [...items, ...extra]
        .filter((i) => Date.parse(i.changedAt) >= Date.parse(from) && Date.parse(i.changedAt) < Date.parse(to))
        .sort((a, b) => Date.parse(a.changedAt) - Date.parse(b.changedAt) || a.id - b.id)
        .slice(0, cap);
      const xml = hits.map((i) => `<c:item><c:id>${i.id}</c:id><c:changedAt>${i.changedAt}</c:changedAt><c:amount>${i.amount}</c:amount></c:item>`).join('');
      return {
        body:
          '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:test:changes"><SOAP-ENV:Body>' +
          `<c:listChangedResponse><c:items>${xml}</c:items></c:listChangedResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
      };
    });
    return { fake, windows };
  }

  function windowConnector(fake: FakeService, page: { window: string; max?: number } = { window: '1d' }): Connector {
    return connector({
      wsdl: fake.wsdlUrl,
      lookups: {},
      streams: {
        changes: {
          operation: 'listChanged',
          args: { from: '{{window.since}}', to: '{{window.until}}' },
          cursor: ['changedAt', 'id'],
          key: 'id',
          page,
          record_path: 'items.item',
          start: utc(base),
        },
      },
    });
  }

  it('calls one window after another up to now; every record once, in (cursor, key) order, lone objects normalised', async () => {
    const { fake, windows } = await windowService();
    const batches = await readAll(windowConnector(fake), 'changes', null, { batchSize: 2 });
    expect(recordsOf(batches)).toEqual([byId(1), byId(3), byId(4), byId(5)]);
    // Batches of 2 across windows (item 1 and item 3 come from different windows).
    expect(batches.map((b) => b.checkpoint)).toEqual([
      { cursor: byId(3).changedAt, key: 3 },
      { cursor: byId(5).changedAt, key: 5 },
    ]);
    const at = (ms: number) => new Date(ms).toISOString();
    expect(windows.slice(0, 3)).toEqual([
      [utc(base), at(base + DAY)],
      [at(base + DAY), at(base + 2 * DAY)],
      [at(base + 2 * DAY), at(base + 3 * DAY)],
    ]);
    // Contiguous windows, the last one ending at the time the read started (not in the future).
    for (let i = 1; i < windows.length; i++) expect(windows[i]![0]).toBe(windows[i - 1]![1]);
    expect(Date.parse(windows.at(-1)![1])).toBeLessThanOrEqual(Date.now());
  });

  it('resumes from a checkpoint inside a window, comparing times as instants', async () => {
    const { fake, windows } = await windowService();
    // The same instant as item 4's checkpoint, written with another offset.
    const checkpoint = { cursor: plus8(base + 2.5 * DAY), key: 4 };
    const rest = recordsOf(await readAll(windowConnector(fake), 'changes', checkpoint));
    expect(rest.map((r) => r.id)).toEqual([5]);
    expect(windows[0]).toEqual([checkpoint.cursor, new Date(base + 3.5 * DAY).toISOString()]);
  });

  it('with page.max, splits a window the service filled and asks again: every record once, in order', async () => {
    // The service cuts each answer at 3 items; with item 6, day 3 holds four.
    const six = { id: 6, changedAt: utc(base + 2.8 * DAY), amount: '6.60' };
    const cut = await windowService(3, [six]);
    expect(recordsOf(await readAll(windowConnector(cut.fake), 'changes', null)).map((r) => r.id)).toEqual([1, 3, 4, 5]); // without max: 6 is lost
    const { fake, windows } = await windowService(3, [six]);
    const batches = await readAll(windowConnector(fake, { window: '1d', max: 3 }), 'changes', null, { batchSize: 2 });
    expect(recordsOf(batches)).toEqual([byId(1), byId(3), byId(4), byId(5), six]);
    const at = (ms: number) => new Date(ms).toISOString();
    // Day 3 asked whole (full), then by halves: [2d, 2.5d) holds item 3; [2.5d, 3d) is full
    // again (4, 5, 6), so by quarters: 4 and 5, then 6.
    expect(windows.slice(2, 7)).toEqual([
      [at(base + 2 * DAY), at(base + 3 * DAY)],
      [at(base + 2 * DAY), at(base + 2.5 * DAY)],
      [at(base + 2.5 * DAY), at(base + 3 * DAY)],
      [at(base + 2.5 * DAY), at(base + 2.75 * DAY)],
      [at(base + 2.75 * DAY), at(base + 3 * DAY)],
    ]);
  });

  it('with page.max, fails with CONN_BAD_RESPONSE when a one-second window is still full, instead of skipping records', async () => {
    // Items 4 and 5 share their changedAt: no window holds one without the other.
    const { fake } = await windowService(1);
    await expect(readAll(windowConnector(fake, { window: '1d', max: 1 }), 'changes', null)).rejects.toMatchObject({
      code: 'CONN_BAD_RESPONSE',
      message: expect.stringMatching(/returned 1 records for the window .* its max \(page\.max 1\): the service may have cut records off, and a window cannot be narrower than 1 s/),
    });
  });
});
