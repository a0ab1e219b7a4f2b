/**
 * The shared SQL reader core (connectors/sql/) run against the stack's real PostgreSQL, in
 * two dialect shapes: PostgreSQL's own (row-value keyset, LIMIT) and the Oracle 12c shape
 * (expanded `c > :c OR (c = :c AND k > :k)` predicate, OFFSET … FETCH NEXT), which
 * PostgreSQL also accepts. Scratch schema: conn_test_sqlcore.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackSettings, withDatabase } from '../../config/env.js';
import { silentLogger } from '../../config/log.js';
import { createPgDriver } from '../../connectors/postgres.js';
import { createSqlConnector } from '../../connectors/sql/connector.js';
import { oracle11gDialect, oracle12cDialect, postgresDialect, type SqlDialect } from '../../connectors/sql/dialects.js';
import type { SqlDriver } from '../../connectors/sql/driver.js';
import { nullKeysetQuery, pageQuery } from '../../connectors/sql/query-builder.js';
import type { SqlStreamConfig } from '../../connectors/sql/stream-plan.js';
import { planStream } from '../../connectors/sql/stream-plan.js';
import type { Batch, Connector, SourceRecord } from '../../connectors/types.js';

const settings = stackSettings();
const url = withDatabase(settings.services.postgres.url, settings.estateDatabase);
const SCHEMA = 'conn_test_sqlcore';
const TIE = '2026-03-01T10:00:00.000Z';
let db: pg.Client;

/** PostgreSQL also accepts the Oracle 12c predicate and FETCH form: the core's other path. */
const oracleShaped: SqlDialect = { ...postgresDialect, name: 'expanded predicate + OFFSET/FETCH (oracle 12c shape)', keyset: 'expanded', limit: 'fetch-first' };
const dialects = [postgresDialect, oracleShaped];

const stream = (over: Partial<SqlStreamConfig>): SqlStreamConfig => ({
  table: `${SCHEMA}.ties`,
  cursor: ['updated_at', 'id'],
  key: 'id',
  batch_size: 64,
  statement_timeout_ms: 30_000,
  ...over,
});

const open: Connector[] = [];
/** `sent`, when given, collects the text of every statement the connector runs. */
function connector(dialect: SqlDialect, streams: Record<string, SqlStreamConfig>, sent?: string[]): Connector {
  const pgDriver = createPgDriver({ source: 'sqlcore', url, log: silentLogger });
  const driver: SqlDriver = sent ? { ...pgDriver, query: (statement, opts) => (sent.push(statement.sql), pgDriver.query(statement, opts)) } : pgDriver;
  const c = createSqlConnector({ source: 'sqlcore', type: 'postgres', dialect, driver, config: { streams, lookups: {} }, log: silentLogger });
  open.push(c);
  return c;
}

async function collect(iterable: AsyncIterable<Batch>): Promise<{ records: SourceRecord[]; batches: Batch[] }> {
  const batches: Batch[] = [];
  for await (const b of iterable) batches.push(b);
  return { records: batches.flatMap((b) => b.records), batches };
}

/** The ids read before a read failed, and its error (undefined: it did not fail). */
async function readUntilError(iterable: AsyncIterable<Batch>): Promise<{ ids: unknown[]; error: unknown }> {
  const ids: unknown[] = [];
  try {
    for await (const b of iterable) ids.push(...b.records.map((r) => r.id));
    return { ids, error: undefined };
  } catch (error) {
    return { ids, error };
  }
}

/** The expected order of every row: (updated_at, id), as the database sorts them. */
async function expectedIds(where = 'true'): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM ${SCHEMA}.ties WHERE ${where} ORDER BY updated_at, id`);
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
  // 1,000 rows on one updated_at, between 100 earlier and 100 later rows; ids shuffled so
  // that id order and insertion order differ.
  await db.query(`CREATE TABLE ${SCHEMA}.ties (id int PRIMARY KEY, updated_at timestamptz NOT NULL, payload text)`);
  await db.query(
    `INSERT INTO ${SCHEMA}.ties
       SELECT id, CASE WHEN id <= 100 THEN $1::timestamptz - (id || ' minutes')::interval
                       WHEN id <= 1100 THEN $1::timestamptz
                       ELSE $1::timestamptz + ((id - 1100) || ' seconds')::interval END,
              'row ' || id
       FROM (SELECT (g * 7919) % 1200 + 1 AS id FROM generate_series(0, 1199) g) s`,
    [TIE],
  );
  await db.query(`CREATE TABLE ${SCHEMA}.nullable (id int PRIMARY KEY, updated_at timestamptz)`);
  await db.query(`INSERT INTO ${SCHEMA}.nullable VALUES (1, now()), (2, NULL)`);
  // NULL cursors that never end a page: they sort last, after a page boundary.
  await db.query(`CREATE TABLE ${SCHEMA}.null_cursor (id int PRIMARY KEY, updated_at timestamptz)`);
  await db.query(`INSERT INTO ${SCHEMA}.null_cursor VALUES (1, '2026-01-01Z'), (2, '2026-01-02Z'), (3, NULL), (4, NULL)`);
  // A NULL tie-breaking key inside a cursor value, between two rows that are read.
  await db.query(`CREATE TABLE ${SCHEMA}.null_tiebreak (id int PRIMARY KEY, updated_at timestamptz NOT NULL, k int)`);
  await db.query(`INSERT INTO ${SCHEMA}.null_tiebreak VALUES (1, '2026-01-01Z', 1), (2, '2026-01-01Z', NULL), (3, '2026-01-02Z', 3)`);
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await db?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db?.end();
});

describe('generated SQL for postgres', () => {
  const plan = planStream('s', 'accounts', { table: 'shop.accounts', cursor: ['updated_at', 'id'], key: 'id', batch_size: 100, statement_timeout_ms: 1000 });

  it('first page, after a checkpoint, and from a cursor value inclusive', () => {
    expect(pageQuery(postgresDialect, plan, null, 64)).toEqual({
      sql: 'SELECT * FROM "shop"."accounts" AS t ORDER BY t."updated_at", t."id" LIMIT $1',
      binds: [64],
    });
    expect(pageQuery(postgresDialect, plan, { cursor: TIE, key: '42' }, 64)).toEqual({
      sql: 'SELECT * FROM "shop"."accounts" AS t WHERE (t."updated_at", t."id") > ($1, $2) ORDER BY t."updated_at", t."id" LIMIT $3',
      binds: [TIE, '42', 64],
    });
    expect(pageQuery(postgresDialect, plan, { cursor: TIE, key: null }, 64)).toEqual({
      sql: 'SELECT * FROM "shop"."accounts" AS t WHERE t."updated_at" >= $1 ORDER BY t."updated_at", t."id" LIMIT $2',
      binds: [TIE, 64],
    });
  });
});

describe('generated SQL of the NULL keyset check', () => {
  const plan = planStream('s', 'accounts', { query: 'SELECT * FROM shop.accounts', cursor: ['updated_at', 'seq'], key: 'id', statement_timeout_ms: 1000 });
  it.each([
    [postgresDialect.name, postgresDialect, 'SELECT t."updated_at", t."seq", t."id" FROM (SELECT * FROM shop.accounts) AS t WHERE t."updated_at" IS NULL OR t."seq" IS NULL LIMIT $1', [1]],
    [oracle12cDialect.name, oracle12cDialect, 'SELECT t."updated_at", t."seq", t."id" FROM (SELECT * FROM shop.accounts) t WHERE t."updated_at" IS NULL OR t."seq" IS NULL OFFSET 0 ROWS FETCH NEXT :one_row ROWS ONLY', { one_row: 1 }],
    [oracle11gDialect.name, oracle11gDialect, 'SELECT * FROM (SELECT t."updated_at", t."seq", t."id" FROM (SELECT * FROM shop.accounts) t WHERE t."updated_at" IS NULL OR t."seq" IS NULL) WHERE ROWNUM <= :one_row', { one_row: 1 }],
  ])('%s', (_name, dialect, sql, binds) => {
    expect(nullKeysetQuery(dialect, plan)).toEqual({ sql, binds });
  });
});

describe.each(dialects.map((d) => [d.name, d] as const))('shared reader core on PostgreSQL, %s', (_name, dialect) => {
  it('reads 1,000 rows sharing one updated_at in batches of 64: nothing lost, nothing repeated', async () => {
    const c = connector(dialect, { ties: stream({}) });
    const { records, batches } = await collect(c.read('ties', null));
    const ids = records.map((r) => r.id);
    expect(ids).toEqual(await expectedIds());
    expect(new Set(ids).size).toBe(1200);
    expect(batches.every((b) => b.records.length <= 64)).toBe(true);
    expect(batches).toHaveLength(Math.ceil(1200 / 64));
    // each batch's checkpoint is its last record's (updated_at, id)
    for (const b of batches) {
      const last = b.records.at(-1)!;
      expect(b.checkpoint).toEqual({ cursor: last.updated_at, key: last.id });
    }
    expect(records.filter((r) => r.updated_at === TIE)).toHaveLength(1000);
  });

  it('resumes from every checkpoint with exactly the rows after it', async () => {
    const c = connector(dialect, { ties: stream({}) });
    const all = (await collect(c.read('ties', null))).batches;
    const ids = all.flatMap((b) => b.records.map((r) => r.id));
    let consumed = 0;
    for (const b of all) {
      consumed += b.records.length;
      const rest = (await collect(c.read('ties', b.checkpoint))).records.map((r) => r.id);
      expect(rest).toEqual(ids.slice(consumed));
    }
  });

  it('pages a declared query with the cursor predicate applied outside it', async () => {
    const c = connector(dialect, {
      even: stream({ table: undefined, query: `SELECT id, updated_at FROM ${SCHEMA}.ties WHERE id % 2 = 0 -- even ids only` }),
    });
    const { records } = await collect(c.read('even', null, { batchSize: 50 }));
    expect(records.map((r) => r.id)).toEqual(await expectedIds('id % 2 = 0'));
    expect(Object.keys(records[0]!)).toEqual(['id', 'updated_at']);
  });

  it('starts at a cursor value inclusive when the checkpoint has no key', async () => {
    const c = connector(dialect, { ties: stream({}) });
    const { records } = await collect(c.read('ties', { cursor: TIE, key: null }));
    expect(records.map((r) => r.id)).toEqual(await expectedIds(`updated_at >= '${TIE}'`));
    expect(records).toHaveLength(1100);
  });

  it('pages a stream without cursor by its key alone', async () => {
    const c = connector(dialect, { ties: stream({ cursor: undefined }) });
    const { records, batches } = await collect(c.read('ties', null, { batchSize: 100 }));
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    expect(batches[0]!.checkpoint).toEqual({ cursor: null, key: 100 });
    const rest = await collect(c.read('ties', { cursor: null, key: 1150 }));
    expect(rest.records.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1151));
  });

  it('stops after `limit` records, the last batch cut to size', async () => {
    const c = connector(dialect, { ties: stream({}) });
    const { batches } = await collect(c.read('ties', null, { limit: 100 }));
    expect(batches.map((b) => b.records.length)).toEqual([64, 36]);
    expect(batches[1]!.records.map((r) => r.id)).toEqual((await expectedIds()).slice(64, 100));
  });

  it('refuses a NULL cursor value with CONN_CURSOR instead of skipping the row', async () => {
    const c = connector(dialect, { nullable: stream({ table: `${SCHEMA}.nullable` }) });
    await expect(collect(c.read('nullable', null))).rejects.toMatchObject({ code: 'CONN_CURSOR', details: { column: 'updated_at' } });
  });

  it('refuses NULL cursors that no page ends on (a full read, and a read from a checkpoint) instead of ending as if complete', async () => {
    const c = connector(dialect, { nc: stream({ table: `${SCHEMA}.null_cursor` }) });
    const full = await readUntilError(c.read('nc', null, { batchSize: 2 }));
    expect(full.ids).toEqual([1, 2]);
    expect(full.error).toMatchObject({ code: 'CONN_CURSOR', where: { source: 'sqlcore' }, details: { stream: 'nc', column: 'updated_at' } });
    expect((full.error as Error).message).toMatch(/^stream nc: updated_at is NULL in at least one row \(key 3\);.*COALESCE\(updated_at/);
    const after = await readUntilError(c.read('nc', { cursor: '2026-01-02T00:00:00.000Z', key: 2 }));
    expect(after).toMatchObject({ ids: [], error: { code: 'CONN_CURSOR', details: { column: 'updated_at' } } });
  });

  it('refuses a NULL tie-breaking key in a declared query, and reads the query that coalesces it', async () => {
    const c = connector(dialect, {
      q: stream({ table: undefined, query: `SELECT id, updated_at, k FROM ${SCHEMA}.null_tiebreak`, cursor: ['updated_at', 'k'] }),
      fixed: stream({ table: undefined, query: `SELECT id, updated_at, COALESCE(k, -id) AS k FROM ${SCHEMA}.null_tiebreak`, cursor: ['updated_at', 'k'] }),
      cursor_fixed: stream({ table: undefined, query: `SELECT id, COALESCE(updated_at, '1970-01-01Z') AS updated_at FROM ${SCHEMA}.null_cursor` }),
    });
    // (2026-01-01, NULL) is not after (2026-01-01, 1): without the check, ids 1 and 3, no error.
    const read = await readUntilError(c.read('q', null, { batchSize: 1 }));
    expect(read.error).toMatchObject({ code: 'CONN_CURSOR', details: { stream: 'q', column: 'k' } });
    expect(read.ids).toEqual([1, 3]);
    expect((await collect(c.read('fixed', null, { batchSize: 1 }))).records.map((r) => r.id)).toEqual([2, 1, 3]);
    expect((await collect(c.read('cursor_fixed', null, { batchSize: 1 }))).records.map((r) => r.id)).toEqual([3, 4, 1, 2]);
  });

  it('checks for NULL keyset values once per read, and not at all on a table whose cursor and key are NOT NULL', async () => {
    const sent: string[] = [];
    const c = connector(dialect, { ties: stream({}), q: stream({ table: undefined, query: `SELECT * FROM ${SCHEMA}.ties` }) }, sent);
    await collect(c.read('ties', null, { batchSize: 500 }));
    expect(sent.filter((sql) => sql.includes('IS NULL'))).toEqual([]);
    await collect(c.read('q', null, { batchSize: 500 }));
    expect(sent.filter((sql) => sql.includes('IS NULL'))).toHaveLength(1);
  });

  it('refuses a checkpoint that does not fit the stream', async () => {
    const c = connector(dialect, { ties: stream({}) });
    await expect(collect(c.read('ties', { cursor: null, key: 5 }))).rejects.toMatchObject({ code: 'CONN_CURSOR' });
    await expect(collect(c.read('ties', { cursor: { x: 1 } as never, key: 5 }))).rejects.toMatchObject({ code: 'CONN_CURSOR' });
    await expect(collect(c.read('nope', null))).rejects.toMatchObject({ code: 'CONN_UNKNOWN_STREAM' });
  });

  it('refuses a start whose value the cursor column cannot hold with CONN_CURSOR naming it (a number for a timestamp, text for an id)', async () => {
    const c = connector(dialect, { ties: stream({}) });
    const number = await collect(c.read('ties', { cursor: 1700000000, key: null })).catch((e: unknown) => e);
    expect(number).toMatchObject({ code: 'CONN_CURSOR', details: { checkpoint: { cursor: 1700000000, key: null } } });
    expect((number as Error).message).toMatch(/^stream ties: the start \{"cursor":1700000000,"key":null\} does not fit its cursor \(updated_at, id\): .*\(SQLSTATE 22\w{3}\)$/);
    await expect(collect(c.read('ties', { cursor: TIE, key: 'abc' }))).rejects.toMatchObject({ code: 'CONN_CURSOR', details: { sqlstate: '22P02' } });
    // A start that fits reads as before.
    expect((await collect(c.read('ties', { cursor: TIE, key: null }, { limit: 3 }))).records).toHaveLength(3);
  });
});
