/**
 * The soap connector against a small HTTP server started here (no stack): the WSDL fetch's
 * overall deadline, lookup parameters that would change the request's XML, and records the
 * connector refuses rather than cut. The WSDL is the demo's file, its address rewritten.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import { spec } from '../../connectors/soap.js';
import type { Batch, Connector } from '../../connectors/types.js';
import { errorOf } from '../helpers/errors.js';

interface FakeService {
  wsdlUrl: string;
  requests: { method: string; body: string }[];
  /** WSDL answers that trickle instead of being sent: the first `slowWsdl` GETs. */
  slowWsdl: number;
  /** How many trickling answers the client has hung up on. */
  slowClosed: number;
}

let ordersWsdl: string;
const opened: Connector[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  ordersWsdl = await readFile(path.join(PROJECT_ROOT, 'demo/php/orders/orders.wsdl'), 'utf8');
});

afterAll(async () => {
  for (const conn of opened) await conn.close();
  for (const close of closers) await close();
});

/** Serves the WSDL on GET (a trickle for the first `slowWsdl`) and `reply(body)` on POST. */
async function fakeService(reply: (body: string) => string, slowWsdl = 0): Promise<FakeService> {
  const fake: FakeService = { wsdlUrl: '', requests: [], slowWsdl, slowClosed: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      fake.requests.push({ method: req.method ?? '', body });
      res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
      if (req.method !== 'GET') {
        res.end(reply(body));
      } else if (fake.requests.filter((r) => r.method === 'GET').length <= fake.slowWsdl) {
        // A byte every 100 ms: never idle long enough for a socket timeout to fire.
        const timer = setInterval(() => res.write(' '), 100);
        res.on('close', () => {
          clearInterval(timer);
          fake.slowClosed += 1;
        });
      } else {
        res.end(ordersWsdl.replaceAll('http://localhost/orders.php', `${fake.wsdlUrl.split('?')[0]}`));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.wsdlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/svc?wsdl`;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the trickling WSDL answer never ends by itself
      }),
  );
  return fake;
}

function connector(fake: FakeService, timeoutMs = 5000): Connector {
  // The spec's order-service example (token-paged orders), pointed at the fake service. The
  // lookup's own deadline is generous: a lookup expected to answer (WSDL fetched and parsed,
  // then the call) must not time out because the machine is loaded; tests of a deadline pass theirs.
  const config = spec.config.parse({
    ...spec.examples[0],
    wsdl: fake.wsdlUrl,
    timeout_ms: timeoutMs,
    lookups: { order_status: { operation: 'getOrderStatus', params: ['orderNo'], args: { orderNo: '{{params.orderNo}}' }, timeout_ms: 5000 } },
  });
  const conn = createConnector('orders_soap_local', config, { log: silentLogger });
  opened.push(conn);
  return conn;
}

const envelope = (body: string) =>
  '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:retail:orders">' +
  `<SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;

const statusReply = (extra = '') =>
  envelope(`<ns1:getOrderStatusResponse><ns1:orderNo>SO1</ns1:orderNo><ns1:status>PAID</ns1:status>${extra}</ns1:getOrderStatusResponse>`);

const order = (no: string, at: string, extra = '') =>
  `<order><orderNo>${no}</orderNo><status>PAID</status><totalAmount>1.00</totalAmount><currency>CNY</currency>` +
  `<createdAt>${at}</createdAt><updatedAt>${at}</updatedAt>${extra}</order>`;

/** `levels` nested elements around a text. */
const deep = (levels: number) => '<x>'.repeat(levels) + 'v' + '</x>'.repeat(levels);

const posts = (fake: FakeService) => fake.requests.filter((r) => r.method === 'POST');

async function readAll(conn: Connector, stream: string): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of conn.read(stream, null)) batches.push(batch);
  return batches;
}

async function until(done: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  return done();
}

describe('soap connector WSDL deadline', () => {
  it('a trickling WSDL answer is cut at timeout_ms and forgotten: the next lookup fetches the WSDL again', async () => {
    const fake = await fakeService(() => statusReply(), 1);
    // The WSDL deadline also bounds the second lookup's fetch and parse of the WSDL: not too tight.
    const conn = connector(fake, 1500);
    // The lookup gives up first; the WSDL answer goes on trickling until its own deadline.
    expect((await errorOf(conn.lookup('order_status', { orderNo: 'SO1' }, { timeoutMs: 300 }))).code).toBe('CONN_TIMEOUT');
    // The client hangs up on the slow answer at the WSDL deadline (its socket destroyed).
    expect(await until(() => fake.slowClosed === 1, 10_000)).toBe(true);
    expect(await conn.lookup('order_status', { orderNo: 'SO1' })).toMatchObject({ orderNo: 'SO1', status: 'PAID' });
    expect(fake.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'POST']);
  });

  it('a call waiting longer than the WSDL deadline fails with a retryable CONN_TIMEOUT naming the source', async () => {
    const fake = await fakeService(() => statusReply(), 1);
    const conn = connector(fake, 300);
    const err = await errorOf(conn.lookup('order_status', { orderNo: 'SO1' }, { timeoutMs: 5000 }));
    expect(err.code).toBe('CONN_TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(err.where).toEqual({ source: 'orders_soap_local' });
    expect(err.message).toMatch(/WSDL: not read within 300 ms/);
  });
});

describe('soap connector lookup parameters', () => {
  it.each([
    ['a whole CDATA section, which the soap package sends unescaped', '<![CDATA[]]></orderNo><orderNo>SOMEONE-ELSES</orderNo><x><![CDATA[]]>'],
    ['a CDATA end inside a value', 'SO1]]><orderNo>SO2</orderNo>'],
    ['a CDATA start inside a value', 'SO1<![CDATA[x'],
  ])('%s: CONN_UNSAFE_PARAM naming the parameter and source, nothing sent', async (_name, value) => {
    const fake = await fakeService(() => statusReply());
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: value }));
    expect(err.code).toBe('CONN_UNSAFE_PARAM');
    expect(err.where).toEqual({ source: 'orders_soap_local' });
    expect(err.details).toMatchObject({ param: 'orderNo' });
    expect(err.message).toMatch(/^lookup order_status: parameter orderNo /);
    expect(posts(fake)).toEqual([]);
  });

  it('a null parameter is missing (CONN_UNKNOWN_LOOKUP), not an argument silently left out', async () => {
    const fake = await fakeService(() => statusReply());
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: null }));
    expect(err.code).toBe('CONN_UNKNOWN_LOOKUP');
    expect(err.where).toEqual({ source: 'orders_soap_local' });
    expect(err.message).toBe('lookup order_status needs parameter orderNo');
    expect(posts(fake)).toEqual([]);
  });

  it('markup in an ordinary value is sent escaped', async () => {
    const fake = await fakeService(() => statusReply());
    await connector(fake).lookup('order_status', { orderNo: 'a<b>&c' });
    expect(posts(fake)[0]!.body).toContain('<orderNo>a&lt;b&gt;&amp;c</orderNo>');
  });
});

describe('soap connector responses', () => {
  it('a stream record nested too deep fails the read with CONN_BAD_RESPONSE naming source, stream and key', async () => {
    const page = order('O1', '2025-01-01T00:00:00+08:00') + order('O2', '2025-01-02T00:00:00+08:00', `<lines>${deep(70)}</lines>`);
    const fake = await fakeService(() => envelope(`<ns1:listOrdersUpdatedSinceResponse><orders>${page}</orders></ns1:listOrdersUpdatedSinceResponse>`));
    const err = await errorOf(readAll(connector(fake), 'orders'));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.where).toEqual({ source: 'orders_soap_local', key: 'O2' });
    expect(err.details).toMatchObject({ stream: 'orders', operation: 'listOrdersUpdatedSince', maxDepth: 64 });
  });

  it('a lookup answer nested too deep is CONN_BAD_RESPONSE naming the lookup and source', async () => {
    const fake = await fakeService(() => statusReply(`<ns1:extra>${deep(70)}</ns1:extra>`));
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.where).toMatchObject({ source: 'orders_soap_local' });
    expect(err.message).toMatch(/^lookup order_status: getOrderStatus response: .*nested deeper than 64 levels/);
  });

  it('token paging ends at an empty page though the service hands out another token', async () => {
    const fake = await fakeService((body) => {
      const first = !body.includes('pageToken>');
      const records = first ? order('O1', '2025-01-01T00:00:00+08:00') : '';
      // Past 20 calls the token stops, so a reader that pages on fails quickly, not by timeout.
      const n = posts(fake).length;
      const token = n < 20 ? `<nextPageToken>t${n}</nextPageToken>` : '';
      return envelope(`<ns1:listOrdersUpdatedSinceResponse><orders>${records}</orders>${token}</ns1:listOrdersUpdatedSinceResponse>`);
    });
    const batches = await readAll(connector(fake), 'orders');
    expect(batches.flatMap((b) => b.records.map((r) => r.orderNo))).toEqual(['O1']);
    expect(posts(fake)).toHaveLength(2);
  });
});
