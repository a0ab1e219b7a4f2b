/**
 * The ops server against the real Redis and a scratch PostgreSQL database, over HTTP: the
 * admin token guards the API, the queue board and /metrics; the figures come from
 * hub.checkpoint, hub.sync_run, hub.dead_letter and the circuits; bodies are validated;
 * /readyz tells which service is missing.
 */
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../config/log.js';
import type { ResolvedConfig } from '../../config/load.js';
import { startOpsServer, type OpsServer } from '../../jobs/ops-server.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { ADMIN_TOKEN, configYaml, SCHEDULES_YAML, testConfig, testQueue, type TestQueue } from './fixture.js';

let db: ScratchDb;
let q: TestQueue;
let config: ResolvedConfig;
let server: OpsServer;
const servers: OpsServer[] = [];

const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}` });

async function call(path: string, init: RequestInit & { headers?: Record<string, string> } = {}, base = server) {
  const res = await fetch(`${base.url}${path}`, { ...init, headers: { ...bearer, ...init.headers } });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: body as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const post = (path: string, body: unknown) => call(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

async function start(cfg: ResolvedConfig, pool: pg.Pool = db.pool): Promise<OpsServer> {
  const s = await startOpsServer({ config: cfg, pool, redis: q.redis, queue: q.queue, log: silentLogger, keys: q.keys, port: 0, readyTimeoutMs: 3000 });
  servers.push(s);
  return s;
}

/** A raw request: fetch would not send a body that does not match its Content-Encoding. */
async function rawPost(path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${path}`, { method: 'POST', headers: { ...bearer, 'content-length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pendingLetters = async () => Number((await db.pool.query(`SELECT count(*) AS n FROM hub.dead_letter WHERE replayed_at IS NULL`)).rows[0].n);

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

beforeAll(async () => {
  db = await scratchDatabase('jobs_ops');
  q = await testQueue('jobs-ops');
  config = await testConfig();
  server = await start(config);
  const p = db.pool;
  await p.query(`INSERT INTO hub.checkpoint (source, stream, cursor_value, cursor_key, records_total, updated_at) VALUES
    ('shop_pg', 'accounts', '"2026-01-01T00:00:00.000Z"', '10021', 571, '2026-01-02T00:00:00Z'),
    ('shop_pg', 'addresses', '12345', '50116', 7, '2026-01-03T00:00:00Z')`);
  await p.query(`INSERT INTO hub.sync_run (id, source, stream, mode, status, trigger, started_at, finished_at, records_read, records_written, records_failed, error_code) VALUES
    (1, 'shop_pg', 'accounts', 'full', 'succeeded', 'cli', now() - interval '2 hours', now() - interval '1 hour', 571, 560, 2, NULL),
    (2, 'shop_pg', 'accounts', 'incremental', 'failed', 'schedule:accounts-every-minute', now() - interval '10 minutes', now() - interval '9 minutes', 0, 0, 0, 'CONN_UNREACHABLE'),
    (3, 'shop_pg', 'addresses', 'full', 'running', 'ops', now(), NULL, 100, 90, 0, NULL)`);
  await p.query(`SELECT setval('hub.sync_run_id_seq', 3)`);
  await p.query(`INSERT INTO hub.dead_letter (run_id, source, stream, source_key, stage, error_code, error_message, payload, replayed_at) VALUES
    (1, 'shop_pg', 'accounts', 'a1', 'map', 'MAP_BAD_VALUE', 'bad date', '{"id": "a1"}', NULL),
    (1, 'shop_pg', 'accounts', 'a2', 'map', 'MAP_BAD_VALUE', 'bad date', '{"id": "a2"}', NULL),
    (1, 'shop_pg', 'accounts', 'a3', 'resolve', 'ID_INVALID_VALUE', 'bad enum', '{"id": "a3"}', now())`);
  // A committed batch whose ClickHouse rows were not sent yet.
  await p.query(`INSERT INTO hub.clickhouse_outbox (source, stream, run_id, selection) VALUES ('shop_pg', 'accounts', 1, '{"customerIds": [1]}')`);
  await q.redis.hset(q.keys.circuit('shop_pg'), { state: 'open', failures: '3', opened_at: String(Date.parse('2026-01-05T00:00:00Z')), reason: 'connect ECONNREFUSED', code: 'CONN_UNREACHABLE' });
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await q?.close();
  await db?.close();
});

describe('admin token', () => {
  it('401 without a token, 401 with a wrong one, 200 with it (Bearer or Basic)', async () => {
    const none = await call('/api/ops/sources', { headers: { authorization: '' } });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('OPS_UNAUTHORIZED');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await call('/api/ops/sources', { headers: { authorization: 'Bearer test-admin-token-0123456780' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toEqual({ code: 'OPS_UNAUTHORIZED', message: 'wrong admin token' });
    expect((await call('/api/ops/sources')).status).toBe(200);
    expect((await call('/api/ops/sources', { headers: basic(ADMIN_TOKEN) })).status).toBe(200);
    expect((await call('/api/ops/sources', { headers: basic('nope') })).status).toBe(401);
  });

  it('503 OPS_NO_TOKEN everywhere protected when no token is configured; health stays open', async () => {
    const open = await start(await testConfig(configYaml(SCHEDULES_YAML)));
    for (const path of ['/api/ops/sources', '/metrics', '/ops/queues']) {
      const r = await call(path, {}, open);
      expect(r.status, path).toBe(503);
      expect(r.body.error.code, path).toBe('OPS_NO_TOKEN');
    }
    expect((await call('/healthz', { headers: { authorization: '' } }, open)).status).toBe(200);
  });
});

describe('GET /api/ops/sources', () => {
  it('reports the figures of hub.checkpoint, the runs, dead letters, unsent ClickHouse batches and the circuit', async () => {
    const askedAt = Date.now();
    const { status, body } = await call('/api/ops/sources');
    expect(status).toBe(200);
    const shop = body.sources.find((s: { name: string }) => s.name === 'shop_pg');
    expect(shop).toMatchObject({ type: 'postgres', enabled: true, circuit: { state: 'open', failures: 3, code: 'CONN_UNREACHABLE', reason: 'connect ECONNREFUSED', openedAt: '2026-01-05T00:00:00.000Z' } });
    const checkpoints = await db.pool.query('SELECT stream, cursor_value, cursor_key, records_total::int AS n, updated_at FROM hub.checkpoint ORDER BY stream');
    for (const row of checkpoints.rows) {
      const st = shop.streams.find((s: { stream: string }) => s.stream === row.stream);
      expect(st.checkpoint, row.stream).toEqual({ cursor: row.cursor_value, key: row.cursor_key });
      expect(st.recordsTotal, row.stream).toBe(row.n);
      expect(st.checkpointAt, row.stream).toBe(row.updated_at.toISOString());
    }
    const accounts = shop.streams.find((s: { stream: string }) => s.stream === 'accounts');
    // the cursor is a time: lag is now minus 2026-01-01, "now" being no earlier than the request
    // (a clock read after the answer would refuse a correct lag whenever the answer is slow)
    expect(accounts.lag.cursorSeconds).toBeGreaterThanOrEqual(Math.floor((askedAt - Date.parse('2026-01-01T00:00:00Z')) / 1000) - 5);
    expect(accounts.lag.sinceSuccessSeconds).toBeGreaterThanOrEqual(3600 - 5);
    expect(accounts.lastRun).toMatchObject({ id: 2, status: 'failed', errorCode: 'CONN_UNREACHABLE' });
    expect(accounts.deadLetters).toEqual({ pending: 2, total: 3 });
    expect(accounts.clickhousePending).toBe(1);
    const addresses = shop.streams.find((s: { stream: string }) => s.stream === 'addresses');
    expect(addresses.lag).toEqual({ cursorSeconds: null, sinceSuccessSeconds: null });
    expect(addresses.lastRun).toMatchObject({ id: 3, status: 'running', trigger: 'ops' });
    expect(addresses.clickhousePending).toBe(0);
  });
});

describe('runs, schedules, syncs and dead letters', () => {
  it('pages runs newest first and filters them', async () => {
    const first = await call('/api/ops/runs?limit=2');
    expect(first.body.runs.map((r: { id: number }) => r.id)).toEqual([3, 2]);
    expect(first.body.next).toBe(2);
    const second = await call(`/api/ops/runs?limit=2&before=${first.body.next}`);
    expect(second.body).toMatchObject({ runs: [{ id: 1 }], next: null });
    expect((await call('/api/ops/runs?status=failed')).body.runs.map((r: { id: number }) => r.id)).toEqual([2]);
    expect((await call('/api/ops/runs/1')).body.run).toMatchObject({ id: 1, recordsRead: 571, recordsWritten: 560, recordsFailed: 2 });
    const missing = await call('/api/ops/runs/999');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('OPS_NOT_FOUND');
  });

  it('answers 400 with OPS_BAD_REQUEST and the field on bad bodies and queries', async () => {
    const cases: [string, unknown, string][] = [
      ['/api/ops/syncs', { source: 'shop_pg', stream: 'accounts', mode: 'sideways' }, 'body.mode'],
      ['/api/ops/syncs', { source: 'shop_pg', stream: 'accounts', mode: 'backfill' }, 'body.mode'],
      ['/api/ops/syncs', { source: 'shop_pg', stream: 'accounts', batch_size: 5 }, 'batch_size'],
      ['/api/ops/syncs', { source: 'nope', stream: 'accounts' }, 'body.source'],
      ['/api/ops/syncs', { source: 'shop_pg', stream: 'nope' }, 'body.stream'],
      // Names every object inherits are not streams or sources (they were queued, 202).
      ['/api/ops/syncs', { source: 'shop_pg', stream: 'constructor' }, 'body.stream'],
      ['/api/ops/syncs', { source: 'constructor', stream: 'accounts' }, 'body.source'],
      // What the CLI refuses before queueing (these were queued, and failed on a worker).
      ['/api/ops/syncs', { source: 'shop_pg', stream: 'accounts', mode: 'backfill', from: 'yesterday', to: 'banana' }, 'body.from'],
      ['/api/ops/syncs', { source: 'shop_pg', stream: 'accounts', mode: 'backfill', from: '2026-01-01', to: 'banana' }, 'body.to'],
      ['/api/ops/syncs', { source: 'shop_pg', stream: 'accounts', mode: 'backfill', from: '2026-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'is after body.to'],
      ['/api/ops/dead-letters/replay', { since: 'yesterday' }, 'body.since'],
      ['/api/ops/dead-letters/replay', { ids: [] }, 'body.ids'],
      // Replaying everything is asked for explicitly, never by leaving the filter out.
      ['/api/ops/dead-letters/replay', {}, '{"all": true}'],
      ['/api/ops/dead-letters/replay', { all: true, source: 'shop_pg' }, 'body.all'],
      ['/api/ops/dead-letters/replay', { all: false }, 'body.all'],
    ];
    for (const [path, body, field] of cases) {
      const r = await post(path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('OPS_BAD_REQUEST');
      expect(r.body.error.message).toContain(field);
    }
    const malformed = await call('/api/ops/syncs', { method: 'POST', body: '{"source":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('OPS_BAD_REQUEST');
    const query = await call('/api/ops/runs?limit=0&colour=red');
    expect(query.status).toBe(400);
    expect(query.body.error.message).toMatch(/query.limit/);
  });

  it('refuses a POST body that is not JSON (415 naming its type) or missing (400), replaying nothing', async () => {
    const pending = await pendingLetters();
    expect(pending).toBe(2);
    // curl -d '{"ids":[2]}' sends it form-encoded: express.json() leaves it unread.
    for (const path of ['/api/ops/dead-letters/replay', '/api/ops/syncs']) {
      const form = await call(path, { method: 'POST', body: '{"ids":[2]}', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect({ status: form.status, code: form.body.error?.code }, path).toEqual({ status: 415, code: 'OPS_UNSUPPORTED_MEDIA_TYPE' });
      expect(form.body.error.message, path).toBe('body: expected JSON (Content-Type: application/json), got Content-Type application/x-www-form-urlencoded');
      const none = await call(path, { method: 'POST' });
      expect({ status: none.status, code: none.body.error?.code }, path).toEqual({ status: 400, code: 'OPS_BAD_REQUEST' });
      expect(none.body.error.message, path).toMatch(/^body: expected a JSON object .*got no body$/);
    }
    const empty = await call('/api/ops/dead-letters/replay', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } });
    expect({ status: empty.status, code: empty.body.error?.code }).toEqual({ status: 400, code: 'OPS_BAD_REQUEST' });
    expect(await pendingLetters()).toBe(pending);
    expect((await call('/api/ops/runs?trigger=replay')).body.runs).toEqual([]);
  });

  it('answers requests it cannot read with 400 or 415, naming what, not 500', async () => {
    const cases: [string, Promise<{ status: number; body: Record<string, any> }>, number, string, RegExp][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
      ['NUL in a query string', call('/api/ops/runs?trigger=%00'), 400, 'OPS_BAD_REQUEST', /^query\.trigger: holds a NUL character/],
      ['NUL in a dead-letter filter', call('/api/ops/dead-letters?code=a%00b'), 400, 'OPS_BAD_REQUEST', /^query\.code: holds a NUL character/],
      ['bad percent-encoding in the path', call('/api/ops/runs/%E0%A4%A'), 400, 'OPS_BAD_REQUEST', /^path: Failed to decode param '%E0%A4%A'/],
      [
        'an unknown charset',
        call('/api/ops/dead-letters/replay', { method: 'POST', body: '{"ids":[1]}', headers: { 'content-type': 'application/json; charset=latin9' } }),
        415, 'OPS_UNSUPPORTED_MEDIA_TYPE', /^body: unsupported charset "LATIN9"/,
      ],
      [
        'a body that is not gzip',
        rawPost('/api/ops/dead-letters/replay', Buffer.from('{"ids":[1]}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
        400, 'OPS_BAD_REQUEST', /^body: does not decompress as its Content-Encoding says: /,
      ],
      [
        'an unknown content encoding',
        rawPost('/api/ops/dead-letters/replay', Buffer.from('{"ids":[1]}'), { 'content-type': 'application/json', 'content-encoding': 'zstd-ish' }),
        415, 'OPS_UNSUPPORTED_MEDIA_TYPE', /^body: unsupported content encoding "zstd-ish"/,
      ],
    ];
    const got = [];
    for (const [what, request] of cases) {
      const r = await request;
      got.push([what, r.status, r.body.error?.code, r.body.error?.message]);
    }
    // All at once, so a failure shows every case that answers wrongly.
    expect(got).toEqual(cases.map(([what, , status, code, message]) => [what, status, code, expect.stringMatching(message)]));
    // A gzipped JSON body is read as any other.
    const gz = await rawPost('/api/ops/dead-letters/replay', zlib.gzipSync('{"ids":[999999]}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(gz).toMatchObject({ status: 200, body: { selected: 0 } });
  });

  it('refuses a sync of a disabled source with 422 CONN_SOURCE_DISABLED, as the CLI does, queueing nothing', async () => {
    const disabled = configYaml(`  old_pg:\n    type: postgres\n    enabled: false\n    url: \${SHOP_PG_URL}\n    streams:\n      accounts: { table: shop.accounts, cursor: [updated_at, id], key: id }\nops:\n  admin_token: ${ADMIN_TOKEN}\n`);
    const s = await start(await testConfig(disabled));
    const waiting = await q.queue.getJobCounts('waiting', 'delayed');
    const r = await call('/api/ops/syncs', { method: 'POST', body: JSON.stringify({ source: 'old_pg', stream: 'accounts' }), headers: { 'content-type': 'application/json' } }, s);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 422, code: 'CONN_SOURCE_DISABLED' });
    expect(await q.queue.getJobCounts('waiting', 'delayed')).toEqual(waiting);
  });

  it('enqueues a sync (202 with the job id)', async () => {
    const r = await post('/api/ops/syncs', { source: 'shop_pg', stream: 'addresses', mode: 'full' });
    expect(r.status).toBe(202);
    const job = await q.queue.getJob(r.body.jobId);
    expect(job?.data).toEqual({ source: 'shop_pg', stream: 'addresses', mode: 'full', trigger: 'ops' });
    await job!.remove();
  });

  it('lists, runs, pauses and resumes schedules; an unknown one is 404 JOB_UNKNOWN_SCHEDULE', async () => {
    const pause = await post('/api/ops/schedules/accounts-every-minute/pause', {});
    expect(pause.body).toMatchObject({ name: 'accounts-every-minute', paused: true });
    expect(pause.body.pausedBy).toMatch(/^ops-api@/);
    const list = await call('/api/ops/schedules');
    expect(list.body.schedules.map((s: { name: string; paused: boolean }) => [s.name, s.paused])).toEqual([
      ['accounts-every-minute', true],
      ['addresses-nightly', false],
      ['accounts-off', false],
    ]);
    const nightly = list.body.schedules[1];
    expect(nightly).toMatchObject({ sync: 'shop_pg.addresses', mode: 'full', cron: '0 3 * * *', timezone: 'Asia/Shanghai', lastRun: { id: 3 } });
    // 03:00 in Shanghai is 19:00 UTC
    expect(new Date(nightly.nextRun).getUTCHours()).toBe(19);
    expect(list.body.schedules[2].nextRun).toBeNull();
    expect((await post('/api/ops/schedules/accounts-every-minute/resume', {})).body.paused).toBe(false);
    const run = await post('/api/ops/schedules/addresses-nightly/run', {});
    expect(run.status).toBe(202);
    expect((await q.queue.getJob(run.body.jobId))?.data).toMatchObject({ source: 'shop_pg', stream: 'addresses', mode: 'full', trigger: 'ops' });
    const unknown = await post('/api/ops/schedules/nope/run', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('JOB_UNKNOWN_SCHEDULE');
    expect(unknown.body.error.message).toContain('accounts-every-minute, addresses-nightly, accounts-off');
  });

  it('lists dead letters with filters and shows one with its payload', async () => {
    const pending = await call('/api/ops/dead-letters?replayed=false&source=shop_pg');
    expect(pending.body.deadLetters.map((d: { sourceKey: string }) => d.sourceKey)).toEqual(['a2', 'a1']);
    expect(pending.body.deadLetters[0].payload).toBeUndefined();
    const one = await call(`/api/ops/dead-letters/${pending.body.deadLetters[0].id}`);
    expect(one.body.deadLetter).toMatchObject({ sourceKey: 'a2', stage: 'map', errorCode: 'MAP_BAD_VALUE', payload: { id: 'a2' } });
    expect((await call('/api/ops/dead-letters/999999')).status).toBe(404);
  });

  it('replays dead letters through pipelines/replay.ts', async () => {
    const r = await post('/api/ops/dead-letters/replay', { ids: [999_999] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ selected: 0, loaded: 0 });
  });

  it('answers unknown API paths with a JSON 404', async () => {
    const r = await call('/api/ops/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('OPS_NOT_FOUND');
  });
});

describe('/metrics, /readyz and the queue board', () => {
  it('serves the named metrics to a token holder only', async () => {
    expect((await call('/metrics', { headers: { authorization: '' } })).status).toBe(401);
    const { status, body, headers } = await call('/metrics');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/text\/plain/);
    const text = body as unknown as string;
    for (const name of ['junction_records_read_total', 'junction_records_written_total', 'junction_records_failed_total', 'junction_batch_duration_seconds']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toMatch(/^junction_stream_lag_seconds\{source="shop_pg",stream="accounts"\} \d+$/m);
    expect(text).toContain('junction_stream_records{source="shop_pg",stream="accounts"} 571');
    expect(text).toContain('junction_dead_letters_pending{source="shop_pg",stream="accounts"} 2');
    expect(text).toContain('junction_clickhouse_pending_batches{source="shop_pg",stream="accounts"} 1');
    expect(text).toContain('junction_circuit_state{source="shop_pg"} 2');
    expect(text).toMatch(/^junction_queue_jobs\{state="waiting"\} \d+$/m);
    expect(text).toContain('junction_schedule_paused{schedule="accounts-every-minute"} 0');
    expect(text).toContain('junction_ops_collect_ok{part="streams"} 1');
  });

  it('/healthz and /readyz answer 200 without a token', async () => {
    expect((await call('/healthz', { headers: { authorization: '' } })).status).toBe(200);
    const ready = await call('/readyz', { headers: { authorization: '' } });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true } } });
    // Timings (and, when down, the drivers' messages) only to the token holder.
    const admin = await call('/readyz');
    expect(admin.body).toMatchObject({ status: 'ready', checks: { postgres: { ok: true, ms: expect.any(Number) }, redis: { ok: true, ms: expect.any(Number) } } });
    expect((await call('/readyz', { headers: basic('wrong') })).body.checks.postgres).toEqual({ ok: true });
  });

  it('/readyz is 503 naming postgres when PostgreSQL does not answer', async () => {
    const port = await closedPort();
    const dead = new pg.Pool({ connectionString: `postgres://junction@127.0.0.1:${port}/junction`, connectionTimeoutMillis: 2000 });
    try {
      const s = await start(config, dead);
      const r = await call('/readyz', {}, s);
      expect(r.status).toBe(503);
      expect(r.body.checks.postgres.ok).toBe(false);
      expect(r.body.checks.redis.ok).toBe(true);
      expect(r.body.error).toEqual({ code: 'OPS_NOT_READY', message: 'not reachable: postgres' });
      expect(r.body.checks.postgres.error).toMatch(/ECONNREFUSED|connect/);
      // Without the token: the verdict and the failed service's name, not the driver's message (hosts, ports).
      const anon = await call('/readyz', { headers: { authorization: '' } }, s);
      expect(anon.status).toBe(503);
      expect(anon.body).toEqual({ status: 'not ready', checks: { postgres: { ok: false }, redis: { ok: true } }, error: { code: 'OPS_NOT_READY', message: 'not reachable: postgres' } });
    } finally {
      await dead.end();
    }
  });

  it('serves the queue board only with the token; a browser is asked for Basic credentials', async () => {
    const anon = await call('/ops/queues', { headers: { authorization: '' } });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="junction ops"/);
    const page = await call('/ops/queues', { headers: basic(ADMIN_TOKEN) });
    expect(page.status).toBe(200);
    expect(page.body as unknown as string).toContain('<html');
    const api = await call('/ops/queues/api/queues', { headers: basic(ADMIN_TOKEN) });
    expect(api.status).toBe(200);
    expect(api.body.queues.map((x: { name: string }) => x.name)).toContain('sync');
    expect((await call('/ops/queues/api/queues', { headers: { authorization: '' } })).status).toBe(401);
  });
});

describe('dead-letter replays are not syncs', () => {
  it('a replay run that succeeded leaves the last successful sync, its age and its metric as they were', async () => {
    // accounts last succeeded an hour ago (run 1); addresses never did. Both then had a replay.
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at, finished_at, records_read, records_written) VALUES
      ('shop_pg', 'accounts', 'incremental', 'succeeded', 'replay', now() - interval '1 minute', now(), 2, 2),
      ('shop_pg', 'addresses', 'incremental', 'succeeded', 'replay', now() - interval '1 minute', now(), 1, 1) RETURNING id`);
    const { body } = await call('/api/ops/sources');
    const streams = body.sources.find((x: { name: string }) => x.name === 'shop_pg').streams;
    const accounts = streams.find((x: { stream: string }) => x.stream === 'accounts');
    const addresses = streams.find((x: { stream: string }) => x.stream === 'addresses');
    expect(accounts.lag.sinceSuccessSeconds).toBeGreaterThanOrEqual(3600 - 5);
    expect(addresses.lag.sinceSuccessSeconds).toBeNull();
    expect(addresses.lastSuccessAt).toBeNull();
    // The last run is what happened last, the replay included.
    expect(accounts.lastRun).toMatchObject({ id: Number(rows[0]!.id), trigger: 'replay' });

    const metrics = (await call('/metrics')).body as unknown as string;
    const age = /^junction_stream_last_success_age_seconds\{source="shop_pg",stream="accounts"\} (\d+)$/m.exec(metrics);
    expect(Number(age?.[1])).toBeGreaterThanOrEqual(3600 - 5);
    expect(metrics).not.toContain('junction_stream_last_success_age_seconds{source="shop_pg",stream="addresses"}');
  });

  it('nor is a backfill: one that succeeded over old dates leaves the last successful sync and its age as they were', async () => {
    await db.pool.query(`INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at, finished_at, records_read, records_written) VALUES
      ('shop_pg', 'accounts', 'backfill', 'succeeded', 'cli', now() - interval '1 minute', now(), 5, 5),
      ('shop_pg', 'addresses', 'backfill', 'succeeded', 'cli', now() - interval '1 minute', now(), 5, 5)`);
    const { body } = await call('/api/ops/sources');
    const streams = body.sources.find((x: { name: string }) => x.name === 'shop_pg').streams;
    const accounts = streams.find((x: { stream: string }) => x.stream === 'accounts');
    const addresses = streams.find((x: { stream: string }) => x.stream === 'addresses');
    expect(accounts.lag.sinceSuccessSeconds).toBeGreaterThanOrEqual(3600 - 5);
    expect(addresses.lastSuccessAt).toBeNull();
    expect(accounts.lastRun).toMatchObject({ mode: 'backfill' });
  });

  it('{"all": true} replays every pending letter', async () => {
    const r = await post('/api/ops/dead-letters/replay', { all: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    // The test config has no mapping for shop_pg.accounts: both letters are reported, none lost.
    expect(r.body).toMatchObject({ selected: 2, failedAgain: 2, streams: [{ source: 'shop_pg', stream: 'accounts', error: { code: 'SYNC_NO_MAPPING' } }] });
    expect(await pendingLetters()).toBe(2);
  });
});
