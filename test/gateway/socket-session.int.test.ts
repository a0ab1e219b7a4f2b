/** A socket session against the real services: Redis failing under it, floods while PostgreSQL is slow, resends after a close. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { MAX_WAITING_FRAMES } from '../../gateway/socket-session.js';
import { getConversation } from '../../gateway/store/conversations.js';
import { connectAgent, gatewayEnv, login, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('session');
  gw = await env.start();
});

afterAll(async () => {
  await env?.close();
});

describe('socket session', () => {
  it('keeps the socket open when relaying typing or read fails (Redis gone)', async () => {
    const { client } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
    const { conversationId, seq } = await sendAndAck(client, { clientMsgId: 'first', text: 'hi' });
    // The instance's publishing connection goes away for good: every PUBLISH now fails.
    gw.context.redis.disconnect();
    client.send({ type: 'typing', conversationId });
    client.send({ type: 'read', conversationId, seq });
    // Answered without Redis, after the two relays (frames are handled in order): the socket is still served.
    client.send({ type: 'typing', conversationId: 999_999 });
    await Promise.race([client.next((f) => f.type === 'error' && f.conversationId === 999_999), client.closed]);
    expect(client.frames.filter((f) => f.type === 'error').map((f) => f.type === 'error' && f.code)).toEqual(['GW_CONVERSATION_NOT_FOUND']);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    client.close();
  });
});

describe('read and ack marks', () => {
  it('count no further than the connection was sent: a read far ahead reaches the agent and the store as the last seq it had', async () => {
    const live = await env.start(); // its own instance: the test above takes Redis away from gw
    const agent = await makeAgent(env, 'support', 'marks');
    const agentClient = await connectAgent(env, live.port, agent);
    const { client: visitor } = await TestClient.connect(live.port, (await visitorToken(live.port)).token);
    const { conversationId } = await sendAndAck(visitor, { clientMsgId: 'mark-1', text: 'hi' });
    await sendAndAck(visitor, { conversationId, clientMsgId: 'mark-2', text: 'still there?' });
    visitor.send({ type: 'read', conversationId, seq: 999_999 });
    visitor.send({ type: 'ack', conversationId, seq: 999_999 });
    const read = await agentClient.next((f) => f.type === 'read' && f.conversationId === conversationId);
    expect(read).toMatchObject({ type: 'read', seq: 2 });
    // Receipts are written in batches: wait for the marks to land.
    let marks: { read_seq: number | null; acked_seq: number | null }[] = [];
    for (let i = 0; i < 400 && !(marks[0]?.read_seq && marks[0]?.acked_seq); i++) {
      ({ rows: marks } = await env.db.pool.query(
        `SELECT read_seq::int, acked_seq::int FROM gateway.receipt WHERE conversation_id = $1 AND reader_id LIKE 'visitor:%'`,
        [conversationId],
      ));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(marks).toEqual([{ read_seq: 2, acked_seq: 2 }]);
    visitor.close();
    agentClient.close();
  });
});

describe('resume points', () => {
  it('past the last message do not lift the bound: a read after resuming far ahead counts as the last seq there is', async () => {
    const live = await env.start();
    const agent = await makeAgent(env, 'support', 'resumer');
    const agentClient = await connectAgent(env, live.port, agent);
    const token = (await visitorToken(live.port)).token;
    const { client: first } = await TestClient.connect(live.port, token);
    const { conversationId } = await sendAndAck(first, { clientMsgId: 'resume-1', text: 'hi' });
    first.close();
    await first.closed;
    const { client: again } = await TestClient.connect(live.port, token, { [conversationId]: 999_999 });
    again.send({ type: 'read', conversationId, seq: 999_999 });
    const read = await agentClient.next((f) => f.type === 'read' && f.conversationId === conversationId);
    expect(read).toMatchObject({ type: 'read', seq: 1 });
    // Resuming far ahead in a closed conversation: its read bound is its last message too.
    agentClient.send({ type: 'close', conversationId });
    await agentClient.next((f) => f.type === 'conversation' && f.event === 'closed');
    again.close();
    await again.closed;
    const { client: third } = await TestClient.connect(live.port, token, { [conversationId]: 999_999 });
    await third.next((f) => f.type === 'conversation' && f.event === 'closed' && f.conversation.id === conversationId);
    third.send({ type: 'read', conversationId, seq: 999_999 });
    // Frames are handled in order: once this one is answered, the read was noted.
    third.send({ type: 'typing', conversationId: 999_998, on: true });
    await third.next((f) => f.type === 'error' && f.conversationId === 999_998);
    await live.context.receipts.flush();
    const { rows } = await env.db.pool.query(`SELECT read_seq::int FROM gateway.receipt WHERE conversation_id = $1 AND reader_id LIKE 'visitor:%'`, [conversationId]);
    expect(rows).toEqual([{ read_seq: 1 }]);
    third.close();
    agentClient.close();
  });
});

describe('presence', () => {
  it('a socket that closes while joining presence leaves no ghost: the agent is not online after it', async () => {
    const live = await env.start();
    const agent = await makeAgent(env, 'support', 'ghost');
    const presence = live.context.presence;
    const connect = presence.connect.bind(presence);
    let entered!: () => void;
    const joining = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    presence.connect = async (e, now) => {
      entered();
      await gate;
      return connect(e, now);
    };
    const { client } = await TestClient.connect(live.port, await login(live.port, agent));
    await joining;
    client.ws.terminate();
    await client.closed;
    await new Promise((r) => setTimeout(r, 100)); // the server's teardown has run
    release();
    await new Promise((r) => setTimeout(r, 300));
    expect(await presence.isOnline(`agent:${agent.id}`)).toBe(false);
    expect(await presence.onlineAgents('support')).not.toContain(agent.id);
  });
});

describe('a resent message without conversationId', () => {
  it('answers with the original ack after the conversation closed, and opens no second conversation', async () => {
    const live = await env.start();
    const agent = await makeAgent(env, 'support', 'closer');
    const agentClient = await connectAgent(env, live.port, agent);
    const token = (await visitorToken(live.port)).token;
    const { client: first } = await TestClient.connect(live.port, token);
    // Both typed before any conversation id was known, so both go without one.
    first.send({ type: 'msg', clientMsgId: 'early-1', text: 'first' });
    first.send({ type: 'msg', clientMsgId: 'early-2', text: 'second' });
    const acks = await first.waitCount((f) => f.type === 'ack', 2);
    const conversationId = acks[0]!.type === 'ack' ? acks[0]!.conversationId : -1;
    first.ws.terminate(); // the acks were lost with the connection, as far as the client knows
    agentClient.send({ type: 'close', conversationId });
    await agentClient.next((f) => f.type === 'conversation' && f.event === 'closed');
    const { client: again } = await TestClient.connect(live.port, token);
    again.send({ type: 'msg', clientMsgId: 'early-1', text: 'first' });
    again.send({ type: 'msg', clientMsgId: 'early-2', text: 'second' });
    const answers = await again.waitCount((f) => f.type === 'ack' || f.type === 'error', 2);
    expect(answers.map((f) => f.type === 'ack' && [f.clientMsgId, f.conversationId, f.seq, f.duplicate])).toEqual([
      ['early-1', conversationId, 1, true],
      ['early-2', conversationId, 2, true],
    ]);
    const { rows } = await env.db.pool.query(`SELECT conversation_id::int AS c, count(*)::int AS n FROM gateway.message WHERE client_msg_id LIKE 'early-%' GROUP BY 1`);
    expect(rows).toEqual([{ c: conversationId, n: 2 }]);
    again.close();
    agentClient.close();
  });
});

/**
 * Runs `fn` while the conversation table is locked: every frame whose handling reads it
 * (a message naming a conversation this socket does not know) waits, as behind a slow database.
 */
async function whileConversationsLocked<T>(fn: () => Promise<T>): Promise<T> {
  const tx = await env.db.pool.connect();
  try {
    await tx.query('BEGIN');
    await tx.query('LOCK TABLE gateway.conversation IN ACCESS EXCLUSIVE MODE');
    return await fn();
  } finally {
    await tx.query('ROLLBACK').catch(() => undefined);
    tx.release();
  }
}

const unknownConversation = (i: number) => ({ type: 'msg', conversationId: 999_999, clientMsgId: `flood-${i}`, text: 'x' });
const stillOpen = (ms: number) => new Promise<'still open'>((r) => setTimeout(r, ms, 'still open'));

describe('a socket flooding frames that wait on PostgreSQL', () => {
  it('is closed by the rate limit as the frames arrive, not at the pace they are handled', async () => {
    const limited = await env.start({ settings: { rate_limit: { frames_per_second: 5, burst: 5 } } });
    const { client } = await TestClient.connect(limited.port, (await visitorToken(limited.port)).token);
    const closed = await whileConversationsLocked(async () => {
      for (let i = 0; i < 20; i++) client.send(unknownConversation(i));
      return Promise.race([client.closed, stillOpen(5000)]);
    });
    expect(closed).toMatchObject({ code: 4408 });
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', code: 'GW_RATE_LIMITED' });
  });

  it('is closed once more than MAX_WAITING_FRAMES wait, though each second stays within the rate limit', async () => {
    const limited = await env.start({ settings: { rate_limit: { frames_per_second: MAX_WAITING_FRAMES, burst: 0 } } });
    const { client } = await TestClient.connect(limited.port, (await visitorToken(limited.port)).token);
    // Two batches a second apart, each within frames_per_second, together beyond the queue's cap.
    const batch = Math.ceil(MAX_WAITING_FRAMES * 0.75);
    const closed = await whileConversationsLocked(async () => {
      for (let i = 0; i < batch; i++) client.send(unknownConversation(i));
      await new Promise((r) => setTimeout(r, 1100));
      for (let i = batch; i < 2 * batch; i++) client.send(unknownConversation(i));
      return Promise.race([client.closed, stillOpen(5000)]);
    });
    expect(closed).toMatchObject({ code: 4408 });
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', code: 'GW_RATE_LIMITED' });
  });
});

describe('a resend of a message stored before the conversation closed (its ack lost)', () => {
  it.each([
    ['reopening allowed', 86_400],
    ['reopening disabled', 0],
  ])('gets the original ack and leaves the conversation closed (%s)', async (_what, reopenWithin) => {
    const g = await env.start({ settings: { reopen_within_s: reopenWithin } });
    const agent = await makeAgent(env);
    const agentClient = await connectAgent(env, g.port, agent);
    const { client } = await TestClient.connect(g.port, (await visitorToken(g.port)).token);
    const first = await sendAndAck(client, { clientMsgId: 'opening', text: 'hello' });
    const conversationId = first.conversationId;
    const original = await sendAndAck(client, { conversationId, clientMsgId: 'lost-ack', text: 'my order is late' });
    await agentClient.next((f) => f.type === 'msg' && f.clientMsgId === 'lost-ack');
    agentClient.send({ type: 'close', conversationId });
    await client.next((f) => f.type === 'conversation' && f.event === 'closed');
    client.send({ type: 'msg', conversationId, clientMsgId: 'lost-ack', text: 'my order is late' });
    const answer = await client.next((f) => (f.type === 'ack' || f.type === 'error') && f.clientMsgId === 'lost-ack' && f !== original);
    expect(answer).toEqual({ ...original, duplicate: true });
    expect((await getConversation(env.db.pool, conversationId))?.status).toBe('closed');
    expect(client.frames.some((f) => f.type === 'conversation' && f.event === 'reopened')).toBe(false);
    client.close();
    agentClient.close();
  });
});
