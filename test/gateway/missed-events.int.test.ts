/**
 * A socket that missed a conversation event (Redis was away, or the publish after the commit
 * failed) must not go on acting on a conversation it lost: PostgreSQL decides who may write,
 * transfer or close, and the socket's own list is corrected from it. Two instances, real
 * PostgreSQL and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { CLOSE, type ServerFrame } from '../../gateway/protocol.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let a: RunningGateway;
let b: RunningGateway;

// Each test routes its visitor to a team of its own, so no agent of another test gets it.
const routing = ['gap', 'quiet', 'close', 'kicked'].map((team) => ({ team, match: `^${team}:` }));

beforeAll(async () => {
  env = await gatewayEnv('missed');
  a = await env.start({ settings: { routing } });
  b = await env.start({ settings: { routing } });
});

afterAll(async () => {
  await env?.close();
});

const conversationFrame = (id: number, event?: string) => (f: ServerFrame) => f.type === 'conversation' && f.conversation.id === id && (event === undefined || f.event === event);
const errorFor = (clientMsgIdOrConversation: string | number) => (f: ServerFrame) =>
  f.type === 'error' && (typeof clientMsgIdOrConversation === 'string' ? f.clientMsgId === clientMsgIdOrConversation : f.conversationId === clientMsgIdOrConversation);

/** Instance A's subscriber connection drops; `during` runs while A hears nothing; then it comes back. */
async function withoutFanout(gw: RunningGateway, during: () => Promise<void>): Promise<void> {
  const sub = gw.context.fanout.sub;
  const ended = new Promise((r) => sub.once('end', r));
  sub.disconnect();
  await ended;
  await during();
  const ready = new Promise((r) => sub.once('ready', r));
  void sub.connect();
  await ready;
}

async function storedTexts(id: number): Promise<string[]> {
  const { rows } = await env.db.pool.query<{ text: string }>('SELECT text FROM gateway.message WHERE conversation_id = $1 ORDER BY seq', [id]);
  return rows.map((r) => r.text);
}

describe('conversation events missed while the subscriber connection was down', () => {
  it('takes a conversation transferred away meanwhile from the old holder, and gives it to the new one with what they missed', async () => {
    const first = await makeAgent(env, 'gap');
    const second = await makeAgent(env, 'billing');
    const firstOnA = await connectAgent(env, a.port, first);
    const { client: visitor } = await TestClient.connect(b.port, (await visitorToken(b.port)).token);
    const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'v-1', text: 'gap: where is my order?' });
    await firstOnA.next((f) => f.type === 'msg' && f.clientMsgId === 'v-1');
    const secondOnA = await connectAgent(env, a.port, second);
    // The same agent in a second tab, on B, which hears everything.
    const firstOnB = await connectAgent(env, b.port, first);

    await withoutFanout(a, async () => {
      firstOnB.send({ type: 'transfer', conversationId: id, toAgentId: second.id });
      await firstOnB.next(conversationFrame(id, 'transferred'));
      await sendAndAck(visitor, { conversationId: id, clientMsgId: 'v-2', text: 'sent while A was deaf' });
    });

    // The old holder's socket on A is told, and hears nothing more of it.
    expect(await firstOnA.next(conversationFrame(id, 'transferred'), 5000)).toMatchObject({ conversation: { assignedAgentId: second.id } });
    // The new holder's socket on A gets it, with the history it missed.
    await secondOnA.next(conversationFrame(id, 'assigned'), 5000);
    await secondOnA.next((f) => f.type === 'msg' && f.clientMsgId === 'v-2', 5000);
    await sendAndAck(visitor, { conversationId: id, clientMsgId: 'v-3', text: 'and after it' });
    await secondOnA.next((f) => f.type === 'msg' && f.clientMsgId === 'v-3', 5000);
    expect(secondOnA.timeline(id).map((m) => m.clientMsgId)).toEqual(['v-1', 'v-2', 'v-3']);
    expect(firstOnA.msgs(id).map((m) => m.clientMsgId)).toEqual(['v-1']);
    firstOnA.send({ type: 'msg', conversationId: id, clientMsgId: 'old-holder', text: 'still mine?' });
    expect(await firstOnA.next(errorFor('old-holder'))).toMatchObject({ code: 'GW_CONVERSATION_NOT_FOUND' });
    expect(await storedTexts(id)).not.toContain('still mine?');
    for (const c of [visitor, firstOnA, firstOnB, secondOnA]) c.close();
  });
});

describe('a conversation that changed hands without its event reaching the socket', () => {
  // The change is made in PostgreSQL alone: what the sockets see when the publish after
  // the commit failed (announce.ts logs it and goes on).
  async function handOver(id: number, to: { id: number; team: string }): Promise<void> {
    await env.db.pool.query('UPDATE gateway.conversation SET assigned_agent_id = $2, team = $3 WHERE id = $1', [id, to.id, to.team]);
  }

  /** An agent of `team` on A holding a visitor's conversation (visitor on B), and an agent of another team. */
  async function held(team: string) {
    const holder = await makeAgent(env, team);
    const other = await makeAgent(env, 'billing');
    const holderWs = await connectAgent(env, a.port, holder);
    const { client: visitor } = await TestClient.connect(b.port, (await visitorToken(b.port)).token);
    const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: `${team}-1`, text: `${team}: hello` });
    await holderWs.next((f) => f.type === 'msg' && f.clientMsgId === `${team}-1`);
    return { holder, other, holderWs, visitor, id };
  }

  it("refuses the old holder's message (stored nowhere) and corrects its socket", async () => {
    const { other, holderWs, visitor, id } = await held('quiet');

    await handOver(id, other);
    holderWs.send({ type: 'msg', conversationId: id, clientMsgId: 'stale', text: 'I still think it is mine' });
    expect(await holderWs.next(errorFor('stale'))).toMatchObject({ code: 'GW_CONVERSATION_NOT_FOUND', conversationId: id });
    expect(await holderWs.next(conversationFrame(id, 'transferred'))).toMatchObject({ conversation: { assignedAgentId: other.id, team: 'billing' } });
    expect(await storedTexts(id)).toEqual(['quiet: hello']);
    // Corrected: the socket no longer delivers it.
    await sendAndAck(visitor, { conversationId: id, clientMsgId: 'q-2', text: 'anyone?' });
    holderWs.send({ type: 'typing', conversationId: id, on: true });
    expect(await holderWs.next(errorFor(id))).toMatchObject({ code: 'GW_CONVERSATION_NOT_FOUND' });
    expect(holderWs.msgs(id).map((m) => m.clientMsgId)).toEqual(['quiet-1']);
    for (const c of [visitor, holderWs]) c.close();
  });

  it('refuses a close and a transfer by the old holder; the conversation stays as it is', async () => {
    const { holder, other, holderWs, visitor, id } = await held('close');

    await handOver(id, other);
    holderWs.send({ type: 'close', conversationId: id });
    expect(await holderWs.next(errorFor(id))).toMatchObject({ code: 'GW_CONVERSATION_NOT_FOUND' });
    await holderWs.next(conversationFrame(id, 'transferred'));
    const { rows } = await env.db.pool.query('SELECT status, assigned_agent_id::int AS agent FROM gateway.conversation WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ status: 'open', agent: other.id });

    // Handed back (again without an event), then away once more: a transfer is refused the same way.
    await handOver(id, holder);
    const holderAgain = await connectAgent(env, a.port, holder);
    await handOver(id, other);
    holderAgain.send({ type: 'transfer', conversationId: id, toTeam: 'close' });
    expect(await holderAgain.next(errorFor(id))).toMatchObject({ code: 'GW_CONVERSATION_NOT_FOUND' });
    const after = await env.db.pool.query('SELECT team, assigned_agent_id::int AS agent FROM gateway.conversation WHERE id = $1', [id]);
    expect(after.rows[0]).toEqual({ team: 'billing', agent: other.id });
    for (const c of [visitor, holderWs, holderAgain]) c.close();
  });

  it('closes the socket of an agent disabled without the kick reaching it, at its next write', async () => {
    const { holder, holderWs, id } = await held('kicked');
    // `agents disable` whose Redis kick was lost: PostgreSQL alone knows.
    await env.db.pool.query('UPDATE gateway.agent SET disabled_at = now() WHERE id = $1', [holder.id]);
    holderWs.send({ type: 'msg', conversationId: id, clientMsgId: 'ghost', text: 'still here' });
    expect(await holderWs.next(errorFor('ghost'))).toMatchObject({ code: 'GW_CONVERSATION_NOT_FOUND' });
    expect(await holderWs.next((f) => f.type === 'error' && f.code === 'GW_AGENT_DISABLED')).toBeTruthy();
    expect((await holderWs.closed).code).toBe(CLOSE.FORBIDDEN);
    expect(await storedTexts(id)).toEqual(['kicked: hello']);
  });
});
