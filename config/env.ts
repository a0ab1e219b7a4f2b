/**
 * Where the hub's services live. This is the only module besides the YAML loader that reads
 * `process.env`: everything else receives these settings as arguments.
 *
 * Each service is either started by `junction stack up` in the project-local data folder on
 * a non-default loopback port, or — when its `JUNCTION_*_URL` is set — an existing server
 * that the stack leaves alone.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * V8 flags of every hub process Junction starts (`junction start` from the demo, the tests'
 * and benchmarks' worker processes, `npm run bench`, and `bin/junction.js` run as a program,
 * through its `#!` line). A sync allocates short-lived objects at a high rate (source
 * records, mapped rows, COPY text): a 64 MiB young generation instead of V8's 16 MiB
 * scavenges a quarter as often and promotes less. Measured with the resolve bench at
 * 200,000 records: garbage collection 4.6-4.8 s → 2.9-3.2 s of the run (see the README's
 * Benchmarks). V8 reads the flag at start only: `v8.setFlagsFromString` is too late.
 */
export const HUB_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

export type ServiceName = 'postgres' | 'redis' | 'clickhouse' | 'mongo' | 'orders_soap' | 'tickets_php';

export interface ServiceEndpoint {
  name: ServiceName;
  /** Loopback port the stack uses when it starts the service itself. */
  port: number;
  /** The URL clients use (the external one when `external`). */
  url: string;
  /** True when the URL came from the environment and the stack must not start it. */
  external: boolean;
}

export interface StackSettings {
  /** Project-local folder for data, logs and pid files (ignored by git). */
  dataDir: string;
  services: Record<ServiceName, ServiceEndpoint>;
  /** Database names on the PostgreSQL server: the hub's, and the demo estate's sources. */
  hubDatabase: string;
  estateDatabase: string;
  /** The ClickHouse database the hub's tables live in. */
  clickhouseDatabase: string;
  /** ClickHouse's native TCP port (the stack binds it; clients use HTTP). */
  clickhouseTcpPort: number;
  /** A FerretDB binary to use instead of building one into the data folder. */
  ferretdbBin: string | undefined;
  /** Seconds to wait for each service to become ready. */
  readyTimeoutSec: number;
  /** Shared secret of the demo ticket system's query signature (appkey → secret). */
  ticketsAppKey: string;
  ticketsSecret: string;
}

/** Default loopback ports: the usual ones plus 10000-ish, so a developer's own servers keep theirs. */
export const DEFAULT_PORTS: Record<ServiceName, number> = {
  postgres: 15432,
  redis: 16379,
  clickhouse: 18123,
  mongo: 17017,
  orders_soap: 18081,
  tickets_php: 18082,
};

const ENV_PREFIX: Record<ServiceName, string> = {
  postgres: 'JUNCTION_PG',
  redis: 'JUNCTION_REDIS',
  clickhouse: 'JUNCTION_CLICKHOUSE',
  mongo: 'JUNCTION_MONGO',
  orders_soap: 'JUNCTION_ORDERS_SOAP',
  tickets_php: 'JUNCTION_TICKETS',
};

/** The variable that points a service at an existing server, e.g. `JUNCTION_PG_URL`. */
export function urlVariable(name: ServiceName): string {
  return `${ENV_PREFIX[name]}_URL`;
}

function defaultUrl(name: ServiceName, port: number, hubDb: string): string {
  switch (name) {
    case 'postgres':
      return `postgres://junction@127.0.0.1:${port}/${hubDb}`;
    case 'redis':
      return `redis://127.0.0.1:${port}`;
    case 'clickhouse':
      return `http://127.0.0.1:${port}`;
    case 'mongo':
      return `mongodb://127.0.0.1:${port}/app`;
    case 'orders_soap':
      return `http://127.0.0.1:${port}/orders.php?wsdl`;
    case 'tickets_php':
      return `http://127.0.0.1:${port}`;
  }
}

function parsePort(value: string | undefined, variable: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${variable}=${value} is not a TCP port (1-65535)`);
  }
  return port;
}

/** Reads the stack settings once from an environment (default: the process's). */
export function stackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const hubDatabase = env.JUNCTION_PG_DATABASE || 'junction';
  const services = {} as Record<ServiceName, ServiceEndpoint>;
  for (const name of Object.keys(DEFAULT_PORTS) as ServiceName[]) {
    const prefix = ENV_PREFIX[name];
    const port = parsePort(env[`${prefix}_PORT`], `${prefix}_PORT`, DEFAULT_PORTS[name]);
    const externalUrl = env[`${prefix}_URL`];
    services[name] = {
      name,
      port,
      url: externalUrl || defaultUrl(name, port, hubDatabase),
      external: Boolean(externalUrl),
    };
  }
  return Object.freeze({
    dataDir: path.resolve(env.JUNCTION_DATA_DIR || path.join(PROJECT_ROOT, '.junction')),
    services,
    hubDatabase,
    estateDatabase: env.JUNCTION_ESTATE_DATABASE || 'junction_estate',
    clickhouseDatabase: env.JUNCTION_CLICKHOUSE_DATABASE || 'junction',
    clickhouseTcpPort: parsePort(env.JUNCTION_CLICKHOUSE_TCP_PORT, 'JUNCTION_CLICKHOUSE_TCP_PORT', 19000),
    ferretdbBin: env.JUNCTION_FERRETDB_BIN || undefined,
    readyTimeoutSec: Number(env.JUNCTION_READY_TIMEOUT_SEC) || 90,
    ticketsAppKey: env.JUNCTION_TICKETS_APPKEY || 'demo-app',
    ticketsSecret: env.JUNCTION_TICKETS_SECRET || 'demo-secret-please-change',
  });
}

/** The PostgreSQL URL of another database on the same server (the estate's, say). */
export function withDatabase(pgUrl: string, database: string): string {
  const url = new URL(pgUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * The variables `config/junction.yaml` reads for the demo sources, pointing at this stack's
 * estate (so moved ports or external servers need no config edit).
 */
export function estateEnv(settings: StackSettings): Record<string, string> {
  const s = settings.services;
  return {
    ORDERS_WSDL_URL: s.orders_soap.url,
    TICKETS_URL: s.tickets_php.url.replace(/\/$/, ''),
    TICKETS_APPKEY: settings.ticketsAppKey,
    TICKETS_SECRET: settings.ticketsSecret,
    SHOP_PG_URL: withDatabase(s.postgres.url, settings.estateDatabase),
    APP_MONGO_URL: s.mongo.url,
  };
}

/** The environment `${VAR}` interpolation sees: the stack's estate defaults, overridden by the real environment. */
export function configEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...estateEnv(stackSettings(env)), ...env };
}
