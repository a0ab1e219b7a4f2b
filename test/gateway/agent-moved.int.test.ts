/**
 * An agent moved to another team (`junction agents team`) loses the old team's queue at once:
 * the kick closes their sockets with 4401 GW_TOKEN_INVALID (the token names the old team),
 * and a socket that missed the kick can act on nothing of the old queue and is closed when it
 * tries. Real PostgreSQL and Redis.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import type { ServerFrame } from '../../gateway/protocol.js';
import { movedReason, setAgentTeam } from '../../gateway/store/agents.js';
import { connectAgent, gatewayEnv, http, login, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('agentmoved');
  gw = await env.start({ settings: { routing: [{ team: 'order', match: '^order:' }] } });
});

afterAll(async () => {
  await env?.close();
});

/** An agent of team `order` who takes no conversation, so that a visitor's lands in the team's queue, which they see. */
async function queuedForAgent() {
  const agent = await makeAgent(env, 'order', undefined, 0);
  const agentWs = await connectAgent(env, gw.port, agent);
  const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
  const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'v-1', text: 'order: where is my parcel?' });
  const seen = (await agentWs.next((f) => f.type === 'conversation' && f.conversation.id === id)) as Extract<ServerFrame, { type: 'conversation' }>;
  expect(seen.event).toBe('queued');
  return { agent, agentWs, visitor, id };
}

it('the kick of a move closes the socket with 4401 GW_TOKEN_INVALID naming the move; the old token is refused, a refreshed one names the new team', async () => {
  const { agent, agentWs, visitor } = await queuedForAgent();
  const token = await login(gw.port, agent);
  const { from } = await setAgentTeam(env.db.pool, agent.email, 'billing');
  expect(from).toBe('order');
  await env.redis.publish(env.keys.agent(agent.id), JSON.stringify({ e: 'kick', reason: `${movedReason(agent.id, 'order', 'billing')}: renew the token at POST /api/auth/refresh and reconnect`, tokenInvalid: true }));
  const closed = await agentWs.closed;
  expect(closed.code).toBe(4401);
  expect(agentWs.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'GW_TOKEN_INVALID', message: expect.stringContaining(`agent ${agent.id} moved from team order to billing`) }));
  await expect(TestClient.open(gw.port, token)).rejects.toMatchObject({ status: 401, code: 'GW_TOKEN_INVALID' });
  const refreshed = await http(gw.port, 'POST', '/api/auth/refresh', undefined, { authorization: `Bearer ${token}` });
  expect(refreshed.status).toBe(200);
  const { client: again, welcome } = await TestClient.connect(gw.port, refreshed.json!.token as string);
  // The old team's queue is not the agent's any more.
  expect(welcome.conversations).toEqual([]);
  for (const c of [again, visitor]) c.close();
});

it('a socket that missed the kick cannot act on the old team queue: its close is refused, the conversation stays open, and the socket is closed with 4401', async () => {
  const { agent, agentWs, visitor, id } = await queuedForAgent();
  await setAgentTeam(env.db.pool, agent.email, 'billing');
  agentWs.send({ type: 'close', conversationId: id });
  const closed = await agentWs.closed;
  expect(closed.code).toBe(4401);
  expect(agentWs.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'GW_CONVERSATION_NOT_FOUND' }));
  const { rows } = await env.db.pool.query('SELECT status, assigned_agent_id FROM gateway.conversation WHERE id = $1', [id]);
  expect(rows[0]).toEqual({ status: 'open', assigned_agent_id: null });
  visitor.close();
});

it('a socket that missed the kick and renews with the refreshed (new team) token is closed with 4401, not left on the old queue', async () => {
  const { agent, agentWs, visitor } = await queuedForAgent();
  const token = await login(gw.port, agent);
  await setAgentTeam(env.db.pool, agent.email, 'billing');
  const refreshed = await http(gw.port, 'POST', '/api/auth/refresh', undefined, { authorization: `Bearer ${token}` });
  expect(refreshed.status).toBe(200);
  agentWs.send({ type: 'auth', token: refreshed.json!.token as string });
  const closed = await agentWs.closed;
  expect(closed.code).toBe(4401);
  expect(agentWs.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'GW_TOKEN_INVALID', message: expect.stringContaining(`agent ${agent.id} moved from team order to billing`) }));
  visitor.close();
});


it('a conversation reopened after its agent moved teams goes to its own team, not to the agent who left it', async () => {
  const agent = await makeAgent(env, 'order');
  const agentWs = await connectAgent(env, gw.port, agent);
  const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
  const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'm-1', text: 'order: where is my parcel?' });
  await agentWs.next((f) => f.type === 'conversation' && f.conversation.id === id && f.event === 'assigned');
  agentWs.send({ type: 'close', conversationId: id });
  await visitor.next((f) => f.type === 'conversation' && f.event === 'closed');
  // Moved to billing, and online there.
  const token = await login(gw.port, agent);
  await setAgentTeam(env.db.pool, agent.email, 'billing');
  const refreshed = await http(gw.port, 'POST', '/api/auth/refresh', undefined, { authorization: `Bearer ${token}` });
  const { client: billingWs } = await TestClient.connect(gw.port, refreshed.json!.token as string);
  const reopened = await sendAndAck(visitor, { conversationId: id, clientMsgId: 'm-2', text: 'it still has not come' });
  expect(reopened.conversationId).toBe(id);
  const { rows } = await env.db.pool.query('SELECT status, team, assigned_agent_id FROM gateway.conversation WHERE id = $1', [id]);
  expect(rows[0]).toEqual({ status: 'open', team: 'order', assigned_agent_id: null });
  for (const c of [agentWs, billingWs, visitor]) c.close();
});
