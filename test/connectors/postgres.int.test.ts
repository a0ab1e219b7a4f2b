/**
 * The postgres connector against the stack's real PostgreSQL: the demo config's `shop_pg`
 * source on the seeded estate (shop.accounts, shop.addresses), and scratch tables in schema
 * conn_test_pg for everything that writes.
 */
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings, withDatabase } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { pastEnd } from '../../connectors/cursor-value.js';
import { createConnector } from '../../connectors/index.js';
import { cutStandIn, MAX_JSON_DEPTH } from '../../connectors/json.js';
import { spec as postgresSpec } from '../../connectors/postgres.js';
import { LOOKUP_ROWS } from '../../connectors/sql/connector.js';
import type { Batch, Checkpoint, Connector, SourceRecord } from '../../connectors/types.js';
import { seedEstate } from '../../demo/seed/seed-estate.js';
import { FIXTURE } from '../demo/estate-fixture.js';
import { BASE, load, yaml } from '../config/yaml-fixtures.js';
import { adminQuery, freshDatabase, type FreshDatabase } from '../helpers/scratch-pool.js';

const S = 'conn_test_pg';
const ctx = { log: silentLogger };
let db: pg.Client;
let estateUrl: string;
const open: Connector[] = [];

/** A postgres source on the estate database with the given streams and lookups (defaults applied). */
function source(name: string, raw: Record<string, unknown>, url = estateUrl): Connector {
  const config = postgresSpec.config.parse({ type: 'postgres', url, ...raw });
  const c = createConnector(name, config, ctx);
  open.push(c);
  return c;
}

async function collect(iterable: AsyncIterable<Batch>): Promise<{ records: SourceRecord[]; batches: Batch[] }> {
  const batches: Batch[] = [];
  for await (const b of iterable) batches.push(b);
  return { records: batches.flatMap((b) => b.records), batches };
}

const sha256 = (lines: string[]) => createHash('sha256').update(lines.join('\n')).digest('hex');

/** The same rows straight from pg (its default parsers), converted independently of the connector. */
async function directRows(sql: string): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query(sql);
  return rows.map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])));
}

interface TestProxy {
  port: number;
  close: () => Promise<void>;
  /** The connections open now stop passing bytes either way, without closing: a server that stopped answering. */
  freeze: () => void;
  /** New connections reach PostgreSQL only after this long (a slow path to the server). */
  delayConnects: (ms: number) => void;
}

/** A TCP proxy to PostgreSQL that a test can pull the plug on, freeze, or slow down. */
async function tcpProxy(target: URL): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const frozen = new WeakSet<net.Socket>();
  let connectDelayMs = 0;
  const server = net.createServer((client) => {
    client.pause();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const forward = (from: net.Socket, to: net.Socket) => from.on('data', (chunk: Buffer) => void (frozen.has(from) || to.write(chunk)));
    upstream.once('connect', () =>
      setTimeout(() => {
        forward(client, upstream);
        forward(upstream, client);
        client.resume();
      }, connectDelayMs),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    freeze: () => sockets.forEach((s) => frozen.add(s)),
    delayConnects: (ms) => (connectDelayMs = ms),
  };
}

/** The estate URL through `proxy`. */
function via(proxy: TestProxy): string {
  const url = new URL(estateUrl);
  url.port = String(proxy.port);
  return url.toString();
}

beforeAll(async () => {
  const settings = stackSettings();
  estateUrl = withDatabase(settings.services.postgres.url, settings.estateDatabase);
  db = new pg.Client({ connectionString: estateUrl });
  await db.connect();
  // Expected counts and hashes come from the database itself, so whichever seed is loaded
  // will do; seed the shared fixture only when the estate is not there yet (reseeding would
  // pull the tables from under other suites reading them).
  const { rows } = await db.query("SELECT to_regclass('shop.accounts') IS NOT NULL AND to_regclass('shop.addresses') IS NOT NULL AS seeded");
  if (!rows[0].seeded) await seedEstate({ ...FIXTURE, settings, outDir: await mkdtemp(path.join(os.tmpdir(), 'junction-estate-')) });
  await db.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}`);
  await db.query(`CREATE TABLE ${S}.items (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL)`);
  await db.query(`INSERT INTO ${S}.items SELECT g, 'item ' || g, '2026-01-01T00:00:00Z'::timestamptz + (g || ' seconds')::interval FROM generate_series(1, 300) g`);
  await db.query(`CREATE TABLE ${S}.ties (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL)`);
  await db.query(`INSERT INTO ${S}.ties SELECT g, '2026-02-01T00:00:00Z' FROM generate_series(1, 1000) g`);
  await db.query(`CREATE SEQUENCE ${S}.seq`);
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await db?.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await db?.end();
});

describe('shop_pg from config/junction.yaml (seeded estate)', () => {
  let shop: Connector;
  beforeAll(async () => {
    const config = await loadConfig(path.join(PROJECT_ROOT, 'config/junction.yaml'), { env: { ...process.env, SHOP_PG_URL: estateUrl } });
    shop = createConnector('shop_pg', config.sources.shop_pg!, ctx);
    open.push(shop);
  });

  it.each([
    ['accounts', 'shop.accounts'],
    ['addresses', 'shop.addresses'],
  ])('a full read of %s returns exactly the rows of %s (count and content hash)', async (stream, table) => {
    const { records, batches } = await collect(shop.read(stream, null, { batchSize: 17 }));
    const expected = await directRows(`SELECT * FROM ${table} ORDER BY updated_at, id`);
    expect(expected.length).toBeGreaterThan(17);
    expect(batches).toHaveLength(Math.ceil(expected.length / 17));
    expect(records).toHaveLength(expected.length);
    expect(sha256(records.map((r) => JSON.stringify(r)))).toBe(sha256(expected.map((r) => JSON.stringify(r))));
    expect(batches.at(-1)!.checkpoint).toEqual({ cursor: records.at(-1)!.updated_at, key: records.at(-1)!.id });
  });

  it('checks connectivity and SELECT on both streams', async () => {
    const result = await shop.check();
    expect(result).toMatchObject({ ok: true });
    expect(result.detail).toContain('accounts, addresses');
  });

  it('discovers the streams with typed fields and nullability from the catalog', async () => {
    const streams = await shop.discover();
    const accounts = streams.find((s) => s.name === 'accounts')!;
    expect(accounts).toMatchObject({ key: 'id', cursor: ['updated_at', 'id'] });
    expect(accounts.fields).toEqual([
      { name: 'id', type: 'integer', nullable: false },
      { name: 'email', type: 'string', nullable: true },
      { name: 'phone', type: 'string', nullable: true },
      { name: 'full_name', type: 'string', nullable: true },
      { name: 'crm_id', type: 'string', nullable: true },
      { name: 'created_at', type: 'datetime', nullable: false },
      { name: 'updated_at', type: 'datetime', nullable: false },
    ]);
  });
});

describe('incremental reads (scratch table)', () => {
  it('after updates and inserts, a read from the last checkpoint returns exactly the changed rows', async () => {
    const c = source('conn_test_pg_inc', { streams: { items: { table: `${S}.items`, cursor: ['updated_at', 'id'], key: 'id', batch_size: 64 } } });
    expect(await c.count!('items', null)).toBe(300);
    const first = await collect(c.read('items', null));
    expect(first.records).toHaveLength(300);
    const checkpoint = first.batches.at(-1)!.checkpoint;
    expect(await collect(c.read('items', checkpoint))).toEqual({ records: [], batches: [] });
    expect(await c.count!('items', checkpoint)).toBe(0);

    await db.query(`UPDATE ${S}.items SET name = name || ' (changed)', updated_at = '2026-06-01T00:00:00.000123Z' WHERE id IN (7, 150, 3)`);
    await db.query(`UPDATE ${S}.items SET name = 'late', updated_at = '2026-06-02T00:00:00Z' WHERE id = 299`);
    await db.query(`INSERT INTO ${S}.items VALUES (301, 'new 1', '2026-06-01T00:00:00.000123Z'), (302, 'new 2', '2026-05-01T00:00:00Z')`);

    // The progress bar's total: exactly what the next read returns.
    expect(await c.count!('items', checkpoint)).toBe(6);
    expect(await c.count!('items', { cursor: '2026-06-01T00:00:00.000123Z', key: null })).toBe(5);
    const next = await collect(c.read('items', checkpoint));
    expect(next.records).toEqual([
      { id: '302', name: 'new 2', updated_at: '2026-05-01T00:00:00.000Z' },
      { id: '3', name: 'item 3 (changed)', updated_at: '2026-06-01T00:00:00.000123Z' },
      { id: '7', name: 'item 7 (changed)', updated_at: '2026-06-01T00:00:00.000123Z' },
      { id: '150', name: 'item 150 (changed)', updated_at: '2026-06-01T00:00:00.000123Z' },
      { id: '301', name: 'new 1', updated_at: '2026-06-01T00:00:00.000123Z' },
      { id: '299', name: 'late', updated_at: '2026-06-02T00:00:00.000Z' },
    ]);
    expect(next.batches.at(-1)!.checkpoint).toEqual({ cursor: '2026-06-02T00:00:00.000Z', key: '299' });
    expect((await collect(c.read('items', next.batches.at(-1)!.checkpoint))).records).toEqual([]);
  });

  it('a row committed after a later one was read: missed from the checkpoint, read with lookback_s (the rows before it again)', async () => {
    await db.query(`DROP TABLE IF EXISTS ${S}.late; CREATE TABLE ${S}.late (id text PRIMARY KEY, updated_at timestamptz NOT NULL)`);
    const slow = new pg.Client({ connectionString: estateUrl });
    await slow.connect();
    try {
      // now() is the transaction's start: the row is stamped before FAST, visible after it.
      await slow.query(`BEGIN; INSERT INTO ${S}.late VALUES ('SLOW', now())`);
      await new Promise((r) => setTimeout(r, 20));
      await db.query(`INSERT INTO ${S}.late VALUES ('FAST', clock_timestamp())`);
      const streams = (lookback_s: number) => ({ streams: { late: { table: `${S}.late`, cursor: ['updated_at', 'id'], key: 'id', lookback_s } } });
      const plain = source('conn_test_pg_late', streams(0));
      const first = await collect(plain.read('late', null));
      expect(first.records.map((r) => r.id)).toEqual(['FAST']);
      await slow.query('COMMIT');
      const checkpoint = first.batches.at(-1)!.checkpoint;
      expect((await collect(plain.read('late', checkpoint))).records).toEqual([]);
      const looking = source('conn_test_pg_late_lb', streams(60));
      const again = await collect(looking.read('late', checkpoint));
      expect(again.records.map((r) => r.id)).toEqual(['SLOW', 'FAST']);
      expect(again.batches.at(-1)!.checkpoint).toEqual(checkpoint);
      expect(await looking.count!('late', checkpoint)).toBe(2);
    } finally {
      await slow.end();
    }
  });

  it('lookback_s leaves a start the caller chose ({cursor, key: null}: read --since, a backfill) where it is', async () => {
    await db.query(`DROP TABLE IF EXISTS ${S}.since; CREATE TABLE ${S}.since (id text PRIMARY KEY, updated_at timestamptz NOT NULL)`);
    await db.query(`INSERT INTO ${S}.since VALUES ('BEFORE', '2026-03-01T00:00:00Z'), ('AT', '2026-03-01T00:00:30Z'), ('AFTER', '2026-03-01T00:01:00Z')`);
    const c = source('conn_test_pg_since_lb', { streams: { since: { table: `${S}.since`, cursor: ['updated_at', 'id'], key: 'id', lookback_s: 60 } } });
    const from = { cursor: '2026-03-01T00:00:30.000Z', key: null };
    expect((await collect(c.read('since', from))).records.map((r) => r.id)).toEqual(['AT', 'AFTER']);
    expect(await c.count!('since', from)).toBe(2);
    // A stored checkpoint (with its key) still resumes a minute before its cursor.
    expect((await collect(c.read('since', { cursor: '2026-03-01T00:00:30.000Z', key: 'AT' }))).records.map((r) => r.id)).toEqual(['BEFORE', 'AT', 'AFTER']);
  });

  it('lookback_s leaves a cursor without an offset (a date column: 2026-01-31 ends in -31, no offset) at its checkpoint', async () => {
    await db.query(`DROP TABLE IF EXISTS ${S}.days; CREATE TABLE ${S}.days (id text PRIMARY KEY, day date NOT NULL)`);
    await db.query(`INSERT INTO ${S}.days VALUES ('A', '2026-01-30'), ('B', '2026-01-31'), ('C', '2026-01-31'), ('D', '2026-02-01')`);
    const c = source('conn_test_pg_days_lb', { streams: { days: { table: `${S}.days`, cursor: ['day', 'id'], key: 'id', lookback_s: 3600 } } });
    const checkpoint = { cursor: '2026-01-31', key: 'B' };
    const { records, batches } = await collect(c.read('days', checkpoint));
    expect(records).toEqual([
      { id: 'C', day: '2026-01-31' },
      { id: 'D', day: '2026-02-01' },
    ]);
    expect(batches.at(-1)!.checkpoint).toEqual({ cursor: '2026-02-01', key: 'D' });
    expect(await c.count!('days', checkpoint)).toBe(2);
  });

  it('1,000 rows with the same updated_at in batches of 64: nothing lost, nothing repeated', async () => {
    const c = source('conn_test_pg_ties', { streams: { ties: { table: `${S}.ties`, cursor: ['updated_at', 'id'], key: 'id', batch_size: 64 } } });
    const { records, batches } = await collect(c.read('ties', null));
    expect(batches).toHaveLength(16);
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 1000 }, (_, i) => String(i + 1)));
    expect(new Set(records.map((r) => r.updated_at))).toEqual(new Set(['2026-02-01T00:00:00.000Z']));
  });
});

describe('type conversion', () => {
  beforeAll(async () => {
    await db.query(`CREATE TABLE ${S}.types (
      id int PRIMARY KEY, amount numeric(30,10), big bigint, small int, ratio float8, at_tz timestamptz, at_local timestamp,
      day date, doc jsonb, raw bytea, flag boolean, amounts numeric[], stamps timestamptz[], note text)`);
    await db.query(`INSERT INTO ${S}.types VALUES
      (1, 12345678901234567890.0123456789, 9007199254740993, 42, 0.5, '2026-01-01 08:00:00.123456+08', '2026-01-01 08:00:00',
       '2026-01-31', '{"a": [1, "x", null], "b": {"c": true}}', '\\x00ff10', true, '{1.10, 99999999999999999999.5}',
       '{"2026-01-01 00:00:00+00", "2026-01-01 00:00:00.5+00"}', 'caf\u00e9 \u5ba2\u6237'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  });

  it('emits numeric and bigint as exact strings, times as ISO with offset, jsonb as objects, bytea as base64, nulls as null', async () => {
    const c = source('conn_test_pg_types', { timezone: 'Asia/Shanghai', streams: { types: { table: `${S}.types`, key: 'id' } } });
    const { records } = await collect(c.read('types', null));
    expect(records).toEqual([
      {
        id: 1,
        amount: '12345678901234567890.0123456789',
        big: '9007199254740993',
        small: 42,
        ratio: 0.5,
        at_tz: '2026-01-01T00:00:00.123456Z',
        at_local: '2026-01-01T08:00:00.000+08:00',
        day: '2026-01-31',
        doc: { a: [1, 'x', null], b: { c: true } },
        raw: 'AP8Q',
        flag: true,
        amounts: ['1.10', '99999999999999999999.5'],
        stamps: ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.500Z'],
        note: 'café 客户',
      },
      Object.fromEntries(['id', 'amount', 'big', 'small', 'ratio', 'at_tz', 'at_local', 'day', 'doc', 'raw', 'flag', 'amounts', 'stamps', 'note'].map((k) => [k, k === 'id' ? 2 : null])),
    ]);
    // the parsers belong to this source's pool: pg's global defaults are untouched
    const { rows } = await db.query(`SELECT big, at_tz FROM ${S}.types WHERE id = 1`);
    expect(rows[0].at_tz).toBeInstanceOf(Date);
  });

  it('keeps json and jsonb numbers a JS number cannot hold as exact strings (big ids, long decimals, exponents), in arrays too', async () => {
    await db.query(`CREATE TABLE ${S}.json_numbers (id int PRIMARY KEY, doc jsonb, raw json, docs jsonb[])`);
    await db.query(`INSERT INTO ${S}.json_numbers VALUES (1,
      '{"order_id": 12345678901234567891, "amount": 0.10000000000000000001, "split": 12345678.123456789, "ids": [9007199254740993, 7], "small": 42, "ratio": 0.5, "uuid": "550e8400-e29b-41d4-a716-446655440000"}',
      '{"big": 1e400, "k": 1, "k": 2, "fine": 1.5}',
      ARRAY['{"id": 12345678901234567891}', '{"id": 3}']::jsonb[])`);
    const c = source('conn_test_pg_json_numbers', { streams: { j: { table: `${S}.json_numbers`, key: 'id' } } });
    const { records } = await collect(c.read('j', null));
    expect(records).toEqual([
      {
        id: 1,
        doc: { order_id: '12345678901234567891', amount: '0.10000000000000000001', split: '12345678.123456789', ids: ['9007199254740993', 7], small: 42, ratio: 0.5, uuid: '550e8400-e29b-41d4-a716-446655440000' },
        // json keeps its text: the last of two equal keys wins, as JSON.parse decides.
        raw: { big: '1e400', k: 2, fine: 1.5 },
        docs: [{ id: '12345678901234567891' }, { id: 3 }],
      },
    ]);
  });

  it('keeps a json member named __proto__ in reads and lookups instead of losing it to the prototype', async () => {
    await db.query(`CREATE TABLE ${S}.json_proto (id int PRIMARY KEY, doc jsonb)`);
    await db.query(`INSERT INTO ${S}.json_proto VALUES (1, '{"__proto__": {"tier": "gold"}, "k": {"__proto__": 12345678901234567891}}')`);
    const c = source('conn_test_pg_json_proto', {
      streams: { j: { table: `${S}.json_proto`, key: 'id' } },
      lookups: { doc: { query: `SELECT * FROM ${S}.json_proto WHERE id = :id`, params: ['id'] } },
    });
    // jsonb keeps keys shortest first; the big number sends the text to the lossless parser.
    const expected = '{"id":1,"doc":{"k":{"__proto__":"12345678901234567891"},"__proto__":{"tier":"gold"}}}';
    const { records } = await collect(c.read('j', null));
    expect(records.map((r) => JSON.stringify(r))).toEqual([expected]);
    expect(JSON.stringify(await c.lookup('doc', { id: 1 }))).toBe(expected);
  });

  it('cuts a json value nested past the depth limit in a read (the map stage dead-letters the row) and refuses it in a lookup, also when a big number sends it to the lossless parser', async () => {
    // 5,000 levels: past the lossless parser's recursion (a bare RangeError), far past the limit.
    await db.query(`CREATE TABLE ${S}.json_deep (id int PRIMARY KEY, doc jsonb)`);
    await db.query(`INSERT INTO ${S}.json_deep VALUES (1, $1), (2, '[[7]]')`, [`${'['.repeat(5000)}12345678901234567891${']'.repeat(5000)}`]);
    const c = source('conn_test_pg_json_deep', {
      streams: { j: { table: `${S}.json_deep`, key: 'id' } },
      lookups: { doc: { query: `SELECT * FROM ${S}.json_deep WHERE id = :id`, params: ['id'] } },
    });
    // A lookup's answer goes to a panel as it is: refused, not cut.
    await expect(c.lookup('doc', { id: 1 })).rejects.toMatchObject({ code: 'CONN_BAD_RESPONSE', where: { source: 'conn_test_pg_json_deep' } });
    expect(await c.lookup('doc', { id: 2 })).toEqual({ id: 2, doc: [[7]] });
    const { records } = await collect(c.read('j', null));
    expect(records[1]).toEqual({ id: 2, doc: [[7]] });
    // The row is level 1, doc's arrays levels 2 to 64, then the stand-in.
    const kept = `${'['.repeat(MAX_JSON_DEPTH - 1)}${JSON.stringify(cutStandIn())}${']'.repeat(MAX_JSON_DEPTH - 1)}`;
    expect(JSON.stringify(records[0])).toBe(`{"id":1,"doc":${kept}}`);
  });

  it('treats timestamp without time zone as UTC unless a timezone is configured', async () => {
    const c = source('conn_test_pg_utc', { streams: { types: { table: `${S}.types`, key: 'id' } } });
    const { records } = await collect(c.read('types', null, { limit: 1 }));
    expect(records[0]!.at_local).toBe('2026-01-01T08:00:00.000Z');
  });

  it('pages exactly on cursors that differ below the millisecond, and on a wall-clock cursor in a non-UTC zone', async () => {
    await db.query(`CREATE TABLE ${S}.micro (id int PRIMARY KEY, at timestamptz NOT NULL, local_at timestamp NOT NULL)`);
    // 30 rows inside one millisecond (3 per microsecond value), ids descending against time
    await db.query(`INSERT INTO ${S}.micro SELECT 100 - g, '2026-01-01 00:00:00.123400+00'::timestamptz + (g / 3) * interval '1 microsecond',
                    '2026-03-29 01:30:00'::timestamp + (g / 3) * interval '1 microsecond' FROM generate_series(0, 29) g`);
    const expected = (await db.query(`SELECT id FROM ${S}.micro ORDER BY at, id`)).rows.map((r) => r.id);
    for (const [cursor, timezone] of [
      ['at', 'UTC'],
      ['local_at', 'Europe/Berlin'],
    ] as const) {
      const c = source(`conn_test_pg_micro_${cursor}`, { timezone, streams: { micro: { table: `${S}.micro`, cursor: [cursor, 'id'], key: 'id', batch_size: 4 } } });
      const { records, batches } = await collect(c.read('micro', null));
      expect(records.map((r) => r.id)).toEqual(expected);
      expect(batches).toHaveLength(8);
    }
  });
});

describe('a timestamp (without time zone) cursor in a non-UTC source zone', () => {
  // America/Sao_Paulo: -03:00 now; in 2018 its clocks jumped from 00:00 to 01:00 on
  // 2018-11-04, so the stored wall clock 00:30 that day exists in no offset of the zone.
  const ROWS: [number, string][] = [
    [1, '2018-11-03 23:30:00'],
    [2, '2018-11-04 00:30:00.000001'],
    [3, '2018-11-04 01:30:00'],
    [4, '2025-12-31 20:00:00'],
    [5, '2025-12-31 21:00:00'], // 2026-01-01T00:00:00Z
    [6, '2025-12-31 22:00:00.5'],
    [7, '2026-01-01 00:00:00'],
    [8, '2026-01-01 01:00:00'],
  ];
  let c: Connector;
  beforeAll(async () => {
    await db.query(`CREATE TABLE ${S}.local_since (id int PRIMARY KEY, at timestamp NOT NULL)`);
    await db.query(`INSERT INTO ${S}.local_since SELECT * FROM unnest($1::int[], $2::timestamp[])`, [ROWS.map((r) => r[0]), ROWS.map((r) => r[1])]);
    c = source('conn_test_pg_local_since', { timezone: 'America/Sao_Paulo', streams: { local: { table: `${S}.local_since`, cursor: ['at', 'id'], key: 'id' } } });
  });

  it.each([
    ['UTC', '2026-01-01T00:00:00Z', [5, 6, 7, 8]],
    ['another offset', '2026-01-01T08:00:00+08:00', [5, 6, 7, 8]],
    ['sub-second, the zone offset', '2025-12-31T22:00:00.5-03:00', [6, 7, 8]],
    ['no offset: the source zone wall clock', '2026-01-01T00:00:00', [7, 8]],
  ])('--since with %s starts at that instant', async (_name, since, ids) => {
    const { records } = await collect(c.read('local', { cursor: since, key: null }));
    expect(records.map((r) => r.id)).toEqual(ids);
  });

  it('reads a backfill end without an offset in the source zone, as it reads --since (São Paulo, 3 h behind UTC)', async () => {
    await collect(c.read('local', null, { batchSize: 100 })); // the stream is described by a read, as before any backfill check
    // As run-sync.ts asks it: the connector's reading, else the generic one.
    const after = (cursor: string, to: string) => (c.cursorAfter ? c.cursorAfter('local', cursor, to) : pastEnd({ cursor, key: null }, to));
    // 22:00 on the 31st in São Paulo is before midnight there, though after midnight UTC.
    expect(after('2025-12-31T22:00:00.000-03:00', '2026-01-01')).toBe(false);
    expect(after('2026-01-01T00:00:00.000-03:00', '2026-01-01')).toBe(false);
    expect(after('2026-01-01T00:00:00.001-03:00', '2026-01-01')).toBe(true);
    expect(after('2025-12-31T22:00:00.000-03:00', '2025-12-31 21:59:59')).toBe(true);
    // An end with an offset is that instant.
    expect(after('2025-12-31T22:00:00.000-03:00', '2026-01-01T00:00:00Z')).toBe(true);
  });

  it("resumes from the connector's own checkpoints unchanged, one row per batch, a wall clock in a DST gap included", async () => {
    const { records, batches } = await collect(c.read('local', null, { batchSize: 1 }));
    expect(records.map((r) => r.id)).toEqual(ROWS.map((r) => r[0]));
    expect(records[1]!.at).toBe('2018-11-04T00:30:00.000001-02:00');
    for (const [i, batch] of batches.entries()) {
      const rest = await collect(c.read('local', batch.checkpoint, { batchSize: 3 }));
      expect(rest.records.map((r) => r.id)).toEqual(ROWS.slice(i + 1).map((r) => r[0]));
    }
  });
});

describe('output formats a database or role sets otherwise (DateStyle, IntervalStyle, extra_float_digits)', () => {
  // A scratch database, since ALTER DATABASE changes every new session on it.
  const DB = 'conn_test_pg_formats';
  const AT = 1767225600.123456;
  let scratch: FreshDatabase;
  let c: Connector;
  beforeAll(async () => {
    scratch = await freshDatabase(DB, 1);
    // extra_float_digits = 0 was the default before PostgreSQL 12: 15 significant digits.
    await adminQuery(
      `ALTER DATABASE ${DB} SET DateStyle = 'SQL, DMY'; ALTER DATABASE ${DB} SET IntervalStyle = 'sql_standard'; ALTER DATABASE ${DB} SET extra_float_digits = 0`,
    );
    await scratch.pool.query(`CREATE TABLE floats (id int PRIMARY KEY, at float8 NOT NULL)`);
    // Rows 1 and 2 tie; row 3 is 1 µs later, the same at 15 digits (1767225600.12346).
    await scratch.pool.query(`INSERT INTO floats VALUES (1, $1), (2, $1), (3, $2)`, [AT, 1767225600.123457]);
    await scratch.pool.query(`CREATE TABLE formats (id int PRIMARY KEY, at_tz timestamptz, at_local timestamp, day date, span interval, ratio float8)`);
    await scratch.pool.query(`INSERT INTO formats VALUES (1, '2026-02-01 10:00:00+00', '2026-02-01 10:00:00', '2026-02-01', '1 day 2 hours', 0.1::float8 + 0.2::float8)`);
    const config = postgresSpec.config.parse({
      type: 'postgres',
      url: scratch.url,
      timezone: 'Europe/Berlin',
      streams: { floats: { table: 'floats', cursor: ['at', 'id'], key: 'id' }, formats: { table: 'formats', key: 'id' } },
      lookups: { format: { query: 'SELECT * FROM formats WHERE id = :id', params: ['id'] } },
    });
    c = createConnector('conn_test_pg_formats', config, ctx);
  });
  afterAll(async () => {
    await c?.close();
    await scratch?.close();
  });

  it('pages a float8 cursor on its exact values: rows just above a checkpoint are read, not skipped', async () => {
    const { records, batches } = await collect(c.read('floats', null, { batchSize: 1 }));
    expect(records).toEqual([
      { id: 1, at: AT },
      { id: 2, at: AT },
      { id: 3, at: 1767225600.123457 },
    ]);
    expect(batches[0]!.checkpoint).toEqual({ cursor: AT, key: 1 });
    expect(await c.count!('floats', batches[0]!.checkpoint)).toBe(2);
  });

  it('emits ISO times and dates, postgres-style intervals and exact floats, in reads and lookups alike', async () => {
    const expected = { id: 1, at_tz: '2026-02-01T10:00:00.000Z', at_local: '2026-02-01T10:00:00.000+01:00', day: '2026-02-01', span: '1 day 02:00:00', ratio: 0.30000000000000004 };
    expect((await collect(c.read('formats', null))).records).toEqual([expected]);
    expect(await c.lookup('format', { id: 1 })).toEqual(expected);
  });
});

describe('failures', () => {
  it('the source going down mid-read: a classified error, and the consumer holds the checkpoint of the last complete batch', async () => {
    const proxy = await tcpProxy(new URL(estateUrl));
    const c = source('conn_test_pg_down', { streams: { items: { table: `${S}.items`, cursor: ['updated_at', 'id'], key: 'id', batch_size: 50 } } }, via(proxy));
    const seen: SourceRecord[] = [];
    let checkpoint: Checkpoint | null = null;
    let failure: unknown;
    try {
      for await (const batch of c.read('items', null)) {
        seen.push(...batch.records);
        checkpoint = batch.checkpoint;
        if (seen.length === 50) await proxy.close();
      }
    } catch (err) {
      failure = err;
    }
    expect(failure).toMatchObject({ code: 'CONN_UNREACHABLE', retryable: true, where: { source: 'conn_test_pg_down' } });
    expect(seen).toHaveLength(50);
    expect(checkpoint).toEqual({ cursor: seen[49]!.updated_at, key: seen[49]!.id });
    // resuming from it through a working connection loses nothing and repeats nothing
    const direct = source('conn_test_pg_resume', { streams: { items: { table: `${S}.items`, cursor: ['updated_at', 'id'], key: 'id' } } });
    const rest = await collect(direct.read('items', checkpoint));
    const all = await collect(direct.read('items', null));
    expect([...seen, ...rest.records]).toEqual(all.records);
  });

  it('a backend terminated between batches (pg_terminate_backend): the page is retried on a new connection', async () => {
    const c = source('conn_test_pg_kill', { streams: { items: { table: `${S}.items`, cursor: ['updated_at', 'id'], key: 'id', batch_size: 40 } } });
    const ids: unknown[] = [];
    let terminated = 0;
    for await (const batch of c.read('items', null)) {
      ids.push(...batch.records.map((r) => r.id));
      if (ids.length === 40) {
        const { rows } = await db.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'junction:conn_test_pg_kill'");
        terminated = rows[0].n;
      }
    }
    expect(terminated).toBe(1);
    const expected = (await db.query(`SELECT id FROM ${S}.items ORDER BY updated_at, id`)).rows.map((r) => r.id);
    expect(ids).toEqual(expected);
  });

  it('a statement over the stream timeout is CONN_TIMEOUT (not retried)', async () => {
    const c = source('conn_test_pg_slow', {
      streams: { slow: { query: `SELECT i.* FROM ${S}.items i CROSS JOIN pg_sleep(5)`, cursor: ['updated_at', 'id'], key: 'id', statement_timeout_ms: 100 } },
    });
    await expect(collect(c.read('slow', null))).rejects.toMatchObject({ code: 'CONN_TIMEOUT', retryable: true, details: { sqlstate: '57014' } });
  });

  it('reads in a READ ONLY transaction: a query that writes is refused', async () => {
    const c = source('conn_test_pg_ro', { streams: { items: { table: `${S}.items`, key: 'id' } }, lookups: { bump: { query: `SELECT nextval('${S}.seq') AS n` } } });
    await expect(c.lookup('bump', {})).rejects.toMatchObject({ code: 'CONN_QUERY_FAILED', retryable: false, details: { sqlstate: '25006' } });
    expect((await db.query(`SELECT last_value, is_called FROM ${S}.seq`)).rows[0]).toEqual({ last_value: '1', is_called: false });
  });

  it('refuses a second statement in a configured query (extended protocol): lookup, check() and discover() leave a scratch table untouched', async () => {
    await db.query(`CREATE TABLE ${S}.victim (id int PRIMARY KEY); INSERT INTO ${S}.victim VALUES (1), (2), (3)`);
    const remaining = async () => (await db.query(`SELECT count(*)::int AS n FROM ${S}.victim`)).rows[0].n as number;
    // The stream's query closes the probe's subquery itself, so its text holds four statements.
    const breakout = `SELECT 1 AS id) AS x; COMMIT; DELETE FROM ${S}.victim; SELECT * FROM (SELECT 1 AS id`;
    const c = source('conn_test_pg_multi', {
      streams: { sneaky: { query: breakout, key: 'id' } },
      lookups: { sneaky: { query: `SELECT 1 AS one; COMMIT; DELETE FROM ${S}.victim` } },
    });
    const refused = { code: 'CONN_QUERY_FAILED', retryable: false, where: { source: 'conn_test_pg_multi' }, details: { sqlstate: '42601' } };
    await expect(c.lookup('sneaky', {})).rejects.toMatchObject(refused);
    expect(await remaining()).toBe(3);
    const checked = await c.check();
    expect(checked).toMatchObject({ ok: false, code: 'CONN_QUERY_FAILED' });
    expect(checked.detail).toMatch(/stream sneaky: conn_test_pg_multi: cannot insert multiple commands/);
    expect(await remaining()).toBe(3);
    await expect(c.discover()).rejects.toMatchObject(refused);
    expect(await remaining()).toBe(3);
  });

  it('a login that may not read the table: check() reports it (CONN_PERMISSION) without throwing', async () => {
    await db.query(`DROP ROLE IF EXISTS conn_test_pg_login; CREATE ROLE conn_test_pg_login LOGIN PASSWORD 'right-one'`);
    const u = new URL(estateUrl);
    u.username = 'conn_test_pg_login';
    u.password = 'wrong-one';
    const c = source('conn_test_pg_auth', { streams: { items: { table: `${S}.items`, key: 'id' } } }, u.toString());
    try {
      const result = await c.check();
      expect(result.ok).toBe(false);
      // The stack trusts loopback logins, so the wrong password connects and SELECT is what
      // fails; a server that checks passwords refuses the login itself.
      expect(['CONN_PERMISSION', 'CONN_AUTH_FAILED']).toContain(result.code);
      expect(result.detail).toMatch(/permission denied|password authentication failed/);
      expect(result.detail).not.toContain('wrong-one');
    } finally {
      await c.close();
      await db.query('DROP ROLE IF EXISTS conn_test_pg_login');
    }
  });
});

describe('lookups', () => {
  const lookups = {
    account_by_email: { query: 'SELECT id, email, full_name FROM shop.accounts WHERE email = :email ORDER BY id', params: ['email'] },
    slow: { query: 'SELECT pg_sleep(:seconds) AS slept', params: ['seconds'], timeout_ms: 100 },
  };
  const shop = () => source('conn_test_pg_lookup', { streams: { accounts: { table: 'shop.accounts', key: 'id' } }, lookups });

  it('returns the row of a declared lookup', async () => {
    const { rows } = await db.query("SELECT email FROM shop.accounts WHERE email IS NOT NULL GROUP BY email HAVING count(*) = 1 ORDER BY email LIMIT 1");
    const email = rows[0].email as string;
    const expected = (await db.query('SELECT id, email, full_name FROM shop.accounts WHERE email = $1', [email])).rows[0];
    expect(await shop().lookup('account_by_email', { email })).toEqual(expected);
  });

  it('times out as CONN_TIMEOUT', async () => {
    await expect(shop().lookup('slow', { seconds: 5 })).rejects.toMatchObject({ code: 'CONN_TIMEOUT', retryable: true, details: { sqlstate: '57014' } });
  });

  it(`returns at most ${LOOKUP_ROWS} rows, the query's first, however many match (a placeholder value shared by thousands); a trailing comment does no harm`, async () => {
    const c = source('conn_test_pg_lookup_cap', {
      streams: { accounts: { table: 'shop.accounts', key: 'id' } },
      lookups: {
        many: { query: 'SELECT n, :tag AS tag FROM generate_series(1, 1000) AS n ORDER BY n DESC -- newest first', params: ['tag'] },
        few: { query: 'SELECT n FROM generate_series(1, 3) AS n ORDER BY n', params: [] },
      },
    });
    const many = (await c.lookup('many', { tag: 'x' })) as SourceRecord[];
    expect(many).toHaveLength(LOOKUP_ROWS);
    expect(many[0]).toEqual({ n: 1000, tag: 'x' });
    expect(many.at(-1)).toEqual({ n: 1000 - LOOKUP_ROWS + 1, tag: 'x' });
    expect(await c.lookup('few', {})).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('binds SQL fragments in parameters harmlessly', async () => {
    const c = shop();
    expect(await c.lookup('account_by_email', { email: "' OR 1=1 --" })).toBeNull();
    expect(await c.lookup('account_by_email', { email: "x' OR '1'='1" })).toBeNull();
    expect(Number((await db.query('SELECT count(*) FROM shop.accounts')).rows[0].count)).toBeGreaterThan(0);
  });

  it('refuses object and array parameters, a missing parameter and an unknown lookup', async () => {
    const c = shop();
    await expect(c.lookup('account_by_email', { email: { $ne: null } })).rejects.toMatchObject({ code: 'CONN_UNSAFE_PARAM' });
    await expect(c.lookup('account_by_email', { email: ['a', 'b'] })).rejects.toMatchObject({ code: 'CONN_UNSAFE_PARAM' });
    await expect(c.lookup('account_by_email', {})).rejects.toMatchObject({ code: 'CONN_UNKNOWN_LOOKUP' });
    await expect(c.lookup('nope', {})).rejects.toMatchObject({ code: 'CONN_UNKNOWN_LOOKUP' });
  });
});

describe('identifier validation', () => {
  it('refuses `shop.accounts; DROP TABLE x` in config, at its line', async () => {
    const { codes, errors } = await load({
      'junction.yaml': `${BASE}${yaml(`
        bad:
          type: postgres
          url: postgres://127.0.0.1/db
          streams:
            accounts: { table: "shop.accounts; DROP TABLE x", key: id }
      `).replace(/^/gm, '  ')}`,
    });
    expect(codes.some((c) => c.endsWith('CFG_INVALID_VALUE'))).toBe(true);
    expect(errors.join('\n')).toContain('sources.bad.streams.accounts.table');
  });

  it('refuses it in the factory too, and unsafe cursor and key columns', () => {
    const valid = postgresSpec.config.parse({ type: 'postgres', url: estateUrl, streams: { a: { table: 'shop.accounts', key: 'id' } } });
    const withStream = (s: Record<string, unknown>) => ({ ...valid, streams: { a: { ...valid.streams.a!, ...s } } });
    for (const bad of [{ table: 'shop.accounts; DROP TABLE x' }, { cursor: 'updated_at"; --' }, { key: 'id) OR (1=1' }, { cursor: ['updated_at', 'id desc'] }]) {
      expect(() => createConnector('bad', withStream(bad), ctx)).toThrow(expect.objectContaining({ code: 'CFG_INVALID_VALUE' }));
    }
    const undeclaredParam: typeof valid = { ...valid, lookups: { l: { query: 'SELECT :x', params: [], timeout_ms: 100 } } };
    expect(() => createConnector('bad', undeclaredParam, ctx)).toThrow(
      expect.objectContaining({ code: 'CFG_INVALID_VALUE' }),
    );
  });
});

describe('cancellation', () => {
  it('an AbortSignal between batches ends the read with CONN_ABORTED', async () => {
    const c = source('conn_test_pg_abort', { streams: { items: { table: `${S}.items`, cursor: ['updated_at', 'id'], key: 'id', batch_size: 10 } } });
    const controller = new AbortController();
    let batches = 0;
    const reading = (async () => {
      for await (const _ of c.read('items', null, { signal: controller.signal })) {
        batches += 1;
        if (batches === 2) controller.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ code: 'CONN_ABORTED' });
    expect(batches).toBe(2);
  });

  it('a server that stops answering: the client-side deadline ends a lookup with CONN_TIMEOUT, and the pool stays usable', { timeout: 15_000 }, async () => {
    const proxy = await tcpProxy(new URL(estateUrl));
    try {
      const c = source('conn_test_pg_hang', { max_connections: 1, streams: { items: { table: `${S}.items`, key: 'id' } }, lookups: { one: { query: 'SELECT 1 AS one' } } }, via(proxy));
      expect(await c.lookup('one', {})).toEqual({ one: 1 });
      proxy.freeze(); // the pooled connection: its statements never reach the server, no answer comes
      const started = performance.now();
      await expect(c.lookup('one', {}, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'CONN_TIMEOUT', retryable: true, where: { source: 'conn_test_pg_hang' } });
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(300);
      expect(waited).toBeLessThan(3_000);
      // The hung connection is dropped, not pooled again: the next lookup gets a new one.
      expect(await c.lookup('one', {}, { timeoutMs: 2_000 })).toEqual({ one: 1 });
    } finally {
      await proxy.close();
    }
  });

  it('a cancel that arrives after its statement finished does not kill the next statement on that connection', { timeout: 15_000 }, async () => {
    const proxy = await tcpProxy(new URL(estateUrl));
    try {
      const c = source(
        'conn_test_pg_late_cancel',
        { max_connections: 1, streams: { items: { table: `${S}.items`, key: 'id' } }, lookups: { nap: { query: 'SELECT pg_sleep(:seconds) AS slept', params: ['seconds'], timeout_ms: 5_000 } } },
        via(proxy),
      );
      expect(await c.lookup('nap', { seconds: 0 })).toEqual({ slept: '' });
      // pg_cancel_backend goes over a new connection: slowed down, it lands after the short statement.
      proxy.delayConnects(400);
      const controller = new AbortController();
      const short = c.lookup('nap', { seconds: 0.1 }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 30);
      await short.catch(() => undefined);
      // Started at once on whichever connection the pool gives: the late cancel must not reach it.
      await expect(c.lookup('nap', { seconds: 1 })).resolves.toEqual({ slept: '' });
    } finally {
      await proxy.close();
    }
  });

  it('an AbortSignal cancels the running statement on the server', async () => {
    const c = source('conn_test_pg_cancel', {
      streams: { slow: { query: `SELECT i.* FROM ${S}.items i CROSS JOIN pg_sleep(30)`, cursor: ['updated_at', 'id'], key: 'id' } },
    });
    const controller = new AbortController();
    const reading = collect(c.read('slow', null, { signal: controller.signal }));
    // abort once the statement is running on the server
    const active = "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'junction:conn_test_pg_cancel' AND query LIKE '%pg_sleep%' AND state = 'active'";
    while ((await db.query(active)).rows[0].n === 0) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await expect(reading).rejects.toMatchObject({ code: 'CONN_ABORTED' });
    // The server may take a moment to update pg_stat_activity; uncancelled, the statement
    // would stay active for 30 s, well past this wait.
    let stillActive = 1;
    for (let i = 0; i < 100 && stillActive > 0; i++) {
      stillActive = (await db.query(active)).rows[0].n;
      if (stillActive > 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(stillActive).toBe(0);
  });
});
