/** Oracle tables or queries (oracledb Thin mode), read by the shared SQL reader. */
import type { Connection, OracleDb, Pool } from 'oracledb';
import * as z from 'zod';
import { JunctionError } from '../config/errors.js';
import { timeZoneSchema } from '../config/formats.js';
import type { Logger } from '../config/log.js';
import { secret } from '../config/secret.js';
import type { ConnectorFactory, ConnectorSpec } from './spec.js';
import { connectionUrl, namedRecord, requireWhenEnabled, sourceBase, sqlLookup, sqlStream } from './fields.js';
import { toRecord } from './json.js';
import { createSqlConnector } from './sql/connector.js';
import { oracle11gDialect, oracle12cDialect } from './sql/dialects.js';
import type { SqlDriver, SqlResult, StatementOptions } from './sql/driver.js';
import { oracleError, oracleErrorClass } from './sql/oracle-errors.js';
import { isOracleTimeColumn, oracleBindValue, oracleColumn, oracleFetchTypeHandler } from './sql/oracle-types.js';
import { pinUtcProcessZone } from './sql/process-zone.js';
import { NULL_KEYSET_NOTE } from './sql/reader.js';

const config = z
  .strictObject({
    type: z.literal('oracle'),
    ...sourceBase(),
    url: connectionUrl(['oracle'], 'oracle://user:password@host:1521/service'),
    user: z.string().optional(),
    password: secret(z.string()).optional(),
    // 11g has no OFFSET/FETCH, so the reader pages with ROWNUM there.
    dialect: z.enum(['12c', '11g']).default('12c'),
    max_connections: z.number().int().min(1).max(64).default(4),
    timezone: timeZoneSchema()
      .default('UTC')
      .describe('zone of the wall-clock values in DATE and TIMESTAMP columns; they are emitted with its offset'),
    streams: namedRecord('stream', sqlStream()),
    lookups: namedRecord('lookup', sqlLookup()).default({}),
  })
  .superRefine(requireWhenEnabled(['url']));

/** Seconds to establish a connection before CONN_TIMEOUT. */
const CONNECT_TIMEOUT_S = 10;
/**
 * The deadline of the rollback and close that end a read: a session that stopped answering
 * would otherwise hold the read, and its pool slot, for as long as TCP takes to notice.
 */
const RELEASE_TIMEOUT_MS = 5_000;

/** Thin-mode connection parameters. */
export interface OracleConnectParams {
  user: string;
  password: string;
  /** Easy Connect: `host:port/service[?params]`. */
  connectString: string;
}

/**
 * `oracle://user:password@host:port/service[?ezconnect_params]` to oracledb's parameters;
 * `user` / `password` given separately win over the URL's.
 * @throws CFG_INVALID_VALUE for an unusable URL (the URL itself is not echoed: it may hold a password)
 */
export function oracleConnectParams(url: string, user?: string, password?: string, source?: string): OracleConnectParams {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // No cause: URL's TypeError carries the input, password included.
    throw new JunctionError('CFG_INVALID_VALUE', 'the oracle url is not a URL (oracle://user:password@host:1521/service)', { where: { source } });
  }
  // A `%` not followed by two hex digits (`50%off` as a password) is refused by name, never echoed.
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new JunctionError('CFG_INVALID_VALUE', `the oracle url's ${what} holds a % that is not an escape: write % as %25 (or set ${what === 'service' ? 'the service in the url' : what} separately)`, { where: { source } });
    }
  };
  const service = decode(u.pathname.replace(/^\//, ''), 'service');
  if (u.protocol !== 'oracle:' || !u.hostname || !service) {
    throw new JunctionError('CFG_INVALID_VALUE', 'the oracle url needs a host and a service: oracle://user:password@host:1521/service', { where: { source } });
  }
  const login = user || decode(u.username, 'user');
  if (!login) throw new JunctionError('CFG_MISSING_KEY', 'no Oracle user: put it in the url or set user', { where: { source } });
  return {
    user: login,
    password: password ?? decode(u.password, 'password'),
    connectString: `${u.hostname}:${u.port || '1521'}/${service}${u.search}`,
  };
}

/** What the Oracle driver needs from a source's config. */
export interface OracleDriverOptions {
  source: string;
  connect: OracleConnectParams;
  maxConnections: number;
  /** Zone of DATE and TIMESTAMP values. */
  timezone: string;
  log: Logger;
}

/**
 * The Oracle {@link SqlDriver}. `oracledb` is imported on first use (Thin mode: no Instant
 * Client, and `initOracleClient` is never called), so configs that merely declare an Oracle
 * source, and `junction check`, never load it.
 */
export function createOracleDriver(options: OracleDriverOptions): SqlDriver {
  const { source, timezone } = options;
  // Before oracledb is loaded: it reads and binds DATE/TIMESTAMP through the local zone.
  const replaced = pinUtcProcessZone();
  if (replaced) options.log.warn({ source, zone: replaced }, `the process time zone is now UTC (was ${replaced}): oracledb reads DATE and TIMESTAMP through it`);
  let loaded: Promise<{ oracledb: OracleDb; pool: Pool }> | undefined;
  // Set once the module is loaded; bindValue() is only asked after a describe() that loads it.
  let tokens: OracleDb | undefined;

  const load = () => {
    loaded ??= (async () => {
      const oracledb = (await import('oracledb')).default;
      tokens = oracledb;
      const pool = await oracledb.createPool({
        ...options.connect,
        poolMin: 0,
        poolMax: options.maxConnections,
        poolIncrement: 1,
        poolTimeout: 60,
        queueTimeout: 60_000,
        connectTimeout: CONNECT_TIMEOUT_S,
      });
      return { oracledb, pool };
    })();
    loaded.catch(() => (loaded = undefined));
    return loaded;
  };

  async function readOnly(statement: { sql: string; binds: unknown[] | Record<string, unknown> }, opts: StatementOptions): Promise<SqlResult> {
    const { signal } = opts;
    let conn: Connection;
    let oracledb: OracleDb;
    try {
      const { pool, oracledb: od } = await load();
      oracledb = od;
      conn = await pool.getConnection();
    } catch (err) {
      throw oracleError(err, source);
    }
    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      conn.break().catch(() => undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let failure: unknown;
    try {
      if (signal?.aborted) throw signal.reason;
      conn.callTimeout = Math.max(1, Math.trunc(opts.timeoutMs));
      await conn.execute('SET TRANSACTION READ ONLY');
      const size = Math.min(Math.max(opts.expectedRows ?? 100, 1), 10_000);
      const res = await conn.execute(statement.sql, statement.binds, {
        outFormat: oracledb.OUT_FORMAT_OBJECT,
        fetchTypeHandler: oracleFetchTypeHandler(oracledb, timezone),
        fetchArraySize: size,
        prefetchRows: size + 1,
        ...(opts.maxRows === undefined ? {} : { maxRows: Math.trunc(opts.maxRows) }),
      });
      return { rows: (res.rows ?? []).map(toRecord), columns: (res.metaData ?? []).map(oracleColumn) };
    } catch (err) {
      failure = err;
      throw oracleError(err, source, cancelled || signal?.aborted === true);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await release(conn, failure, cancelled);
    }
  }

  /**
   * Ends the read-only transaction; a broken, timed-out or cancelled session is dropped, and
   * so is one whose rollback failed: back in the pool, its open transaction or dead socket
   * would fail the next read. The close runs whatever the rollback did, so a connection is
   * never left checked out of the pool.
   */
  async function release(conn: Connection, failure: unknown, cancelled: boolean): Promise<void> {
    const lost = failure !== undefined && ['CONN_UNREACHABLE', 'CONN_TIMEOUT'].includes(oracleErrorClass(failure).code);
    let suspect = cancelled || lost;
    try {
      conn.callTimeout = RELEASE_TIMEOUT_MS;
      if (!suspect) await conn.rollback();
    } catch (err) {
      suspect = true;
      options.log.warn({ err: oracleError(err, source) }, 'could not roll back an Oracle read; dropping its connection');
    }
    try {
      await conn.close({ drop: suspect });
    } catch (err) {
      options.log.warn({ err: oracleError(err, source) }, 'could not release an Oracle connection');
    }
  }

  return {
    query: readOnly,
    describe: async (statement, opts) => (await readOnly(statement, opts)).columns,
    bindValue: (value, column) => {
      if (!tokens) throw new JunctionError('CONN_CURSOR', `${source}: column types are not known yet`);
      return oracleBindValue(value, column, timezone, tokens);
    },
    // oracleBindValue reads a time without an offset in the source's zone, for every time type.
    boundZone: (column) => (isOracleTimeColumn(column) ? timezone : null),
    async close() {
      const current = loaded;
      loaded = undefined;
      if (current) await (await current.catch(() => undefined))?.pool.close(0);
    },
  };
}

const create: ConnectorFactory<typeof config> = (source, cfg, ctx) =>
  createSqlConnector({
    source,
    type: 'oracle',
    dialect: cfg.dialect === '11g' ? oracle11gDialect : oracle12cDialect,
    driver: createOracleDriver({
      source,
      connect: oracleConnectParams(cfg.url, cfg.user, cfg.password, source),
      maxConnections: cfg.max_connections,
      timezone: cfg.timezone,
      log: ctx.log,
    }),
    config: cfg,
    log: ctx.log,
  });

export const spec = {
  type: 'oracle',
  summary: 'Oracle tables or queries (Thin mode, 11g and 12c+), read after a (cursor, key) checkpoint',
  notes: [
    NULL_KEYSET_NOTE,
    "oracledb reads and binds DATE and TIMESTAMP through the process's time zone, where a daylight-saving gap has no 02:30: `junction` runs in UTC, and creating an Oracle source in another process sets its zone to UTC (with a warning).",
  ],
  config,
  examples: [
    {
      type: 'oracle',
      url: 'oracle://crm:secret@db.example:1521/CRMPDB',
      dialect: '11g',
      streams: { customers: { table: 'CRM.CUSTOMERS', cursor: ['UPDATED_AT', 'CRM_ID'], key: 'CRM_ID' } },
    },
  ],
  create,
} as const satisfies ConnectorSpec<'oracle', typeof config>;
