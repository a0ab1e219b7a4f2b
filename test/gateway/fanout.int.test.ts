/** Fan-out over the real Redis: what a live socket gets when its instance's subscriber connection drops and comes back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let a: RunningGateway;
let b: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('fanout');
  a = await env.start();
  b = await env.start();
});

afterAll(async () => {
  await env?.close();
});

describe('the subscriber connection reconnects', () => {
  it('sends a live socket what was published while it was gone, without the socket writing or reconnecting', async () => {
    const agentClient = await connectAgent(env, b.port, await makeAgent(env));
    const { client: visitor } = await TestClient.connect(a.port, (await visitorToken(a.port)).token);
    const { conversationId } = await sendAndAck(visitor, { clientMsgId: 'v-1', text: 'hello' });
    await agentClient.next((f) => f.type === 'msg' && f.clientMsgId === 'v-1');

    const sub = a.context.fanout.sub;
    const ended = new Promise((r) => sub.once('end', r));
    sub.disconnect();
    await ended;
    // Stored, acked and published while instance A hears nothing: lost for A's fan-out.
    await sendAndAck(agentClient, { conversationId, clientMsgId: 'a-lost', text: 'sent during the gap' });
    const ready = new Promise((r) => sub.once('ready', r));
    void sub.connect();
    await ready;

    const caughtUp = await visitor.next((f) => f.type === 'msg' && f.clientMsgId === 'a-lost', 5000);
    expect(caughtUp).toMatchObject({ conversationId, seq: 2, text: 'sent during the gap' });
    // Live again: the next one comes through fan-out, after the caught-up one, once.
    await sendAndAck(agentClient, { conversationId, clientMsgId: 'a-live', text: 'and after it' });
    await visitor.next((f) => f.type === 'msg' && f.clientMsgId === 'a-live', 5000);
    expect(visitor.timeline(conversationId).map((m) => m.seq)).toEqual([1, 2, 3]);
    visitor.close();
    agentClient.close();
  });
});
