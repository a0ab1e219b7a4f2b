/**
 * Closes racing messages. A conversation closed while a message stored before the close is
 * still on its way through fan-out (the writer's instance publishes late): the other side,
 * still connected, receives that message before the `closed` event, instead of never (its
 * stream stopped at the close). And a close (or transfer) sent right after a message on the
 * same socket is handled after it, as frames are: the message is stored, not refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let a: RunningGateway;
let b: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('close_race');
  a = await env.start();
  b = await env.start();
});

afterAll(async () => {
  await env?.close();
});

describe('a close overtaking a stored message', () => {
  it('the agent on the other instance still receives the message, then the closed event', async () => {
    const agent = await makeAgent(env, 'support', 'closer-race');
    const agentClient = await connectAgent(env, b.port, agent);
    const { client: visitor } = await TestClient.connect(a.port, (await visitorToken(a.port)).token);
    const { conversationId } = await sendAndAck(visitor, { clientMsgId: 'race-1', text: 'where is my order?' });
    await agentClient.next((f) => f.type === 'msg' && f.conversationId === conversationId && f.seq === 1);

    // Instance A's message copies reach Redis late (a slow link): the store has message 2 first.
    const publish = a.context.fanout.publish.bind(a.context.fanout);
    a.context.fanout.publish = async (items) => {
      if (items.some((i) => i.event.e === 'msg')) await new Promise((r) => setTimeout(r, 500));
      return publish(items);
    };
    visitor.send({ type: 'msg', conversationId, clientMsgId: 'race-2', text: 'thanks, bye' });
    for (let i = 0; i < 200; i++) {
      const { rows } = await env.db.pool.query('SELECT count(*)::int AS n FROM gateway.message WHERE conversation_id = $1', [conversationId]);
      if (rows[0].n === 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    agentClient.send({ type: 'close', conversationId });
    await agentClient.next((f) => f.type === 'conversation' && f.event === 'closed' && f.conversation.id === conversationId);
    await visitor.next((f) => f.type === 'ack' && f.clientMsgId === 'race-2');
    await new Promise((r) => setTimeout(r, 300)); // the late copy has landed by now
    const seen = agentClient.frames.filter((f) => (f.type === 'msg' && f.conversationId === conversationId) || (f.type === 'conversation' && f.event === 'closed'));
    expect(seen.map((f) => (f.type === 'msg' ? `msg ${f.seq}` : 'closed'))).toEqual(['msg 1', 'msg 2', 'closed']);
    visitor.close();
    agentClient.close();
  });

  it('a close sent right after a message on the same socket waits for it: the message is stored and acked, then the conversation closes', async () => {
    const agent = await makeAgent(env, 'support', 'last-word');
    const agentClient = await connectAgent(env, a.port, agent);
    for (let round = 0; round < 5; round++) {
      const { client: visitor } = await TestClient.connect(a.port, (await visitorToken(a.port)).token);
      const { conversationId } = await sendAndAck(visitor, { clientMsgId: `hello-${round}`, text: 'my refund?' });
      await agentClient.next((f) => f.type === 'msg' && f.conversationId === conversationId && f.seq === 1);
      agentClient.send({ type: 'msg', conversationId, clientMsgId: `final-${round}`, text: 'your refund code is RF-99; closing now' });
      agentClient.send({ type: 'close', conversationId });
      const closed = await agentClient.next((f) => f.type === 'conversation' && f.event === 'closed' && f.conversation.id === conversationId);
      const answer = agentClient.frames.find((f) => (f.type === 'ack' || f.type === 'error') && f.clientMsgId === `final-${round}`);
      expect(answer, `round ${round}`).toMatchObject({ type: 'ack', seq: 2 });
      expect(closed.type === 'conversation' && closed.conversation.lastSeq).toBe(2);
      await visitor.next((f) => f.type === 'msg' && f.conversationId === conversationId && f.seq === 2);
      visitor.close();
    }
    agentClient.close();
  });
});

describe('two tabs of one visitor writing into their closed conversation at once', () => {
  it('the tab that has not heard of the reopen yet finds the conversation open and its message is stored, not refused as closed', async () => {
    const agent = await makeAgent(env, 'support', 'two-tabs');
    const agentClient = await connectAgent(env, a.port, agent);
    const { token } = await visitorToken(a.port);
    const { client: tabA } = await TestClient.connect(a.port, token);
    const { conversationId } = await sendAndAck(tabA, { clientMsgId: 'tabs-1', text: 'hello' });
    const { client: tabB } = await TestClient.connect(b.port, token);
    await sendAndAck(tabB, { conversationId, clientMsgId: 'tabs-2', text: 'from the other tab' });
    agentClient.send({ type: 'close', conversationId });
    const closed = (f: { type: string; event?: string }) => f.type === 'conversation' && f.event === 'closed';
    await Promise.all([tabA.next(closed), tabB.next(closed)]);

    // Instance A's conversation events reach Redis late: tab B (on B) still sees it closed.
    const publish = a.context.fanout.publish.bind(a.context.fanout);
    a.context.fanout.publish = async (items) => {
      if (items.some((i) => i.event.e === 'conversation')) await new Promise((r) => setTimeout(r, 1000));
      return publish(items);
    };
    try {
      tabA.send({ type: 'msg', conversationId, clientMsgId: 'tabs-3', text: 'one more thing' });
      for (let i = 0; i < 200; i++) {
        const { rows } = await env.db.pool.query('SELECT status FROM gateway.conversation WHERE id = $1', [conversationId]);
        if (rows[0].status === 'open') break;
        await new Promise((r) => setTimeout(r, 5));
      }
      tabB.send({ type: 'msg', conversationId, clientMsgId: 'tabs-4', text: 'and another' });
      const answer = await tabB.next((f) => (f.type === 'ack' || f.type === 'error') && f.clientMsgId === 'tabs-4');
      expect(answer).toMatchObject({ type: 'ack', conversationId, duplicate: false });
      await tabA.next((f) => f.type === 'ack' && f.clientMsgId === 'tabs-3');
    } finally {
      a.context.fanout.publish = publish;
    }
    const { rows } = await env.db.pool.query(`SELECT count(*)::int AS n FROM gateway.message WHERE conversation_id = $1 AND sender_kind = 'visitor'`, [conversationId]);
    expect(rows[0].n).toBe(4);
    const { rows: conv } = await env.db.pool.query('SELECT status, reopen_count FROM gateway.conversation WHERE id = $1', [conversationId]);
    expect(conv).toEqual([{ status: 'open', reopen_count: 1 }]);
    tabA.close();
    tabB.close();
    agentClient.close();
  });
});
