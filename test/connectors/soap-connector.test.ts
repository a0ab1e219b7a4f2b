/**
 * The soap connector against a small HTTP server started here (no stack): the WSDL fetch's
 * overall deadline, lookup parameters that would change the request's XML, and records the
 * connector refuses rather than cut. The WSDL is the demo's file, its address rewritten.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import { CUT_MARKER } from '../../connectors/json.js';
import { spec } from '../../connectors/soap.js';
import type { Batch, Connector } from '../../connectors/types.js';
import { canonicalJson } from '../../pipelines/map/canonical-json.js';
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

/** An answer other than a 200 text/xml envelope: a status, headers, raw bytes. */
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/**
 * Serves the WSDL on GET (a trickle for the first `slowWsdl`, or `wsdlReply` when given) and
 * `reply(body)` on POST.
 */
async function fakeService(reply: (body: string) => string | Reply, slowWsdl = 0, wsdlReply?: () => Reply): Promise<FakeService> {
  const fake: FakeService = { wsdlUrl: '', requests: [], slowWsdl, slowClosed: 0 };
  const send = (res: http.ServerResponse, answer: string | Reply) => {
    const r = typeof answer === 'string' ? { body: answer } : answer;
    res.writeHead(r.status ?? 200, r.headers ?? { 'Content-Type': 'text/xml; charset=utf-8' });
    res.end(r.body);
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      fake.requests.push({ method: req.method ?? '', body });
      if (req.method !== 'GET') {
        send(res, reply(body));
      } else if (wsdlReply) {
        send(res, wsdlReply());
      } else if (fake.requests.filter((r) => r.method === 'GET').length <= fake.slowWsdl) {
        res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
        // A byte every 100 ms: never idle long enough for a socket timeout to fire.
        const timer = setInterval(() => res.write(' '), 100);
        res.on('close', () => {
          clearInterval(timer);
          fake.slowClosed += 1;
        });
      } else {
        send(res, ordersWsdl.replaceAll('http://localhost/orders.php', `${fake.wsdlUrl.split('?')[0]}`));
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

function connector(fake: FakeService, timeoutMs = 5000, extra: Record<string, unknown> = {}): Connector {
  // The spec's order-service example (token-paged orders), pointed at the fake service. The
  // lookup's own deadline is generous: a lookup expected to answer (WSDL fetched and parsed,
  // then the call) must not time out because the machine is loaded; tests of a deadline pass theirs.
  const config = spec.config.parse({
    ...spec.examples[0],
    wsdl: fake.wsdlUrl,
    timeout_ms: timeoutMs,
    lookups: { order_status: { operation: 'getOrderStatus', params: ['orderNo'], args: { orderNo: '{{params.orderNo}}' }, timeout_ms: 5000 } },
    ...extra,
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
  it('a stream record nested too deep is handed out cut (the map stage dead-letters it); the page goes on', async () => {
    const page = order('O1', '2025-01-01T00:00:00+08:00') + order('O2', '2025-01-02T00:00:00+08:00', `<lines>${deep(70)}</lines>`);
    const fake = await fakeService(() => envelope(`<ns1:listOrdersUpdatedSinceResponse><orders>${page}</orders></ns1:listOrdersUpdatedSinceResponse>`));
    const records = (await readAll(connector(fake), 'orders')).flatMap((b) => b.records);
    expect(records.map((r) => r.orderNo)).toEqual(['O1', 'O2']);
    expect(JSON.stringify(records[1])).toContain(`"${CUT_MARKER}":"nested deeper than 64 levels; cut here"`);
    expect(() => canonicalJson(records[1])).toThrow(expect.objectContaining({ code: 'MAP_RECORD_TOO_DEEP' }));
    expect(canonicalJson(records[0])).toContain('"O1"');
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

describe('soap connector redirects', () => {
  const WSSE = { auth: { type: 'wsse', username: 'hub', password: 'S3cr3t-wsse', password_type: 'text' } };

  it('a call answered 307 is not followed: CONN_HTTP_ERROR naming source and status, and the other host receives nothing', async () => {
    const elsewhere = await fakeService(() => statusReply());
    const location = elsewhere.wsdlUrl.replace('?wsdl', '/steal');
    const fake = await fakeService(() => ({ status: 307, headers: { Location: location }, body: '' }));
    const err = await errorOf(connector(fake, 5000, WSSE).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_HTTP_ERROR');
    expect(err.retryable).toBe(false);
    expect(err.where).toEqual({ source: 'orders_soap_local' });
    expect(err.details).toMatchObject({ httpStatus: 307, location });
    expect(err.message).toMatch(/HTTP 307 redirect not followed; configure the final URL/);
    // The envelope, with the WS-Security password in clear, went to the configured host only.
    expect(posts(fake)).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
  });

  it('a WSDL answered 301 is not followed: CONN_HTTP_ERROR, the other host (and its soap:address) never asked', async () => {
    const elsewhere = await fakeService(() => statusReply());
    const fake = await fakeService(() => statusReply(), 0, () => ({ status: 301, headers: { Location: elsewhere.wsdlUrl }, body: '' }));
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_HTTP_ERROR');
    expect(err.details).toMatchObject({ httpStatus: 301 });
    expect(elsewhere.requests).toEqual([]);
    expect(posts(fake)).toEqual([]);
  });
});

describe('soap connector HTML error pages', () => {
  const page = '<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body>down for maintenance</body></html>';

  it('a call answered 503 with an HTML page (DOCTYPE and all) is a retryable CONN_HTTP_ERROR, not an XML attack', async () => {
    const fake = await fakeService(() => ({ status: 503, headers: { 'Content-Type': 'text/html' }, body: page }));
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect([err.code, err.retryable, err.details]).toEqual(['CONN_HTTP_ERROR', true, { httpStatus: 503 }]);
  });

  it('so is an XHTML error page (an XML declaration and a comment before its DOCTYPE)', async () => {
    const xhtml = `<?xml version="1.0" encoding="iso-8859-1"?>\n<!-- lighttpd -->\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><body>503</body></html>`;
    const fake = await fakeService(() => ({ status: 503, headers: { 'Content-Type': 'text/html' }, body: xhtml }));
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect([err.code, err.retryable]).toEqual(['CONN_HTTP_ERROR', true]);
  });

  it('a WSDL answered 404 with an HTML page is CONN_HTTP_ERROR (a wrong path), not retried', async () => {
    const fake = await fakeService(() => statusReply(), 0, () => ({ status: 404, headers: { 'Content-Type': 'text/html' }, body: page.replace('503 Service Unavailable', '404 Not Found') }));
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect([err.code, err.retryable]).toEqual(['CONN_HTTP_ERROR', false]);
  });

  it('a DOCTYPE in a 200 answer, or in an error status\'s XML, is still refused', async () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>';
    for (const status of [200, 500]) {
      const fake = await fakeService(() => ({ status, headers: { 'Content-Type': 'text/xml' }, body: bomb }));
      expect((await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }))).code).toBe('CONN_XML_REFUSED');
    }
    const html200 = await fakeService(() => ({ status: 200, headers: { 'Content-Type': 'text/html' }, body: page }));
    expect((await errorOf(connector(html200).lookup('order_status', { orderNo: 'SO1' }))).code).toBe('CONN_XML_REFUSED');
  });
});

describe('soap connector charsets', () => {
  const chinese = statusReply().replace('PAID', '已发货');
  const gbk = (xml: string) => iconv.encode(xml, 'gbk');

  it.each([
    ['the Content-Type charset', { 'Content-Type': 'text/xml; charset=GBK' }, chinese],
    ['the XML declaration, without a header charset', { 'Content-Type': 'text/xml' }, chinese.replace('encoding="UTF-8"', 'encoding="GBK"')],
  ])('a GBK answer is decoded by %s', async (_name, headers, xml) => {
    const fake = await fakeService(() => ({ headers, body: gbk(xml) }));
    expect(await connector(fake).lookup('order_status', { orderNo: 'SO1' })).toMatchObject({ orderNo: 'SO1', status: '已发货' });
  });

  it('a UTF-16 answer with a byte-order mark and no charset is decoded', async () => {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(chinese.replace('encoding="UTF-8"', 'encoding="UTF-16"'), 'utf16le')]);
    const fake = await fakeService(() => ({ headers: { 'Content-Type': 'text/xml' }, body }));
    expect(await connector(fake).lookup('order_status', { orderNo: 'SO1' })).toMatchObject({ status: '已发货' });
  });

  it('GBK bytes declared UTF-8 fail with CONN_CHARSET naming the source, not U+FFFD in the record', async () => {
    const fake = await fakeService(() => ({ headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body: gbk(chinese) }));
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_CHARSET');
    expect(err.where).toEqual({ source: 'orders_soap_local' });
    expect(err.details).toMatchObject({ encoding: 'utf-8' });
  });

  it('an unknown charset fails with CONN_CHARSET', async () => {
    const fake = await fakeService(() => ({ headers: { 'Content-Type': 'text/xml; charset=x-no-such-charset' }, body: statusReply() }));
    expect((await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }))).code).toBe('CONN_CHARSET');
  });

  it('the XML guard still refuses a DOCTYPE in a GBK answer', async () => {
    const xml = chinese.replace('?>', '?><!DOCTYPE x [<!ENTITY e "已发货">]>');
    const fake = await fakeService(() => ({ headers: { 'Content-Type': 'text/xml; charset=GBK' }, body: gbk(xml) }));
    expect((await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }))).code).toBe('CONN_XML_REFUSED');
  });
});

describe('soap connector record paths and answers that are not one', () => {
  const listReply = () => envelope(`<ns1:listOrdersUpdatedSinceResponse><orders>${order('O1', '2025-01-01T00:00:00+08:00')}</orders></ns1:listOrdersUpdatedSinceResponse>`);
  const wrongPaths = {
    streams: { orders: { ...spec.examples[0].streams.orders, record_path: 'order.orders' } },
    lookups: { order: { operation: 'getOrder', params: ['orderNo'], timeout_ms: 5000, record_path: 'orders' } },
  };

  it('a stream record_path not in the WSDL fails the read with CONN_BAD_RESPONSE naming stream and path, nothing called', async () => {
    const fake = await fakeService(listReply);
    const err = await errorOf(readAll(connector(fake, 5000, wrongPaths), 'orders'));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.retryable).toBe(false);
    expect(err.where).toEqual({ source: 'orders_soap_local' });
    expect(err.details).toMatchObject({ stream: 'orders', operation: 'listOrdersUpdatedSince', recordPath: 'order.orders' });
    expect(err.message).toBe(
      "stream orders: record_path order.orders is not in the WSDL's listOrdersUpdatedSince response: the response has no element order (it has orders, nextPageToken)",
    );
    expect(posts(fake)).toEqual([]);
  });

  it('a lookup record_path not in the WSDL fails the lookup with CONN_BAD_RESPONSE naming lookup and path', async () => {
    const fake = await fakeService(() => envelope('<ns1:getOrderResponse/>'));
    const err = await errorOf(connector(fake, 5000, wrongPaths).lookup('order', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.details).toMatchObject({ lookup: 'order', operation: 'getOrder', recordPath: 'orders' });
    expect(posts(fake)).toEqual([]);
  });

  it('check() reports every record_path not in the WSDL; the example config checks ok', async () => {
    const fake = await fakeService(listReply);
    const bad = await connector(fake, 5000, wrongPaths).check();
    expect(bad).toMatchObject({ ok: false, code: 'CONN_BAD_RESPONSE' });
    expect(bad.detail).toMatch(/^stream orders: record_path order\.orders .*; lookup order: record_path orders /);
    expect(await connector(fake).check()).toMatchObject({ ok: true });
  });

  it.each([
    ['an empty Body', envelope(''), /the SOAP Body is empty/],
    ['a Body of comments and blanks', envelope('\n  <!-- nothing today -->\n'), /the SOAP Body is empty/],
    ['a self-closed Body', envelope('').replace('<SOAP-ENV:Body></SOAP-ENV:Body>', '<SOAP-ENV:Body/>'), /the SOAP Body is empty/],
    ['another operation\'s response', statusReply(), /the SOAP Body has no listOrdersUpdatedSince response element/],
  ])('%s is CONN_BAD_RESPONSE for a read, not an empty stream', async (_name, body, message) => {
    const fake = await fakeService(() => body);
    const err = await errorOf(readAll(connector(fake), 'orders'));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.where).toEqual({ source: 'orders_soap_local' });
    expect(err.message).toMatch(message);
  });

  it('an empty Body is CONN_BAD_RESPONSE for a lookup, not the record {"Body": null}', async () => {
    const fake = await fakeService(() => envelope(''));
    const err = await errorOf(connector(fake).lookup('order_status', { orderNo: 'SO1' }));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.message).toBe('orders_soap_local getOrderStatus: the SOAP Body is empty');
  });

  it('an empty list is still an empty page, and an empty response element a lookup without answer', async () => {
    const fake = await fakeService((body) =>
      body.includes('getOrderStatus') ? envelope('<ns1:getOrderStatusResponse/>') : envelope('<ns1:listOrdersUpdatedSinceResponse><orders/></ns1:listOrdersUpdatedSinceResponse>'),
    );
    const conn = connector(fake);
    expect(await readAll(conn, 'orders')).toEqual([]);
    expect(await conn.lookup('order_status', { orderNo: 'SO1' })).toBeNull();
  });
});

describe('soap connector values', () => {
  const lineOf = (qty: string, name = 'Tea') => `<lines><line><lineNo>1</lineNo><sku>S</sku><name>${name}</name><qty>${qty}</qty><unitPrice>1.10</unitPrice></line></lines>`;
  const readOne = async (xml: string) => {
    const fake = await fakeService(() => envelope(`<ns1:listOrdersUpdatedSinceResponse><orders>${xml}</orders></ns1:listOrdersUpdatedSinceResponse>`));
    return (await readAll(connector(fake), 'orders')).flatMap((b) => b.records);
  };

  it('text values keep their blanks; blanks between elements (pretty-printed XML) make no value', async () => {
    const pretty = [
      '<order>',
      '  <orderNo>SO1</orderNo>',
      '  <contactPhone>   </contactPhone>',
      '  <status>PAID</status>',
      '  <totalAmount>1.00</totalAmount>',
      '  <currency>CNY</currency>',
      '  <createdAt>2025-01-01T00:00:00+08:00</createdAt>',
      '  <updatedAt>2025-01-01T00:00:00+08:00</updatedAt>',
      '  <lines>',
      '    <line>',
      '      <lineNo> 1 </lineNo>',
      '      <sku>S</sku>',
      '      <name>  Mr. Wang  &amp; co\n</name>',
      '      <qty>2</qty>',
      '      <unitPrice>1.10</unitPrice>',
      '    </line>',
      '  </lines>',
      '</order>',
      '<order><orderNo>SO2</orderNo><status>PAID</status><totalAmount>1</totalAmount><currency>CNY</currency>',
      '<createdAt>2025-01-01T00:00:01+08:00</createdAt><updatedAt>2025-01-01T00:00:01+08:00</updatedAt><lines>\n  </lines></order>',
    ].join('\n');
    expect(await readOne(`\n  ${pretty}\n`)).toEqual([
      {
        orderNo: 'SO1',
        contactPhone: '   ',
        status: 'PAID',
        totalAmount: '1.00',
        currency: 'CNY',
        createdAt: '2025-01-01T00:00:00+08:00',
        updatedAt: '2025-01-01T00:00:00+08:00',
        lines: { line: [{ lineNo: 1, sku: 'S', name: '  Mr. Wang  & co\n', qty: 2, unitPrice: '1.10' }] },
      },
      { orderNo: 'SO2', status: 'PAID', totalAmount: '1', currency: 'CNY', createdAt: '2025-01-01T00:00:01+08:00', updatedAt: '2025-01-01T00:00:01+08:00', lines: null },
    ]);
  });

  it.each([
    ['42', 42],
    ['-7', -7],
    ['9007199254740991', 9007199254740991],
    ['9007199254740993', '9007199254740993'],
    ['1.5', '1.5'],
    ['1e3', '1e3'],
    ['0x10', '0x10'],
    ['n/a', 'n/a'],
  ])('an xsd:int %s reads as %j: a number only when it is an exact integer', async (text, value) => {
    const [record] = await readOne(order('O1', '2025-01-01T00:00:00+08:00', lineOf(text)));
    expect((record!.lines as { line: { qty: unknown }[] }).line[0]!.qty).toBe(value);
  });
});
