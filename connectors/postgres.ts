/** PostgreSQL tables or queries, read by the shared SQL reader with a compound cursor. */
import pg from 'pg';
import * as z from 'zod';
import { timeZoneSchema } from '../config/formats.js';
import type { Logger } from '../config/log.js';
import { secret } from '../config/secret.js';
import type { ConnectorFactory, ConnectorSpec } from './spec.js';
import { connectionUrl, namedRecord, requireWhenEnabled, sourceBase, sqlLookup, sqlStream } from './fields.js';
import { toJsonValue } from './json.js';
import type { SourceRecord } from './types.js';
import { createSqlConnector } from './sql/connector.js';
import { NULL_KEYSET_NOTE } from './sql/reader.js';
import { postgresDialect } from './sql/dialects.js';
import type { ColumnInfo, SqlDriver, StatementOptions } from './sql/driver.js';
import { pgError, pgErrorClass } from './sql/pg-errors.js';
import { pgBindValue, pgFieldType, pgTypeName, pgTypesConfig } from './sql/pg-types.js';

const config = z
  .strictObject({
    type: z.literal('postgres'),
    ...sourceBase(),
    url: connectionUrl(['postgres', 'postgresql']),
    password: secret(z.string()).optional().describe('when the password is not in the URL'),
    max_connections: z.number().int().min(1).max(64).default(4),
    timezone: timeZoneSchema()
      .default('UTC')
      .describe('zone of the wall-clock values in `timestamp without time zone` columns; they are emitted with its offset'),
    streams: namedRecord('stream', sqlStream()),
    lookups: namedRecord('lookup', sqlLookup()).default({}),
  })
  .superRefine(requireWhenEnabled(['url']));

/** Waiting for a pooled connection (or a new one) longer than this is CONN_TIMEOUT. */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * The client-side deadline of a statement is its statement_timeout plus this: the server's
 * own timeout normally answers first, the client's ends the wait on a server that stopped
 * answering (gone behind a dead network path, frozen), which would otherwise never settle.
 */
const CLIENT_GRACE_MS = 1_000;
/** Silence on an idle connection after which TCP keepalive probes start. */
const KEEPALIVE_DELAY_MS = 10_000;

/**
 * The text formats the type parsers (sql/pg-types.ts) and checkpoints rely on, pinned in
 * every transaction, since a server, database or role may set other defaults:
 * - TimeZone UTC: timestamptz text and offset-less inputs (`--since 2026-01-01`) do not
 *   depend on the server's zone;
 * - DateStyle ISO: `SQL, DMY` writes `01/02/2026 10:00:00 UTC`, which no parser here reads;
 * - IntervalStyle postgres: `1 day`, not `P1D` or `+1 0:00:00`, whatever the role prefers;
 * - extra_float_digits 3: exact float4/float8 text (PostgreSQL before 12 defaulted to 0,
 *   15 digits): a float cursor rounded up in its checkpoint skips the rows just above it.
 * SET LOCAL, not startup options: a pooler such as PgBouncer refuses unknown startup
 * parameters, and every statement (pages, counts, probes, lookups) runs in this transaction.
 */
const SESSION_FORMAT = "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3";

/**
 * A statement with its client-side deadline (`query_timeout`). With values, it goes through
 * the extended protocol even when they are empty: pg sends a statement without values through
 * the simple protocol, which runs every `;`-separated statement of the text, so a configured
 * `SELECT 1; COMMIT; DELETE …` would end the read-only transaction and delete in autocommit;
 * the extended protocol makes the server refuse a second statement. Without values: our own
 * fixed text, which may hold several statements.
 */
function pgStatement(text: string, deadlineMs: number, values?: unknown[]): PgQueryConfig {
  return values ? { text, values, queryMode: 'extended', query_timeout: deadlineMs } : { text, query_timeout: deadlineMs };
}

/** pg query options @types/pg does not list (both are in pg 8.23). */
interface PgQueryConfig extends pg.QueryConfig {
  queryMode?: 'extended';
  query_timeout: number;
}

/** What the PostgreSQL driver needs from a source's config. */
export interface PgDriverOptions {
  source: string;
  url: string;
  password?: string | undefined;
  /** Pool size. @defaultValue 4 */
  maxConnections?: number;
  /** Zone of `timestamp without time zone` values. @defaultValue 'UTC' */
  timezone?: string;
  log: Logger;
}

/**
 * The PostgreSQL {@link SqlDriver}: a `pg` Pool with this source's type parsers, every
 * statement in its own `READ ONLY` transaction with `SET LOCAL statement_timeout`.
 * The pool is created on first use, so building a connector opens nothing.
 */
export function createPgDriver(options: PgDriverOptions): SqlDriver {
  const { source, log } = options;
  const clientConfig: pg.ClientConfig = {
    connectionString: options.url,
    ...(options.password ? { password: options.password } : {}),
    types: pgTypesConfig(options.timezone ?? 'UTC'),
    // Lets a DBA see who runs the query, and a test find this source's backend.
    application_name: `junction:${source}`.slice(0, 63),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
  };
  let pool: pg.Pool | undefined;
  const getPool = (): pg.Pool => {
    if (!pool) {
      pool = new pg.Pool({ ...clientConfig, max: options.maxConnections ?? 4, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
      // An idle client whose server went away: the pool drops it; without a listener the
      // error would crash the process.
      pool.on('error', (err) => log.warn({ err: pgError(err, source) }, 'idle PostgreSQL connection lost'));
    }
    return pool;
  };

  /** Cancels the statement running on backend `pid`, from a separate connection. */
  const cancelBackend = async (pid: number | null): Promise<void> => {
    if (pid === null) return;
    const client = new pg.Client(clientConfig);
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch (err) {
      log.warn({ err: pgError(err, source) }, 'could not cancel a PostgreSQL statement');
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  async function readOnly<T>(opts: StatementOptions, work: (client: pg.PoolClient, deadlineMs: number) => Promise<T>): Promise<T> {
    const timeoutMs = Math.max(1, Math.trunc(opts.timeoutMs));
    const deadlineMs = timeoutMs + CLIENT_GRACE_MS;
    const { signal } = opts;
    let client: pg.PoolClient;
    try {
      client = await getPool().connect();
    } catch (err) {
      throw pgError(err, source);
    }
    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      void cancelBackend((client as unknown as { processID: number | null }).processID);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let failure: unknown;
    // A checked-out client whose connection drops emits 'error' besides failing its query;
    // the query's rejection is what we report, and an unheard 'error' would crash the process.
    const onClientError = (err: Error) => (failure ??= err);
    client.on('error', onClientError);
    try {
      if (signal?.aborted) throw signal.reason;
      await client.query(pgStatement(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeoutMs}; ${SESSION_FORMAT}`, deadlineMs));
      const result = await work(client, deadlineMs);
      await client.query(pgStatement('COMMIT', deadlineMs));
      return result;
    } catch (err) {
      failure = err;
      throw pgError(err, source, cancelled || signal?.aborted === true);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await release(client, failure, cancelled, deadlineMs);
      client.off('error', onClientError);
    }
  }

  /**
   * Back to the pool after a rollback, unless the connection itself is suspect. A cancelled
   * one never goes back, even when its statement finished first: the cancel request may still
   * be on its way and would kill the next statement run on that backend.
   */
  async function release(client: pg.PoolClient, failure: unknown, cancelled: boolean, deadlineMs: number): Promise<void> {
    if (cancelled) return client.release(true);
    if (failure === undefined) return client.release();
    const sqlstate = (failure as { code?: unknown } | null)?.code;
    const healthy = typeof sqlstate === 'string' && /^[0-9A-Z]{5}$/.test(sqlstate) && pgErrorClass(failure).code !== 'CONN_UNREACHABLE';
    if (healthy) {
      try {
        await client.query(pgStatement('ROLLBACK', deadlineMs));
        return client.release();
      } catch {
        // fall through: drop it
      }
    }
    client.release(true);
  }

  /**
   * The type parsers already produced JSON for most columns, so a row is converted in place,
   * touching only the values that are not JSON yet (bytea buffers, NaN, nested values):
   * no second object per row on a path that runs for every record read.
   */
  const jsonRow = (row: Record<string, unknown>): SourceRecord => {
    for (const key in row) {
      const v = row[key];
      // A field sits inside the row (level 1); nesting past the limit is cut, as in toRecord.
      if ((typeof v === 'object' && v !== null) || (typeof v === 'number' && !Number.isFinite(v))) row[key] = toJsonValue(v, 1, true);
    }
    return row as SourceRecord;
  };

  const columnsOf = (fields: pg.FieldDef[]): ColumnInfo[] =>
    fields.map((f) => ({ name: f.name, type: pgFieldType(f.dataTypeID), nullable: true, dbType: pgTypeName(f.dataTypeID) }));

  return {
    query: (statement, opts) =>
      readOnly(opts, async (client, deadlineMs) => {
        // A configured query is one SELECT (a second statement is refused): it can be wrapped.
        const sql = opts.maxRows === undefined ? statement.sql : `SELECT * FROM (${statement.sql}\n) AS junction_rows LIMIT ${Math.trunc(opts.maxRows)}`;
        const res = await client.query(pgStatement(sql, deadlineMs, statement.binds as unknown[]));
        return { rows: res.rows.map(jsonRow), columns: columnsOf(res.fields) };
      }),

    describe: (statement, opts) =>
      readOnly(opts, async (client, deadlineMs) => {
        const res = await client.query(pgStatement(statement.sql, deadlineMs, statement.binds as unknown[]));
        const columns = columnsOf(res.fields);
        const tables = [...new Set(res.fields.filter((f) => f.tableID).map((f) => String(f.tableID)))];
        if (tables.length === 0) return columns;
        // Nullability is not in the row description; the catalog has it for table columns.
        const notNull = await client.query<{ rel: string; num: number }>(
          pgStatement('SELECT attrelid::text AS rel, attnum::int AS num FROM pg_attribute WHERE attrelid = ANY($1::oid[]) AND attnotnull', deadlineMs, [tables]),
        );
        const required = new Set(notNull.rows.map((r) => `${r.rel}:${r.num}`));
        return columns.map((c, i) => {
          const f = res.fields[i]!;
          return { ...c, nullable: !required.has(`${f.tableID}:${f.columnID}`) };
        });
      }),

    bindValue: (value, column) => pgBindValue(value, column, options.timezone ?? 'UTC'),
    // A `timestamp` compares with the wall clock written; a `timestamptz` reads it in the session's UTC.
    boundZone: (column) => (column.dbType === 'timestamp' ? (options.timezone ?? 'UTC') : null),

    async close() {
      const p = pool;
      pool = undefined;
      await p?.end();
    },
  };
}

const create: ConnectorFactory<typeof config> = (source, cfg, ctx) =>
  createSqlConnector({
    source,
    type: 'postgres',
    dialect: postgresDialect,
    driver: createPgDriver({ source, url: cfg.url, password: cfg.password, maxConnections: cfg.max_connections, timezone: cfg.timezone, log: ctx.log }),
    config: cfg,
    log: ctx.log,
  });

export const spec = {
  type: 'postgres',
  summary: 'PostgreSQL tables or queries, read in batches after a (cursor, key) checkpoint',
  notes: [
    NULL_KEYSET_NOTE,
    'Every statement runs in a READ ONLY transaction with TimeZone UTC, DateStyle ISO, IntervalStyle postgres and extra_float_digits 3, whatever the server, database or role sets: times, intervals and float cursors read the same on every server.',
    'Numbers in json and jsonb values that a JS number cannot hold exactly (integers past 2^53, 16 digits or more, exponents) are emitted as strings.',
  ],
  config,
  examples: [
    {
      type: 'postgres',
      url: 'postgres://junction@127.0.0.1:15432/junction_estate',
      streams: { accounts: { table: 'shop.accounts', cursor: ['updated_at', 'id'], key: 'id' } },
    },
  ],
  create,
} as const satisfies ConnectorSpec<'postgres', typeof config>;
