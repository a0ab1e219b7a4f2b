/**
 * What the gateway's integration tests share: a scratch database, a Redis prefix of their
 * own (pub/sub channels are not per-db, so isolation is by prefix), gateway settings built
 * by the real config schema, agents, tokens, and a WebSocket test client that records
 * every frame and how the socket ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { configSchema } from '../../config/schema.js';
import type { GatewaySettings } from '../../gateway/context.js';
import { GatewayKeys } from '../../gateway/events.js';
import { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, serverFrameSchema, type ServerFrame } from '../../gateway/protocol.js';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/server.js';
import { addAgent, type Agent } from '../../gateway/store/agents.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

export const TOKEN_SECRET = 'test-token-secret-0123456789-abcdefghij';
export const IDENTITY_SECRET = 'test-identity-secret-0123';
export const ORIGIN = 'http://127.0.0.1:18080';

/** Gateway settings through the real schema (defaults applied), with test secrets. */
export function testSettings(overrides: Record<string, unknown> = {}): GatewaySettings {
  return configSchema.shape.gateway.parse({
    token_secret: TOKEN_SECRET,
    identity_secret: IDENTITY_SECRET,
    allowed_origins: [ORIGIN],
    heartbeat_ms: 5000,
    rate_limit: { frames_per_second: 200, burst: 400 },
    // Tests make hundreds of visitors from 127.0.0.1; auth-routes.int.test.ts tests the limit.
    visitor_sessions_per_minute: 0,
    ...overrides,
  });
}

export interface GatewayEnv {
  db: ScratchDb;
  redis: Redis;
  prefix: string;
  keys: GatewayKeys;
  start(overrides?: Partial<GatewayOptions> & { settings?: Record<string, unknown> }): Promise<RunningGateway>;
  /** Stops every gateway it started, empties its Redis keys and drops the database. */
  close(): Promise<void>;
}

export async function gatewayEnv(name: string): Promise<GatewayEnv> {
  const db = await scratchDatabase(`gateway_${name}`);
  const redisUrl = stackSettings().services.redis.url;
  const redis = new Redis(redisUrl);
  const prefix = `{jtest-gw-${name}-${randomBytes(3).toString('hex')}}:gw:`;
  const started: RunningGateway[] = [];
  return {
    db,
    redis,
    prefix,
    keys: new GatewayKeys(prefix),
    async start(overrides = {}) {
      const { settings, ...rest } = overrides;
      const gw = await startGateway({ gateway: testSettings(settings), pgUrl: db.url, redisUrl, port: 0, redisPrefix: prefix, ...rest });
      started.push(gw);
      return gw;
    },
    async close() {
      await Promise.allSettled(started.map((g) => g.close()));
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await db.close();
    },
  };
}

/**
 * A gateway in a process of its own (`fixtures/gateway-process.ts`) on `env`'s database and
 * Redis prefix, for what must be seen from outside the process (kill -9, a crash); resolves once it listens.
 */
export function spawnGateway(env: GatewayEnv): Promise<{ proc: ChildProcess; port: number }> {
  const options = { pgUrl: env.db.url, redisUrl: stackSettings().services.redis.url, redisPrefix: env.prefix };
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'test/gateway/fixtures/gateway-process.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, GW_TEST_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the gateway process did not start in 30 s')), 30_000);
    proc.once('exit', (code) => reject(new Error(`the gateway process exited with ${code}`)));
    createInterface({ input: proc.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ proc, port: (JSON.parse(line) as { port: number }).port });
    });
  });
}

let agentCount = 0;

/** Adds an agent with a known password (and its own capacity, if given). */
export async function makeAgent(env: GatewayEnv, team = 'support', name = `agent${++agentCount}`, capacity?: number): Promise<Agent & { password: string }> {
  const password = `pw-${name}-secret`;
  const agent = await addAgent(env.db.pool, { email: `${name}@example.com`, name, team, password, capacity: capacity ?? null });
  return { ...agent, password };
}

export async function http(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  return { status: res.status, json, code: res.headers.get('x-junction-error') };
}

export async function login(port: number, agent: { email: string; password: string }): Promise<string> {
  const r = await http(port, 'POST', '/api/auth/login', { email: agent.email, password: agent.password });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json!.token as string;
}

export async function visitorToken(port: number, body: Record<string, unknown> = {}): Promise<{ token: string; visitorId: string }> {
  const r = await http(port, 'POST', '/api/visitor/session', body);
  if (r.status !== 200) throw new Error(`visitor session failed: ${r.status} ${JSON.stringify(r.json)}`);
  return { token: r.json!.token as string, visitorId: r.json!.visitorId as string };
}

/** How an upgrade attempt ended when the server refused it. */
export interface Refusal {
  status: number;
  code: string | null;
}

/** A WebSocket client that keeps every frame, validates it against the server schema, and can wait for one. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  /** Called with every frame as it arrives. */
  readonly listeners: ((f: ServerFrame) => void)[] = [];
  private waiters: { pred: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const frame = serverFrameSchema.parse(JSON.parse(data.toString()));
      this.frames.push(frame);
      for (const l of this.listeners) l(frame);
      this.waiters = this.waiters.filter((w) => (w.pred(frame) ? (w.resolve(frame), false) : true));
    });
  }

  /** Opens a socket; rejects with a {@link Refusal} when the upgrade is refused. */
  static open(port: number, token: string | null, opts: { origin?: string | null; protocols?: string[] } = {}): Promise<TestClient> {
    const protocols = opts.protocols ?? (token === null ? [SUBPROTOCOL] : [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`]);
    const origin = opts.origin === undefined ? ORIGIN : opts.origin;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, protocols, origin === null ? {} : { origin });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        reject({ status: res.statusCode ?? 0, code: (res.headers['x-junction-error'] as string | undefined) ?? null } satisfies Refusal);
        res.resume();
        ws.terminate();
      });
      ws.once('error', (err) => reject(err));
    });
  }

  /** Opens a socket and says hello; resolves with the welcome. */
  static async connect(port: number, token: string, resume: Record<string, number> = {}): Promise<{ client: TestClient; welcome: Extract<ServerFrame, { type: 'welcome' }> }> {
    const client = await TestClient.open(port, token);
    client.send({ type: 'hello', resume });
    const welcome = await client.next((f) => f.type === 'welcome');
    return { client, welcome: welcome as Extract<ServerFrame, { type: 'welcome' }> };
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or future) matching `pred`. */
  next(pred: (f: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${this.frames.map((f) => f.type).join(',')}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  /** Waits until `count` frames match `pred`. */
  async waitCount(pred: (f: ServerFrame) => boolean, count: number, timeoutMs = 15_000): Promise<ServerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.frames.filter(pred);
      if (got.length >= count) return got;
      if (Date.now() > deadline) throw new Error(`expected ${count} frames, got ${got.length} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  msgs(conversationId?: number): Extract<ServerFrame, { type: 'msg' }>[] {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: 'msg' }> => f.type === 'msg' && (conversationId === undefined || f.conversationId === conversationId));
  }

  /**
   * A conversation as this connection saw it, in arrival order: every `msg`, and each `ack`
   * that stands for this connection's own message (one whose seq it did not hold yet; an ack
   * at or below a seq held is a resend's or follows the stored copy). A seq shown twice is a
   * double delivery.
   */
  timeline(conversationId: number): Arrival[] {
    const out: Arrival[] = [];
    let top = 0;
    for (const f of this.frames) {
      if ((f.type !== 'msg' && f.type !== 'ack') || f.conversationId !== conversationId) continue;
      if (f.type === 'ack' && f.seq <= top) continue;
      out.push({ seq: f.seq, clientMsgId: f.clientMsgId, via: f.type });
      top = Math.max(top, f.seq);
    }
    return out;
  }

  close(): void {
    this.ws.close();
  }
}

/** A message as a connection received it: its `msg`, or for the connection's own message, the `ack` in its place. */
export interface Arrival {
  seq: number;
  clientMsgId: string;
  via: 'msg' | 'ack';
}

/** Sends a message and waits for its ack (or error). */
export async function sendAndAck(client: TestClient, frame: { conversationId?: number; clientMsgId: string; text: string }): Promise<Extract<ServerFrame, { type: 'ack' }>> {
  client.send({ type: 'msg', ...frame });
  const f = await client.next((x) => (x.type === 'ack' || x.type === 'error') && x.clientMsgId === frame.clientMsgId);
  if (f.type !== 'ack') throw new Error(`message ${frame.clientMsgId} refused: ${JSON.stringify(f)}`);
  return f;
}

/** Waits until the agent counts as online in presence (it registers just after its welcome). */
export async function untilOnline(env: GatewayEnv, agent: { id: number; team: string }, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = await env.redis.zrangebyscore(env.keys.teamPresence(agent.team), Date.now(), '+inf');
    if (ids.includes(String(agent.id))) return;
    if (Date.now() > deadline) throw new Error(`agent ${agent.id} not online within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Logs an agent in, connects it and waits until it counts as online. */
export async function connectAgent(env: GatewayEnv, port: number, agent: Agent & { password: string }): Promise<TestClient> {
  const { client } = await TestClient.connect(port, await login(port, agent));
  await untilOnline(env, agent);
  return client;
}
