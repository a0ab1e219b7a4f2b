/**
 * Two gateway instances in this process on their own ports, sharing a scratch PostgreSQL
 * database and a Redis prefix: messages across instances, delivery rules, lifecycle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, login, makeAgent, sendAndAck, TestClient, visitorToken, http, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let a: RunningGateway;
let b: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('main');
  a = await env.start();
  b = await env.start();
});

afterAll(async () => {
  await env?.close();
});

/** Waits (≤ 5 s) for a condition the gateways reach asynchronously. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(done()).toBe(true);
}

/** Closes every conversation, so the next test's routing starts from no load. */
async function closeAll(): Promise<void> {
  await env.db.pool.query(`UPDATE gateway.conversation SET status = 'closed' WHERE status = 'open'`);
}

describe('gateway: two instances', () => {
  it('carries messages both ways, in order, between a visitor on A and an agent on B', async () => {
    await closeAll();
    const agent = await makeAgent(env);
    const { client: agentWs } = await TestClient.connect(b.port, await login(b.port, agent));
    const visitor = await visitorToken(a.port);
    const { client: visitorWs, welcome } = await TestClient.connect(a.port, visitor.token);
    expect(welcome.role).toBe('visitor');
    expect(welcome.conversations).toEqual([]);

    const first = await sendAndAck(visitorWs, { clientMsgId: 'v-0', text: 'hello, my order is late' });
    const conversationId = first.conversationId;
    expect(first.seq).toBe(1);
    const assigned = await agentWs.next((f) => f.type === 'conversation' && f.conversation.id === conversationId);
    expect(assigned).toMatchObject({ event: 'assigned', conversation: { assignedAgentId: agent.id, team: 'support' } });

    // Pipelined without waiting for acks: seqs still follow the order sent.
    for (let i = 1; i < 20; i++) visitorWs.send({ type: 'msg', conversationId, clientMsgId: `v-${i}`, text: `visitor ${i}` });
    for (let i = 0; i < 20; i++) agentWs.send({ type: 'msg', conversationId, clientMsgId: `a-${i}`, text: `agent ${i}` });

    // Each side sees seqs 1..40 once, in order: the other side's messages as msg frames, its
    // own as their acks, each in the message's place.
    await until(() => agentWs.timeline(conversationId).length >= 40 && visitorWs.timeline(conversationId).length >= 40);
    for (const [ws, own] of [[agentWs, 'a-'], [visitorWs, 'v-']] as const) {
      const seen = ws.timeline(conversationId);
      expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(seen.filter((m) => m.clientMsgId.startsWith('v-')).map((m) => m.clientMsgId)).toEqual(Array.from({ length: 20 }, (_, i) => `v-${i}`));
      expect(seen.filter((m) => m.clientMsgId.startsWith('a-')).map((m) => m.clientMsgId)).toEqual(Array.from({ length: 20 }, (_, i) => `a-${i}`));
      // The other side's messages arrive as msg frames, one's own as acks only: no copy.
      expect(seen.map((m) => m.via)).toEqual(seen.map((m) => (m.clientMsgId.startsWith(own) ? 'ack' : 'msg')));
      expect(ws.msgs(conversationId).filter((m) => m.clientMsgId.startsWith(own))).toEqual([]);
    }
    const acks = await visitorWs.waitCount((f) => f.type === 'ack', 20);
    expect(acks.every((f) => f.type === 'ack' && !f.duplicate)).toBe(true);
    const { rows } = await env.db.pool.query('SELECT count(*)::int AS n, max(seq)::int AS top FROM gateway.message WHERE conversation_id = $1', [conversationId]);
    expect(rows[0]).toEqual({ n: 40, top: 40 });
    agentWs.close();
    visitorWs.close();
  });

  it('answers a resent clientMsgId with the original ack and stores nothing', async () => {
    await closeAll();
    const visitor = await visitorToken(a.port);
    const { client } = await TestClient.connect(a.port, visitor.token);
    const first = await sendAndAck(client, { clientMsgId: 'dup-1', text: 'once' });
    // A resend without conversationId (the client never saw the ack) finds the same conversation.
    client.send({ type: 'msg', clientMsgId: 'dup-1', text: 'once' });
    client.send({ type: 'msg', conversationId: first.conversationId, clientMsgId: 'dup-1', text: 'once' });
    const acks = await client.waitCount((f) => f.type === 'ack' && f.clientMsgId === 'dup-1', 3);
    expect(acks.map((f) => f.type === 'ack' && [f.conversationId, f.seq, f.duplicate])).toEqual([
      [first.conversationId, 1, false],
      [first.conversationId, 1, true],
      [first.conversationId, 1, true],
    ]);
    const { rows } = await env.db.pool.query('SELECT count(*)::int AS n FROM gateway.message WHERE conversation_id = $1', [first.conversationId]);
    expect(rows[0].n).toBe(1);
    client.close();
  });

  it('queues a conversation when no agent of the team is online and shows it to the team', async () => {
    await closeAll();
    const visitor = await visitorToken(b.port);
    const { client } = await TestClient.connect(b.port, visitor.token);
    const ack = await sendAndAck(client, { clientMsgId: 'q-1', text: 'anyone there?' });
    const convo = await client.next((f) => f.type === 'conversation');
    expect(convo).toMatchObject({ event: 'queued', conversation: { id: ack.conversationId, assignedAgentId: null } });

    const agent = await makeAgent(env);
    const other = await makeAgent(env, 'billing');
    const { client: agentWs, welcome } = await TestClient.connect(a.port, await login(a.port, agent));
    expect(welcome.conversations.map((c) => c.id)).toContain(ack.conversationId);
    await agentWs.next((f) => f.type === 'msg' && f.conversationId === ack.conversationId && f.seq === 1);
    const { client: otherWs, welcome: otherWelcome } = await TestClient.connect(a.port, await login(a.port, other));
    expect(otherWelcome.conversations.map((c) => c.id)).not.toContain(ack.conversationId);

    // Claiming the queued conversation (a transfer to oneself) takes it off the team's queue.
    agentWs.send({ type: 'transfer', conversationId: ack.conversationId, toAgentId: agent.id });
    await agentWs.next((f) => f.type === 'conversation' && f.event === 'transferred' && f.conversation.assignedAgentId === agent.id);
    for (const c of [client, agentWs, otherWs]) c.close();
  });

  it('transfers to another agent and closes', async () => {
    await closeAll();
    const [first, second] = [await makeAgent(env), await makeAgent(env, 'billing')];
    const { client: firstWs } = await TestClient.connect(a.port, await login(a.port, first));
    const visitor = await visitorToken(b.port);
    const { client: visitorWs } = await TestClient.connect(b.port, visitor.token);
    const ack = await sendAndAck(visitorWs, { clientMsgId: 't-1', text: 'I need a refund' });
    const id = ack.conversationId;
    await firstWs.next((f) => f.type === 'msg' && f.conversationId === id);
    const { client: secondWs } = await TestClient.connect(b.port, await login(b.port, second));

    firstWs.send({ type: 'transfer', conversationId: id, toAgentId: second.id });
    await secondWs.next((f) => f.type === 'conversation' && f.conversation.id === id && f.event === 'transferred');
    // The new agent gets the history; the old one is told and hears no more.
    await secondWs.next((f) => f.type === 'msg' && f.conversationId === id && f.clientMsgId === 't-1');
    await firstWs.next((f) => f.type === 'conversation' && f.event === 'transferred' && f.conversation.assignedAgentId === second.id);
    await visitorWs.next((f) => f.type === 'conversation' && f.event === 'transferred');
    await sendAndAck(visitorWs, { conversationId: id, clientMsgId: 't-2', text: 'still there?' });
    await secondWs.next((f) => f.type === 'msg' && f.clientMsgId === 't-2');
    firstWs.send({ type: 'msg', conversationId: id, clientMsgId: 'old-agent', text: 'me again' });
    expect(await firstWs.next((f) => f.type === 'error' && f.clientMsgId === 'old-agent')).toMatchObject({ code: 'GW_CONVERSATION_NOT_FOUND' });
    expect(firstWs.msgs(id).some((m) => m.clientMsgId === 't-2')).toBe(false);

    secondWs.send({ type: 'close', conversationId: id });
    await visitorWs.next((f) => f.type === 'conversation' && f.event === 'closed');
    secondWs.send({ type: 'msg', conversationId: id, clientMsgId: 'after-close', text: 'agent after close' });
    expect(await secondWs.next((f) => f.type === 'error' && f.clientMsgId === 'after-close')).toMatchObject({ code: 'GW_CONVERSATION_CLOSED' });
    // The visitor writing again reopens it (same id, seqs go on), back to the agent who had it.
    const reopened = await sendAndAck(visitorWs, { conversationId: id, clientMsgId: 't-3', text: 'after close' });
    expect([reopened.conversationId, reopened.seq]).toEqual([id, 3]);
    expect(await secondWs.next((f) => f.type === 'conversation' && f.event === 'reopened')).toMatchObject({ conversation: { id, status: 'open', assignedAgentId: second.id } });
    await secondWs.next((f) => f.type === 'msg' && f.clientMsgId === 't-3');
    for (const c of [firstWs, secondWs, visitorWs]) c.close();
    // Every personal and conversation subscription ends with its sockets (transfer, close
    // and reopen moved them around): only the instance's own customer.updated channel stays.
    await until(() => a.sockets() + b.sockets() === 0 && a.context.fanout.channelCount === 1 && b.context.fanout.channelCount === 1);
  });

  it("keeps agent A out of agent B's conversation, over REST and over the socket", async () => {
    await closeAll();
    const owner = await makeAgent(env, 'logistics');
    const stranger = await makeAgent(env, 'billing');
    const { client: ownerWs } = await TestClient.connect(a.port, await login(a.port, owner));
    // Route to the owner's team by transferring right after opening (routing rules come later).
    const visitor = await visitorToken(a.port);
    const { client: visitorWs } = await TestClient.connect(a.port, visitor.token);
    const ack = await sendAndAck(visitorWs, { clientMsgId: 'p-1', text: 'private' });
    await env.db.pool.query('UPDATE gateway.conversation SET assigned_agent_id = $2, team = $3 WHERE id = $1', [ack.conversationId, owner.id, owner.team]);

    const ownerToken = await login(b.port, owner);
    const strangerToken = await login(b.port, stranger);
    const path = `/api/conversations/${ack.conversationId}/messages`;
    const ok = await http(b.port, 'GET', path, undefined, { authorization: `Bearer ${ownerToken}` });
    expect(ok.status).toBe(200);
    expect((ok.json!.messages as { text: string }[]).map((m) => m.text)).toEqual(['private']);
    const refused = await http(b.port, 'GET', path, undefined, { authorization: `Bearer ${strangerToken}` });
    expect([refused.status, refused.code]).toEqual([404, 'GW_CONVERSATION_NOT_FOUND']);
    const otherVisitor = await visitorToken(b.port);
    const byVisitor = await http(b.port, 'GET', path, undefined, { authorization: `Bearer ${otherVisitor.token}` });
    expect([byVisitor.status, byVisitor.code]).toEqual([404, 'GW_CONVERSATION_NOT_FOUND']);
    const anonymous = await http(b.port, 'GET', path);
    expect([anonymous.status, anonymous.code]).toEqual([401, 'GW_AUTH_REQUIRED']);

    const { client: strangerWs, welcome } = await TestClient.connect(b.port, strangerToken);
    expect(welcome.conversations.map((c) => c.id)).not.toContain(ack.conversationId);
    strangerWs.send({ type: 'msg', conversationId: ack.conversationId, clientMsgId: 'intrude', text: 'hi' });
    strangerWs.send({ type: 'ack', conversationId: ack.conversationId, seq: 1 });
    await strangerWs.waitCount((f) => f.type === 'error' && f.code === 'GW_CONVERSATION_NOT_FOUND', 2);
    expect(strangerWs.msgs()).toEqual([]);
    const { rows } = await env.db.pool.query('SELECT count(*)::int AS n FROM gateway.message WHERE conversation_id = $1', [ack.conversationId]);
    expect(rows[0].n).toBe(1);
    for (const c of [ownerWs, visitorWs, strangerWs]) c.close();
  });

  it('resumes a reconnecting client after its last seq, in order', async () => {
    await closeAll();
    const agent = await makeAgent(env);
    const { client: agentWs } = await TestClient.connect(b.port, await login(b.port, agent));
    const visitor = await visitorToken(a.port);
    const { client: v1 } = await TestClient.connect(a.port, visitor.token);
    const ack = await sendAndAck(v1, { clientMsgId: 'r-0', text: 'first' });
    await agentWs.next((f) => f.type === 'msg' && f.conversationId === ack.conversationId);
    v1.close();
    await v1.closed;
    for (let i = 0; i < 5; i++) await sendAndAck(agentWs, { conversationId: ack.conversationId, clientMsgId: `r-a${i}`, text: `reply ${i}` });
    // Back on the other instance, holding seq 1.
    const { client: v2, welcome } = await TestClient.connect(b.port, visitor.token, { [ack.conversationId]: 1 });
    expect(welcome.conversations.map((c) => c.id)).toEqual([ack.conversationId]);
    const got = await v2.waitCount((f) => f.type === 'msg', 5);
    expect(got.map((f) => f.type === 'msg' && f.seq)).toEqual([2, 3, 4, 5, 6]);
    for (const c of [agentWs, v2]) c.close();
  });

  it('closes the sockets of a disabled agent with 4403 and refuses them afterwards', async () => {
    const agent = await makeAgent(env);
    const token = await login(a.port, agent);
    const { client } = await TestClient.connect(a.port, token);
    await env.db.pool.query('UPDATE gateway.agent SET disabled_at = now() WHERE id = $1', [agent.id]);
    await env.redis.publish(env.keys.agent(agent.id), JSON.stringify({ e: 'kick', reason: 'agent disabled' }));
    expect((await client.closed).code).toBe(4403);
    await expect(TestClient.open(a.port, token)).rejects.toEqual({ status: 403, code: 'GW_AGENT_DISABLED' });
    const again = await http(a.port, 'POST', '/api/auth/login', { email: agent.email, password: agent.password });
    expect([again.status, again.code]).toEqual([403, 'GW_AGENT_DISABLED']);
  });

  it('closes with 4403 a socket of an agent disabled between its upgrade and its hello (it missed the kick)', async () => {
    const agent = await makeAgent(env);
    const pending = await TestClient.open(a.port, await login(a.port, agent));
    await env.db.pool.query('UPDATE gateway.agent SET disabled_at = now() WHERE id = $1', [agent.id]);
    await env.redis.publish(env.keys.agent(agent.id), JSON.stringify({ e: 'kick', reason: 'agent disabled' }));
    pending.send({ type: 'hello', resume: {} });
    expect((await pending.closed).code).toBe(4403);
    expect(pending.frames.some((f) => f.type === 'welcome')).toBe(false);
  });

  it('tells clients to reconnect elsewhere when an instance shuts down', async () => {
    const c = await env.start();
    const visitor = await visitorToken(c.port);
    const { client } = await TestClient.connect(c.port, visitor.token);
    await c.close();
    expect(await client.next((f) => f.type === 'reconnect')).toMatchObject({ type: 'reconnect' });
    expect((await client.closed).code).toBe(1012);
  });
});
