/**
 * Revoking an agent's logins: a new password (`junction agents passwd`) or a disable raises
 * the agent's token epoch and so ends every earlier login. Its tokens are refused at the REST
 * API, the upgrade and the refresh, its open sockets close with 4401 (the kick; a missed kick
 * at the next renewal or heartbeat), and re-enabling the agent does not bring them back; a
 * login right after works. Real PostgreSQL and Redis.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { setAgentDisabled, setAgentPassword } from '../../gateway/store/agents.js';
import { gatewayEnv, http, login, makeAgent, TestClient, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('agentrevoke');
  gw = await env.start();
});

afterAll(async () => {
  await env?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** What the old token gets now: REST, upgrade and refresh. */
async function refusals(token: string) {
  const rest = await http(gw.port, 'GET', '/api/agents', undefined, bearer(token));
  const refresh = await http(gw.port, 'POST', '/api/auth/refresh', undefined, bearer(token));
  const upgrade = await TestClient.open(gw.port, token).then(
    (c) => (c.close(), 'open'),
    (r: { status: number; code: string }) => `${r.status} ${r.code}`,
  );
  return { rest: `${rest.status} ${rest.code}`, refresh: `${refresh.status} ${refresh.code}`, upgrade };
}

it("a new password ends the earlier logins: the kick closes the socket with 4401, the old token is refused everywhere, a new login works", async () => {
  const agent = await makeAgent(env);
  const old = await login(gw.port, agent);
  const { client } = await TestClient.connect(gw.port, old);
  await setAgentPassword(env.db.pool, agent.email, 'a-brand-new-password');
  await env.redis.publish(env.keys.agent(agent.id), JSON.stringify({ e: 'kick', reason: `agent ${agent.id}'s password was changed: log in again`, tokenInvalid: true }));
  expect((await client.closed).code).toBe(4401);
  expect(client.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'GW_TOKEN_INVALID' }));
  expect(await refusals(old)).toEqual({ rest: '401 GW_TOKEN_INVALID', refresh: '401 GW_TOKEN_INVALID', upgrade: '401 GW_TOKEN_INVALID' });
  const refused = await http(gw.port, 'POST', '/api/auth/login', { email: agent.email, password: agent.password });
  expect(refused.status).toBe(401);
  const fresh = await login(gw.port, { email: agent.email, password: 'a-brand-new-password' });
  expect((await http(gw.port, 'GET', '/api/agents', undefined, bearer(fresh))).status).toBe(200);
});

it('a renewal with a token revoked since is refused over a current login, and the socket goes on', async () => {
  const agent = await makeAgent(env);
  const old = await login(gw.port, agent);
  await setAgentPassword(env.db.pool, agent.email, 'a-third-new-password');
  const current = await login(gw.port, { email: agent.email, password: 'a-third-new-password' });
  const { client } = await TestClient.connect(gw.port, current);
  client.send({ type: 'auth', token: old }); // a stale tab's token
  expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'GW_TOKEN_INVALID' });
  client.send({ type: 'auth', token: current });
  expect(await client.next((f) => f.type === 'auth')).toMatchObject({ type: 'auth' });
  expect(client.ws.readyState).toBe(client.ws.OPEN);
  client.close();
});

it('a socket that missed the kick is closed with 4401 at its next token renewal', async () => {
  const agent = await makeAgent(env);
  const old = await login(gw.port, agent);
  const { client } = await TestClient.connect(gw.port, old);
  await setAgentPassword(env.db.pool, agent.email, 'another-new-password');
  client.send({ type: 'auth', token: old });
  expect((await client.closed).code).toBe(4401);
  expect(client.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'GW_TOKEN_INVALID', message: expect.stringContaining('were revoked') }));
});

it('a socket that missed the kick and renews nothing is closed with 4401 at the next heartbeat', async () => {
  const beating = await env.start({ settings: { heartbeat_ms: 1000 } });
  const agent = await makeAgent(env);
  const { client } = await TestClient.connect(beating.port, await login(beating.port, agent));
  await setAgentPassword(env.db.pool, agent.email, 'yet-another-password');
  const closed = await Promise.race([client.closed, sleep(10_000).then(() => null)]);
  expect(closed?.code).toBe(4401);
  expect(client.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'GW_TOKEN_INVALID', message: expect.stringContaining('were revoked') }));
});

it('disabling revokes: re-enabled, the agent must log in again (the old token stays refused)', async () => {
  const agent = await makeAgent(env);
  const old = await login(gw.port, agent);
  await setAgentDisabled(env.db.pool, agent.email, true);
  await setAgentDisabled(env.db.pool, agent.email, false);
  expect(await refusals(old)).toEqual({ rest: '401 GW_TOKEN_INVALID', refresh: '401 GW_TOKEN_INVALID', upgrade: '401 GW_TOKEN_INVALID' });
  const fresh = await login(gw.port, agent);
  expect((await http(gw.port, 'GET', '/api/agents', undefined, bearer(fresh))).status).toBe(200);
});
