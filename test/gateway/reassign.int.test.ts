/**
 * Reassignment after `reconnect_grace_ms`: the sweep every instance runs gives a gone
 * agent's conversations to another online agent of the team (end to end with real timers),
 * keeps them while the agent is within the grace period (sweeps driven by hand), and a
 * gateway with reopening off refuses messages on closed conversations. The sweeper also
 * re-links conversations of customers merged while no gateway listened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBatch } from '../../pipelines/load/apply-batch.js';
import { relinkMerged, sweep } from '../../gateway/reassign.js';
import type { RunningGateway } from '../../gateway/server.js';
import { scratchClickhouse, type ScratchClickhouse } from '../helpers/clickhouse.js';
import { customerOf, inTx, mapped, testRules } from '../helpers/unified.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

describe('reassignment by the periodic sweep', () => {
  let env: GatewayEnv;
  let a: RunningGateway;
  let b: RunningGateway;

  beforeAll(async () => {
    env = await gatewayEnv('reassign');
    const settings = { reconnect_grace_ms: 400, reassign_sweep_ms: 100 };
    a = await env.start({ settings });
    b = await env.start({ settings });
  });

  afterAll(async () => {
    await env?.close();
  });

  it('gives the conversations of an agent gone past the grace period to another agent of the team', async () => {
    const gone = await makeAgent(env);
    const stays = await makeAgent(env);
    const goneWs = await connectAgent(env, a.port, gone);
    const { client: visitor } = await TestClient.connect(b.port, (await visitorToken(b.port)).token);
    const ack = await sendAndAck(visitor, { clientMsgId: 'g-1', text: 'hello?' });
    await goneWs.next((f) => f.type === 'conversation' && f.event === 'assigned' && f.conversation.id === ack.conversationId);
    const staysWs = await connectAgent(env, b.port, stays);

    goneWs.close();
    await goneWs.closed;
    const reassigned = await staysWs.next((f) => f.type === 'conversation' && f.event === 'assigned' && f.conversation.id === ack.conversationId);
    expect(reassigned).toMatchObject({ conversation: { assignedAgentId: stays.id } });
    await staysWs.next((f) => f.type === 'msg' && f.conversationId === ack.conversationId && f.clientMsgId === 'g-1');
    // The visitor saw it go back to the queue, then to the new agent.
    await visitor.next((f) => f.type === 'conversation' && f.event === 'queued');
    await visitor.next((f) => f.type === 'conversation' && f.event === 'assigned' && f.conversation.assignedAgentId === stays.id);
    const { rows } = await env.db.pool.query('SELECT assigned_agent_id FROM gateway.conversation WHERE id = $1', [ack.conversationId]);
    expect(Number(rows[0].assigned_agent_id)).toBe(stays.id);
    for (const c of [staysWs, visitor]) c.close();
  });
});

describe('reassignment decided by hand-driven sweeps', () => {
  let env: GatewayEnv;
  let gw: RunningGateway;
  const grace = 60_000;

  beforeAll(async () => {
    env = await gatewayEnv('reassign_manual');
    // No timer sweeps in this file's time frame: every sweep is called by the test.
    gw = await env.start({ settings: { reconnect_grace_ms: grace, reassign_sweep_ms: 600_000, reopen_within_s: 0 } });
  });

  afterAll(async () => {
    await env?.close();
  });

  it('keeps the conversations within the grace period and requeues them after it', async () => {
    const gone = await makeAgent(env, 'manual');
    const other = await makeAgent(env, 'manual');
    await env.db.pool.query(`UPDATE gateway.conversation SET status = 'closed'`);
    const goneWs = await connectAgent(env, gw.port, gone);
    const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
    const ack = await sendAndAck(visitor, { clientMsgId: 'm-1', text: 'hi' });
    await env.db.pool.query('UPDATE gateway.conversation SET team = $2, assigned_agent_id = $3 WHERE id = $1', [ack.conversationId, 'manual', gone.id]);
    goneWs.close();
    await goneWs.closed;
    const otherWs = await connectAgent(env, gw.port, other);

    const early = await sweep(gw.context);
    expect(early.requeued).toEqual([]);
    const { rows: before } = await env.db.pool.query('SELECT assigned_agent_id FROM gateway.conversation WHERE id = $1', [ack.conversationId]);
    expect(Number(before[0].assigned_agent_id)).toBe(gone.id);

    const late = await sweep(gw.context, Date.now() + grace + 1);
    expect(late.requeued.map((c) => c.id)).toEqual([ack.conversationId]);
    expect(late.assigned.map((c) => [c.id, c.assignedAgentId])).toEqual([[ack.conversationId, other.id]]);
    await otherWs.next((f) => f.type === 'conversation' && f.event === 'assigned' && f.conversation.id === ack.conversationId);
    for (const c of [otherWs, visitor]) c.close();
  });

  it('requeues a disabled agent\'s conversations at once, and closes a socket of theirs that missed the kick', async () => {
    const disabled = await makeAgent(env, 'manual-off');
    const other = await makeAgent(env, 'manual-off');
    const lingering = await connectAgent(env, gw.port, disabled);
    const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
    const ack = await sendAndAck(visitor, { clientMsgId: 'd-1', text: 'hi' });
    await env.db.pool.query('UPDATE gateway.conversation SET team = $2, assigned_agent_id = $3 WHERE id = $1', [ack.conversationId, 'manual-off', disabled.id]);
    // Disabled while its kick was lost: its socket is still open and it still looks online.
    await env.db.pool.query('UPDATE gateway.agent SET disabled_at = now() WHERE id = $1', [disabled.id]);
    const otherWs = await connectAgent(env, gw.port, other);

    const swept = await sweep(gw.context);
    expect(swept.requeued.map((c) => c.id)).toEqual([ack.conversationId]);
    expect((await lingering.closed).code).toBe(4403);
    // Assigned to the teammate: by this sweep's drain, or by the drain the teammate's coming
    // online scheduled, should that one run between the requeue and this sweep's own.
    const assigned = await otherWs.next((f) => f.type === 'conversation' && f.event === 'assigned' && f.conversation.id === ack.conversationId);
    expect(assigned).toMatchObject({ conversation: { assignedAgentId: other.id } });
    for (const c of [otherWs, visitor]) c.close();
  });

  it('refuses a message on a closed conversation when reopening is off; a message without id opens a new one', async () => {
    const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
    const first = await sendAndAck(visitor, { clientMsgId: 'r-1', text: 'hi' });
    visitor.send({ type: 'close', conversationId: first.conversationId });
    await visitor.next((f) => f.type === 'conversation' && f.event === 'closed');
    visitor.send({ type: 'msg', conversationId: first.conversationId, clientMsgId: 'r-2', text: 'again' });
    expect(await visitor.next((f) => f.type === 'error' && f.clientMsgId === 'r-2')).toMatchObject({ code: 'GW_CONVERSATION_CLOSED' });
    const fresh = await sendAndAck(visitor, { clientMsgId: 'r-3', text: 'new question' });
    expect(fresh.conversationId).not.toBe(first.conversationId);
    visitor.close();
  });
});

describe('re-linking conversations of customers merged while no gateway listened', () => {
  let env: GatewayEnv;
  let ch: ScratchClickhouse;

  beforeAll(async () => {
    env = await gatewayEnv('reassign_relink');
    ch = await scratchClickhouse('gateway_relink');
  });

  afterAll(async () => {
    await env?.close();
    await ch?.close();
  });

  it('a gateway that starts points them at the survivor and sends them to chat analytics', async () => {
    const rules = testRules();
    const load = (records: Parameters<typeof applyBatch>[1]) => inTx(env.db.pool, (tx) => applyBatch(tx, records, rules));
    await load([mapped('shop_pg/accounts/S1', { fields: { name: 'Ann Li' }, keys: [['shop_account', 'S1'], ['email', 'ann@example.com']] })]);
    await load([mapped('app_mongo/users/U1', { fields: { nickname: 'ann' }, keys: [['app_user', 'U1'], ['phone', '+8613911111111']] })]);
    const [shop, app] = [await customerOf(env.db.pool, 'shop_pg/accounts/S1'), await customerOf(env.db.pool, 'app_mongo/users/U1')];
    const { rows } = await env.db.pool.query<{ id: string }>(
      `INSERT INTO gateway.conversation (visitor_id, team, status, opening_client_msg_id, customer_id)
       VALUES ('v-app', 'support', 'closed', 'o-1', $1), ('v-shop', 'support', 'closed', 'o-1', $2), ('v-anon', 'support', 'closed', 'o-1', NULL) RETURNING id`,
      [app, shop],
    );
    const [ofApp, ofShop, anonymous] = rows.map((r) => Number(r.id));
    // The nightly sync merges the app customer into the shop one; no gateway is running to hear it.
    const merge = await load([mapped('shop_pg/addresses/A1', { keys: [['email', 'ann@example.com'], ['phone', '+8613911111111']] })]);
    expect(merge.absorbed).toEqual([{ id: app, into: shop }]);

    const gw = await env.start({ clickhouse: ch.client, settings: { reassign_sweep_ms: 100, analytics: { flush_ms: 100, batch_rows: 50 } } });
    const customers = async () => (await env.db.pool.query(`SELECT id::int, customer_id::int FROM gateway.conversation ORDER BY id`)).rows;
    const deadline = Date.now() + 10_000;
    while ((await customers()).find((c) => c.id === ofApp)?.customer_id !== shop && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await customers()).toEqual([
      { id: ofApp, customer_id: shop },
      { id: ofShop, customer_id: shop },
      { id: anonymous, customer_id: null },
    ]);
    // The row ClickHouse got is the gateway's, under the survivor (not the views' reading of tombstones: none were sent here).
    let sent: Record<string, unknown>[] = [];
    while (sent.length === 0 && Date.now() < deadline) {
      sent = await ch.rows(`SELECT conversation_id, argMax(customer_id, version) AS customer_id FROM conversations GROUP BY conversation_id`);
      if (sent.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(sent).toEqual([{ conversation_id: String(ofApp), customer_id: String(shop) }]);
    // Nothing left to re-link.
    expect(await relinkMerged(gw.context)).toEqual([]);
  });
});
