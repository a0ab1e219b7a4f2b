/**
 * The hub's ClickHouse client (`@clickhouse/client` over HTTP), set up to work with the
 * Debian 18.16 server as well as current ClickHouse:
 *
 * - no `query_params`: 18.16 has no `{name:Type}` parameters and rejects the `param_*`
 *   settings the client sends for them ("Unknown setting param_x"); callers inline values
 *   they control (numbers, validated identifiers) or insert data with `insert()`;
 * - no extra `clickhouse_settings` by default: every setting goes on the URL and 18.16
 *   refuses the ones it does not know (`async_insert`, `date_time_input_format`, …);
 *   `enable_http_compression`, which the client adds for compressed responses, 18.16 knows;
 * - JSONEachRow in both directions: Decimal values must be sent as JSON numbers (18.16 does
 *   not parse a quoted decimal), DateTime as unix seconds (no time zone involved), and
 *   UInt64 results come back as strings.
 *
 * The client's own log lines go through the hub's pino logger, which masks URL passwords
 * and the config's secrets; credentials travel in the Authorization header, never in a URL
 * the client logs.
 */
import { createClient, ClickHouseLogLevel, type ClickHouseClient, type Logger as ClientLogger, type LogParams } from '@clickhouse/client';
import { stackSettings, type StackSettings } from '../../config/env.js';
import { silentLogger, type Logger } from '../../config/log.js';
import { isTransient } from '../classify-error.js';

/** Options of {@link createClickhouseClient}. */
export interface ClickhouseClientOptions {
  /**
   * Database the hub's tables live in (queries and inserts name tables without it).
   * @defaultValue `settings.clickhouseDatabase`
   */
  database?: string;
  /**
   * How long one request may take, in milliseconds. A batch insert of a few thousand rows
   * takes well under a second; this only bounds a hung server.
   * @defaultValue 30000
   */
  requestTimeoutMs?: number;
  /** Where the client's warnings and errors go. @defaultValue silent */
  log?: Logger;
}

/** Routes the client's log calls into a pino logger (pino redacts). */
function loggerClass(log: Logger): new () => ClientLogger {
  const line = (p: LogParams) => ({ module: p.module, ...(p.args ? { args: p.args } : {}) });
  return class implements ClientLogger {
    trace(p: LogParams) {
      log.trace(line(p), `clickhouse: ${p.message}`);
    }
    debug(p: LogParams) {
      log.debug(line(p), `clickhouse: ${p.message}`);
    }
    info(p: LogParams) {
      log.info(line(p), `clickhouse: ${p.message}`);
    }
    warn(p: LogParams & { err?: Error }) {
      log.warn({ ...line(p), err: p.err }, `clickhouse: ${p.message}`);
    }
    error(p: LogParams & { err: Error }) {
      log.error({ ...line(p), err: p.err }, `clickhouse: ${p.message}`);
    }
  };
}

/**
 * A client for the hub's ClickHouse database (`JUNCTION_CLICKHOUSE_URL`, or the local
 * stack's server). Close it with `client.close()`.
 */
export function createClickhouseClient(settings: StackSettings = stackSettings(), options: ClickhouseClientOptions = {}): ClickHouseClient {
  const timeout = options.requestTimeoutMs ?? 30_000;
  if (!Number.isInteger(timeout) || timeout <= 0) throw new RangeError(`requestTimeoutMs must be a positive integer, got ${timeout}`);
  const database = options.database ?? settings.clickhouseDatabase;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new RangeError(`database must be a plain identifier, got ${JSON.stringify(database)}`);
  return createClient({
    url: settings.services.clickhouse.url,
    database,
    request_timeout: timeout,
    application: 'junction',
    // Row batches compress well; 18.16 reads gzip request bodies.
    compression: { request: true, response: false },
    log: { LoggerClass: loggerClass(options.log ?? silentLogger), level: ClickHouseLogLevel.WARN },
  });
}

/**
 * The server's error code of a failed request (`"60"` for an unknown table), or undefined for
 * network failures. The client parses current servers' messages into `err.code` but not
 * 18.16's (`Code: 60, e.displayText() = DB::Exception: …`), so this reads the message too.
 */
export function clickhouseErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return code;
  return /^Code: (\d+)[,.]/.exec(err instanceof Error ? err.message : '')?.[1];
}

/**
 * Whether a failed ClickHouse request can succeed later: network failures and timeouts, and
 * the server codes for load (too many parts or queries, memory); not a refused statement
 * (unknown table or column, unparsable row), which fails the same way every time.
 */
export function isRetryableClickhouseError(err: unknown): boolean {
  const code = clickhouseErrorCode(err);
  return code === undefined ? isTransient(err) : isTransient({ code });
}
