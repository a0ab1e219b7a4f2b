/**
 * A whole hub of the browser tests' own, built like production wires it, on the stack's
 * services but never touching the shared hub:
 *
 * - a scratch hub database (`junction_test_web_<name>_<pid>`, migrated) and ClickHouse database;
 * - the scratch web shop source (web-source.ts) synced into it for real (`runSync` of each
 *   stream, the same code the workers run), so the unified view holds customers with shop
 *   account identities, orders with lines and open tickets;
 * - a BullMQ sync queue and an in-process worker (pipelines/worker.ts) under a Redis key
 *   prefix of their own, so the ops console's "Sync now" really runs a sync;
 * - the ops server (jobs/ops-server.ts) with an admin token, serving /ops and /api/ops;
 * - the gateway (gateway/server.ts) with `demo_shop: true`, routing Chinese-speaking
 *   visitors to team `cn_support`, canned replies, `web.opsUrl` pointing at the ops server,
 *   and the worker's customer.updated channel.
 *
 * Ports are chosen before anything starts so that `gateway.allowed_origins` can name the
 * gateway's own origin (the /demo/shop page) and any proxy origin a test puts in front.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { stackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { configSchema } from '../../config/schema.js';
import type { GatewaySettings } from '../../gateway/context.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { addAgent, type Agent } from '../../gateway/store/agents.js';
import { startOpsServer, type OpsServer } from '../../jobs/ops-server.js';
import { SYNC_QUEUE, type SyncJobData, type SyncJobResult } from '../../pipelines/queue.js';
import { resolveRules } from '../../pipelines/resolve/rules.js';
import { runSync } from '../../pipelines/run-sync.js';
import { startWorker, type PipelineKeys, type RunningWorker } from '../../pipelines/worker.js';
import { scratchClickhouse, type ScratchClickhouse } from '../helpers/clickhouse.js';
import { freePort } from '../helpers/queue-harness.js';
import { tempDir } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { ADMIN_TOKEN, CANNED, WEB_SOURCE, WEB_STREAMS, webSource, writeWebConfig, type WebSource } from './web-source.js';

export const TOKEN_SECRET = 'web-test-token-secret-0123456789-abcdefghij';
export const IDENTITY_SECRET = 'web-test-identity-secret-0123';
/** The team Chinese-speaking visitors are routed to (`language: [zh]`). */
export const CN_TEAM = 'cn_support';

export interface WebEnvOptions {
  /** Extra loopback ports whose `http://127.0.0.1:<port>` origin the gateway accepts (a proxy in front of it). */
  extraOriginPorts?: number[];
}

export interface WebEnv {
  hub: ScratchDb;
  ch: ScratchClickhouse;
  src: WebSource;
  /** The folder of junction.yaml and the mappings. */
  dir: string;
  configFile: string;
  config: ResolvedConfig;
  gateway: RunningGateway;
  /** `http://127.0.0.1:<port>` of the gateway. */
  gatewayUrl: string;
  ops: OpsServer;
  adminToken: string;
  worker: RunningWorker;
  queue: Queue<SyncJobData, SyncJobResult>;
  /** How long building it took (ms), by step. */
  timings: Record<string, number>;
  /** An agent with a known password. */
  addAgent(team: string, name: string): Promise<Agent & { password: string }>;
  /** Restarts the ops server on the same port with the config read again (after a mapping fix). */
  restartOps(): Promise<void>;
  close(): Promise<void>;
}

function gatewaySettings(origins: string[]): GatewaySettings {
  return configSchema.shape.gateway.parse({
    token_secret: TOKEN_SECRET,
    identity_secret: IDENTITY_SECRET,
    allowed_origins: origins,
    default_team: 'support',
    routing: [{ team: CN_TEAM, language: ['zh'] }],
    canned_replies: CANNED,
    heartbeat_ms: 5000,
    context: { orders: 10, tickets: 10, reuse_ms: 0 },
    analytics: { enabled: false },
    demo_shop: true,
  });
}

export async function webEnv(name: string, options: WebEnvOptions = {}): Promise<WebEnv> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (step: string) => {
    const now = performance.now();
    timings[step] = Math.round(now - t);
    t = now;
  };
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  // The process id keeps two runs of the same file (two people at work on one machine) apart.
  const scratch = `web_${name}_${process.pid}`;
  try {
    const hub = await scratchDatabase(scratch);
    // Both tolerate the terminated connection of their own DROP (test/helpers/scratch-pool.ts).
    closers.push(() => hub.close());
    const ch = await scratchClickhouse(scratch);
    closers.push(() => ch.close());
    const src = await webSource(scratch);
    closers.push(() => src.close());
    lap('databases');

    const dir = tempDir(`web-${name}`);
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const configFile = writeWebConfig(dir, src.url);
    let config = await loadConfig(configFile);
    for (const stream of WEB_STREAMS) {
      await runSync({ config, pool: hub.pool, source: WEB_SOURCE, stream, log: silentLogger, trigger: 'test', clickhouse: ch.client });
    }
    lap('sync');

    const redisUrl = stackSettings().services.redis.url;
    const tag = `{jtest-web-${name}-${randomBytes(3).toString('hex')}}`;
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    closers.push(async () => {
      const keys = await redis.keys(`${tag}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    const keys: PipelineKeys = {
      streamLock: (source, stream) => `${tag}:lock:${source}.${stream}`,
      sourceSlots: (source) => `${tag}:slots:${source}`,
      circuit: (source) => `${tag}:circuit:${source}`,
      rateLimit: (source) => `${tag}:rate:${source}`,
    };
    const channel = `${tag}:events:customer.updated`;
    const queue = new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection: redis, prefix: tag });
    closers.push(async () => {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    });
    const workerRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    closers.push(async () => workerRedis.disconnect());
    const worker = await startWorker({ config, pool: hub.pool, connection: workerRedis, log: silentLogger, clickhouse: ch.client, prefix: tag, keys, eventsChannel: channel, concurrency: 2 });
    closers.push(() => worker.close());

    const startOps = (port: number) => startOpsServer({ config, pool: hub.pool, redis, queue, log: silentLogger, clickhouse: ch.client, keys, port });
    let ops = await startOps(0);
    const opsPort = ops.port;
    closers.push(() => ops.close());
    lap('worker+ops');

    const gwPort = await freePort();
    const origins = [gwPort, ...(options.extraOriginPorts ?? [])].map((p) => `http://127.0.0.1:${p}`);
    const gateway = await startGateway({
      gateway: gatewaySettings(origins),
      region: 'CN',
      pgUrl: hub.url,
      redisUrl,
      port: gwPort,
      redisPrefix: `${tag}:gw:`,
      rules: resolveRules(config),
      customerUpdatedChannel: channel,
      web: { opsUrl: ops.url },
    });
    closers.push(() => gateway.close());
    lap('gateway');

    let agents = 0;
    const env: WebEnv = {
      hub,
      ch,
      src,
      dir,
      configFile,
      config,
      gateway,
      gatewayUrl: `http://127.0.0.1:${gateway.port}`,
      get ops() {
        return ops;
      },
      adminToken: ADMIN_TOKEN,
      worker,
      queue,
      timings,
      addAgent: async (team, agentName) => {
        const password = `pw-${++agents}-${randomBytes(4).toString('hex')}`;
        const agent = await addAgent(hub.pool, { email: `agent${agents}.${team}@example.com`, name: agentName, team, password, capacity: null });
        return { ...agent, password };
      },
      restartOps: async () => {
        config = await loadConfig(configFile);
        await ops.close();
        ops = await startOps(opsPort);
        env.config = config;
      },
      close,
    };
    return env;
  } catch (err) {
    await close();
    throw err;
  }
}
