/**
 * `POST /api/visitor/session` renewals: who keeps the visitor (and so its conversations) and
 * who starts afresh; and the per-address limits of the auth routes, behind a reverse proxy
 * (`gateway.trust_proxy`) and without one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIdentity, type IdentityClaims } from '../../gateway/auth/identity.js';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, http, IDENTITY_SECRET, sendAndAck, TestClient, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('auth_routes');
  gw = await env.start();
});

afterAll(async () => {
  await env?.close();
});

const signed = (identity: IdentityClaims) => {
  const timestamp = Math.floor(Date.now() / 1000);
  return { identity, timestamp, signature: signIdentity(identity, timestamp, IDENTITY_SECRET) };
};

async function session(body: Record<string, unknown>, token?: string): Promise<{ token: string; visitorId: string }> {
  const r = await http(gw.port, 'POST', '/api/visitor/session', body, token ? { authorization: `Bearer ${token}` } : {});
  expect(r.status).toBe(200);
  return { token: r.json!.token as string, visitorId: r.json!.visitorId as string };
}

/** Whether `token` reads the conversation, over REST and in the socket's welcome. */
async function sees(token: string, conversationId: number): Promise<boolean> {
  const rest = await http(gw.port, 'GET', `/api/conversations/${conversationId}/messages`, undefined, { authorization: `Bearer ${token}` });
  const { client, welcome } = await TestClient.connect(gw.port, token);
  client.close();
  const onSocket = welcome.conversations.some((c) => c.id === conversationId);
  expect(onSocket).toBe(rest.status === 200);
  return rest.status === 200;
}

describe('renewing a visitor session', () => {
  const ann = { email: 'ann@example.com' };

  /** A visitor (optionally identified as `identity`) with an open conversation. */
  async function visitorWithConversation(identity: IdentityClaims | null) {
    const v = await session(identity ? signed(identity) : {});
    const { client } = await TestClient.connect(gw.port, v.token);
    const { conversationId } = await sendAndAck(client, { clientMsgId: 'first', text: 'where is my order?' });
    client.close();
    return { ...v, conversationId };
  }

  it.each([
    ['with no identity in the request', true, () => ({})],
    ['with the same signed identity', true, () => signed({ email: 'Ann@Example.com' })],
    ['with another signed identity', false, () => signed({ email: 'bob@example.com' })],
    ['with the same identity plus another claim', false, () => signed({ email: 'ann@example.com', phone: '138 0013 8000' })],
  ])("ann's token renewed %s keeps the visitor and its conversation: %s", async (_what, keeps, body) => {
    const before = await visitorWithConversation(ann);
    const renewed = await session(body(), before.token);
    expect(renewed.visitorId === before.visitorId).toBe(keeps);
    expect(await sees(renewed.token, before.conversationId)).toBe(keeps);
  });

  it('an anonymous visitor that signs in keeps its visitor (and the chat it started)', async () => {
    const before = await visitorWithConversation(null);
    const renewed = await session(signed(ann), before.token);
    expect(renewed.visitorId).toBe(before.visitorId);
    expect(await sees(renewed.token, before.conversationId)).toBe(true);
  });
});

describe('new visitor sessions per address', () => {
  it('are limited to gateway.visitor_sessions_per_minute; renewals with a valid token still go through', async () => {
    const limited = await env.start({ settings: { visitor_sessions_per_minute: 3 } });
    const fresh = () => http(limited.port, 'POST', '/api/visitor/session', {});
    const first = await fresh();
    for (let i = 0; i < 2; i++) expect((await fresh()).status).toBe(200);
    const refused = await fresh();
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 429, code: 'GW_RATE_LIMITED' });
    const renewed = await http(limited.port, 'POST', '/api/visitor/session', {}, { authorization: `Bearer ${first.json!.token as string}` });
    expect(renewed.status).toBe(200);
    expect(renewed.json!.visitorId).toBe(first.json!.visitorId);
  });

  it('a renewal that signs in someone else is a new visitor, and counts as one', async () => {
    const limited = await env.start({ settings: { visitor_sessions_per_minute: 2 } });
    const renew = (body: Record<string, unknown>, token: string) => http(limited.port, 'POST', '/api/visitor/session', body, { authorization: `Bearer ${token}` });
    const first = await http(limited.port, 'POST', '/api/visitor/session', signed({ email: 'ann@example.com' }));
    expect(first.status).toBe(200);
    // One new visitor left in this minute: bob's renewal takes it, ann's again is refused.
    const bob = await renew(signed({ email: 'bob@example.com' }), first.json!.token as string);
    expect(bob.status).toBe(200);
    expect(bob.json!.visitorId).not.toBe(first.json!.visitorId);
    const annAgain = await renew(signed({ email: 'ann@example.com' }), bob.json!.token as string);
    expect({ status: annAgain.status, code: annAgain.code }).toEqual({ status: 429, code: 'GW_RATE_LIMITED' });
    // Keeping the same visitor is still a renewal, not a new session.
    expect((await renew({}, bob.json!.token as string)).status).toBe(200);
  });
});

describe('per-address limits behind a reverse proxy (gateway.trust_proxy)', () => {
  const forwarded = (xff: string) => ({ 'x-forwarded-for': xff });
  const newVisitor = (port: number, xff: string) => http(port, 'POST', '/api/visitor/session', {}, forwarded(xff)).then((r) => r.status);
  const badLogin = (port: number, xff: string, email = 'nobody@example.com') =>
    http(port, 'POST', '/api/auth/login', { email, password: 'guess' }, forwarded(xff)).then((r) => [r.status, r.code]);

  it('count each client the trusted proxy names, so one visitor behind it does not spend the others\' budget', async () => {
    const proxied = await env.start({ settings: { visitor_sessions_per_minute: 2, trust_proxy: ['loopback'] } });
    for (let i = 0; i < 2; i++) expect(await newVisitor(proxied.port, '203.0.113.1')).toBe(200);
    expect(await newVisitor(proxied.port, '203.0.113.1')).toBe(429);
    expect(await newVisitor(proxied.port, '203.0.113.2')).toBe(200);
  });

  it('count logins per forwarded client too', async () => {
    const proxied = await env.start({ settings: { trust_proxy: ['127.0.0.1'] } });
    for (let i = 0; i < 10; i++) expect(await badLogin(proxied.port, '198.51.100.7')).toEqual([401, 'GW_BAD_CREDENTIALS']);
    expect(await badLogin(proxied.port, '198.51.100.7')).toEqual([429, 'GW_RATE_LIMITED']);
    expect(await badLogin(proxied.port, '198.51.100.8')).toEqual([401, 'GW_BAD_CREDENTIALS']);
  });

  it('with a hop count, take the address the last proxy added: what the client wrote before it is not believed', async () => {
    const proxied = await env.start({ settings: { visitor_sessions_per_minute: 2, trust_proxy: 1 } });
    expect(await newVisitor(proxied.port, '10.9.9.1, 203.0.113.5')).toBe(200);
    expect(await newVisitor(proxied.port, '10.9.9.2, 203.0.113.5')).toBe(200);
    expect(await newVisitor(proxied.port, '10.9.9.3, 203.0.113.5')).toBe(429);
  });

  it('ignore X-Forwarded-For when trust_proxy is off (the default): a forged header does not dodge the limit', async () => {
    const direct = await env.start({ settings: { visitor_sessions_per_minute: 2 } });
    expect(direct.context.settings.trust_proxy).toBe(false);
    expect(await newVisitor(direct.port, '203.0.113.10')).toBe(200);
    expect(await newVisitor(direct.port, '203.0.113.11')).toBe(200);
    expect(await newVisitor(direct.port, '203.0.113.12')).toBe(429);
    for (let i = 0; i < 10; i++) expect(await badLogin(direct.port, `198.51.100.${20 + i}`)).toEqual([401, 'GW_BAD_CREDENTIALS']);
    expect(await badLogin(direct.port, '198.51.100.99')).toEqual([429, 'GW_RATE_LIMITED']);
  });

  it('ignore X-Forwarded-For from a proxy that is not the trusted one', async () => {
    const elsewhere = await env.start({ settings: { visitor_sessions_per_minute: 1, trust_proxy: ['10.0.0.0/8'] } });
    expect(await newVisitor(elsewhere.port, '203.0.113.20')).toBe(200);
    expect(await newVisitor(elsewhere.port, '203.0.113.21')).toBe(429);
  });
});
