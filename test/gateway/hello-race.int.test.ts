/**
 * What a connecting client learns while its hello is under way, and what a resuming one
 * learns of conversations that closed while it was away.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { connectAgent, gatewayEnv, http, login, makeAgent, sendAndAck, TestClient, untilOnline, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('hello_race');
  // billing: a team a conversation may be transferred to (routed to, though nobody serves it here).
  gw = await env.start({ settings: { routing: [{ team: 'billing', match: '^billing:' }] } });
});

afterAll(async () => {
  await env?.close();
});

/** Waits until some session of the scratch database waits on a lock. */
async function untilSomeoneWaits(): Promise<void> {
  for (let i = 0; ; i++) {
    const { rows } = await env.db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (rows[0].n > 0) return;
    if (i > 1000) throw new Error('nobody waited on the lock');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a hello', () => {
  it('drops a conversation handed to another team between its read and its subscription: no welcome entry, no messages, no context', async () => {
    // Capacity 0: nobody is assigned, the conversation waits in the support queue.
    const alice = await makeAgent(env, 'support', 'race-alice', 0);
    const bob = await makeAgent(env, 'support', 'race-bob', 0);
    const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
    const id = (await sendAndAck(visitor, { clientMsgId: 'race-1', text: 'hi' })).conversationId;
    const bobClient = await connectAgent(env, gw.port, bob);
    const aliceToken = await login(gw.port, alice);
    // Alice's hello reads the queue, then waits on the receipts read: the window made wide.
    const locker = new pg.Client({ connectionString: env.db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE gateway.receipt IN ACCESS EXCLUSIVE MODE');
    const aliceClient = await TestClient.open(gw.port, aliceToken);
    aliceClient.send({ type: 'hello', resume: {} });
    await untilSomeoneWaits();
    bobClient.send({ type: 'transfer', conversationId: id, toTeam: 'billing' });
    await bobClient.next((f) => f.type === 'conversation' && f.conversation.id === id);
    await locker.query('ROLLBACK');
    await locker.end();
    const welcome = await aliceClient.next((f) => f.type === 'welcome');
    expect(welcome.type === 'welcome' && welcome.conversations.map((c) => c.id)).toEqual([]);
    await untilOnline(env, alice);
    await sendAndAck(visitor, { conversationId: id, clientMsgId: 'race-2', text: 'for billing only' });
    const probe = await http(gw.port, 'GET', `/api/conversations/${id}/messages`, undefined, { authorization: `Bearer ${aliceToken}` });
    expect(probe.status).toBe(404);
    aliceClient.send({ type: 'typing', conversationId: id, on: true });
    // Her socket does not hold it either (with it held, typing is relayed and nothing answers).
    const refused = await aliceClient.next((f) => f.type === 'error' && f.conversationId === id);
    expect(refused).toMatchObject({ code: 'GW_CONVERSATION_NOT_FOUND' });
    await new Promise((r) => setTimeout(r, 300)); // fan-out of the message had its chance
    expect(aliceClient.frames.filter((f) => (f.type === 'msg' || f.type === 'context') && f.conversationId === id)).toEqual([]);
    for (const c of [visitor, bobClient, aliceClient]) c.close();
  });
});

describe('a resume naming a conversation that closed meanwhile', () => {
  it('sends what was written after the resume point, then the closed event', async () => {
    const agent = await makeAgent(env, 'support', 'closer2');
    const agentClient = await connectAgent(env, gw.port, agent);
    const token = (await visitorToken(gw.port)).token;
    const { client: visitor } = await TestClient.connect(gw.port, token);
    const id = (await sendAndAck(visitor, { clientMsgId: 'away-1', text: 'hello' })).conversationId;
    await agentClient.next((f) => f.type === 'msg' && f.conversationId === id);
    visitor.ws.terminate();
    await sendAndAck(agentClient, { conversationId: id, clientMsgId: 'away-2', text: 'here is your refund code RF-99; closing now' });
    agentClient.send({ type: 'close', conversationId: id });
    await agentClient.next((f) => f.type === 'conversation' && f.event === 'closed');
    const back = await TestClient.open(gw.port, token);
    back.send({ type: 'hello', resume: { [String(id)]: 1 } });
    const closed = await back.next((f) => f.type === 'conversation' && f.event === 'closed');
    expect(closed).toMatchObject({ conversation: { id, status: 'closed' } });
    expect(back.frames.filter((f) => f.type === 'msg').map((f) => f.type === 'msg' && [f.conversationId, f.seq, f.text])).toEqual([
      [id, 2, 'here is your refund code RF-99; closing now'],
    ]);
    // Its ack of that message counts: the connection was sent seq 2.
    back.send({ type: 'ack', conversationId: id, seq: 2 });
    back.close();
    agentClient.close();
  });
});
