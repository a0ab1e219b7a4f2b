/**
 * A publish that fails on one instance (it lost Redis; the other instance did not) must still
 * reach the sockets of the other instance once Redis takes it again, even sockets that only
 * read. Two instances, real PostgreSQL and Redis; instance A's publishing connection is cut.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryEvent } from '../../gateway/fanout.js';
import type { RunningGateway } from '../../gateway/server.js';
import type { ServerFrame } from '../../gateway/protocol.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let a: RunningGateway;
let b: RunningGateway;

const routing = ['unsent', 'handover', 'herd'].map((team) => ({ team, match: `^${team}:` }));

beforeAll(async () => {
  env = await gatewayEnv('pubretry');
  a = await env.start({ settings: { routing } });
  b = await env.start({ settings: { routing } });
});

afterAll(async () => {
  await env?.close();
});

/**
 * Instance A's publishing connection is closed while `during` runs, until a publish has
 * failed (and was kept to be sent again), then opened again.
 */
async function withoutPublishing(gw: RunningGateway, during: () => Promise<void>): Promise<void> {
  const redis = gw.context.redis;
  const ended = new Promise((r) => redis.once('end', r));
  redis.disconnect();
  await ended;
  await during();
  const until = Date.now() + 5000;
  while (gw.context.fanout.unsentCount === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(gw.context.fanout.unsentCount).toBeGreaterThan(0);
  await redis.connect();
}

describe('a publish that failed', () => {
  it('a message stored and acked on A while A could not publish reaches the agent reading on B, with nobody writing after it', async () => {
    const agent = await makeAgent(env, 'unsent');
    const agentOnB = await connectAgent(env, b.port, agent);
    const { client: visitor } = await TestClient.connect(a.port, (await visitorToken(a.port)).token);
    const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'u-1', text: 'unsent: hello' });
    await agentOnB.next((f) => f.type === 'msg' && f.clientMsgId === 'u-1');

    await withoutPublishing(a, async () => {
      await sendAndAck(visitor, { conversationId: id, clientMsgId: 'u-2', text: 'sent while A could not publish' });
    });

    expect(await agentOnB.next((f) => f.type === 'msg' && f.clientMsgId === 'u-2', 5000)).toMatchObject({ conversationId: id, seq: 2 });
    expect(agentOnB.timeline(id).map((m) => m.seq)).toEqual([1, 2]);
    expect(a.context.fanout.unsentCount).toBe(0);
    for (const c of [visitor, agentOnB]) c.close();
  });

  it('a transfer made on A while A could not publish reaches the new holder on B (assigned, with the history) and the visitor', async () => {
    const holder = await makeAgent(env, 'handover');
    const next = await makeAgent(env, 'billing');
    const holderOnA = await connectAgent(env, a.port, holder);
    const nextOnB = await connectAgent(env, b.port, next);
    const { client: visitor } = await TestClient.connect(b.port, (await visitorToken(b.port)).token);
    const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'h-1', text: 'handover: my parcel?' });
    await holderOnA.next((f) => f.type === 'msg' && f.clientMsgId === 'h-1');

    const conversationFrame = (f: ServerFrame) => f.type === 'conversation' && f.conversation.id === id && f.conversation.assignedAgentId === next.id;
    // The transfer is stored; its announcement (to every socket, the sender's own included) fails.
    await withoutPublishing(a, async () => holderOnA.send({ type: 'transfer', conversationId: id, toAgentId: next.id }));

    const assigned = await nextOnB.next(conversationFrame, 5000);
    expect(assigned).toMatchObject({ event: 'assigned', conversation: { assignedAgentId: next.id, team: 'billing' } });
    await nextOnB.next((f) => f.type === 'msg' && f.clientMsgId === 'h-1', 5000);
    // The visitor's socket on B hears of it as well (read again: now with the new agent).
    expect(await visitor.next(conversationFrame, 5000)).toMatchObject({ event: 'transferred', conversation: { assignedAgentId: next.id } });
    // The old holder's socket on A hears of it too, and lets go of it.
    expect(await holderOnA.next(conversationFrame, 5000)).toMatchObject({ event: 'transferred', conversation: { assignedAgentId: next.id } });
    // Live from here: the new holder answers and the visitor gets it.
    await sendAndAck(nextOnB, { conversationId: id, clientMsgId: 'n-1', text: 'I have it now' });
    await visitor.next((f) => f.type === 'msg' && f.clientMsgId === 'n-1', 5000);
    expect(holderOnA.msgs(id).map((m) => m.clientMsgId)).toEqual(['h-1']);
    for (const c of [visitor, holderOnA, nextOnB]) c.close();
  });

  it('a hint on a team channel is read from PostgreSQL once per instance, and every agent of the team hears what it was about', async () => {
    // Agents with no capacity: the conversation stays queued, seen by the whole team.
    const team = await Promise.all([1, 2, 3, 4].map(() => makeAgent(env, 'herd', undefined, 0)));
    const agentsOnB = await Promise.all(team.map((agent) => connectAgent(env, b.port, agent)));
    const { client: visitor } = await TestClient.connect(a.port, (await visitorToken(a.port)).token);
    const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'q-1', text: 'herd: anyone?' });
    const queued = (f: ServerFrame): f is Extract<ServerFrame, { type: 'conversation' }> => f.type === 'conversation' && f.conversation.id === id;
    for (const agent of agentsOnB) expect(await agent.next(queued, 5000)).toMatchObject({ event: 'queued' });

    // Closed where nobody announced it, as when the publish of the close failed; then the hint.
    await env.db.pool.query(`UPDATE gateway.conversation SET status = 'closed', closed_at = now() WHERE id = $1`, [id]);
    const pool = b.context.pool;
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    let reads = 0;
    pool.query = ((...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('FROM gateway.conversation WHERE id = ANY')) reads++;
      return query(...args);
    }) as typeof pool.query;
    try {
      await a.context.fanout.publish([{ channels: [env.keys.team('herd')], event: { e: 'resync', conversationId: id } }]);
      for (const agent of agentsOnB) {
        expect(await agent.next((f) => queued(f) && f.event === 'closed', 5000)).toMatchObject({ conversation: { status: 'closed' } });
      }
    } finally {
      pool.query = query as typeof pool.query;
    }
    expect(reads).toBe(1);
    for (const c of [visitor, ...agentsOnB]) c.close();
  });
});

describe('retryEvent', () => {
  const conversation = { id: 7, status: 'open' as const, team: 't', assignedAgentId: 3, visitorId: 'v', customerId: null, lastSeq: 2, createdAt: '2026-11-23T00:00:00.000Z' };
  it.each([
    ['a message: a re-read of its conversation', { e: 'msg', message: { conversationId: 7, seq: 2, sender: { kind: 'visitor', id: 'v' }, clientMsgId: 'c', text: 't', at: '' } }, { e: 'resync', conversationId: 7 }],
    ['a conversation change: a re-read, never the stale state', { e: 'conversation', eventId: 'x', event: 'transferred', conversation }, { e: 'resync', conversationId: 7 }],
    ['a kick: as it was', { e: 'kick', reason: 'agent disabled' }, { e: 'kick', reason: 'agent disabled' }],
    ['typing: dropped', { e: 'typing', conversationId: 7, who: 'v', on: true }, null],
    ['presence: dropped', { e: 'presence', who: 'v', online: false }, null],
  ] as const)('%s', (_, event, expected) => {
    expect(retryEvent(event as Parameters<typeof retryEvent>[0])).toEqual(expected);
  });
});
