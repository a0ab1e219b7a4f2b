/**
 * `junction start --role worker|scheduler|gateway|all`: a long-running hub process. `worker`
 * runs sync jobs from the queue; `scheduler` ticks the config's schedules and serves the ops
 * server (API, queue board, /metrics, /healthz, /readyz); `gateway` serves the chat gateway
 * (REST, WebSocket, web UI) on `gateway.port`; `all` does all three in one process.
 * Any number of each may run against the same Redis and PostgreSQL. SIGINT/SIGTERM stop it
 * gracefully (running batches commit, the server drains) and exit 0; a second signal exits
 * at once with 1.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { stackSettings } from '../../config/env.js';
import type { ResolvedConfig } from '../../config/load.js';
import { JunctionError } from '../../config/errors.js';
import { createLogger, type Logger } from '../../config/log.js';
import { demoOnlySettings } from '../../config/published-secrets.js';
import { redact } from '../../config/redact.js';
import { QUEUE_PREFIX, SYNC_QUEUE, redisConnection, syncQueue } from '../../pipelines/queue.js';
import { startWorker } from '../../pipelines/worker.js';
import { resolveRules } from '../../pipelines/resolve/rules.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { startGateway } from '../../gateway/server.js';
import { startOpsServer, QUEUE_BOARD_PATH } from '../../jobs/ops-server.js';
import { createScheduler } from '../../jobs/scheduler.js';
import { assertJobsSchema } from '../../jobs/schedule-state.js';
import { loadCliConfig } from '../sources.js';
import { positiveInt } from '../options.js';
import { hubPool } from '../../sql/hub-connection.js';

type Role = 'worker' | 'scheduler' | 'gateway' | 'all';
const ROLES: readonly Role[] = ['worker', 'scheduler', 'gateway', 'all'];

interface StartOptions {
  role: Role;
  config?: string;
  concurrency?: number;
  host: string;
  port?: number;
  gatewayPort?: number;
  demo?: boolean;
}

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${ROLES.join(', ')}`);
  return value as Role;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a TCP port (0 picks a free one)');
  return n;
}

/** What a started role must release, in reverse order of starting. */
type Closer = { what: string; close: () => Promise<unknown> };

async function startRoles(config: ResolvedConfig, opts: StartOptions, log: Logger, closers: Closer[]): Promise<void> {
  const settings = stackSettings();
  const redisUrl = settings.services.redis.url;
  const concurrency = opts.concurrency ?? config.pipelines.worker_concurrency;
  const pool = hubPool(settings.services.postgres.url, { max: concurrency * 2 + 4, connectionTimeoutMillis: 10_000 });
  closers.push({ what: 'postgres pool', close: () => pool.end() });
  pool.on('error', (err) => log.warn({ err }, 'idle postgres connection failed'));

  const runs = (r: Role) => opts.role === r || opts.role === 'all';
  let opsUrl: string | undefined;
  if (runs('worker')) {
    const connection = redisConnection(redisUrl);
    closers.push({ what: 'worker redis', close: () => connection.quit() });
    const worker = await startWorker({ config, pool, connection, log: log.child({ role: 'worker' }), concurrency });
    closers.push({ what: 'worker', close: () => worker.close() });
    console.log(`worker: started, ${concurrency} jobs at once, queue ${QUEUE_PREFIX}:${SYNC_QUEUE} on ${redact(redisUrl, config)}`);
  }
  if (runs('scheduler')) {
    await assertJobsSchema(pool);
    const redis = redisConnection(redisUrl);
    closers.push({ what: 'scheduler redis', close: () => redis.quit() });
    const queue = syncQueue(redis);
    closers.push({ what: 'queue', close: () => queue.close() });
    const clickhouse = createClickhouseClient(settings, { log });
    closers.push({ what: 'clickhouse', close: () => clickhouse.close() });
    const slog = log.child({ role: 'scheduler' });
    const scheduler = createScheduler({ config, pool, queue, redis, log: slog, clickhouse });
    const names = scheduler.start();
    closers.push({ what: 'scheduler', close: () => scheduler.stop() });
    const server = await startOpsServer({ config, pool, redis, queue, log: slog, clickhouse, host: opts.host, port: opts.port });
    opsUrl = server.url;
    closers.push({ what: 'ops server', close: () => server.close() });
    console.log(
      `scheduler: ${names.length} schedule${names.length === 1 ? '' : 's'} ticking; ops API ${server.url}/api/ops, queue board ${server.url}${QUEUE_BOARD_PATH}, ` +
        `metrics ${server.url}/metrics, health ${server.url}/readyz${config.ops.admin_token ? '' : ' (no ops.admin_token: API, board and metrics answer 503)'}`,
    );
  }
  if (runs('gateway')) {
    const chatClickhouse = createClickhouseClient(settings, { log });
    closers.push({ what: 'gateway clickhouse', close: () => chatClickhouse.close() });
    const gw = await startGateway({
      gateway: config.gateway,
      region: config.identity.default_region,
      pgUrl: settings.services.postgres.url,
      redisUrl,
      host: opts.host,
      port: opts.gatewayPort,
      log: log.child({ role: 'gateway' }),
      sources: config.sources,
      rules: resolveRules(config),
      clickhouse: chatClickhouse,
      // With the scheduler in this process, the gateway's /ops leads to its ops console.
      web: opsUrl ? { opsUrl } : {},
    });
    closers.push({ what: 'gateway', close: () => gw.close() });
    console.log(`gateway: http://${opts.host}:${gw.port} (agent console /agent, widget /widget.js, WebSocket /ws, REST /api)`);
  }
}

/**
 * The servers this process would run must not answer with the secrets the repository
 * publishes (config/published-secrets.ts), unless it runs the demo: then they are only named.
 */
async function checkDemoOnly(config: ResolvedConfig, opts: StartOptions): Promise<void> {
  // gateway.* guards the gateway role, ops.* the scheduler's ops server; `all` runs both.
  const serves = (setting: string) => opts.role === 'all' || opts.role === (setting.startsWith('gateway.') ? 'gateway' : 'scheduler');
  const found = (await demoOnlySettings(config)).filter(serves);
  if (found.length === 0) return;
  if (opts.demo) {
    console.error(`warning: running the demo with ${found.join(', ')} as the repository publishes them; never expose this hub`);
    return;
  }
  throw new JunctionError(
    'CFG_DEMO_ONLY',
    `${found.join(', ')} ${found.length === 1 ? 'is' : 'are'} what config/junction.yaml publishes for the demo: anyone could sign tokens or call the ops API. ` +
      'Set their environment variables (JUNCTION_GATEWAY_TOKEN_SECRET, JUNCTION_GATEWAY_IDENTITY_SECRET, JUNCTION_ADMIN_TOKEN), turn gateway.demo_shop off (JUNCTION_DEMO_SHOP=false), ' +
      'or pass --demo to run the demo as it is',
  );
}

async function closeAll(closers: Closer[], log: Logger): Promise<boolean> {
  let clean = true;
  for (const c of [...closers].reverse()) {
    try {
      await c.close();
    } catch (err) {
      clean = false;
      log.warn({ err }, `could not close the ${c.what}`);
    }
  }
  return clean;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run a hub process: sync worker, scheduler with the ops server, chat gateway, or all of them')
    .requiredOption('--role <role>', 'worker | scheduler | gateway | all', role)
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--concurrency <n>', 'worker: jobs run at once (default: pipelines.worker_concurrency)', positiveInt)
    .option('--host <addr>', 'scheduler, gateway: address the servers listen on', '127.0.0.1')
    .option('--port <port>', 'scheduler: ops server port (default: ops.port; 0 picks a free one)', port)
    .option('--gateway-port <port>', 'gateway: its port (default: gateway.port; 0 picks a free one)', port)
    .option('--demo', "run with the demo's published secrets and shop page (refused otherwise); never for a hub others can reach")
    .action(async (opts: StartOptions) => {
      const config = await loadCliConfig(opts.config);
      await checkDemoOnly(config, opts);
      const log = createLogger({ secrets: config });
      const closers: Closer[] = [];
      // Signals are handled from the start: a SIGINT while the roles are still starting
      // must close what has started so far, not kill the process mid-way.
      let stopping = false;
      let started = false;
      let release: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => (release = resolve));
      const stop = () =>
        void closeAll(closers, log).then((clean) => {
          if (!clean) process.exitCode = 1;
          release();
        });
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          log.warn({ signal }, 'second signal: exiting without waiting');
          process.exit(1);
        }
        stopping = true;
        log.info({ signal }, 'stopping: scheduler, worker and server finish what they do');
        if (started) stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await startRoles(config, opts, log, closers);
      } catch (err) {
        await closeAll(closers, log);
        throw err;
      }
      started = true;
      log.info({ role: opts.role, pid: process.pid }, 'hub process started');
      if (stopping) stop();
      await stopped;
      console.log(`stopped (${opts.role})`);
      // Everything is closed; a handle some library leaves behind must not keep a stopped process alive.
      setTimeout(() => process.exit(), 2000).unref();
    });
}
