/**
 * The mongo connector against the stack's FerretDB (MongoDB wire protocol, SQLite backend).
 * Expectations come from the database itself through the bare `mongodb` driver; scratch
 * collections are named `conn_test_mongo_*` and dropped afterwards.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Binary, Decimal128, Double, Int32, Long, MongoClient, ObjectId, Timestamp, UUID, type Collection, type Document } from 'mongodb';
import { stackSettings } from '../../config/env.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import { toRecord } from '../../connectors/json.js';
import { spec } from '../../connectors/mongo.js';
import type { Batch, Checkpoint, Connector, ReadOptions, SourceRecord } from '../../connectors/types.js';
import { seedFixture } from '../demo/estate-fixture.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { errorOf } from '../helpers/errors.js';

const settings = stackSettings();
const mongoUrl = settings.services.mongo.url;
const SCRATCH = {
  inc: 'conn_test_mongo_inc',
  ties: 'conn_test_mongo_ties',
  bson: 'conn_test_mongo_bson',
  since: 'conn_test_mongo_since',
  sinceDay: 'conn_test_mongo_since_day',
  isoText: 'conn_test_mongo_iso_text',
  ids: 'conn_test_mongo_ids',
  deep: 'conn_test_mongo_deep',
  proto: 'conn_test_mongo_proto',
  stamped: 'conn_test_mongo_stamped',
} as const;

/**
 * `_id`s of one BSON type each, in ascending order: a checkpoint key must come back as the
 * same type, as MongoDB compares values only within a type. `legacy`: a checkpoint stored
 * before keys kept their type (the key's JSON value as text) still resumes.
 */
const KEY_TYPES: { type: string; ids: unknown[]; legacy: boolean }[] = [
  { type: 'objectid', ids: [1, 2, 3, 4].map((i) => new ObjectId(`65a00000000000000000000${i}`)), legacy: true },
  // As after a mongoimport of a JSON export: the reviewer's case.
  { type: 'hexstring', ids: [1, 2, 3, 4].map((i) => `65a00000000000000000000${i}`), legacy: false },
  { type: 'digitstring', ids: ['1', '2', '3', '4'], legacy: true },
  { type: 'int', ids: [1, 2, 3, 4], legacy: true },
  { type: 'double', ids: [0.5, 1.5, 2.5, 3.5], legacy: true },
  { type: 'long', ids: [3, 4, 5, 6].map((i) => Long.fromString(`900719925474099${i}`)), legacy: true },
  { type: 'date', ids: [1, 2, 3, 4].map((i) => new Date(`2030-01-0${i}T00:00:00Z`)), legacy: true },
  { type: 'uuid', ids: [1, 2, 3, 4].map((i) => new UUID(`0f8fad5b-d9cb-469f-a165-70867728950${i}`)), legacy: false },
];
const keyCollection = (type: string) => `conn_test_mongo_key_${type}`;
const scratchCollections = [...Object.values(SCRATCH), ...KEY_TYPES.map((k) => keyCollection(k.type))];

let mongo: MongoClient;
let users: Collection;
const opened: Connector[] = [];
const proxies: TcpProxy[] = [];

/** A connector over the stack's FerretDB (or `url`), built from YAML-shaped config through the registry. */
function connector(extra: Record<string, unknown> = {}, url = mongoUrl): Connector {
  const config = spec.config.parse({
    type: 'mongo',
    url,
    streams: {
      users: { collection: 'users', cursor: ['updatedAt', '_id'], key: '_id' },
      inc: { collection: SCRATCH.inc, cursor: ['updatedAt', '_id'], key: '_id' },
      ties: { collection: SCRATCH.ties, cursor: ['updatedAt', '_id'], key: '_id', batch_size: 64 },
      bson: { collection: SCRATCH.bson, cursor: ['updatedAt', '_id'], key: '_id' },
      since: { collection: SCRATCH.since, cursor: ['updatedAt', '_id'], key: '_id' },
      since_by_key: { collection: SCRATCH.since, key: '_id' },
      with_phone: { collection: 'users', filter: { phone: { $exists: true } }, projection: { phone: 1 }, cursor: ['updatedAt', '_id'], key: '_id' },
    },
    lookups: {
      users_by_phone: { collection: 'users', params: ['phone'], filter: { phone: '{{params.phone}}' }, projection: { phone: 1, openid: 1 }, timeout_ms: 2000 },
    },
    ...extra,
  });
  const conn = createConnector('app_mongo_test', config, { log: silentLogger });
  opened.push(conn);
  return conn;
}

async function readAll(conn: Connector, stream: string, checkpoint: Checkpoint | null = null, options: ReadOptions = {}): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of conn.read(stream, checkpoint, options)) batches.push(batch);
  return batches;
}

const records = (batches: Batch[]): SourceRecord[] => batches.flatMap((b) => b.records);
/**
 * A checkpoint as the next run gets it back from hub.checkpoint (pipelines/checkpoint.ts):
 * the cursor through jsonb, the key through `String()` into a text column.
 */
const stored = (checkpoint: Checkpoint): Checkpoint => ({
  cursor: JSON.parse(JSON.stringify(checkpoint.cursor)) as Checkpoint['cursor'],
  key: checkpoint.key === null ? null : String(checkpoint.key),
});
const lastCheckpoint = (batches: Batch[]): Checkpoint | null => batches.at(-1)?.checkpoint ?? null;

/**
 * The JSON a user document should become, written out independently of json.ts: ObjectId
 * as hex, dates as ISO-8601 UTC, strings as they are.
 */
function expectedUser(doc: Document): SourceRecord {
  const out: SourceRecord = {};
  for (const [k, v] of Object.entries(doc)) {
    out[k] = v instanceof ObjectId ? v.toHexString() : v instanceof Date ? v.toISOString() : (v as string);
  }
  return out;
}

function contentHash(rows: SourceRecord[]): string {
  const sorted = [...rows].sort((a, b) => String(a._id).localeCompare(String(b._id)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

beforeAll(async () => {
  mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await mongo.connect();
  users = mongo.db().collection('users');
  // Only when the estate is not there: reseeding is idempotent but other suites share it.
  if ((await users.countDocuments()) === 0) await (await seedFixture()).db.end();
  for (const name of scratchCollections) await mongo.db().dropCollection(name).catch(() => undefined);
});

afterAll(async () => {
  for (const conn of opened) await conn.close().catch(() => undefined);
  for (const proxy of proxies) await proxy.destroy();
  for (const name of scratchCollections) await mongo?.db().dropCollection(name).catch(() => undefined);
  await mongo?.close();
});

describe('mongo connector: reading', () => {
  it('reads the seeded app.users exactly: count, content hash and (updatedAt, _id) order match a direct find', async () => {
    const direct = await users.find({}).sort({ updatedAt: 1, _id: 1 }).toArray();
    expect(direct.length).toBeGreaterThan(50);
    const batches = await readAll(connector(), 'users', null, { batchSize: 50 });
    const got = records(batches);
    const expected = direct.map(expectedUser);
    expect(got).toHaveLength(expected.length);
    expect(contentHash(got)).toBe(contentHash(expected));
    expect(got.map((r) => r._id)).toEqual(expected.map((r) => r._id));
    expect(batches.map((b) => b.records.length).slice(0, -1).every((n) => n === 50)).toBe(true);
    const last = direct.at(-1)!;
    expect(lastCheckpoint(batches)).toEqual({ cursor: (last.updatedAt as Date).toISOString(), key: last._id.toHexString() });
  });

  it('applies the configured filter and projection (cursor and key kept for the checkpoint)', async () => {
    const direct = await users.find({ phone: { $exists: true } }).sort({ updatedAt: 1, _id: 1 }).toArray();
    const got = records(await readAll(connector(), 'with_phone'));
    expect(got.map((r) => r._id)).toEqual(direct.map((d) => d._id.toHexString()));
    expect(await connector().count!('with_phone', null)).toBe(direct.length);
    expect(new Set(got.flatMap((r) => Object.keys(r)))).toEqual(new Set(['_id', 'phone', 'updatedAt']));
  });

  it('reads after a checkpoint exactly the documents updated or inserted since', async () => {
    const inc = mongo.db().collection(SCRATCH.inc);
    const base = Date.parse('2030-01-01T00:00:00Z');
    const docs = Array.from({ length: 20 }, (_, i) => ({ _id: new ObjectId(), n: i, updatedAt: new Date(base + i * 1000) }));
    await inc.insertMany(docs);
    const conn = connector();
    expect(await conn.count!('inc', null)).toBe(20);
    const first = await readAll(conn, 'inc', null, { batchSize: 7 });
    expect(records(first).map((r) => r.n)).toEqual(docs.map((d) => d.n));
    const checkpoint = lastCheckpoint(first)!;
    expect(checkpoint).toEqual({ cursor: new Date(base + 19_000).toISOString(), key: docs[19]!._id.toHexString() });

    await inc.updateOne({ _id: docs[3]!._id }, { $set: { updatedAt: new Date(base + 100_000), note: 'updated' } });
    await inc.updateOne({ _id: docs[11]!._id }, { $set: { updatedAt: new Date(base + 101_000), note: 'updated' } });
    // Same updatedAt as the checkpoint, later _id: strictly after it, so it must come.
    const tie = { _id: new ObjectId(), n: 20, updatedAt: new Date(base + 19_000) };
    const fresh = { _id: new ObjectId(), n: 21, updatedAt: new Date(base + 102_000) };
    await inc.insertMany([tie, fresh]);

    // The progress bar's total: exactly what the next read returns.
    expect(await conn.count!('inc', checkpoint)).toBe(4);
    const next = records(await readAll(conn, 'inc', checkpoint, { batchSize: 7 }));
    expect(next.map((r) => r.n)).toEqual([20, 3, 11, 21]);
    expect(next.filter((r) => r.note === 'updated')).toHaveLength(2);
    // And nothing after the new checkpoint.
    expect(records(await readAll(conn, 'inc', { cursor: new Date(base + 102_000).toISOString(), key: fresh._id.toHexString() }))).toEqual([]);
  });

  it('cursor ties: 1,000 documents sharing one updatedAt, batch size 64, nothing lost or repeated, also when resumed mid-tie', async () => {
    const ties = mongo.db().collection(SCRATCH.ties);
    const at = new Date('2031-05-05T05:05:05.005Z');
    const docs = Array.from({ length: 1000 }, (_, i) => ({ _id: new ObjectId(), i, updatedAt: at }));
    await ties.insertMany(docs, { ordered: false });
    const conn = connector();
    const batches = await readAll(conn, 'ties');
    expect(batches.map((b) => b.records.length)).toEqual([...Array(15).fill(64), 40]);
    const ids = records(batches).map((r) => r._id as string);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(docs.map((d) => d._id.toHexString()).sort());
    expect(batches.every((b) => b.checkpoint?.cursor === at.toISOString())).toBe(true);

    const resumeFrom = batches[4]!.checkpoint;
    const rest = records(await readAll(conn, 'ties', resumeFrom));
    expect(rest.map((r) => r._id)).toEqual(ids.slice(5 * 64));
  });

  it('a cursor field of ISO-8601 strings (with offsets): a checkpoint resumes after it, ties included, instead of matching nothing', async () => {
    const col = mongo.db().collection(SCRATCH.isoText);
    // As after a mongoimport of a JSON export: times kept as the text they were.
    await col.insertMany([
      { _id: 'a', updatedAt: '2026-01-01T00:00:00Z' },
      { _id: 'b', updatedAt: '2026-01-02T00:00:00Z' },
      { _id: 'c', updatedAt: '2026-01-02T00:00:00Z' },
    ] as unknown as Document[]);
    const conn = connector({ streams: { iso: { collection: SCRATCH.isoText, cursor: ['updatedAt', '_id'], key: '_id' } } });
    const first = await readAll(conn, 'iso', null, { batchSize: 2 });
    expect(records(first).map((r) => r._id)).toEqual(['a', 'b', 'c']);
    // Resumed mid-tie: c shares b's updatedAt.
    expect(records(await readAll(conn, 'iso', stored(first[0]!.checkpoint!))).map((r) => r._id)).toEqual(['c']);
    const checkpoint = stored(lastCheckpoint(first)!);
    expect(checkpoint).toEqual({ cursor: '2026-01-02T00:00:00Z', key: 'c' });
    await col.insertMany([
      { _id: 'd', updatedAt: '2026-01-02T00:00:00Z' },
      { _id: 'e', updatedAt: '2026-02-01T00:00:00Z' },
    ] as unknown as Document[]);
    expect(await conn.count!('iso', checkpoint)).toBe(2);
    expect(records(await readAll(conn, 'iso', checkpoint)).map((r) => r._id)).toEqual(['d', 'e']);
  });

  it('a start point with key null is inclusive: {cursor: X, key: null} returns the documents at exactly X; {cursor: null, key: null} returns all', async () => {
    const since = mongo.db().collection(SCRATCH.since);
    const at = new Date('2032-03-03T03:03:03.003Z');
    const docs = [
      { _id: new ObjectId(), n: 'no cursor', updatedAt: null },
      { _id: new ObjectId(), n: 'before', updatedAt: new Date(at.getTime() - 1000) },
      { _id: new ObjectId(), n: 'at 1', updatedAt: at },
      { _id: new ObjectId(), n: 'at 2', updatedAt: at },
      { _id: new ObjectId(), n: 'after', updatedAt: new Date(at.getTime() + 1000) },
    ];
    await since.insertMany(docs);
    const conn = connector();
    const from = async (stream: string, checkpoint: Checkpoint) => records(await readAll(conn, stream, checkpoint)).map((r) => r.n);
    expect(await from('since', { cursor: at.toISOString(), key: null })).toEqual(['at 1', 'at 2', 'after']);
    expect(await from('since', { cursor: null, key: null })).toEqual(docs.map((d) => d.n));
    expect(await from('since_by_key', { cursor: null, key: null })).toEqual(docs.map((d) => d.n));
  });

  it('converts BSON types to plain JSON: ObjectId, Date, Long, Binary, Int32, Double, nested documents and arrays', async () => {
    const bson = mongo.db().collection(SCRATCH.bson);
    const id = new ObjectId('65a1b2c3d4e5f60718293a4b');
    const ref = new ObjectId('0123456789abcdef01234567');
    await bson.insertOne({
      _id: id,
      updatedAt: new Date('2030-02-03T04:05:06.789Z'),
      big: Long.fromString('9007199254740993'),
      small: Long.fromNumber(42),
      int: new Int32(7),
      dbl: new Double(1.5),
      bin: new Binary(Buffer.from('héllo\u0000')),
      text: '微信用户 🌸',
      flag: true,
      nothing: null,
      nested: { refs: [ref, { at: new Date('2001-01-01T00:00:00Z') }], deep: { n: 1 } },
    });
    const [record] = records(await readAll(connector(), 'bson'));
    expect(record).toEqual({
      _id: '65a1b2c3d4e5f60718293a4b',
      updatedAt: '2030-02-03T04:05:06.789Z',
      big: '9007199254740993',
      small: 42,
      int: 7,
      dbl: 1.5,
      bin: Buffer.from('héllo\u0000').toString('base64'),
      text: '微信用户 🌸',
      flag: true,
      nothing: null,
      nested: { refs: ['0123456789abcdef01234567', { at: '2001-01-01T00:00:00.000Z' }], deep: { n: 1 } },
    });
    // Plain JSON: survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('Decimal128 (FerretDB v1 cannot store it, so not read live): the conversion the reader applies gives its exact string', () => {
    expect(toRecord({ price: Decimal128.fromString('12345678901234567890.123456789') })).toEqual({ price: '12345678901234567890.123456789' });
  });

  it('discover() infers the users fields from a sample', async () => {
    const [users, ...rest] = await connector().discover();
    expect(rest.map((s) => s.name)).toContain('ties');
    expect(users!.name).toBe('users');
    expect(users!.cursor).toEqual(['updatedAt', '_id']);
    const fields = Object.fromEntries(users!.fields.map((f) => [f.name, f]));
    expect(fields._id).toEqual({ name: '_id', type: 'string', nullable: false });
    expect(fields.updatedAt).toEqual({ name: 'updatedAt', type: 'datetime', nullable: false });
    expect(fields.openid?.type).toBe('string');
  });

  it('check() pings and reads every stream collection; an unreachable server is reported, not thrown', async () => {
    const ok = await connector().check();
    expect(ok).toMatchObject({ ok: true });
    const closed = await startTcpProxy('127.0.0.1', 9);
    await closed.destroy();
    const down = await connector({}, `mongodb://127.0.0.1:${closed.port}/app?directConnection=true&serverSelectionTimeoutMS=500`).check();
    expect(down).toMatchObject({ ok: false, code: 'CONN_UNREACHABLE' });
  });

  it('stops with CONN_ABORTED when the signal fires between batches', async () => {
    const controller = new AbortController();
    const seen: Batch[] = [];
    const err = await errorOf(
      (async () => {
        for await (const batch of connector().read('users', null, { batchSize: 10, signal: controller.signal })) {
          seen.push(batch);
          controller.abort();
        }
      })(),
    );
    expect(err.code).toBe('CONN_ABORTED');
    expect(seen).toHaveLength(1);
  });

  it('FerretDB going away mid-read (proxy cut after the first batch): retryable CONN_UNREACHABLE, only the first checkpoint seen', async () => {
    const proxy = await startTcpProxy('127.0.0.1', new URL(mongoUrl).port ? Number(new URL(mongoUrl).port) : 27017);
    proxies.push(proxy);
    const conn = connector({}, `mongodb://127.0.0.1:${proxy.port}/app?directConnection=true&serverSelectionTimeoutMS=1500`);
    const checkpoints: (Checkpoint | null)[] = [];
    const err = await errorOf(
      (async () => {
        for await (const batch of conn.read('users', null, { batchSize: 16 })) {
          checkpoints.push(batch.checkpoint);
          if (checkpoints.length === 1) await proxy.destroy();
        }
      })(),
    );
    expect(err.code).toBe('CONN_UNREACHABLE');
    expect(err.retryable).toBe(true);
    const firstSixteen = await users.find({}).sort({ updatedAt: 1, _id: 1 }).limit(16).toArray();
    const last = firstSixteen.at(-1)!;
    expect(checkpoints).toEqual([{ cursor: (last.updatedAt as Date).toISOString(), key: last._id.toHexString() }]);
  });
});

describe('mongo connector: resuming after a stored checkpoint, for every key type', () => {
  /** Four documents keyed by `ids`, all at one updatedAt, so the key alone orders them. */
  async function seedKeys(type: string, ids: unknown[]): Promise<Connector> {
    const collection = mongo.db().collection(keyCollection(type));
    await collection.insertMany(ids.map((id, n) => ({ _id: id as ObjectId, n, updatedAt: new Date('2030-06-01T00:00:00Z') })));
    return connector({
      streams: {
        by_cursor: { collection: keyCollection(type), cursor: ['updatedAt', '_id'], key: '_id' },
        by_key: { collection: keyCollection(type), key: '_id' },
      },
    });
  }

  it.each(KEY_TYPES)('$type _id: the run after the first two records reads the other two, and count() says so', async ({ type, ids, legacy }) => {
    const conn = await seedKeys(type, ids);
    for (const stream of ['by_cursor', 'by_key']) {
      const first = await readAll(conn, stream, null, { batchSize: 2, limit: 2 });
      expect(records(first).map((r) => r.n)).toEqual([0, 1]);
      const checkpoint = stored(lastCheckpoint(first)!);
      expect(await conn.count!(stream, checkpoint)).toBe(2);
      const next = await readAll(conn, stream, checkpoint, { batchSize: 2 });
      expect(records(next).map((r) => r.n)).toEqual([2, 3]);
      // Nothing after the end, and the record keys stay the JSON values they were.
      expect(records(await readAll(conn, stream, stored(lastCheckpoint(next)!)))).toEqual([]);
      expect(records(next).map((r) => r._id)).toEqual(ids.slice(2).map((id) => toRecord({ id }).id));

      // A checkpoint written before keys kept their type: the key's JSON value, as text.
      const old: Checkpoint = { cursor: checkpoint.cursor, key: String(toRecord({ id: ids[1] }).id) };
      if (legacy) expect(records(await readAll(conn, stream, old)).map((r) => r.n)).toEqual([2, 3]);
    }
  });
});

describe('mongo connector: a start point typed by a person (read --since, sync --from)', () => {
  const docs = [
    { n: 'before', updatedAt: new Date('2032-03-02T23:59:59.999Z'), day: '2032-03-02', seq: 99 },
    { n: 'midnight', updatedAt: new Date('2032-03-03T00:00:00Z'), day: '2032-03-03', seq: 100 },
    { n: 'later', updatedAt: new Date('2032-03-03T08:30:00Z'), day: '2032-03-03', seq: 101 },
  ];
  let conn: Connector;

  beforeAll(async () => {
    await mongo.db().collection(SCRATCH.sinceDay).insertMany(docs.map((d) => ({ ...d })));
    conn = connector({
      streams: {
        by_date: { collection: SCRATCH.sinceDay, cursor: ['updatedAt', '_id'], key: '_id' },
        by_day_text: { collection: SCRATCH.sinceDay, cursor: ['day', '_id'], key: '_id' },
        by_number: { collection: SCRATCH.sinceDay, cursor: ['seq', '_id'], key: '_id' },
        by_date_none: { collection: SCRATCH.sinceDay, filter: { seq: { $gt: 1000 } }, cursor: ['updatedAt', '_id'], key: '_id' },
      },
    });
  });

  it.each([
    ['a date: UTC midnight of that day', 'by_date', '2032-03-03', ['midnight', 'later']],
    ['a date-time without an offset: UTC', 'by_date', '2032-03-03T08:30:00', ['later']],
    ['a date-time with a space', 'by_date', '2032-03-03 00:00:00', ['midnight', 'later']],
    ['a date-time with a +08 offset', 'by_date', '2032-03-03T08:00:00+08', ['midnight', 'later']],
    ['a date-time as json.ts writes it', 'by_date', '2032-03-03T00:00:00.000Z', ['midnight', 'later']],
    ['a date on a field holding dates as text', 'by_day_text', '2032-03-03', ['midnight', 'later']],
    ['a number on a numeric field', 'by_number', '100', ['midnight', 'later']],
  ])('%s', async (_name, stream, since, expected) => {
    // What `junction read --since X` and a backfill's `--from X` hand the connector.
    const start: Checkpoint = { cursor: since, key: null };
    expect(records(await readAll(conn, stream, start)).map((r) => r.n)).toEqual(expected);
    expect(await conn.count!(stream, start)).toBe(expected.length);
  });

  it.each([
    ['a number on a field of dates', 'by_date', '1700000000', 'updatedAt', 'date'],
    ['a date on a numeric field', 'by_number', '2032-03-03', 'seq', 'number'],
    ['a number on a field of dates as text', 'by_day_text', 1700000000, 'day', 'string'],
  ])('%s: CONN_CURSOR naming the start, the field and what it holds, not an empty read', async (_name, stream, since, field, type) => {
    const err = await errorOf(readAll(conn, stream, { cursor: since, key: null }));
    expect(err).toMatchObject({ code: 'CONN_CURSOR', where: { source: 'app_mongo_test' }, details: { checkpoint: { cursor: since, key: null }, field, type } });
    expect(err.message).toContain(`stream ${stream}: the start ${since} is `);
    expect(err.message).toContain(` but ${SCRATCH.sinceDay}.${field} holds `);
  });

  it('a number for dates is read as epoch seconds in the hint; a start of the field\'s type past every document stays an empty read', async () => {
    const err = await errorOf(readAll(conn, 'by_date', { cursor: 1700000000, key: null }));
    expect(err.message).toBe(
      `stream by_date: the start 1700000000 is a number but ${SCRATCH.sinceDay}.updatedAt holds dates (MongoDB compares values of one type only, so the read finds nothing): give a date such as 2023-11-14 or 2023-11-14T22:13:20Z`,
    );
    expect(records(await readAll(conn, 'by_date', { cursor: '2040-01-01', key: null }))).toEqual([]);
    expect(records(await readAll(conn, 'by_number', { cursor: '1000', key: null }))).toEqual([]);
    // Only documents the stream's filter selects count: none here, so a number is just nothing.
    expect(records(await readAll(conn, 'by_date_none', { cursor: '1700000000', key: null }))).toEqual([]);
  });
});

describe('mongo connector: lookups and filters', () => {
  it('looks up the users with a phone, substituting the parameter at the object level', async () => {
    const sample = await users.findOne({ phone: { $exists: true } });
    const phone = sample!.phone as string;
    const expected = await users.find({ phone }).toArray();
    const found = await connector().lookup('users_by_phone', { phone });
    expect(Array.isArray(found)).toBe(true);
    const rows = found as SourceRecord[];
    expect(rows.map((r) => r._id).sort()).toEqual(expected.map((d) => d._id.toHexString()).sort());
    expect(rows.every((r) => r.phone === phone && Object.keys(r).sort().join() === '_id,openid,phone')).toBe(true);
    // A phone that nobody has: an empty answer, not an error.
    expect(await connector().lookup('users_by_phone', { phone: '+00 no such phone' })).toEqual([]);
  });

  it.each([
    ['an operator object', { $ne: null }],
    ['a $gt operator object', { $gt: '' }],
    ['an array', ['13800138000']],
    ['a string starting with $', '$where'],
    ['a field-path string', '$phone'],
    ['a nested object', { phone: { $regex: '.*' } }],
  ])('refuses %s as a lookup parameter with CONN_UNSAFE_PARAM', async (_name, value) => {
    const err = await errorOf(connector().lookup('users_by_phone', { phone: value }));
    expect(err.code).toBe('CONN_UNSAFE_PARAM');
    expect(err.details).toMatchObject({ param: 'phone' });
  });

  it('finds a document by the hex text of its ObjectId _id, as a stream reads the key, and one whose _id is that text', async () => {
    const oid = new ObjectId('65b000000000000000000001');
    await mongo.db().collection(SCRATCH.ids).insertMany([
      { _id: oid, name: 'object id' } as Document,
      { _id: '65b000000000000000000002', name: 'hex text' } as unknown as Document,
      { _id: 'ABC', name: 'plain text', ref: '65b000000000000000000001' } as unknown as Document,
    ]);
    const conn = connector({ lookups: {
      by_id: { collection: SCRATCH.ids, params: ['id'], filter: { _id: '{{params.id}}' } },
      by_ref: { collection: SCRATCH.ids, params: ['id'], filter: { $or: [{ ref: '{{params.id}}' }, { name: 'none' }] } },
      by_eq: { collection: SCRATCH.ids, params: ['id'], filter: { _id: { $eq: '{{params.id}}' } } },
    } });
    const names = async (lookup: string, id: string) => ((await conn.lookup(lookup, { id })) as SourceRecord[]).map((r) => r.name);
    expect(await names('by_id', oid.toHexString())).toEqual(['object id']);
    expect(await names('by_id', '65b000000000000000000002')).toEqual(['hex text']);
    expect(await names('by_id', 'ABC')).toEqual(['plain text']);
    // Under $or too; a value put under an operator stays exactly what the config says.
    expect(await names('by_ref', oid.toHexString())).toEqual(['plain text']);
    expect(await names('by_eq', oid.toHexString())).toEqual([]);
  });

  it('a document nested past 64 levels: a stream hands it out cut (map dead-letters it), a lookup refuses it', async () => {
    let deep: Document = { v: 1 };
    for (let i = 0; i < 70; i++) deep = { x: deep };
    await mongo.db().collection(SCRATCH.deep).insertMany([{ _id: 'a', phone: '1', doc: deep }, { _id: 'b', phone: '2', doc: { x: 1 } }] as unknown as Document[]);
    const conn = connector({
      streams: { d: { collection: SCRATCH.deep, key: '_id' } },
      lookups: { by_phone: { collection: SCRATCH.deep, params: ['phone'], filter: { phone: '{{params.phone}}' } } },
    });
    const read = records(await readAll(conn, 'd'));
    expect(read.map((r) => r._id)).toEqual(['a', 'b']);
    expect(JSON.stringify(read[0])).toContain('"$junction_cut"');
    expect(await conn.lookup('by_phone', { phone: '2' })).toEqual([{ _id: 'b', phone: '2', doc: { x: 1 } }]);
    const err = await errorOf(conn.lookup('by_phone', { phone: '1' }));
    expect(err).toMatchObject({ code: 'CONN_BAD_RESPONSE', where: { source: expect.any(String) } });
  });

  it('keeps a field named __proto__ (the document\'s and a nested one) in reads and lookups', async () => {
    const doc = JSON.parse('{"_id": "p", "phone": "9", "__proto__": {"tier": "gold"}, "prefs": {"__proto__": [1, 2]}}') as Document;
    await mongo.db().collection(SCRATCH.proto).insertOne(doc);
    const conn = connector({
      streams: { p: { collection: SCRATCH.proto, key: '_id' } },
      lookups: { by_phone: { collection: SCRATCH.proto, params: ['phone'], filter: { phone: '{{params.phone}}' } } },
    });
    const expected = '{"_id":"p","phone":"9","__proto__":{"tier":"gold"},"prefs":{"__proto__":[1,2]}}';
    expect(records(await readAll(conn, 'p')).map((r) => JSON.stringify(r))).toEqual([expected]);
    expect(JSON.stringify(await conn.lookup('by_phone', { phone: '9' }))).toBe(`[${expected}]`);
  });

  // Its checkpoint would be text, and MongoDB compares within one type: every read after the
  // first matched nothing, without a word. Refused at the first checkpoint instead.
  it('a cursor field holding a BSON Timestamp or ObjectId is refused with CONN_CURSOR naming the field, not checkpointed as text', async () => {
    await mongo.db().collection(SCRATCH.stamped).insertMany([
      { _id: 'a', ts: new Timestamp({ t: 1_700_000_000, i: 1 }), oid: new ObjectId('65a000000000000000000001') },
      { _id: 'b', ts: new Timestamp({ t: 1_700_000_001, i: 1 }), oid: new ObjectId('65a000000000000000000002') },
    ] as unknown as Document[]);
    for (const [field, type] of [['ts', 'Timestamp'], ['oid', 'ObjectId']] as const) {
      const conn = connector({ streams: { s: { collection: SCRATCH.stamped, cursor: [field, '_id'], key: '_id' } } });
      const err = await errorOf(readAll(conn, 's'));
      expect(err).toMatchObject({ code: 'CONN_CURSOR', where: { key: 'b' }, details: { cursor: field, bsonType: type } }); // the batch's last document
      expect(err.message).toContain(`the cursor field ${field} holds a BSON ${type}`);
    }
  });

  it('refuses a missing parameter and an undeclared lookup with CONN_UNKNOWN_LOOKUP', async () => {
    expect((await errorOf(connector().lookup('users_by_phone', {}))).code).toBe('CONN_UNKNOWN_LOOKUP');
    expect((await errorOf(connector().lookup('nope', { phone: '1' }))).code).toBe('CONN_UNKNOWN_LOOKUP');
  });

  it('refuses $where, $function and $expr in configured filters, at any depth', () => {
    for (const filter of [{ $where: 'sleep(1000)' }, { $and: [{ a: 1 }, { $expr: { $gt: ['$a', 1] } }] }, { a: { $elemMatch: { $function: {} } } }]) {
      const parsed = spec.config.safeParse({ type: 'mongo', url: mongoUrl, streams: { s: { collection: 'users', key: '_id', filter } } });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/is not allowed in a filter/);
      // A config that skipped validation is refused by the factory as well.
      const raw = { type: 'mongo', url: mongoUrl, enabled: true, streams: { s: { collection: 'users', key: '_id', filter, batch_size: 10, timeout_ms: 1000 } }, lookups: {} };
      expect(() => spec.create('x', raw as never, { log: silentLogger })).toThrow(/is not allowed in a filter/);
    }
  });

  it('refuses a filter placeholder whose parameter is not declared', () => {
    const parsed = spec.config.safeParse({
      type: 'mongo',
      url: mongoUrl,
      streams: {},
      lookups: { l: { collection: 'users', params: ['phone'], filter: { email: '{{params.email}}' } } },
    });
    expect(parsed.error?.issues[0]?.message).toBe('{{params.email}} is not declared in params');
  });

  it('times out a lookup against a slow server with CONN_TIMEOUT (client-side timer)', async () => {
    const port = Number(new URL(mongoUrl).port || 27017);
    const slow = await startTcpProxy('127.0.0.1', port, { delayMs: 3000 });
    proxies.push(slow);
    const conn = connector({}, `mongodb://127.0.0.1:${slow.port}/app?directConnection=true`);
    const err = await errorOf(conn.lookup('users_by_phone', { phone: '13800138000' }, { timeoutMs: 300 }));
    expect(err.code).toBe('CONN_TIMEOUT');
    expect(err.retryable).toBe(true);
  });
});
