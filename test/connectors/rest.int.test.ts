/**
 * The rest connector live against the estate's PHP ticket API (GBK, signed queries), through
 * the demo config's `tickets_php` source. Expected values come from a direct PostgreSQL
 * query. Scratch tickets use ids 9100000000–9199999999 (far-future `updated_at`, so they
 * sort last) and are removed before each test and after the file.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings, withDatabase } from '../../config/env.js';
import type { JunctionError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { spec } from '../../connectors/rest.js';
import type { Batch, Checkpoint, Connector, SourceRecord } from '../../connectors/types.js';
import { seedEstate } from '../../demo/seed/seed-estate.js';
import { FIXTURE } from '../demo/estate-fixture.js';

type RestConfig = Parameters<NonNullable<typeof spec.create>>[1];

const settings = stackSettings();
const SCRATCH = { from: 9_100_000_000, to: 9_199_999_999 };
let db: pg.Client;
let base: RestConfig;
const open: Connector[] = [];

function connect(change: (cfg: RestConfig) => RestConfig = (c) => c): Connector {
  const c = spec.create('tickets_php', change(structuredClone(base)), { log: silentLogger });
  open.push(c);
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

const records = (batches: Batch[]) => batches.flatMap((b) => b.records);
const lastCheckpoint = (batches: Batch[]): Checkpoint | null => batches.at(-1)?.checkpoint ?? null;
const hash = (rows: { id: unknown; updated_at: unknown; subject: unknown }[]) =>
  createHash('sha256')
    .update(rows.map((r) => `${String(r.id)}\t${String(r.updated_at)}\t${String(r.subject)}`).join('\n'))
    .digest('hex');

async function dbTickets(): Promise<{ id: string; updated_at: string; subject: string }[]> {
  const { rows } = await db.query(
    "SELECT id::text, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') AS updated_at, subject FROM tickets_legacy.tickets ORDER BY updated_at, id",
  );
  return rows;
}

async function insertScratch(id: number, updatedAt: string, subject: string): Promise<void> {
  await db.query(
    'INSERT INTO tickets_legacy.tickets (id, subject, body, status, priority, created_at, updated_at) VALUES ($1, $2, $3, 0, 2, $4, $4)',
    [id, subject, '连接器测试', updatedAt],
  );
}

const removeScratch = () => db.query('DELETE FROM tickets_legacy.tickets WHERE id BETWEEN $1 AND $2', [SCRATCH.from, SCRATCH.to]);

beforeAll(async () => {
  db = new pg.Client({ connectionString: withDatabase(settings.services.postgres.url, settings.estateDatabase) });
  await db.connect();
  // Seed only when the estate is missing: the expected values are read from the database anyway.
  const present = await db.query("SELECT to_regclass('tickets_legacy.tickets') IS NOT NULL AS ok");
  const rows = present.rows[0].ok ? (await db.query('SELECT count(*)::int AS n FROM tickets_legacy.tickets')).rows[0].n : 0;
  if (rows === 0) await seedEstate({ ...FIXTURE, settings, outDir: await mkdtemp(path.join(os.tmpdir(), 'junction-estate-')) });

  const config = await loadConfig(path.join(PROJECT_ROOT, 'config/junction.yaml'), {
    env: { TICKETS_URL: settings.services.tickets_php.url, TICKETS_APPKEY: settings.ticketsAppKey, TICKETS_SECRET: settings.ticketsSecret },
  });
  base = structuredClone(config.sources.tickets_php) as RestConfig;
  expect(base.type).toBe('rest');
});

beforeEach(async () => {
  await removeScratch();
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  if (db) {
    await removeScratch();
    await db.end();
  }
});

describe('tickets_php (live PHP API)', () => {
  it('check: a signed request per stream succeeds', async () => {
    expect(await connect().check()).toMatchObject({ ok: true });
  });

  it('a full read returns exactly the tickets in the database, Chinese subjects intact after GBK decoding', async () => {
    const expected = await dbTickets();
    expect(expected.length).toBeGreaterThan(0);
    const got = records(await collect(connect().read('tickets', null)));
    expect(got).toHaveLength(expected.length);
    expect(hash(got as never)).toBe(hash(expected));
    const chinese = expected.find((t) => /[\u4e00-\u9fa5]/.test(t.subject));
    expect(chinese).toBeDefined();
    expect(got.find((r) => r.id === chinese!.id)?.subject).toBe(chinese!.subject);
    // Numbers as strings stay strings: the mapping layer converts.
    expect(typeof got[0]?.status).toBe('string');
  });

  it('an incremental read after one update and one insert returns exactly those two', async () => {
    const a = SCRATCH.from + 1;
    const b = SCRATCH.from + 2;
    await insertScratch(a, '2090-01-01 00:00:00', '发票抬头写错了');
    const c = connect();
    const full = await collect(c.read('tickets', null));
    const cp = lastCheckpoint(full);
    expect(cp).toEqual({ cursor: '2090-01-01 00:00:00', key: String(a) });

    await db.query("UPDATE tickets_legacy.tickets SET subject = '发票抬头已更正', updated_at = '2090-01-02 00:00:00' WHERE id = $1", [a]);
    await insertScratch(b, '2090-01-02 00:00:00', '物流一直没有更新');
    const changed = await collect(c.read('tickets', cp));
    expect(records(changed).map((r) => [r.id, r.subject, r.updated_at])).toEqual([
      [String(a), '发票抬头已更正', '2090-01-02 00:00:00'],
      [String(b), '物流一直没有更新', '2090-01-02 00:00:00'],
    ]);
    expect(lastCheckpoint(changed)).toEqual({ cursor: '2090-01-02 00:00:00', key: String(b) });
    expect(records(await collect(c.read('tickets', lastCheckpoint(changed))))).toEqual([]);
  });

  it('1,000 tickets sharing one updated_at, page size 64: every ticket exactly once, also when resumed mid-run', async () => {
    await db.query(
      "INSERT INTO tickets_legacy.tickets (id, subject, status, priority, created_at, updated_at) SELECT $1::bigint + g, '批量导入的工单 ' || g, 0, 1, '2099-01-01 00:00:00', '2099-01-01 00:00:00' FROM generate_series(0, 999) g",
      [SCRATCH.from + 1000],
    );
    const expected = await dbTickets();
    const c = connect((cfg) => ({ ...cfg, streams: { tickets: { ...cfg.streams.tickets!, page: { ...cfg.streams.tickets!.page!, size: 64 } } } }));
    const all = await collect(c.read('tickets', null, { batchSize: 64 }));
    const ids = records(all).map((r) => r.id);
    expect(ids).toHaveLength(expected.length);
    expect(new Set(ids).size).toBe(expected.length);
    expect(hash(records(all) as never)).toBe(hash(expected));

    // Stop 300 records into the run of ties and resume from that checkpoint.
    const before = expected.length - 1000;
    const first = await collect(c.read('tickets', null, { batchSize: 64, limit: before + 300 }));
    expect(lastCheckpoint(first)?.cursor).toBe('2099-01-01 00:00:00');
    const rest = await collect(c.read('tickets', lastCheckpoint(first), { batchSize: 64 }));
    expect(records(rest)).toHaveLength(700);
    expect([...records(first), ...records(rest)].map((r) => r.id)).toEqual(expected.map((t) => t.id));
  });

  it('a wrong secret → CONN_AUTH_FAILED (HTTP 200, code 1001), not retried', async () => {
    const c = connect((cfg) => ({ ...cfg, auth: { ...(cfg.auth as Extract<RestConfig['auth'], { type: 'signature' }>), secret: 'not-the-secret' } }));
    const err = await failure(collect(c.read('tickets', null)));
    expect(err).toMatchObject({ code: 'CONN_AUTH_FAILED', retryable: false, details: { code: 1001, msg: '签名错误' } });
    expect(err.message).not.toContain('not-the-secret');
    expect(await c.check()).toMatchObject({ ok: false, code: 'CONN_AUTH_FAILED' });
  });

  it('page=0 (the documented bad parameter) → the PHP Fatal error page → CONN_HTTP_ERROR 500', async () => {
    const c = connect((cfg) => ({ ...cfg, streams: { tickets: { ...cfg.streams.tickets!, page: { ...cfg.streams.tickets!.page!, start: 0 } as never } } }));
    const err = await failure(collect(c.read('tickets', null)));
    expect(err).toMatchObject({ code: 'CONN_HTTP_ERROR', retryable: false, details: { status: 500 } });
    expect(String(err.details?.excerpt)).toContain('Fatal error');
  });

  it('looks a ticket up by id (null for an unknown id; operator objects refused)', async () => {
    const { rows } = await db.query(
      "SELECT id::text, subject, body, status::text, priority::text, customer_email, customer_phone, shop_account_id::text, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created_at, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') AS updated_at FROM tickets_legacy.tickets WHERE subject ~ '[一-龥]' ORDER BY id LIMIT 1",
    );
    const c = connect();
    const found = (await c.lookup('ticket', { id: rows[0].id })) as SourceRecord;
    expect(found).toEqual(rows[0]);
    expect(await c.lookup('ticket', { id: String(SCRATCH.to) })).toBeNull();
    expect((await failure(c.lookup('ticket', { id: { $ne: null } }))).code).toBe('CONN_UNSAFE_PARAM');
  });

  it('a lookup against a source that does not answer in time → CONN_TIMEOUT', async () => {
    const server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const c = connect((cfg) => ({ ...cfg, base_url: url }));
      expect(await failure(c.lookup('ticket', { id: '100001' }, { timeoutMs: 200 }))).toMatchObject({ code: 'CONN_TIMEOUT', retryable: true });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
