/**
 * Routing and assignment on two instances: rules pick the team, the least-loaded online
 * agent under capacity gets the conversation, the rest queue and are assigned as soon as a
 * slot frees, and concurrent opens on both instances never push an agent past capacity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let a: RunningGateway;
let b: RunningGateway;

const settings = {
  routing: [
    { team: 'billing', match: 'refund|退款' },
    { team: 'logistics', page: '/orders/' },
    { team: 'english', language: ['en'] },
    { team: 'cap', match: '^captest' },
    { team: 'race', match: '^race' },
  ],
  agent_capacity: 3,
};

beforeAll(async () => {
  env = await gatewayEnv('routing');
  a = await env.start({ settings });
  b = await env.start({ settings });
});

afterAll(async () => {
  await env?.close();
});

/** A visitor on `port` whose first message (with `page`) opens a conversation; resolves with the socket and the conversation's first event. */
async function open(port: number, text: string, page?: Record<string, string>) {
  const { client } = await TestClient.connect(port, (await visitorToken(port)).token);
  const ack = await sendAndAck(client, { clientMsgId: 'first', text, ...(page ? { page } : {}) } as { clientMsgId: string; text: string });
  const event = await client.next((f) => f.type === 'conversation' && f.conversation.id === ack.conversationId);
  if (event.type !== 'conversation') throw new Error('unreachable');
  return { client, id: ack.conversationId, event };
}

describe('routing rules and assignment', () => {
  it('picks the team by the first message, the page or the language; the default otherwise', async () => {
    const billing = await makeAgent(env, 'billing');
    const logistics = await makeAgent(env, 'logistics');
    const billingWs = await connectAgent(env, a.port, billing);
    const logisticsWs = await connectAgent(env, b.port, logistics);

    const refund = await open(b.port, '我要退款 please');
    expect(refund.event).toMatchObject({ event: 'assigned', conversation: { team: 'billing', assignedAgentId: billing.id } });
    await billingWs.next((f) => f.type === 'msg' && f.conversationId === refund.id);

    const tracking = await open(a.port, 'hello', { url: 'https://shop.example.com/orders/SO-1/tracking', language: 'zh-CN' });
    expect(tracking.event).toMatchObject({ event: 'assigned', conversation: { team: 'logistics', assignedAgentId: logistics.id } });
    await logisticsWs.next((f) => f.type === 'msg' && f.conversationId === tracking.id);

    // Nobody of the team is online: queued for it.
    const english = await open(a.port, 'hello there', { language: 'en-GB' });
    expect(english.event).toMatchObject({ event: 'queued', conversation: { team: 'english', assignedAgentId: null } });
    const other = await open(b.port, 'hello');
    expect(other.event).toMatchObject({ event: 'queued', conversation: { team: 'support' } });

    const { rows } = await env.db.pool.query(`SELECT meta FROM gateway.conversation WHERE id = $1`, [tracking.id]);
    expect(rows[0].meta).toMatchObject({ url: 'https://shop.example.com/orders/SO-1/tracking', language: 'zh-CN', routingRule: 1 });
    for (const c of [billingWs, logisticsWs, refund.client, tracking.client, english.client, other.client]) c.close();
  });

  it('queues beyond capacity and assigns the oldest queued one when the agent frees a slot', async () => {
    const agent = await makeAgent(env, 'cap', 'cap_agent', 1);
    const agentWs = await connectAgent(env, a.port, agent);
    const first = await open(b.port, 'captest one');
    expect(first.event).toMatchObject({ event: 'assigned', conversation: { assignedAgentId: agent.id } });
    const second = await open(b.port, 'captest two');
    const third = await open(a.port, 'captest three');
    expect([second.event.event, third.event.event]).toEqual(['queued', 'queued']);

    agentWs.send({ type: 'close', conversationId: first.id });
    // The slot goes to the oldest queued conversation, on whichever instance its visitor is.
    const assigned = await second.client.next((f) => f.type === 'conversation' && f.event === 'assigned');
    expect(assigned).toMatchObject({ conversation: { id: second.id, assignedAgentId: agent.id } });
    await agentWs.next((f) => f.type === 'conversation' && f.event === 'assigned' && f.conversation.id === second.id);
    await agentWs.next((f) => f.type === 'msg' && f.conversationId === second.id);
    const { rows } = await env.db.pool.query(`SELECT id, assigned_agent_id FROM gateway.conversation WHERE id = ANY($1) ORDER BY id`, [[second.id, third.id]]);
    expect(rows.map((r) => r.assigned_agent_id === null ? null : Number(r.assigned_agent_id))).toEqual([agent.id, null]);
    for (const c of [agentWs, first.client, second.client, third.client]) c.close();
  });

  it('never assigns past capacity when conversations open at once on both instances', async () => {
    const agents = [await makeAgent(env, 'race', 'race_a', 2), await makeAgent(env, 'race', 'race_b', 2)];
    const sockets = await Promise.all(agents.map((g, i) => connectAgent(env, [a.port, b.port][i]!, g)));
    const opened = await Promise.all(Array.from({ length: 10 }, (_, i) => open([a.port, b.port][i % 2]!, `race ${i}`)));
    const { rows } = await env.db.pool.query<{ agent: string | null; n: number }>(
      `SELECT assigned_agent_id AS agent, count(*)::int AS n FROM gateway.conversation WHERE id = ANY($1) GROUP BY 1 ORDER BY 1`,
      [opened.map((o) => o.id)],
    );
    expect(rows.map((r) => [r.agent === null ? null : Number(r.agent), r.n])).toEqual([[agents[0]!.id, 2], [agents[1]!.id, 2], [null, 6]]);
    for (const c of [...sockets, ...opened.map((o) => o.client)]) c.close();
  });

  it('transfers to a team: queued for it, then assigned to its online agent', async () => {
    const from = await makeAgent(env, 'billing');
    const to = await makeAgent(env, 'logistics', 'logistics_transfer');
    const fromWs = await connectAgent(env, a.port, from);
    await env.db.pool.query(`UPDATE gateway.conversation SET status = 'closed' WHERE team IN ('billing', 'logistics')`);
    const toWs = await connectAgent(env, b.port, to);
    const c = await open(a.port, 'refund for my order');
    expect(c.event).toMatchObject({ conversation: { assignedAgentId: from.id } });
    fromWs.send({ type: 'transfer', conversationId: c.id, toTeam: 'logistics' });
    await c.client.next((f) => f.type === 'conversation' && f.event === 'queued' && f.conversation.team === 'logistics');
    expect(await toWs.next((f) => f.type === 'conversation' && f.event === 'assigned' && f.conversation.id === c.id)).toMatchObject({
      conversation: { team: 'logistics', assignedAgentId: to.id },
    });
    for (const s of [fromWs, toWs, c.client]) s.close();
  });

  it('refuses a transfer to a team nobody serves (GW_TEAM_NOT_FOUND, listing the teams); the conversation stays where it was', async () => {
    const from = await makeAgent(env, 'billing');
    const fromWs = await connectAgent(env, a.port, from);
    await env.db.pool.query(`UPDATE gateway.conversation SET status = 'closed' WHERE team = 'billing'`);
    const c = await open(a.port, 'refund please');
    expect(c.event).toMatchObject({ conversation: { assignedAgentId: from.id } });
    fromWs.send({ type: 'transfer', conversationId: c.id, toTeam: 'no_such_team' });
    const refused = await fromWs.next((f) => f.type === 'error' && f.conversationId === c.id);
    expect(refused).toMatchObject({ code: 'GW_TEAM_NOT_FOUND', message: expect.stringMatching(/^no team "no_such_team": the teams are .*\bbilling\b/) });
    const { rows } = await env.db.pool.query('SELECT team, assigned_agent_id::int AS agent FROM gateway.conversation WHERE id = $1', [c.id]);
    expect(rows[0]).toEqual({ team: 'billing', agent: from.id });
    for (const s of [fromWs, c.client]) s.close();
  });
});
