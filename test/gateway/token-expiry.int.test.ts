/**
 * A socket lives as long as its token: closed with 4401 once it expires (checked by the
 * heartbeat), unless an `auth` frame renews it first. Agents renew at /api/auth/refresh,
 * up to `gateway.agent_login_max_s` after their password login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loginTime, signToken, verifyToken, type Principal } from '../../gateway/auth/token.js';
import { CLOSE } from '../../gateway/protocol.js';
import type { RunningGateway } from '../../gateway/server.js';
import { ChatClient, type SocketLike } from '../../gateway/web/src/shared/chat-client.js';
import { gatewayEnv, http, login, makeAgent, TestClient, TOKEN_SECRET, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('token_expiry');
  gw = await env.start({ settings: { heartbeat_ms: 1000 } });
});

afterAll(async () => {
  await env?.close();
});

type AgentPrincipal = Extract<Principal, { kind: 'agent' }>;
const agentPrincipal = (a: { id: number; team: string; name: string }): AgentPrincipal => ({ kind: 'agent', agentId: a.id, team: a.team, name: a.name });
/** A token for `p` that expires `seconds` from now. */
const shortToken = (p: Principal, seconds: number) => signToken(p, TOKEN_SECRET, seconds).token;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/**
 * The whole seconds a frame may give until `expiresAt` when it was made between `sentAt` and
 * `receivedAt` (ms): bounds from the two ends of that window, so a slow machine cannot fail it.
 */
const secondsBetween = (expiresAt: number, sentAt: number, receivedAt: number) => ({
  min: Math.max(0, Math.floor((expiresAt - receivedAt) / 1000)),
  max: Math.max(0, Math.floor((expiresAt - sentAt) / 1000)),
});

describe('a socket whose token expires', () => {
  it('is told GW_TOKEN_EXPIRED and closed with 4401 within a heartbeat of the expiry; the welcome said when', async () => {
    const agent = await makeAgent(env);
    const sentAt = Date.now();
    const { client, welcome } = await TestClient.connect(gw.port, shortToken(agentPrincipal(agent), 2));
    const receivedAt = Date.now();
    const expiresAt = Date.parse(welcome.tokenExpiresAt);
    expect(expiresAt - sentAt).toBeLessThanOrEqual(2000);
    // The same as seconds from the frame, for clients whose clock is off.
    const { min, max } = secondsBetween(expiresAt, sentAt, receivedAt);
    expect(welcome.tokenExpiresIn).toBeGreaterThanOrEqual(min);
    expect(welcome.tokenExpiresIn).toBeLessThanOrEqual(max);
    const closed = await client.closed;
    expect(closed.code).toBe(CLOSE.UNAUTHORIZED);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(client.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'GW_TOKEN_EXPIRED' });
  });

  it('stays open past the old expiry after an auth frame with a renewed token', async () => {
    const agent = await makeAgent(env);
    const { client } = await TestClient.connect(gw.port, shortToken(agentPrincipal(agent), 2));
    const sentAt = Date.now();
    client.send({ type: 'auth', token: shortToken(agentPrincipal(agent), 60) });
    const renewed = await client.next((f) => f.type === 'auth');
    if (renewed.type !== 'auth') throw new Error(`an auth frame, not ${renewed.type}`);
    const expiresAt = Date.parse(renewed.expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan(50_000);
    const { min, max } = secondsBetween(expiresAt, sentAt, Date.now());
    expect(renewed.expiresIn).toBeGreaterThanOrEqual(min);
    expect(renewed.expiresIn).toBeLessThanOrEqual(max);
    const outcome = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('open'), 4500))]);
    expect(outcome).toBe('open');
    client.close();
  });

  it.each([
    ['an expired token', (a: AgentPrincipal) => signToken(a, TOKEN_SECRET, 60, Date.now() - 120_000).token, 'GW_TOKEN_EXPIRED'],
    ['a token signed with another key', (a: AgentPrincipal) => signToken(a, 'another-secret-of-at-least-32-characters', 60).token, 'GW_TOKEN_INVALID'],
    ["another agent's token", (a: AgentPrincipal) => shortToken({ ...a, agentId: a.agentId + 1000 }, 60), 'GW_TOKEN_INVALID'],
    ['a token for another team', (a: AgentPrincipal) => shortToken({ ...a, team: 'billing' }, 60), 'GW_TOKEN_INVALID'],
  ])('refuses an auth frame with %s, keeps the socket, and still closes it at the old expiry', async (_what, make, code) => {
    const agent = await makeAgent(env);
    const p = agentPrincipal(agent);
    const { client } = await TestClient.connect(gw.port, shortToken(p, 2));
    client.send({ type: 'auth', token: make(p) });
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code });
    expect((await client.closed).code).toBe(CLOSE.UNAUTHORIZED);
    expect(client.frames.some((f) => f.type === 'auth')).toBe(false);
  });

  it('closes with 4403 when the renewal comes from an agent disabled meanwhile', async () => {
    const agent = await makeAgent(env);
    const { client } = await TestClient.connect(gw.port, shortToken(agentPrincipal(agent), 30));
    await env.db.pool.query('UPDATE gateway.agent SET disabled_at = now() WHERE id = $1', [agent.id]);
    client.send({ type: 'auth', token: shortToken(agentPrincipal(agent), 60) });
    expect((await client.closed).code).toBe(CLOSE.FORBIDDEN);
  });
});

describe('POST /api/auth/login', () => {
  it('never signs a token past the login maximum age, even when agent_token_ttl_s is longer', async () => {
    const capped = await env.start({ settings: { agent_token_ttl_s: 7200, agent_login_max_s: 600 } });
    const agent = await makeAgent(env);
    const claims = verifyToken(await login(capped.port, agent), TOKEN_SECRET);
    if (claims.kind !== 'agent') throw new Error(`an agent token, not ${claims.kind}`);
    expect(claims.exp).toBeLessThanOrEqual(loginTime(claims) + 600);
  });
});

describe('token answers', () => {
  it('state the lifetime as seconds from the answer (expiresIn) beside the server-clock expiresAt', async () => {
    const agent = await makeAgent(env);
    /** The answer with the times it was asked and received. */
    const timed = async (ask: () => ReturnType<typeof http>) => {
      const sentAt = Date.now();
      const r = await ask();
      return { r, sentAt, receivedAt: Date.now() };
    };
    const logged = await timed(() => http(gw.port, 'POST', '/api/auth/login', { email: agent.email, password: agent.password }));
    const refreshed = await timed(() => http(gw.port, 'POST', '/api/auth/refresh', undefined, bearer(logged.r.json!.token as string)));
    const visitor = await timed(() => http(gw.port, 'POST', '/api/visitor/session', {}));
    for (const [{ r, sentAt, receivedAt }, ttl] of [[logged, 3600], [refreshed, 3600], [visitor, 43_200]] as const) {
      expect(r.status).toBe(200);
      const { expiresAt, expiresIn } = r.json as { expiresAt: string; expiresIn: number };
      const at = Date.parse(expiresAt);
      // Signed for ttl whole seconds from the second the answer was made in.
      expect(at).toBeGreaterThan(sentAt - 1000 + ttl * 1000);
      expect(at).toBeLessThanOrEqual(receivedAt + ttl * 1000);
      const { min, max } = secondsBetween(at, sentAt, receivedAt);
      expect(expiresIn).toBeGreaterThanOrEqual(min);
      expect(expiresIn).toBeLessThanOrEqual(max);
    }
  });
});

describe('POST /api/auth/refresh', () => {
  it('gives a still-valid agent a fresh token that keeps the login time', async () => {
    const agent = await makeAgent(env);
    const first = await login(gw.port, agent);
    await new Promise((r) => setTimeout(r, 1100)); // a later iat
    const r = await http(gw.port, 'POST', '/api/auth/refresh', undefined, bearer(first));
    expect(r.status).toBe(200);
    const before = verifyToken(first, TOKEN_SECRET);
    const after = verifyToken(r.json!.token as string, TOKEN_SECRET);
    expect(after).toMatchObject({ kind: 'agent', agentId: agent.id, team: agent.team });
    expect(after.exp).toBeGreaterThan(before.exp);
    expect(after.kind === 'agent' && before.kind === 'agent' && after.login).toBe(before.kind === 'agent' && before.login);
  });

  it('reads the agent again: a moved agent gets a token for the new team', async () => {
    const agent = await makeAgent(env);
    const token = await login(gw.port, agent);
    await env.db.pool.query(`UPDATE gateway.agent SET team = 'billing' WHERE id = $1`, [agent.id]);
    const r = await http(gw.port, 'POST', '/api/auth/refresh', undefined, bearer(token));
    expect(verifyToken(r.json!.token as string, TOKEN_SECRET)).toMatchObject({ team: 'billing' });
  });

  it('never reaches past the login maximum age', async () => {
    const agent = await makeAgent(env);
    const now = Date.now();
    const nearlyOld = signToken(agentPrincipal(agent), TOKEN_SECRET, 3600, now, Math.floor(now / 1000) - 43_200 + 100).token;
    const r = await http(gw.port, 'POST', '/api/auth/refresh', undefined, bearer(nearlyOld));
    expect(r.status).toBe(200);
    expect(verifyToken(r.json!.token as string, TOKEN_SECRET).exp).toBeLessThanOrEqual(Math.floor(now / 1000) + 101);
  });

  it.each([
    ['no token', async () => ({}), 401, 'GW_AUTH_REQUIRED'],
    ['a login older than agent_login_max_s', async (a: Principal) => bearer(signToken(a, TOKEN_SECRET, 3600, Date.now(), Math.floor(Date.now() / 1000) - 43_201).token), 401, 'GW_TOKEN_EXPIRED'],
    ['an expired token', async (a: Principal) => bearer(signToken(a, TOKEN_SECRET, 60, Date.now() - 120_000).token), 401, 'GW_TOKEN_EXPIRED'],
    ['a visitor token', async () => bearer(shortToken({ kind: 'visitor', visitorId: '5b0e8f4e-6a53-4a53-9c1a-0c5f1d7d2a11', customerId: null, identity: null }, 60)), 403, 'GW_FORBIDDEN'],
  ])('refuses %s', async (_what, headers, status, code) => {
    const agent = await makeAgent(env);
    const r = await http(gw.port, 'POST', '/api/auth/refresh', undefined, await headers(agentPrincipal(agent)));
    expect({ status: r.status, code: r.code }).toEqual({ status, code });
  });

  it('refuses a disabled agent', async () => {
    const agent = await makeAgent(env);
    const token = await login(gw.port, agent);
    await env.db.pool.query('UPDATE gateway.agent SET disabled_at = now() WHERE id = $1', [agent.id]);
    const r = await http(gw.port, 'POST', '/api/auth/refresh', undefined, bearer(token));
    expect({ status: r.status, code: r.code }).toEqual({ status: 403, code: 'GW_AGENT_DISABLED' });
  });
});

describe('a token signed before its agent moved to another team', () => {
  it('is refused by the API and at the upgrade (the old team\'s queue is no longer theirs), and renews into the new team', async () => {
    const agent = await makeAgent(env, 'support', 'mover');
    const token = await login(gw.port, agent);
    expect((await http(gw.port, 'GET', '/api/conversations', undefined, bearer(token))).status).toBe(200);
    await env.db.pool.query(`UPDATE gateway.agent SET team = 'billing' WHERE id = $1`, [agent.id]);
    const api = await http(gw.port, 'GET', '/api/conversations', undefined, bearer(token));
    expect({ status: api.status, code: api.code }).toEqual({ status: 401, code: 'GW_TOKEN_INVALID' });
    await expect(TestClient.open(gw.port, token)).rejects.toEqual({ status: 401, code: 'GW_TOKEN_INVALID' });
    const renewed = await http(gw.port, 'POST', '/api/auth/refresh', undefined, bearer(token));
    expect((await http(gw.port, 'GET', '/api/conversations', undefined, bearer(renewed.json!.token as string))).status).toBe(200);
  });
});

describe('the chat client (gateway/web/src/shared/chat-client.ts)', () => {
  /** A client whose getToken answers `tokens` in turn (the last one from then on); counts its connections. */
  function chatClient(tokens: string[]) {
    const seen = { connections: 0, tokenCalls: 0 };
    const c = new ChatClient({
      url: `ws://127.0.0.1:${gw.port}/ws`,
      getToken: async () => tokens[Math.min(seen.tokenCalls++, tokens.length - 1)]!,
      socket: (url, protocols) => {
        seen.connections++;
        return new WebSocket(url, protocols, { origin: 'http://127.0.0.1:18080' }) as unknown as SocketLike;
      },
      minDelayMs: 50,
      maxDelayMs: 200,
    });
    c.start();
    return { c, seen };
  }
  const online = async (c: ChatClient) => {
    for (let i = 0; i < 500 && c.getState().status !== 'online'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(c.getState().status).toBe('online');
  };

  it('hands its socket a renewed token before the first expires: one connection, online throughout', async () => {
    const agent = await makeAgent(env);
    const p = agentPrincipal(agent);
    const { c, seen } = chatClient([shortToken(p, 3), shortToken(p, 60)]);
    await online(c);
    const statuses = new Set<string>();
    const unsubscribe = c.subscribe(() => statuses.add(c.getState().status));
    await new Promise((r) => setTimeout(r, 5000));
    unsubscribe();
    expect(c.getState().status).toBe('online');
    c.stop();
    expect(seen).toEqual({ connections: 1, tokenCalls: 2 });
    expect(statuses.has('reconnecting')).toBe(false);
  });

  it('reconnects at once after the 4401 close when no renewed token was to be had', async () => {
    const agent = await makeAgent(env);
    const p = agentPrincipal(agent);
    const short = shortToken(p, 2);
    const { c, seen } = chatClient([short, short, shortToken(p, 60)]);
    await online(c);
    for (let i = 0; i < 800 && seen.connections < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await online(c);
    c.stop();
    expect(seen.connections).toBe(2);
  });
});
