/**
 * The services of the local stack: how each is prepared, launched and probed. The stack
 * runner (`stack.ts`) treats them alike; everything service-specific is here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import type { ServiceEndpoint, ServiceName, StackSettings } from '../../config/env.js';
import { PROJECT_ROOT, withDatabase } from '../../config/env.js';
import { JunctionError } from '../../config/errors.js';
import { isAlive, type LaunchSpec } from './processes.js';
import { postgresBinDir, userIds } from './packages.js';
import { clickhouseConfig, clickhouseUsers, redisConf } from './service-configs.js';

export interface StackContext {
  settings: StackSettings;
  /** `<dataDir>/<service>`: the service's own data. */
  dir: (name: ServiceName) => string;
  log: (line: string) => void;
  /** Set once FerretDB is built (only when mongo is local). */
  ferretdbBin?: string;
}

export interface ServiceDef {
  name: ServiceName;
  /** Debian packages it needs when the stack starts it. */
  packages: string[];
  /** The long-running program, as it appears in /proc/PID/cmdline. */
  binary: (ctx: StackContext) => string;
  prepare?: (ctx: StackContext, endpoint: ServiceEndpoint) => void;
  /** Clears what earlier runs left behind; every up, running or not (before prepare). */
  tidy?: (ctx: StackContext) => void;
  launch: (ctx: StackContext, endpoint: ServiceEndpoint) => LaunchSpec;
  /** Resolves when the service answers at `url`; rejects with the reason otherwise. */
  probe: (url: string, ctx: StackContext) => Promise<void>;
  afterReady?: (ctx: StackContext, endpoint: ServiceEndpoint) => Promise<void>;
  /** Ports it listens on besides its URL's, each with the variable that moves it. */
  otherPorts?: (ctx: StackContext) => { port: number; variable: string }[];
  /** PostgreSQL shuts down fast on SIGINT; the others on SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** Signal the whole process group (PHP's built-in server forks workers). */
  stopGroup?: boolean;
}

const PG_SUPERUSER = 'junction';

/**
 * `fetch` of a service URL that may carry credentials (`http://user:pass@host/`, as in
 * JUNCTION_CLICKHOUSE_URL). Node's fetch refuses such a URL, and its error repeats the URL,
 * password included, which `stack status` would print: the credentials travel in a Basic
 * Authorization header instead (ClickHouse's HTTP interface takes them there).
 */
export function fetchService(target: URL, timeoutMs = 2000): Promise<Response> {
  const headers = new Headers();
  const bare = new URL(target);
  if (bare.username || bare.password) {
    const credentials = `${decodeURIComponent(bare.username)}:${decodeURIComponent(bare.password)}`;
    headers.set('authorization', `Basic ${Buffer.from(credentials).toString('base64')}`);
    bare.username = '';
    bare.password = '';
  }
  return fetch(bare, { headers, signal: AbortSignal.timeout(timeoutMs) });
}

/** PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` user. */
function pgUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = userIds('postgres');
  if (!ids) throw new Error('running as root, but there is no `postgres` system user to run PostgreSQL as');
  return ids;
}

/** Lets `uid` traverse every folder above `dir` (mktemp folders are 0700), adding o+x only. */
function makeTraversable(dir: string, log: (line: string) => void): void {
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const mode = fs.statSync(d).mode;
    if ((mode & 0o001) === 0) {
      fs.chmodSync(d, mode | 0o001);
      log(`postgres: added o+x to ${d} so the postgres user can reach its data folder`);
    }
  }
}

const postgres: ServiceDef = {
  name: 'postgres',
  packages: ['postgresql'],
  binary: () => path.join(postgresBinDir(), 'postgres'),
  stopSignal: 'SIGINT',
  tidy: (ctx) => clearInitdbLeftovers(ctx.dir('postgres'), ctx.log),
  prepare(ctx) {
    const dir = ctx.dir('postgres');
    if (fs.existsSync(path.join(dir, 'PG_VERSION'))) {
      if (fs.existsSync(path.join(dir, 'global', 'pg_control'))) return;
      // Left by a Junction from before the side folder below: an initdb stopped halfway, with
      // no control file the server could start from, and so no data.
      ctx.log(`postgres: ${dir} holds an initdb stopped halfway (no global/pg_control); redoing it`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // initdb writes PG_VERSION first and the rest after: it fills a side folder of this process
    // that is renamed into place once complete, so an interrupted initdb (Ctrl-C, kill -9) is
    // redone next time instead of leaving a data folder the server cannot start from, and an
    // initdb that outlived its killed parent finishes in a folder nobody renames.
    const building = `${dir}.initdb.${process.pid}`;
    if (fs.existsSync(dir)) {
      if (fs.readdirSync(dir).length > 0) {
        throw new JunctionError('STACK_START_FAILED', `postgres: ${dir} is not empty but holds no cluster (no PG_VERSION); move it away or empty it, and run stack up again`);
      }
      fs.rmdirSync(dir);
    }
    const user = pgUser();
    fs.rmSync(building, { recursive: true, force: true });
    fs.mkdirSync(building, { recursive: true, mode: 0o700 });
    if (user) {
      fs.chownSync(building, user.uid, user.gid);
      makeTraversable(building, ctx.log);
    }
    ctx.log('postgres: initdb (first run)');
    const args = ['-D', building, '-U', PG_SUPERUSER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'];
    const res = spawnInitdb(args, user);
    if (res.status !== 0) {
      fs.rmSync(building, { recursive: true, force: true });
      throw new Error(`initdb failed: ${res.stderr || res.stdout}`);
    }
    fs.renameSync(building, dir);
  },
  launch(ctx, endpoint) {
    const user = pgUser();
    return {
      command: path.join(postgresBinDir(), 'postgres'),
      args: [
        '-D', ctx.dir('postgres'),
        '-p', String(endpoint.port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=300',
        '-c', 'shared_buffers=256MB',
        '-c', 'log_min_messages=warning',
      ],
      uid: user?.uid,
      gid: user?.gid,
    };
  },
  async probe(url) {
    // Before the databases exist, the maintenance database answers for the server.
    const target = url.includes('127.0.0.1') ? withDatabase(url, 'postgres') : url;
    const client = new pg.Client({ connectionString: target, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      await client.end().catch(() => undefined);
    }
  },
  async afterReady(ctx, endpoint) {
    const client = new pg.Client({ connectionString: withDatabase(endpoint.url, 'postgres') });
    await client.connect();
    try {
      for (const db of [ctx.settings.hubDatabase, ctx.settings.estateDatabase]) {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
        if (found.rowCount === 0) {
          await client.query(`CREATE DATABASE ${pg.escapeIdentifier(db)}`);
          ctx.log(`postgres: created database ${db}`);
        }
      }
    } finally {
      await client.end();
    }
  },
};

/**
 * Removes the side folders of initdbs whose `stack up` is gone (`<dir>.initdb.<pid>`, and
 * `<dir>.initdb` of the previous release). One still being written by an orphaned initdb may
 * not go at once; the next up tries again.
 */
function clearInitdbLeftovers(dir: string, log: (line: string) => void): void {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.initdb`;
  if (!fs.existsSync(parent)) return;
  for (const name of fs.readdirSync(parent)) {
    const pid = name === prefix ? null : name.startsWith(`${prefix}.`) ? Number(name.slice(prefix.length + 1)) : undefined;
    if (pid === undefined || (pid !== null && (!Number.isInteger(pid) || isAlive(pid)))) continue;
    try {
      fs.rmSync(path.join(parent, name), { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      log(`postgres: could not remove ${path.join(parent, name)} yet (${(err as Error).message}); the next stack up tries again`);
    }
  }
}

function spawnInitdb(args: string[], user: { uid: number; gid: number } | undefined) {
  return spawnSync(path.join(postgresBinDir(), 'initdb'), args, { encoding: 'utf8', uid: user?.uid, gid: user?.gid, cwd: '/' });
}

const redis: ServiceDef = {
  name: 'redis',
  packages: ['redis-server'],
  binary: () => 'redis-server',
  prepare(ctx, endpoint) {
    const dir = ctx.dir('redis');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'redis.conf'), redisConf(dir, endpoint.port));
  },
  launch: (ctx) => ({ command: 'redis-server', args: [path.join(ctx.dir('redis'), 'redis.conf')] }),
  async probe(url) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const pong = await client.ping();
      if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
    } finally {
      client.disconnect();
    }
  },
};

const clickhouse: ServiceDef = {
  name: 'clickhouse',
  packages: ['clickhouse-server'],
  binary: () => 'clickhouse',
  prepare(ctx, endpoint) {
    const dir = ctx.dir('clickhouse');
    for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    const logFile = path.join(ctx.settings.dataDir, 'logs', 'clickhouse.log');
    fs.writeFileSync(path.join(dir, 'config.xml'), clickhouseConfig(dir, logFile, endpoint.port, ctx.settings.clickhouseTcpPort));
    fs.writeFileSync(path.join(dir, 'users.xml'), clickhouseUsers());
  },
  otherPorts: (ctx) => [{ port: ctx.settings.clickhouseTcpPort, variable: 'JUNCTION_CLICKHOUSE_TCP_PORT' }],
  launch: (ctx) => ({ command: 'clickhouse-server', args: [`--config-file=${path.join(ctx.dir('clickhouse'), 'config.xml')}`] }),
  async probe(url) {
    const res = await fetchService(new URL('/ping', url));
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`/ping answered HTTP ${res.status}`);
  },
};

const mongo: ServiceDef = {
  name: 'mongo',
  packages: [],
  binary: (ctx) => ctx.ferretdbBin ?? 'ferretdb',
  prepare(ctx) {
    for (const sub of ['data', 'state']) fs.mkdirSync(path.join(ctx.dir('mongo'), sub), { recursive: true });
  },
  launch(ctx, endpoint) {
    const dir = ctx.dir('mongo');
    return {
      command: ctx.ferretdbBin ?? 'ferretdb',
      args: [
        '--handler=sqlite',
        `--sqlite-url=file:${path.join(dir, 'data')}/`,
        `--state-dir=${path.join(dir, 'state')}`,
        `--listen-addr=127.0.0.1:${endpoint.port}`,
        // Its metrics/pprof listener is not needed; port 0 keeps it off any fixed port.
        '--debug-addr=127.0.0.1:0',
        '--telemetry=disable',
        '--log-level=warn',
      ],
    };
  },
  async probe(url) {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
    } finally {
      await client.close();
    }
  },
};

/** The PHP apps read the estate database; they get its DSN through their environment. */
function phpEnv(settings: StackSettings): NodeJS.ProcessEnv {
  const pgUrl = new URL(settings.services.postgres.url);
  return {
    ...process.env,
    PHP_CLI_SERVER_WORKERS: '4',
    ESTATE_PG_DSN: `pgsql:host=${pgUrl.hostname};port=${pgUrl.port || 5432};dbname=${settings.estateDatabase}`,
    ESTATE_PG_USER: decodeURIComponent(pgUrl.username) || PG_SUPERUSER,
    ESTATE_PG_PASSWORD: decodeURIComponent(pgUrl.password),
    TICKETS_APPKEY: settings.ticketsAppKey,
    TICKETS_SECRET: settings.ticketsSecret,
  };
}

function phpApp(name: 'orders_soap' | 'tickets_php', folder: string, probePath: (url: string) => URL): ServiceDef {
  const root = path.join(PROJECT_ROOT, 'demo', 'php', folder);
  return {
    name,
    packages: ['php-cli', 'php-soap', 'php-pgsql', 'php-mbstring'],
    binary: () => 'php',
    stopGroup: true,
    prepare() {
      if (!fs.existsSync(path.join(root, 'router.php'))) throw new Error(`${name}: ${path.join(root, 'router.php')} is missing`);
    },
    launch: (ctx, endpoint) => ({
      command: 'php',
      args: ['-S', `127.0.0.1:${endpoint.port}`, '-t', root, path.join(root, 'router.php')],
      env: phpEnv(ctx.settings),
      cwd: root,
    }),
    async probe(url) {
      const res = await fetchService(probePath(url));
      await res.arrayBuffer();
      if (res.status >= 500) throw new Error(`answered HTTP ${res.status}`);
    },
  };
}

export const SERVICES: ServiceDef[] = [
  postgres,
  redis,
  clickhouse,
  mongo,
  phpApp('orders_soap', 'orders', (url) => new URL(url)),
  phpApp('tickets_php', 'tickets', (url) => new URL('/api.php', url)),
];
