/** The express app of one gateway instance: CORS for the allowed origins, the REST API, health, the web UI. */
import express from 'express';
import type { GatewayContext } from '../context.js';
import { agentRoutes } from './agent-routes.js';
import { authRoutes } from './auth-routes.js';
import { contextRoutes } from './context-routes.js';
import { conversationRoutes } from './conversation-routes.js';
import { demoShopRoutes } from './demo-shop.js';
import { errorHandler } from './errors.js';
import { WEB_DIST, webAssets, webPage, widgetScript } from './web.js';

/**
 * CORS for `gateway.allowed_origins` only (the retailer's site calls the visitor session
 * endpoint cross-origin). Small enough not to need the `cors` package.
 */
function cors(allowed: readonly string[]): express.RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && allowed.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

export interface AppHooks {
  /** False while the instance is shutting down (readyz answers 503). */
  accepting(): boolean;
  /** PostgreSQL and Redis answer. */
  ready(): Promise<boolean>;
}

export interface WebOptions {
  /** The built web UI. @defaultValue WEB_DIST (gateway/web/dist) */
  distDir?: string;
  /** The ops server's origin (`http://host:port`): `/ops` here redirects to its console. */
  opsUrl?: string;
}

export function createApp(ctx: GatewayContext, hooks: AppHooks, web: WebOptions = {}): express.Express {
  const dist = web.distDir ?? WEB_DIST;
  const app = express();
  app.disable('x-powered-by');
  // req.ip, which the per-address limits count, is the connection's address unless
  // gateway.trust_proxy names the proxies whose X-Forwarded-For is believed (a copy: express
  // keeps the list, the settings are frozen).
  const trust = ctx.settings.trust_proxy;
  app.set('trust proxy', Array.isArray(trust) ? [...trust] : trust);
  app.use(cors(ctx.settings.allowed_origins));
  app.use(express.json({ limit: '16kb' }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, instanceId: ctx.instanceId });
  });
  app.get('/readyz', async (_req, res) => {
    const ok = hooks.accepting() && (await hooks.ready());
    res.status(ok ? 200 : 503).json({ ok, instanceId: ctx.instanceId });
  });
  app.use(authRoutes(ctx));
  app.use(conversationRoutes(ctx));
  app.use(contextRoutes(ctx));
  app.use(agentRoutes(ctx));
  app.get('/', (_req, res) => res.redirect(302, '/agent'));
  app.get('/agent', webPage('agent', dist));
  app.get('/widget.js', widgetScript(dist));
  app.use('/assets', webAssets(dist));
  if (ctx.settings.demo_shop) app.use(demoShopRoutes(ctx));
  if (web.opsUrl) {
    // The ops console lives beside the ops API and the queue board, on the ops server.
    const opsUrl = web.opsUrl;
    app.get('/ops', (_req, res) => res.redirect(302, `${opsUrl}/ops`));
  }
  app.use((_req, res) => {
    res.status(404).setHeader('X-Junction-Error', 'GW_BAD_REQUEST').json({ error: { code: 'GW_BAD_REQUEST', message: 'no such route' } });
  });
  app.use(errorHandler(ctx.log));
  return app;
}
