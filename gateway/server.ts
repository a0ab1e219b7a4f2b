/**
 * One gateway instance: express (REST) and `ws` on one HTTP port, authentication at the
 * upgrade, heartbeats, and a graceful shutdown that sends every client elsewhere.
 * Any number of instances share PostgreSQL and Redis; none holds state another needs.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { JunctionError, isJunctionError } from '../config/errors.js';
import { silentLogger, type Logger } from '../config/log.js';
import { isPhoneRegion } from '../pipelines/normalize.js';
import type { ClickHouseClient } from '@clickhouse/client';
import type { DeepReadonly } from '../config/load.js';
import type { SourceConfig } from '../config/schema.js';
import { CUSTOMER_UPDATED_CHANNEL, redisKeys } from '../pipelines/queue.js';
import type { ResolveRules } from '../pipelines/resolve/rules.js';
import { ChatAnalytics } from './analytics.js';
import { announce } from './announce.js';
import { createRouter } from './assign.js';
import { renderReply } from './canned.js';
import { ContextService } from './enrich/context-service.js';
import { lookupSources } from './enrich/lookup-connectors.js';
import { LiveLookups } from './enrich/lookups.js';
import { startLagSweep } from './lag-sweep.js';
import { startSweeper } from './reassign.js';
import type { GatewayContext, GatewaySettings } from './context.js';
import { DEFAULT_REDIS_PREFIX, GatewayKeys } from './events.js';
import { Fanout } from './fanout.js';
import { createApp, type WebOptions } from './http/app.js';
import { createMessagePath } from './message-path.js';
import { Presence } from './presence.js';
import { SUBPROTOCOL } from './protocol.js';
import { SocketSession } from './socket-session.js';
import { ReceiptWriter } from './store/receipts.js';
import { authenticateUpgrade, refuseUpgrade, type Authenticated } from './upgrade.js';
import { participantId } from './auth/token.js';
import { getAgents } from './store/agents.js';
import { hubPool } from '../sql/hub-connection.js';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** The resolved `gateway:` config section. */
  gateway: GatewaySettings;
  /** `identity.default_region`, for signed phones. @defaultValue 'CN' */
  region?: string;
  /** The hub's PostgreSQL (schema `gateway`, read access to `unified`). */
  pgUrl: string;
  redisUrl: string;
  /** @defaultValue gateway.port; 0 picks a free port */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** Prefix of every Redis key and channel; a hash tag keeps them on one Cluster slot. @defaultValue '{junction}:gw:' */
  redisPrefix?: string;
  /** @defaultValue `<hostname>:<pid>:<random>` */
  instanceId?: string;
  /** @defaultValue a silent logger */
  log?: Logger;
  /** PostgreSQL connections of this instance. @defaultValue 10 */
  poolSize?: number;
  /** How long shutdown waits for clients to close before dropping them. @defaultValue 2000 */
  shutdownGraceMs?: number;
  /** The config's `sources:`, for the live lookups `gateway.lookups` names. @defaultValue none (no lookup may be configured) */
  sources?: Readonly<Record<string, DeepReadonly<SourceConfig>>>;
  /** Identity resolution's rules, to explain merges in the context panel. @defaultValue null: the merge log only */
  rules?: ResolveRules | null;
  /** Where chat analytics go (the hub's ClickHouse database); closed by the caller. @defaultValue null: analytics off */
  clickhouse?: ClickHouseClient | null;
  /** Pub/sub channel of `customer.updated` events. @defaultValue CUSTOMER_UPDATED_CHANNEL */
  customerUpdatedChannel?: string;
  /** Where the web UI is built and where the ops console lives. @defaultValue gateway/web/dist, no ops link */
  web?: WebOptions;
}

export interface RunningGateway {
  port: number;
  instanceId: string;
  /** Open authenticated sockets. */
  sockets(): number;
  /** Group-commit counters (batches, requests, largest batch). */
  commitStats(): { batches: number; requests: number; largestBatch: number };
  /** What this instance shares with its parts (tests drive sweeps and analytics flushes through it). */
  context: GatewayContext;
  /** Sends `reconnect` + close 1012 to every client, flushes, then releases every connection. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Starts one gateway instance and resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const settings = options.gateway;
  const tokenSecret = settings.token_secret;
  if (!tokenSecret) throw new JunctionError('CFG_MISSING_KEY', 'the gateway needs gateway.token_secret to sign tokens', { where: { path: 'gateway.token_secret' } });
  const region = options.region ?? 'CN';
  if (!isPhoneRegion(region)) throw new TypeError(`startGateway option region: ${region} is not a phone region`);
  const instanceId = options.instanceId ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = (options.log ?? silentLogger).child({ gateway: instanceId });

  const pool = hubPool(options.pgUrl, { max: options.poolSize ?? 10 });
  pool.on('error', (err) => log.warn({ err }, 'idle PostgreSQL connection failed'));
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  const sub = redis.duplicate();
  for (const r of [redis, sub]) r.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const keys = new GatewayKeys(options.redisPrefix ?? DEFAULT_REDIS_PREFIX);
  const fanout = new Fanout(redis, sub, log);
  const presence = new Presence(redis, keys, settings.heartbeat_ms * 3);
  const liveSources = lookupSources(settings, options.sources ?? {}, log, (source) => ({ redis, key: redisKeys.rateLimit(source) }));
  const lookups = settings.lookups.length > 0 ? new LiveLookups({ settings, sources: liveSources, redis, keys, log }) : null;
  const analytics = new ChatAnalytics({ pool, client: options.clickhouse ?? null, settings: settings.analytics, log });
  const ctx: GatewayContext = {
    settings: { ...settings, token_secret: tokenSecret },
    region,
    instanceId,
    pool,
    redis,
    keys,
    fanout,
    presence,
    messages: createMessagePath({
      pool,
      fanout,
      keys,
      log,
      windowMs: settings.commit_window_ms,
      maxBatch: settings.commit_max_batch,
      lanes: settings.commit_lanes,
      onStored: (stored) => analytics.messages(stored),
    }),
    receipts: new ReceiptWriter(pool, log),
    router: createRouter({ settings, presence }),
    context: new ContextService({ pool, fanout, settings, rules: options.rules ?? null, lookups, channel: options.customerUpdatedChannel ?? CUSTOMER_UPDATED_CHANNEL, onRelinked: (c) => announce(ctx, 'relinked', c), log }),
    analytics,
    log,
  };
  warnUnknownCannedVariables(ctx);
  await ctx.context.start();
  const stopSweeper = startSweeper(ctx);

  const sessions = new Set<SocketSession>();
  // Sockets (open or upgrading) per participant on this instance: one token cannot hold an
  // unbounded number of them (visitor tokens are free to mint, but limited per address).
  const held = new Map<string, number>();
  const release = (participant: string) => {
    const n = (held.get(participant) ?? 1) - 1;
    if (n > 0) held.set(participant, n);
    else held.delete(participant);
  };
  const forget = (s: SocketSession) => {
    if (sessions.delete(s)) release(participantId(s.principal));
  };
  const stopLagSweep = startLagSweep(ctx, sessions);
  let accepting = true;

  const app = createApp(ctx, {
    accepting: () => accepting,
    ready: async () => {
      try {
        await Promise.all([pool.query('SELECT 1'), redis.ping()]);
        return true;
      } catch {
        return false;
      }
    },
  }, options.web);
  const server = http.createServer(app);
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: settings.max_payload_bytes,
    clientTracking: false,
    handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  // Shared by every upgrading socket: a closure made per upgrade would keep the request (its
  // headers, the parser's buffer) alive as long as the socket, through their shared scope.
  const onUpgradeError = (err: Error) => log.debug({ err }, 'upgrade socket error');
  const accept = (auth: Authenticated, req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!accepting || socket.destroyed) return refuseUpgrade(socket, new JunctionError('GW_SHUTTING_DOWN', 'this instance is shutting down'));
    const participant = participantId(auth.principal);
    const count = held.get(participant) ?? 0;
    if (count >= settings.max_sockets_per_participant) {
      return refuseUpgrade(socket, new JunctionError('GW_TOO_MANY_SOCKETS', `${auth.principal.kind} already holds ${count} sockets on this instance (gateway.max_sockets_per_participant)`));
    }
    held.set(participant, count + 1);
    // ws answers a failed handshake itself and never calls back: the slot is freed on close.
    const unheld = () => release(participant);
    socket.once('close', unheld);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onUpgradeError); // ws listens for errors from here on
      socket.off('close', unheld); // the session frees it from here on (forget)
      sessions.add(new SocketSession(ws, auth.principal, auth.expiresAt, ctx, forget, auth.tokenEpoch));
    });
  };
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', onUpgradeError);
    const path = upgradePath(req.url);
    if (path === null) return refuseUpgrade(socket, new JunctionError('GW_BAD_REQUEST', 'malformed request target'));
    if (!accepting) return refuseUpgrade(socket, new JunctionError('GW_SHUTTING_DOWN', 'this instance is shutting down; connect to another'));
    if (path !== '/ws') return refuseUpgrade(socket, new JunctionError('GW_BAD_REQUEST', 'WebSocket endpoint is /ws'));
    authenticateUpgrade(req, ctx)
      .then(
        (auth) => accept(auth, req, socket, head),
        (err: unknown) => {
          if (!isJunctionError(err)) log.error({ err }, 'upgrade authentication failed');
          refuseUpgrade(socket, isJunctionError(err) ? err : new JunctionError('GW_INTERNAL', 'authentication failed', { cause: err }));
        },
      )
      // A throw in there would be an unhandled rejection, which ends the process.
      .catch((err: unknown) => {
        log.error({ err }, 'upgrade failed');
        socket.destroy();
      });
  });

  // Token expiry is enforced here too, so a socket outlives its token by at most one
  // heartbeat without a timer of its own (an idle socket should cost little more than ws).
  const heartbeat = setInterval(() => {
    const live = [];
    const now = Date.now();
    const agents: { session: SocketSession; agentId: number }[] = [];
    for (const s of sessions) {
      if (s.expireIfDue(now) || !s.ping() || !s.ready) continue;
      live.push(s.presenceEntry);
      if (s.principal.kind === 'agent') agents.push({ session: s, agentId: s.principal.agentId });
    }
    presence.refresh(live).catch((err: unknown) => log.warn({ err }, 'presence refresh failed'));
    // One read for every agent socket here: a lost kick (disabled, moved, new password) takes effect within a heartbeat.
    if (agents.length > 0) {
      getAgents(pool, [...new Set(agents.map((a) => a.agentId))]).then(
        (rows) => {
          const byId = new Map(rows.map((a) => [a.id, a]));
          for (const { session, agentId } of agents) session.recheckAgent(byId.get(agentId) ?? null);
        },
        (err: unknown) => log.warn({ err }, 'agents not re-checked; the next heartbeat tries again'),
      );
    }
  }, settings.heartbeat_ms);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? Number(settings.port), options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      accepting = false;
      clearInterval(heartbeat);
      await Promise.all([stopSweeper(), stopLagSweep()]);
      const open = [...sessions];
      const allDone = () => Promise.all(open.map((s) => s.done));
      for (const s of open) s.shutdown();
      await Promise.race([allDone(), sleep(options.shutdownGraceMs ?? 2000)]);
      for (const s of sessions) s.terminate();
      await Promise.race([allDone(), sleep(1000)]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await ctx.messages.drain();
      await ctx.receipts.close();
      ctx.context.close();
      lookups?.shutdown();
      await Promise.allSettled([...liveSources.values()].map((s) => s.connector.close()));
      await analytics.close();
      fanout.stop();
      await Promise.allSettled([sub.quit(), redis.quit()]);
      await pool.end();
      log.info('gateway closed');
    })());

  return { port, instanceId, sockets: () => sessions.size, commitStats: () => ({ ...ctx.messages.stats }), context: ctx, close };
}

/**
 * The path of an upgrade's request target, or null when it does not parse: Node's HTTP parser
 * lets through targets such as `//%` or `//[` on which `new URL` throws, and a throw in the
 * `upgrade` listener would take the whole process down.
 */
function upgradePath(target: string | undefined): string | null {
  try {
    return new URL(target ?? '/', 'http://gateway').pathname;
  } catch {
    return null;
  }
}

/** Canned replies whose variables do not exist render them empty: say so once, at start. */
function warnUnknownCannedVariables(ctx: GatewayContext): void {
  const scope = { parts: null, customerId: null, agent: { name: '', team: '' }, conversation: { id: 0, team: '' } };
  for (const reply of ctx.settings.canned_replies) {
    const { unknown } = renderReply(reply, scope);
    if (unknown.length > 0) ctx.log.warn({ reply: reply.id, unknown }, 'canned reply uses unknown variables; they render empty');
  }
}
