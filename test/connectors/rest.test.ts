/**
 * The rest connector against a local node HTTP server this test controls: hostile and broken
 * responses, retries, the rate limit and concurrency cap, paging styles, the drift- and
 * tie-safe page-number algorithm, lookups. No stack needed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import type { JunctionError } from '../../config/errors.js';
import { createLogger } from '../../config/log.js';
import { spec } from '../../connectors/rest.js';
import { CursorCodec, compareKeys } from '../../connectors/rest/cursor.js';
import { MAX_JSON_DEPTH } from '../../connectors/json.js';
import { excerpt, parseResponse } from '../../connectors/rest/decode.js';
import { applyAuth, sign, signatureBase } from '../../connectors/rest/signature.js';
import type { Batch, Checkpoint, Connector, SourceRecord } from '../../connectors/types.js';
import { load, yaml } from '../config/yaml-fixtures.js';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, n: number) => void | Promise<void>;

interface TestServer {
  url: string;
  hits: URL[];
  maxInFlight: number;
  arrivals: number[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const connectors: Connector[] = [];
afterEach(async () => {
  await Promise.all(connectors.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Handler): Promise<TestServer> {
  let inFlight = 0;
  const state = { hits: [] as URL[], maxInFlight: 0, arrivals: [] as number[] };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    state.hits.push(url);
    state.arrivals.push(performance.now());
    inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.on('close', () => (inFlight -= 1));
    void Promise.resolve(handler(req, res, url, state.hits.length)).catch((err: unknown) => res.destroy(err as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const s: TestServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get hits() {
      return state.hits;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    get arrivals() {
      return state.arrivals;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'application/json; charset=utf-8', headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(body);
}

const ok = (list: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ code: 0, msg: 'ok', data: { list, total: String(list.length), ...extra } });

type Input = z.input<typeof spec.config>;

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ level: 'warn', destination }) };
}

function connect(base: string, extra: Partial<Input> = {}, log = logCapture().log): Connector {
  const cfg = spec.config.parse({
    type: 'rest',
    base_url: base,
    envelope: { list: 'data.list', auth_codes: [1001, 1002], not_found_codes: [1004] },
    retry: { retries: 2, min_delay_ms: 5, max_delay_ms: 5_000 },
    streams: { items: { path: '/api', key: 'id', page: { style: 'page_number', size: 10, size_param: 'size' } } },
    lookups: { item: { path: '/api', query: { a: 'get', id: '{{params.id}}' }, params: ['id'], record_path: 'data', timeout_ms: 2_000 } },
    ...extra,
  } satisfies Input);
  const c = spec.create('test_rest', cfg, { log });
  connectors.push(c);
  return c;
}

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

async function failure(p: Promise<unknown>): Promise<JunctionError> {
  try {
    await p;
  } catch (err) {
    return err as JunctionError;
  }
  throw new Error('expected a failure');
}

const readAll = (c: Connector, cp: Checkpoint | null = null, batchSize?: number) => collect(c.read('items', cp, { batchSize }));

describe('signature', () => {
  const auth = {
    type: 'signature',
    appkey: 'demo-app',
    secret: 'demo-secret-please-change',
    algorithm: 'md5',
    appkey_param: 'appkey',
    timestamp_param: 'ts',
    sign_param: 'sign',
  } as const;
  const params = { m: 'ticket', a: 'list', page: '1', size: '2', appkey: 'demo-app', ts: '1767196800' };

  it('matches the vector computed by the PHP api_sign() of the demo ticket system', () => {
    expect(signatureBase({ ...params, sign: 'x' }, 'sign')).toBe('a=list&appkey=demo-app&m=ticket&page=1&size=2&ts=1767196800');
    // php -r 'echo md5("a=list&appkey=demo-app&m=ticket&page=1&size=2&ts=1767196800"."demo-secret-please-change");'
    expect(sign(params, auth)).toBe('e18479c61718651de349edf7c3e14c47');
  });

  it('adds appkey, a fresh timestamp and the sign to the query', () => {
    const query: Record<string, string> = { m: 'ticket', a: 'list', page: '1', size: '2', sign: 'stale' };
    applyAuth(auth, query, {}, 'gbk', () => 1767196800_000);
    expect(query).toMatchObject({ appkey: 'demo-app', ts: '1767196800', sign: 'e18479c61718651de349edf7c3e14c47' });
  });

  it('sorts keys byte-wise, as PHP ksort(SORT_STRING) does', () => {
    expect(signatureBase({ b: '1', B: '2', a_: '3', a: '4' }, 'sign')).toBe('B=2&a=4&a_=3&b=1');
  });
});

describe('cursor order', () => {
  it('compares integer keys numerically and others byte-wise; null first', () => {
    expect(compareKeys('99', '100')).toBeLessThan(0);
    expect(compareKeys('9223372036854775807', '9223372036854775806')).toBeGreaterThan(0);
    expect(compareKeys('b', 'a')).toBeGreaterThan(0);
    expect(compareKeys(null, '1')).toBeLessThan(0);
  });

  it('orders formatted times by instant and turns an ISO checkpoint into the source format', () => {
    const codec = new CursorCodec('s', { format: 'dd/MM/yyyy HH:mm', timezone: 'Asia/Shanghai' });
    expect(codec.compare(codec.rank('02/01/2025 00:00'), codec.rank('31/12/2024 23:59'))).toBeGreaterThan(0);
    expect(codec.toSource('2024-12-31T16:00:00Z')).toBe('01/01/2025 00:00');
    expect(codec.toSource('01/01/2025 00:00')).toBe('01/01/2025 00:00');
    expect(() => codec.rank('2025-01-01')).toThrow(expect.objectContaining({ code: 'CONN_CURSOR' }));
  });
});

describe('iso cursors below the millisecond', () => {
  const codec = new CursorCodec('s', { format: 'iso', timezone: 'UTC' });

  it('ranks microseconds apart in time order, offsets included', () => {
    const rank = (v: string) => codec.rank(v);
    expect(codec.compare(rank('2025-06-01T10:00:00.123456Z'), rank('2025-06-01T10:00:00.123789Z'))).toBeLessThan(0);
    expect(codec.compare(rank('2025-06-01T10:00:00.123999Z'), rank('2025-06-01T10:00:00.124Z'))).toBeLessThan(0);
    expect(codec.compare(rank('2025-06-01T18:00:00.123456+08:00'), rank('2025-06-01T10:00:00.123456Z'))).toBe(0);
    // Nanoseconds order too, while they are further apart than a double's step (~0.25 µs).
    expect(codec.compare(rank('2025-06-01T10:00:00.1234567Z'), rank('2025-06-01T10:00:00.1234561Z'))).toBeGreaterThan(0);
  });

  // A (id 5) and B (id 3) a few microseconds apart, sorted by the API by time (`since` inclusive).
  const contacts = [
    { id: '5', t: '2025-06-01T10:00:00.123456Z' },
    { id: '3', t: '2025-06-01T10:00:00.123789Z' },
  ];
  const api: Handler = (_q, res, url) => {
    const since = url.searchParams.get('since');
    send(res, 200, ok(contacts.filter((r) => since === null || r.t >= since)));
  };
  const isoStream = { items: { path: '/api', key: 'id', cursor: 't', cursor_param: 'since', cursor_format: { format: 'iso', timezone: 'UTC' } } };

  it('reads both in order, and resuming after A reads B, whose key is lower', async () => {
    const srv = await serve(api);
    const c = connect(srv.url, { streams: isoStream });
    expect(records(await readAll(c)).map((r) => r.id)).toEqual(['5', '3']);
    expect(records(await readAll(c, { cursor: contacts[0]!.t, key: '5' })).map((r) => r.id)).toEqual(['3']);
  });
});

describe('broken and hostile responses', () => {
  it('truncated JSON → CONN_BAD_RESPONSE, not retried', async () => {
    const srv = await serve((_q, res) => send(res, 200, '{"code":0,"msg":"ok","data":{"list":[{"id":"1","subj'));
    const err = await failure(readAll(connect(srv.url)));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.retryable).toBe(false);
    expect(srv.hits).toHaveLength(1);
  });

  it('JSON nested 10,000 deep → CONN_BAD_RESPONSE naming the source; the limit itself and brackets inside strings pass', () => {
    const ctx = { source: 'test_rest', path: '/api', encoding: 'utf-8', secrets: [] };
    const decode = (body: string) => parseResponse({ status: 200, headers: new Headers({ 'content-type': 'application/json' }), bytes: Buffer.from(body) }, ctx);
    const nested = (depth: number) => `{"data":${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}}`;
    let err: unknown;
    try {
      decode(nested(10_000));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'CONN_BAD_RESPONSE', retryable: false, where: { source: 'test_rest' }, details: { maxDepth: MAX_JSON_DEPTH } });
    expect((err as Error).message).toMatch(/^\/api: response JSON is nested deeper than 64 levels/);
    // Also on the lossless path (a long digit run) and for objects.
    expect(() => decode(`{"id":12345678901234567890,"x":${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}}`)).toThrow(/nested deeper than 64/);
    expect(JSON.stringify(decode(nested(MAX_JSON_DEPTH)))).toBe(nested(MAX_JSON_DEPTH));
    const inStrings = { s: '[[[[{{{{\\"'.repeat(100), t: '\\' };
    expect(decode(JSON.stringify(inStrings))).toEqual(inStrings);
  });

  it('numbers a JS number cannot hold stay exact text: long decimals and exponents too, not only long digit runs', () => {
    const ctx = { source: 'test_rest', path: '/api', encoding: 'utf-8', secrets: [] };
    const decode = (body: string) => parseResponse({ status: 200, headers: new Headers({ 'content-type': 'application/json' }), bytes: Buffer.from(body) }, ctx);
    expect(decode('{"amount":12345678.123456789,"big":1e400,"n":7,"id":"550e8400-e29b"}')).toEqual({ amount: '12345678.123456789', big: '1e400', n: 7, id: '550e8400-e29b' });
  });

  it('a body cut off mid-transfer (fewer bytes than Content-Length) is a retryable network failure', async () => {
    const srv = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"code":0,"msg":"ok","data":{"list":[');
      setTimeout(() => res.destroy(), 10);
    });
    const err = await failure(readAll(connect(srv.url, { retry: { retries: 1, min_delay_ms: 1 } })));
    expect(err.code).toBe('CONN_UNREACHABLE');
    expect(err.retryable).toBe(true);
    expect(srv.hits).toHaveLength(2);
  });

  it('bytes invalid in GBK → CONN_CHARSET', async () => {
    const body = Buffer.concat([Buffer.from('{"code":0,"msg":"ok","data":{"list":[{"id":"1","subject":"'), Buffer.from([0xd6, 0xd0, 0xff, 0x80]), Buffer.from('"}]}}')]);
    const srv = await serve((_q, res) => send(res, 200, body, 'application/json; charset=GBK'));
    const err = await failure(readAll(connect(srv.url, { encoding: 'gbk' })));
    expect(err.code).toBe('CONN_CHARSET');
    expect(err.details).toMatchObject({ encoding: 'gbk' });
  });

  it('a UTF-8 byte-order mark before a GBK body (a PHP include saved with one) is dropped, not decoded as GBK', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), iconv.encode(ok([{ id: '1', subject: '中文' }]), 'gbk')]);
    const srv = await serve((_q, res) => send(res, 200, body, 'application/json; charset=GBK'));
    const batches = await readAll(connect(srv.url, { encoding: 'gbk' }));
    expect(batches.flatMap((b) => b.records)).toEqual([{ id: '1', subject: '中文' }]);
  });

  it('UTF-8 bytes declared GBK: caught when they break GBK, mojibake when they happen to be valid GBK', async () => {
    // 中文字 is 9 UTF-8 bytes: the last one pairs with the closing quote, which is no GBK trail byte.
    let subject = '中文字';
    const srv = await serve((_q, res) => send(res, 200, Buffer.from(ok([{ id: '1', subject }]), 'utf8'), 'application/json; charset=GBK'));
    expect((await failure(readAll(connect(srv.url, { encoding: 'gbk' })))).code).toBe('CONN_CHARSET');
    // 中文 is 6 bytes that are also 3 valid GBK characters: not detectable, documented in decode.ts.
    subject = '中文';
    const batches = await readAll(connect(srv.url, { encoding: 'gbk' }));
    const mojibake = iconv.decode(Buffer.from('中文'), 'gbk');
    expect(mojibake).not.toContain('\uFFFD');
    expect(batches[0]?.records[0]?.subject).toBe(mojibake);
  });

  it('decodes GBK by the configured encoding even when the response claims UTF-8', async () => {
    const srv = await serve((_q, res) => send(res, 200, iconv.encode(ok([{ id: '1', subject: '退款没有到账' }]), 'gbk'), 'application/json; charset=utf-8'));
    const [batch] = await readAll(connect(srv.url, { encoding: 'gbk' }));
    expect(batch?.records).toEqual([{ id: '1', subject: '退款没有到账' }]);
  });

  it('invalid UTF-8 → CONN_CHARSET, while a real U+FFFD in UTF-8 passes', async () => {
    let body = Buffer.concat([Buffer.from('{"code":0,"data":{"list":[{"id":"1","s":"'), Buffer.from([0xe4, 0xb8]), Buffer.from('"}]}}')]);
    const srv = await serve((_q, res) => send(res, 200, body));
    expect((await failure(readAll(connect(srv.url)))).code).toBe('CONN_CHARSET');
    body = Buffer.from(ok([{ id: '1', s: 'a\uFFFDb' }]));
    expect((await readAll(connect(srv.url)))[0]?.records[0]?.s).toBe('a\uFFFDb');
  });

  it('HTTP 200 with code 1001 → CONN_AUTH_FAILED; another code → CONN_API_ERROR; code and msg kept; no retry', async () => {
    let code = 1001;
    const srv = await serve((_q, res) => send(res, 200, iconv.encode(JSON.stringify({ code, msg: code === 1001 ? '签名错误' : '参数错误', data: null }), 'gbk'), 'application/json; charset=GBK'));
    const auth = await failure(readAll(connect(srv.url, { encoding: 'gbk' })));
    expect(auth).toMatchObject({ code: 'CONN_AUTH_FAILED', retryable: false, details: { code: 1001, msg: '签名错误' } });
    code = 1003;
    const api = await failure(readAll(connect(srv.url, { encoding: 'gbk' })));
    expect(api).toMatchObject({ code: 'CONN_API_ERROR', retryable: false, details: { code: 1003, msg: '参数错误' } });
    expect(srv.hits).toHaveLength(2);
  });

  it('a PHP Fatal error HTML page with HTTP 500 → CONN_HTTP_ERROR with status and excerpt, not retried', async () => {
    const page = '<br />\n<b>Fatal error</b>:  Uncaught TypeError: Unsupported operand types: string - int in /srv/api.php:171\nStack trace:\n#0 {main}\n  thrown in <b>/srv/api.php</b> on line <b>171</b><br />\n';
    const srv = await serve((_q, res) => send(res, 500, page, 'text/html; charset=UTF-8'));
    const err = await failure(readAll(connect(srv.url)));
    expect(err).toMatchObject({ code: 'CONN_HTTP_ERROR', retryable: false, details: { status: 500 } });
    expect(String(err.details?.excerpt)).toMatch(/^Fatal error: Uncaught TypeError/);
    expect(srv.hits).toHaveLength(1);
  });

  it('an error page echoing the request shows neither a Basic credential nor a piece of a token cut by the excerpt', async () => {
    const echo = (req: IncomingMessage) => `<h1>Debug</h1><pre>HTTP_AUTHORIZATION: ${req.headers.authorization ?? ''}</pre>`;
    const basicSrv = await serve((req, res) => send(res, 500, echo(req), 'text/html'));
    const basic = await failure(readAll(connect(basicSrv.url, { auth: { type: 'basic', username: 'hub', password: 'S3cr3t-Pw!' } })));
    const basicText = `${basic.message} ${JSON.stringify(basic.details)}`;
    expect(basicText).toContain('HTTP_AUTHORIZATION: Basic ***');
    expect(basicText).not.toContain(Buffer.from('hub:S3cr3t-Pw!').toString('base64'));

    // The token straddles the excerpt's 200th character: cut first, it was no longer whole to redact.
    const token = 'tok_LIVE_9f8e7d6c5b4a39281706';
    const padded = (req: IncomingMessage) => `${'x'.repeat(160)} ${echo(req)} ${'y'.repeat(100)}`;
    const bearerSrv = await serve((req, res) => send(res, 500, padded(req), 'text/html'));
    const bearer = await failure(readAll(connect(bearerSrv.url, { auth: { type: 'bearer', token } })));
    const excerpt = String(bearer.details?.excerpt);
    expect(excerpt).toContain('Bearer *** yyy');
    expect(excerpt).not.toContain('tok_');
  });

  it('an excerpt of a slice masks the piece of a secret its edges cut (3 characters or more)', () => {
    const secrets = ['MY-SECRET-12345'];
    expect(excerpt('ECRET-12345 and more', secrets)).toBe('*** and more');
    expect(excerpt('before MY-SECR', secrets)).toBe('before ***');
    expect(excerpt('ends with MY', secrets)).toBe('ends with MY');
  });

  it('an HTML page with HTTP 200 (a PHP warning printed before the JSON) → CONN_HTTP_ERROR', async () => {
    const srv = await serve((_q, res) => send(res, 200, `<br />\n<b>Warning</b>: Undefined index x<br />\n${ok([])}`));
    expect(await failure(readAll(connect(srv.url)))).toMatchObject({ code: 'CONN_HTTP_ERROR', details: { status: 200 } });
  });

  it.each([
    ['text/html, PHP\'s default type', 'text/html; charset=UTF-8', ok([{ id: '1' }])],
    ['text/html after a BOM and blank lines', 'text/html', `\ufeff\n\r\n  ${ok([{ id: '1' }])}`],
    ['text/html holding a JSON list', 'text/html', '[{"id":"1"}]'],
  ])('valid JSON sent as %s with HTTP 200 is read as data', async (_name, type, body) => {
    const srv = await serve((_q, res) => send(res, 200, body, type));
    // A bare list has no envelope around it.
    const batches = await readAll(connect(srv.url, body.startsWith('[') ? { envelope: undefined } : {}));
    expect(batches.flatMap((b) => b.records)).toEqual([{ id: '1' }]);
  });

  it('JSON sent as text/html with HTTP 500 is still an error', async () => {
    const srv = await serve((_q, res) => send(res, 500, '{"error":"boom"}', 'text/html'));
    expect(await failure(readAll(connect(srv.url)))).toMatchObject({ code: 'CONN_HTTP_ERROR', details: { status: 500 } });
  });

  it('keeps integers beyond 2^53 and long decimals as strings', async () => {
    const srv = await serve((_q, res) => send(res, 200, '{"code":0,"data":{"list":[{"id":12345678901234567891,"amount":0.12345678901234567891,"n":7}]}}'));
    const [batch] = await readAll(connect(srv.url));
    expect(batch?.records).toEqual([{ id: '12345678901234567891', amount: '0.12345678901234567891', n: 7 }]);
  });

  it('records not ordered by (cursor, key) → CONN_CURSOR rather than a wrong checkpoint', async () => {
    const srv = await serve((_q, res) => send(res, 200, ok([{ id: '2', t: 5 }, { id: '1', t: 4 }])));
    const c = connect(srv.url, { streams: { items: { path: '/api', key: 'id', cursor: 't' } } });
    expect((await failure(readAll(c))).code).toBe('CONN_CURSOR');
  });
});

describe('retries', () => {
  it('503 twice then 200 → succeeds on the third request', async () => {
    const srv = await serve((_q, res, _u, n) => (n <= 2 ? send(res, 503, 'busy', 'text/plain') : send(res, 200, ok([{ id: '1' }]))));
    const batches = await readAll(connect(srv.url));
    expect(batches.flatMap((b) => b.records)).toEqual([{ id: '1' }]);
    expect(srv.hits).toHaveLength(3);
  });

  it('400 → CONN_HTTP_ERROR at once, no retry', async () => {
    const srv = await serve((_q, res) => send(res, 400, '{"error":"bad request"}'));
    expect(await failure(readAll(connect(srv.url)))).toMatchObject({ code: 'CONN_HTTP_ERROR', retryable: false, details: { status: 400 } });
    expect(srv.hits).toHaveLength(1);
  });

  it('429 with Retry-After → CONN_RATE_LIMITED, waited as asked, then success', async () => {
    const srv = await serve((_q, res, _u, n) => (n === 1 ? send(res, 429, 'slow down', 'text/plain', { 'retry-after': '1' }) : send(res, 200, ok([{ id: '1' }]))));
    const { lines, log } = logCapture();
    const batches = await readAll(connect(srv.url, {}, log));
    expect(batches.flatMap((b) => b.records)).toHaveLength(1);
    expect(srv.hits).toHaveLength(2);
    expect(lines).toContainEqual(expect.objectContaining({ code: 'CONN_RATE_LIMITED', waitMs: 1000, retryAfter: true }));
    const always = await serve((_q, res) => send(res, 429, 'slow down', 'text/plain', { 'retry-after': '1' }));
    const err = await failure(readAll(connect(always.url, { retry: { retries: 0 } })));
    expect(err).toMatchObject({ code: 'CONN_RATE_LIMITED', retryable: true, details: { status: 429, retryAfterMs: 1000 } });
  });

  it('a Retry-After longer than max_delay_ms is not waited for: the retryable error goes to the job', async () => {
    const srv = await serve((_q, res) => send(res, 429, '', 'text/plain', { 'retry-after': '3600' }));
    expect(await failure(readAll(connect(srv.url)))).toMatchObject({ code: 'CONN_RATE_LIMITED', retryable: true });
    expect(srv.hits).toHaveLength(1);
  });

  it('the source going down after the first page: retryable error, only the first batch and its checkpoint', async () => {
    const srv = await serve((req, res, url) => {
      if (!url.searchParams.has('since')) return send(res, 200, ok(Array.from({ length: 10 }, (_, i) => ({ id: String(i + 1), t: i + 1 }))));
      req.socket.destroy();
    });
    const c = connect(srv.url, {
      streams: { items: { path: '/api', key: 'id', cursor: 't', cursor_param: 'since', page: { style: 'page_number', size: 10, size_param: 'size' } } },
    });
    const got: Batch[] = [];
    const err = await failure(
      (async () => {
        for await (const b of c.read('items', null)) got.push(b);
      })(),
    );
    expect(err).toMatchObject({ code: 'CONN_UNREACHABLE', retryable: true });
    expect(got).toHaveLength(1);
    expect(got[0]?.checkpoint).toEqual({ cursor: 10, key: '10' });
    // The second page is page 1 again after the last record read (then retried twice).
    expect(srv.hits.map((u) => [u.searchParams.get('page'), u.searchParams.get('since')])).toEqual([['1', null], ...Array(3).fill(['1', '10'])]);
  });
});

describe('rate limit and concurrency', () => {
  it('never has more requests in flight than the concurrency cap', async () => {
    // Each answer is held for a while, so without the cap all twelve would be in flight together.
    const srv = await serve((_q, res, url) => void setTimeout(() => send(res, 200, JSON.stringify({ code: 0, data: { id: url.searchParams.get('id') } })), 150));
    const c = connect(srv.url, { concurrency: 3 });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => c.lookup('item', { id: i })));
    expect(results.map((r) => (r as SourceRecord).id)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(srv.maxInFlight).toBeLessThanOrEqual(3);
    expect(srv.maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it('starts no more requests than the token bucket allows (burst + rate × elapsed)', async () => {
    const srv = await serve((_q, res) => send(res, 200, JSON.stringify({ code: 0, data: { id: '1' } })));
    const c = connect(srv.url, { concurrency: 8, rate_limit: { per_second: 10, burst: 2 }, lookups: { item: { path: '/api', record_path: 'data', timeout_ms: 10_000 } } });
    // Elapsed from before the first request took its token: the bucket cannot have refilled
    // earlier. (From the first arrival instead, a first request slowed on its way by a loaded
    // machine made the later ones look early.)
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 8 }, () => c.lookup('item', {})));
    expect(srv.hits).toHaveLength(8);
    srv.arrivals.forEach((t, i) => {
      // Requests 1..n reached the server by t: at most burst + 10/s × (t - t0), plus one for clock rounding.
      expect(i + 1).toBeLessThanOrEqual(2 + Math.floor((10 * (t - t0)) / 1000) + 1);
    });
  });
});

describe('paging styles', () => {
  const rows = Array.from({ length: 25 }, (_, i) => ({ id: String(i + 1), t: `2025-01-01 00:00:${String(i).padStart(2, '0')}` }));

  it('offset: offset/limit until a short page', async () => {
    const srv = await serve((_q, res, url) => {
      const offset = Number(url.searchParams.get('offset'));
      send(res, 200, JSON.stringify({ code: 0, data: { list: rows.slice(offset, offset + Number(url.searchParams.get('limit'))) } }));
    });
    // No cursor: a full read (a cursor here needs cursor_param, see below).
    const c = connect(srv.url, { streams: { items: { path: '/api', key: 'id', page: { style: 'offset', size: 10 } } } });
    const batches = await readAll(c);
    expect(batches.flatMap((b) => b.records)).toEqual(rows);
    expect(batches.at(-1)?.checkpoint).toBeNull();
    expect(srv.hits.map((u) => u.searchParams.get('offset'))).toEqual(['0', '10', '20']);
  });

  it('next link in the body (relative) and in the Link header; a link to another origin is refused', async () => {
    const srv = await serve((_q, res, url) => {
      const from = Number(url.searchParams.get('from') ?? 0);
      const next = from + 10 < rows.length ? `/api?from=${from + 10}&limit=10` : null;
      const header: Record<string, string> = next ? { link: `<${next}>; rel="next", </api?from=0>; rel="first"` } : {};
      send(res, 200, JSON.stringify({ items: rows.slice(from, from + 10), links: { next } }), 'application/json', header);
    });
    const body = connect(srv.url, { envelope: undefined, streams: { items: { path: '/api', key: 'id', record_path: 'items', page: { style: 'next_link', size: 10, next: 'links.next' } } } });
    expect((await readAll(body)).flatMap((b) => b.records)).toEqual(rows);
    const header = connect(srv.url, { envelope: undefined, streams: { items: { path: '/api', key: 'id', record_path: 'items', page: { style: 'next_link', size: 10 } } } });
    expect((await readAll(header)).flatMap((b) => b.records)).toEqual(rows);
    expect(srv.hits.slice(-3).map((u) => u.searchParams.get('from'))).toEqual([null, '10', '20']);

    const evil = await serve((_q, res) => send(res, 200, JSON.stringify({ items: rows.slice(0, 10), links: { next: 'http://169.254.169.254/latest' } })));
    const c = connect(evil.url, { envelope: undefined, streams: { items: { path: '/api', key: 'id', record_path: 'items', page: { style: 'next_link', size: 10, next: 'links.next' } } } });
    expect((await failure(readAll(c))).code).toBe('CONN_BAD_RESPONSE');
  });

  it('next cursor token until it is empty; a repeated token is refused', async () => {
    const srv = await serve((_q, res, url) => {
      const from = Number(url.searchParams.get('cursor') ?? 0);
      send(res, 200, JSON.stringify({ code: 0, data: { list: rows.slice(from, from + 10), next: from + 10 < rows.length ? String(from + 10) : '' } }));
    });
    const c = connect(srv.url, { streams: { items: { path: '/api', key: 'id', page: { style: 'cursor', size: 10, next: 'data.next' } } } });
    expect((await readAll(c)).flatMap((b) => b.records)).toEqual(rows);
    const stuck = await serve((_q, res) => send(res, 200, JSON.stringify({ code: 0, data: { list: rows.slice(0, 10), next: 'same' } })));
    const d = connect(stuck.url, { streams: { items: { path: '/api', key: 'id', page: { style: 'cursor', size: 10, next: 'data.next' } } } });
    expect((await failure(readAll(d))).code).toBe('CONN_BAD_RESPONSE');
  });
});

describe('cursorAfter: a backfill end read as the stream reads its start', () => {
  const withFormat = (format: string) =>
    connect('http://127.0.0.1:1', { streams: { items: { path: '/api', key: 'id', cursor: 't', cursor_param: 'since', cursor_format: { format, timezone: 'Asia/Shanghai' } } } });

  it.each([
    ['a Shanghai wall clock before a UTC end', 'yyyy-MM-dd HH:mm:ss', '2025-01-01 07:59:59', '2025-01-01T00:00:00Z', false],
    ['a Shanghai wall clock after a UTC end', 'yyyy-MM-dd HH:mm:ss', '2025-01-01 08:00:01', '2025-01-01T00:00:00Z', true],
    ['an end without an offset is Shanghai time', 'yyyy-MM-dd HH:mm:ss', '2025-01-01 08:00:01', '2025-01-01T08:00:00', true],
    ['an end in the source format', 'yyyy-MM-dd HH:mm:ss', '2025-01-01 08:00:00', '2025-01-01 08:00:00', false],
    ['unix seconds against an ISO end', 'unix', 1735689599, '2025-01-01T00:00:00Z', false],
    ['unix seconds past an ISO end', 'unix', 1735689601, '2025-01-01T00:00:00Z', true],
  ] as const)('%s', (_name, format, cursor, bound, expected) => {
    expect(withFormat(format).cursorAfter!('items', cursor, bound)).toBe(expected);
  });

  it('without a cursor_format, the generic comparison (numbers as numbers)', () => {
    const c = connect('http://127.0.0.1:1', { streams: { items: { path: '/api', key: 'id', cursor: 't', cursor_param: 'since' } } });
    expect(c.cursorAfter!('items', '99', '100')).toBe(false);
    expect(c.cursorAfter!('items', '101', '100')).toBe(true);
  });
});

describe('page numbers over a changing table (tie- and drift-safe)', () => {
  interface Row {
    id: number;
    t: string;
  }
  const at = (s: number) => `2025-01-01 00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;

  /** The demo PHP API's list semantics: updated_at >= updated_since, ordered by (updated_at, id), page/size. */
  function ticketApi(table: Row[], before?: (n: number) => void): Handler {
    return (_q, res, url, n) => {
      before?.(n);
      const since = url.searchParams.get('updated_since') ?? '1970-01-01 00:00:00';
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('size') ?? 20);
      const rows = table.filter((r) => r.t >= since).sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.id - b.id));
      const list = rows.slice((page - 1) * size, page * size).map((r) => ({ id: String(r.id), updated_at: r.t }));
      send(res, 200, JSON.stringify({ code: 0, msg: 'ok', data: { list, total: String(rows.length) } }));
    };
  }

  const stream = (size: number) => ({
    items: {
      path: '/api',
      key: 'id',
      cursor: 'updated_at',
      cursor_param: 'updated_since',
      cursor_format: { format: 'yyyy-MM-dd HH:mm:ss', timezone: 'Asia/Shanghai' },
      page: { style: 'page_number' as const, size, size_param: 'size' },
    },
  });
  const ids = (batches: Batch[]) => batches.flatMap((b) => b.records.map((r) => Number(r.id)));

  it.each(['page_number', 'offset'])('a cursor on %s paging without cursor_param is refused at load, at the stream (CFG_MISSING_KEY)', async (style) => {
    const source = (extra: string) =>
      yaml(`
        version: 1
        sources:
          tickets:
            type: rest
            base_url: http://127.0.0.1:1
            streams:
              tickets: { path: /api, cursor: updated_at, key: id, page: { style: ${style}, size: 10 }${extra} }
      `);
    const { codes, errors } = await load({ 'junction.yaml': source('') });
    expect(codes).toEqual([expect.stringMatching(/junction\.yaml:7:\d+ CFG_MISSING_KEY$/)]);
    expect(errors[0]).toContain('sources.tickets.streams.tickets.cursor_param');
    expect(errors[0]).toMatch(/needs cursor_param.*lost for good.*remove cursor to read the stream in full/);
    expect((await load({ 'junction.yaml': source(', cursor_param: updated_since') })).errors).toEqual([]);
  });

  it('a cursor without cursor_param is accepted where pages do not shift: tokens, next links, a single request', () => {
    for (const page of [{ style: 'cursor', size: 10, next: 'data.next' }, { style: 'next_link', size: 10 }, undefined] as const) {
      expect(() => connect('http://127.0.0.1:1', { streams: { items: { path: '/api', key: 'id', cursor: 't', page } } })).not.toThrow();
    }
  });

  it('an earlier record updated mid-read shifts the pages, and nothing is skipped', async () => {
    const table: Row[] = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, t: at(i) }));
    // Before the second request, ticket 3 (already read on page 1) is updated: it moves to the
    // end and every later row shifts one place forward, so a plain "page 2" would skip ticket 11.
    const srv = await serve(ticketApi(table, (n) => n === 2 && (table[2]!.t = at(100))));
    const batches = await readAll(connect(srv.url, { streams: stream(10) }));
    expect(ids(batches)).toEqual([...Array.from({ length: 30 }, (_, i) => i + 1), 3]);
    expect(batches.at(-1)?.checkpoint).toEqual({ cursor: at(100), key: '3' });
    expect(srv.hits[1]?.searchParams.get('updated_since')).toBe(at(9));
    expect(srv.hits[1]?.searchParams.get('page')).toBe('1');
  });

  it('1,000 rows sharing one updated_at, page size 64: each exactly once, also when resumed mid-run', async () => {
    const table: Row[] = [
      ...Array.from({ length: 5 }, (_, i) => ({ id: 5000 + i, t: at(1) })),
      ...Array.from({ length: 1000 }, (_, i) => ({ id: 1000 + ((i * 7919) % 1000), t: at(2) })),
      ...Array.from({ length: 3 }, (_, i) => ({ id: 10 + i, t: at(3) })),
    ];
    const srv = await serve(ticketApi(table));
    const c = connect(srv.url, { streams: stream(64) });
    const all = await readAll(c, null, 64);
    expect(ids(all)).toHaveLength(1008);
    expect(new Set(ids(all)).size).toBe(1008);
    expect(all.every((b) => b.records.length <= 64)).toBe(true);

    // Stop inside the run of ties, resume from that checkpoint: the rest, nothing twice.
    const first = await collect(c.read('items', null, { batchSize: 64, limit: 300 }));
    const cp = first.at(-1)!.checkpoint!;
    expect(cp.cursor).toBe(at(2));
    const rest = await readAll(c, cp, 64);
    expect([...ids(first), ...ids(rest)].sort()).toEqual(ids(all).sort());
  });

  it('accepts an ISO-8601 checkpoint cursor and sends it in the source format and zone', async () => {
    const table: Row[] = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, t: at(i) }));
    const srv = await serve(ticketApi(table));
    const batches = await readAll(connect(srv.url, { streams: stream(10) }), { cursor: '2024-12-31T16:00:02Z', key: null });
    expect(srv.hits[0]?.searchParams.get('updated_since')).toBe(at(2));
    expect(ids(batches)).toEqual([3, 4, 5]);
  });

  it('refuses an API that ignores the page parameter instead of looping', async () => {
    const srv = await serve((_q, res) => send(res, 200, ok(Array.from({ length: 10 }, (_, i) => ({ id: String(i) })))));
    expect((await failure(readAll(connect(srv.url)))).code).toBe('CONN_BAD_RESPONSE');
    expect(srv.hits).toHaveLength(2);
  });
});

describe('lookups', () => {
  it('fills {{params.id}} URL-encoded and answers the record; a not-found code answers null', async () => {
    const srv = await serve((_q, res, url) => {
      const id = url.searchParams.get('id');
      if (id === 'missing') return send(res, 200, JSON.stringify({ code: 1004, msg: '工单不存在', data: null }));
      send(res, 200, JSON.stringify({ code: 0, msg: 'ok', data: { id, a: url.searchParams.get('a') } }));
    });
    const c = connect(srv.url);
    expect(await c.lookup('item', { id: 'x&a=delete 中' })).toEqual({ id: 'x&a=delete 中', a: 'get' });
    expect(await c.lookup('item', { id: 'missing' })).toBeNull();
  });

  it('keeps a path parameter inside its segment: `..` and `.` are refused (CONN_UNSAFE_PARAM) before any request, other dots pass', async () => {
    const srv = await serve((_q, res, url) => send(res, 200, JSON.stringify({ code: 0, data: { path: url.pathname } })));
    const c = connect(`${srv.url}/v2`, {
      lookups: {
        detail: { path: '/tickets/{{params.id}}/detail', params: ['id'], record_path: 'data' },
        file: { path: '/files/{{params.name}}.{{params.ext}}', params: ['name', 'ext'], record_path: 'data' },
      },
    });
    for (const id of ['..', '.']) {
      const err = await failure(c.lookup('detail', { id }));
      expect(err).toMatchObject({ code: 'CONN_UNSAFE_PARAM', where: { source: 'test_rest' } });
      expect(err.message).toContain(`path segment "${id}"`);
    }
    // Two values that together make `..`.
    expect((await failure(c.lookup('file', { name: '.', ext: '' }))).code).toBe('CONN_UNSAFE_PARAM');
    expect(srv.hits).toHaveLength(0);
    expect(await c.lookup('detail', { id: '../..' })).toEqual({ path: '/v2/tickets/..%2F../detail' });
    expect(await c.lookup('detail', { id: '...' })).toEqual({ path: '/v2/tickets/.../detail' });
    expect(await c.lookup('detail', { id: 'a.b' })).toEqual({ path: '/v2/tickets/a.b/detail' });
    expect(await c.lookup('file', { name: 'report', ext: 'pdf' })).toEqual({ path: '/v2/files/report.pdf' });
  });

  it('refuses a path parameter that leaves its segment empty: with a base URL without a path, `//host` would name another host (and get the credentials)', async () => {
    const srv = await serve((_q, res, url) => send(res, 200, JSON.stringify({ code: 0, data: { path: url.pathname } })));
    const c = connect(srv.url, {
      lookups: {
        regional: { path: '/{{params.region}}/{{params.id}}', params: ['region', 'id'], record_path: 'data' },
        // Written so by the config itself: the client still keeps to the base URL's origin.
        other: { path: '//{{params.host}}/x', params: ['host'], record_path: 'data' },
      },
    });
    const err = await failure(c.lookup('regional', { region: '', id: 'evil.example' }));
    expect(err).toMatchObject({ code: 'CONN_UNSAFE_PARAM', where: { source: 'test_rest' } });
    expect(err.message).toContain('path segment ""');
    const other = await failure(c.lookup('other', { host: 'evil.example' }));
    expect(other).toMatchObject({ code: 'CONN_BAD_RESPONSE', where: { source: 'test_rest' } });
    expect(other.message).toContain('a request path leading to another origin (http://evil.example)');
    expect(srv.hits).toHaveLength(0);
    expect(await c.lookup('regional', { region: 'cn', id: '7' })).toEqual({ path: '/cn/7' });
  });

  it('refuses non-scalar parameters (CONN_UNSAFE_PARAM) and missing ones (CONN_UNKNOWN_LOOKUP) before any request', async () => {
    const srv = await serve((_q, res) => send(res, 200, ok([])));
    const c = connect(srv.url);
    for (const id of [{ $gt: '' }, ['1', '2'], Number.NaN]) {
      expect((await failure(c.lookup('item', { id }))).code).toBe('CONN_UNSAFE_PARAM');
    }
    expect((await failure(c.lookup('item', {}))).code).toBe('CONN_UNKNOWN_LOOKUP');
    expect((await failure(c.lookup('nope', { id: 1 }))).code).toBe('CONN_UNKNOWN_LOOKUP');
    expect(srv.hits).toHaveLength(0);
  });

  it('a slow source → CONN_TIMEOUT (retryable) within the lookup timeout', async () => {
    const srv = await serve((_q, res) => void setTimeout(() => send(res, 200, ok([])), 2_000));
    const err = await failure(connect(srv.url).lookup('item', { id: 1 }, { timeoutMs: 100 }));
    expect(err).toMatchObject({ code: 'CONN_TIMEOUT', retryable: true });
    expect(srv.hits).toHaveLength(1);
  });
});

describe('check, discover, cancellation', () => {
  it('check sends one request for page 1 with size 1 and reports failures by code', async () => {
    let code = 0;
    const srv = await serve((_q, res) => send(res, 200, JSON.stringify({ code, msg: 'x', data: { list: [] } })));
    const c = connect(srv.url);
    expect(await c.check()).toMatchObject({ ok: true });
    expect(srv.hits[0]?.searchParams.get('page')).toBe('1');
    expect(srv.hits[0]?.searchParams.get('size')).toBe('1');
    code = 1002;
    expect(await c.check()).toMatchObject({ ok: false, code: 'CONN_AUTH_FAILED' });
    expect(srv.hits).toHaveLength(2);
  });

  it('discover infers field types from a sample page (numbers as strings stay strings)', async () => {
    const srv = await serve((_q, res) =>
      send(res, 200, ok([{ id: '1', n: 1, x: 1.5, at: '2025-01-01 08:00:00', tags: [], note: null }, { id: '2', n: 2, x: 2, at: '2025-01-02 08:00:00', tags: ['a'] }])),
    );
    const [info] = await connect(srv.url).discover();
    expect(info?.fields).toEqual([
      { name: 'id', type: 'string', nullable: false },
      { name: 'n', type: 'integer', nullable: false },
      { name: 'x', type: 'number', nullable: false },
      { name: 'at', type: 'datetime', nullable: false },
      { name: 'tags', type: 'array', nullable: false },
      { name: 'note', type: 'null', nullable: true },
    ]);
  });

  it('an aborted read ends with CONN_ABORTED', async () => {
    const srv = await serve((_q, res, url) => void setTimeout(() => send(res, 200, ok(Array.from({ length: 10 }, (_, i) => ({ id: `${url.searchParams.get('page')}-${i}` })))), 50));
    const controller = new AbortController();
    const c = connect(srv.url);
    const err = await failure(
      (async () => {
        for await (const _b of c.read('items', null, { signal: controller.signal })) controller.abort();
      })(),
    );
    expect(err.code).toBe('CONN_ABORTED');
  });
});

describe('auth kinds, POST, encodings', () => {
  it.each([
    [{ type: 'basic', username: 'svc', password: 'pw' }, 'authorization', `Basic ${Buffer.from('svc:pw').toString('base64')}`],
    [{ type: 'bearer', token: 'tok-123' }, 'authorization', 'Bearer tok-123'],
    [{ type: 'header', name: 'X-Api-Key', value: 'k-456' }, 'x-api-key', 'k-456'],
  ] as const)('%o reaches the server as a header', async (auth, header, value) => {
    const seen: (string | undefined)[] = [];
    const srv = await serve((req, res) => {
      seen.push(req.headers[header] as string | undefined);
      send(res, 200, ok([]));
    });
    await readAll(connect(srv.url, { auth }));
    expect(seen).toEqual([value]);
  });

  it('POST sends the signed parameters as a form body in the source charset', async () => {
    let form = '';
    const srv = await serve(async (req, res, url) => {
      for await (const chunk of req) form += (chunk as Buffer).toString('latin1');
      expect(url.search).toBe('');
      send(res, 200, ok([]));
    });
    const c = connect(srv.url, {
      encoding: 'gbk',
      auth: { type: 'signature', appkey: 'k', secret: 's', timestamp_param: 'ts' },
      streams: { items: { path: '/api', method: 'POST', query: { q: '退款' }, key: 'id' } },
    });
    await readAll(c);
    const params = Object.fromEntries(form.split('&').map((kv) => kv.split('=')));
    expect(params.q).toBe('%CD%CB%BF%EE'); // 退款 in GBK
    expect(Object.keys(params).sort()).toEqual(['appkey', 'q', 'sign', 'ts']);
  });

  it.each([
    ['latin1', 'Café Noël'],
    ['gb18030', '𠮷野家 €'],
    ['gbk', '客服工单'],
  ] as const)('decodes %s bodies', async (encoding, text) => {
    const srv = await serve((_q, res) => send(res, 200, iconv.encode(ok([{ id: '1', text }]), encoding), 'application/json'));
    expect((await readAll(connect(srv.url, { encoding })))[0]?.records[0]?.text).toBe(text);
  });

  it('a 503 with Retry-After is retried after the time asked', async () => {
    const srv = await serve((_q, res, _u, n) => (n === 1 ? send(res, 503, '<h1>maintenance</h1>', 'text/html', { 'retry-after': '1' }) : send(res, 200, ok([{ id: '1' }]))));
    const { lines, log } = logCapture();
    expect(records((await readAll(connect(srv.url, {}, log))))).toHaveLength(1);
    expect(lines).toContainEqual(expect.objectContaining({ code: 'CONN_HTTP_ERROR', waitMs: 1000, retryAfter: true }));
  });
});

const records = (batches: Batch[]) => batches.flatMap((b) => b.records);
