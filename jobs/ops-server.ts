/**
 * The ops HTTP server of the scheduler role (express, on `ops.port`):
 *
 * | path | auth | what |
 * |---|---|---|
 * | `/api/ops/*` | admin token (Bearer or Basic) | the ops REST API (jobs/ops-api.ts) |
 * | `/ops` | none (the page asks for the token) | the ops console (gateway/web, React) |
 * | `/ops/queues` | admin token (Basic prompts the browser) | `@bull-board/express` board of the sync queue |
 * | `/metrics` | admin token | Prometheus text (jobs/metrics.ts) |
 * | `/healthz` | none | 200 while the process serves |
 * | `/readyz` | none for the verdict; admin token for the details | 200 when PostgreSQL and Redis answer; 503 OPS_NOT_READY naming the failed ones. Each check's time and error message (redacted, still naming hosts and drivers) only to the token holder |
 *
 * Requests are logged at debug level by method, path and status only (never headers or the
 * query string), so the token cannot reach a log line.
 */
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { ClickHouseClient } from '@clickhouse/client';
import express, { type Express } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';
import { redact } from '../config/redact.js';
import type { SyncJobData, SyncJobResult } from '../pipelines/queue.js';
import { webAssets, webPage } from '../gateway/http/web.js';
import { presentedToken, requireAdmin, tokenMatches } from './auth.js';
import { within } from './timeout.js';
import { errorHandler, sendError } from './http-errors.js';
import { createOpsRegistry, scrape } from './metrics.js';
import { opsApiRouter } from './ops-api.js';
import type { JobKeys } from './stream-activity.js';

export interface OpsServerOptions {
  config: ResolvedConfig;
  pool: pg.Pool;
  /** A connection for reads (circuits, locks) and readiness pings. */
  redis: Redis;
  queue: Queue<SyncJobData, SyncJobResult>;
  log: Logger;
  clickhouse?: ClickHouseClient;
  keys?: JobKeys;
  /** @defaultValue config.ops.port (0 picks a free port) */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** The built web UI (the ops console). @defaultValue gateway/web/dist */
  webDist?: string;
  /** How long /readyz waits for each service. @defaultValue 2000 */
  readyTimeoutMs?: number;
}

export interface OpsServer {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const QUEUE_BOARD_PATH = '/ops/queues';

/** Builds the express app (without listening). */
export function createOpsApp(options: OpsServerOptions): Express {
  const { config, pool, redis, queue, log } = options;
  const token = config.ops.admin_token;
  const readyMs = options.readyTimeoutMs ?? 2000;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use((req, res, next) => {
    const started = performance.now();
    res.on('finish', () => log.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'ops request'));
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (req, res) => {
    const check = async (what: string, probe: () => Promise<unknown>) => {
      const t = performance.now();
      try {
        await within(probe(), readyMs, what);
        return { ok: true, ms: Math.round(performance.now() - t) };
      } catch (err) {
        return { ok: false, error: redact((err as Error).message || String((err as { code?: string }).code), config) };
      }
    };
    const [postgres, redisCheck] = await Promise.all([check('postgres', () => pool.query('SELECT 1')), check('redis', () => redis.ping())]);
    const detailed = { postgres, redis: redisCheck };
    const failed = Object.entries(detailed).filter(([, c]) => !c.ok).map(([n]) => n);
    // A load balancer needs the verdict only; hosts, drivers and timings are for ops.
    const presented = presentedToken(req.get('authorization'));
    const admin = token !== undefined && presented !== undefined && tokenMatches(presented, token);
    const checks = admin ? detailed : { postgres: { ok: postgres.ok }, redis: { ok: redisCheck.ok } };
    if (failed.length === 0) {
      res.json({ status: 'ready', checks });
      return;
    }
    res.status(503).json({ status: 'not ready', checks, error: { code: 'OPS_NOT_READY', message: `not reachable: ${failed.join(', ')}` } });
  });

  const registry = createOpsRegistry({ config, pool, redis, queue, log, keys: options.keys });
  app.get('/metrics', requireAdmin({ token }), async (_req, res) => {
    const { contentType, text } = await scrape(registry);
    res.set('Content-Type', contentType).send(text);
  });

  app.use('/api/ops', requireAdmin({ token }), opsApiRouter({ config, pool, redis, queue, log, clickhouse: options.clickhouse, keys: options.keys }));

  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  // @bull-board/express pins its own patch of @bull-board/api, whose private class fields make
  // the otherwise identical adapter types incompatible; the express adapter has no runtime
  // dependency on that copy.
  const serverAdapter = board as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter, options: { uiConfig: { boardTitle: 'Junction sync queue' } } });
  app.use(QUEUE_BOARD_PATH, requireAdmin({ token, challenge: 'Basic' }), board.getRouter());

  // The ops console: the page itself is public (it holds no data); it asks for the admin
  // token and sends it as a Bearer header to /api/ops.
  app.get('/ops', webPage('ops', options.webDist));
  app.use('/assets', webAssets(options.webDist));

  app.use((req, res) => sendError(res, 404, 'OPS_NOT_FOUND', `no route ${req.method} ${req.path}`));
  app.use(errorHandler(log, config));
  return app;
}

/** Starts the ops server; resolves once it listens. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const app = createOpsApp(options);
  const server = http.createServer(app);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? Number(options.config.ops.port), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would hold close() open until they time out.
        server.closeIdleConnections();
      }),
  };
}
