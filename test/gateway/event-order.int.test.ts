/**
 * Conversation events out of order: instances publish a change after committing it, so two
 * changes of one conversation made on two instances can arrive in either order. A socket
 * holding a newer state ignores an older one instead of acting on it. Two instances, real
 * PostgreSQL and Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import type { ConversationSummary, ServerFrame } from '../../gateway/protocol.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let a: RunningGateway;
let b: RunningGateway;
const routing = [{ team: 'order', match: '^order:' }];

beforeAll(async () => {
  env = await gatewayEnv('eventorder');
  a = await env.start({ settings: { routing } });
  b = await env.start({ settings: { routing } });
});

afterAll(async () => {
  await env?.close();
});

const conversationFrame = (id: number, event?: string) => (f: ServerFrame) => f.type === 'conversation' && f.conversation.id === id && (event === undefined || f.event === event);

it('the version rises with each change of holder or status, and not with messages', async () => {
  const first = await makeAgent(env, 'order');
  const second = await makeAgent(env, 'billing');
  const firstOnA = await connectAgent(env, a.port, first);
  const { client: visitor } = await TestClient.connect(b.port, (await visitorToken(b.port)).token);
  const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'v-1', text: 'order: hello' });
  const assigned = (await firstOnA.next(conversationFrame(id))) as Extract<ServerFrame, { type: 'conversation' }>;
  await sendAndAck(visitor, { conversationId: id, clientMsgId: 'v-2', text: 'anyone?' });
  const version = async () => Number((await env.db.pool.query('SELECT version FROM gateway.conversation WHERE id = $1', [id])).rows[0].version);
  expect(await version()).toBe(assigned.conversation.version);
  firstOnA.send({ type: 'transfer', conversationId: id, toAgentId: second.id });
  const moved = (await firstOnA.next(conversationFrame(id, 'transferred'))) as Extract<ServerFrame, { type: 'conversation' }>;
  expect(moved.conversation.version).toBe(assigned.conversation.version + 1);
  expect(await version()).toBe(moved.conversation.version);
  for (const c of [visitor, firstOnA]) c.close();
});

it('an older state published after a newer one (another instance, late) is ignored: the agent who now holds the conversation keeps it', async () => {
  const first = await makeAgent(env, 'order');
  const second = await makeAgent(env, 'billing');
  const firstOnA = await connectAgent(env, a.port, first);
  const secondOnB = await connectAgent(env, b.port, second);
  const { client: visitor } = await TestClient.connect(b.port, (await visitorToken(b.port)).token);
  const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'v-1', text: 'order: where is my parcel?' });
  const old = ((await firstOnA.next(conversationFrame(id))) as Extract<ServerFrame, { type: 'conversation' }>).conversation;

  firstOnA.send({ type: 'transfer', conversationId: id, toAgentId: second.id });
  const now = ((await secondOnB.next(conversationFrame(id))) as Extract<ServerFrame, { type: 'conversation' }>).conversation;
  expect(now.assignedAgentId).toBe(second.id);

  // The first assignment's event, arriving late (as if its instance had published it last).
  const late: ConversationSummary = { ...old };
  await a.context.fanout.publish([{ channels: [a.context.keys.conversation(id)], event: { e: 'conversation', eventId: randomUUID(), event: 'assigned', conversation: late } }]);
  await sendAndAck(visitor, { conversationId: id, clientMsgId: 'v-2', text: 'hello?' });
  await secondOnB.next((f) => f.type === 'msg' && f.clientMsgId === 'v-2', 5000);
  expect(secondOnB.frames.filter(conversationFrame(id)).map((f) => (f as Extract<ServerFrame, { type: 'conversation' }>).conversation.assignedAgentId)).toEqual([second.id]);
  // And it still answers there.
  await sendAndAck(secondOnB, { conversationId: id, clientMsgId: 's-1', text: 'on it' });
  await visitor.next((f) => f.type === 'msg' && f.clientMsgId === 's-1', 5000);
  for (const c of [visitor, firstOnA, secondOnB]) c.close();
});
