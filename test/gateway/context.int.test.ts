/**
 * The customer context panel against real services: unified data loaded through the real
 * resolver (applyBatch) into a scratch database, the real PHP SOAP service behind a TCP
 * proxy (and a stopped one; and a service address that never answers), `customer.updated` published on this
 * file's own channel. Each test has its own people and team, so none depends on another.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import type { SourceRecord } from '../../connectors/types.js';
import { signIdentity } from '../../gateway/auth/identity.js';
import type { ServerFrame } from '../../gateway/protocol.js';
import type { RunningGateway } from '../../gateway/server.js';
import { applyBatch, type BatchResult } from '../../pipelines/load/apply-batch.js';
import type { CustomerUpdatedEvent } from '../../pipelines/queue.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { inTx, mapped, testRules } from '../helpers/unified.js';
import { connectAgent, gatewayEnv, http, IDENTITY_SECRET, login, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

type ContextFrame = Extract<ServerFrame, { type: 'context' }>;

const rules = testRules();
let env: GatewayEnv;
let gw: RunningGateway;
let down: RunningGateway;
let slow: RunningGateway;
const proxies: TcpProxy[] = [];
let hung: net.Server;
let closeHung: (() => Promise<void>) | undefined;
let channel: string;
/** Real order numbers of the SOAP service, with their source status. */
let openOrders: { orderNo: string; status: string }[];

const UNIFIED_STATUS: Record<string, string> = { PENDING_PAYMENT: 'pending', PAID: 'paid', SHIPPED: 'shipped' };

async function load(records: MappedRecord[]): Promise<BatchResult> {
  return inTx(env.db.pool, (tx) => applyBatch(tx, records, rules));
}

/** What a sync worker publishes after a batch. */
async function publishUpdated(result: BatchResult): Promise<void> {
  const event: CustomerUpdatedEvent = { type: 'customer.updated', customerIds: result.customerIds, absorbed: result.absorbed, source: 'test', stream: 'test', runId: 0, at: new Date().toISOString() };
  await env.redis.publish(channel, JSON.stringify(event));
}

const customer = (ref: string, fields: Record<string, string>, keys: [string, string][]) => mapped(ref, { fields, keys, lines: { name: 12, email: 13 } });
const order = (orderNo: string, status: string, orderedAt: string, keys: [string, string][]) =>
  mapped(`orders_soap/orders/${orderNo}`, {
    target: 'order',
    fields: { order_no: orderNo, status, total_amount: '867.00', currency: 'CNY', ordered_at: orderedAt, lines: [{ sku: 'SKU-1', name: '台灯', qty: 2, unit_price: '139.50' }] },
    keys,
  });
const ticket = (no: string, status: string, keys: [string, string][]) =>
  mapped(`tickets_php/tickets/${no}`, { target: 'ticket', fields: { ticket_no: no, subject: `ticket ${no}`, status, created_at: '2026-01-03T10:00:00+08:00' }, keys });

/** A visitor whose site signed `identity`, and their first message (routed by its prefix). */
async function signedVisitor(port: number, identity: Record<string, string>, text: string) {
  const ts = Math.floor(Date.now() / 1000);
  const session = await visitorToken(port, { identity, timestamp: ts, signature: signIdentity(identity, ts, IDENTITY_SECRET) });
  const { client } = await TestClient.connect(port, session.token);
  const ack = await sendAndAck(client, { clientMsgId: 'first', text });
  return { client, token: session.token, conversationId: ack.conversationId };
}

const contextOf = (client: TestClient, conversationId: number, reason?: ContextFrame['reason']) =>
  client.next((f) => f.type === 'context' && f.conversationId === conversationId && (reason === undefined || f.reason === reason)) as Promise<ContextFrame>;

const settingsWith = (lookup: Record<string, unknown>) => ({
  routing: ['ann', 'dora', 'bob', 'carl', 'eve', 'owner', 'other'].map((p) => ({ team: `t_${p}`, match: `^${p}:` })),
  context: { orders: 10, tickets: 10, reuse_ms: 0 },
  lookups: [{ part: 'orders', source: 'orders_soap', lookup: 'order_status', params: { orderNo: 'order_no' }, statuses: ['pending', 'paid', 'shipped'], cache_ttl_s: 0, ...lookup }],
  lookup_circuit: { volume: 100, reset_ms: 60_000 },
  canned_replies: [
    { id: 'status', title: 'Status', text: 'Hi {{customer.name}}, order {{orders.latest.order_no}} is {{orders.latest.status}}; {{tickets.open_count}} open ticket(s).' },
    { id: 'typo', title: 'Typo', text: 'Dear {{customer.nmae}}' },
  ],
});

beforeAll(async () => {
  env = await gatewayEnv('context');
  channel = `${env.prefix}customer.updated`;
  const config = await loadConfig(`${PROJECT_ROOT}/config/junction.yaml`);
  const soap = config.sources.orders_soap!;
  // Real order numbers in progress, read from the service itself.
  const reader = createConnector('orders_soap', soap as { type: string }, { log: silentLogger });
  const seen: SourceRecord[] = [];
  for await (const batch of reader.read('orders', null, { limit: 300 })) seen.push(...batch.records);
  await reader.close();
  openOrders = seen.filter((o) => typeof o.status === 'string' && o.status in UNIFIED_STATUS).map((o) => ({ orderNo: String(o.orderNo), status: String(o.status) }));
  if (openOrders.length < 4) throw new Error('the SOAP estate has fewer than 4 open orders');

  const soapPort = stackSettings().services.orders_soap.port;
  const healthy = await startTcpProxy('127.0.0.1', soapPort);
  const stopped = await startTcpProxy('127.0.0.1', soapPort);
  await stopped.destroy(); // its port now refuses connections: the source is down
  proxies.push(healthy);
  // A service that accepts calls and never answers: the WSDL is the real one, the endpoint a black hole.
  const held = new Set<net.Socket>();
  hung = net.createServer((socket) => void held.add(socket.on('error', () => undefined)));
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  closeHung = () => new Promise<void>((resolve) => (held.forEach((s) => s.destroy()), hung.close(() => resolve())));
  const hungPort = (hung.address() as net.AddressInfo).port;
  const via = (proxy: TcpProxy) => ({ orders_soap: { ...soap, wsdl: `http://127.0.0.1:${proxy.port}/orders.php?wsdl` } });
  const hanging = { orders_soap: { ...soap, wsdl: `http://127.0.0.1:${healthy.port}/orders.php?wsdl`, endpoint: `http://127.0.0.1:${hungPort}/orders.php` } };

  const [ann, dora, carl] = [openOrders[0]!, openOrders[1]!, openOrders[2]!];
  await load([
    customer('shop_pg/accounts/A1', { name: 'Ann Lee', email: 'ann@example.com', city: 'Shanghai' }, [['shop_account', 'A1'], ['email', 'ann@example.com']]),
    mapped('crm_oracle/customers/C1', { target: 'crm_profile', fields: { crm_id: 'C1', name: 'Ann Lee', vip_level: '3', email: 'ann@example.com' }, keys: [['crm_id', 'C1'], ['email', 'ann@example.com']] }),
    order(ann.orderNo, UNIFIED_STATUS[ann.status]!, '2026-01-05T10:00:00+08:00', [['crm_id', 'C1']]),
    order('SO-ANN-OLD', 'delivered', '2025-06-01T10:00:00+08:00', [['crm_id', 'C1']]),
    ticket('T1', 'open', [['email', 'ann@example.com']]),
    ticket('T2', 'closed', [['email', 'ann@example.com']]),
    customer('shop_pg/accounts/D1', { name: 'Dora Wu', email: 'dora@example.com' }, [['shop_account', 'D1'], ['email', 'dora@example.com']]),
    order(dora.orderNo, 'paid', '2026-01-04T10:00:00+08:00', [['email', 'dora@example.com']]),
    customer('shop_pg/accounts/B1', { name: 'Bob Ma', email: 'bob@example.com' }, [['shop_account', 'B1'], ['email', 'bob@example.com']]),
    customer('app_mongo/users/U1', { nickname: 'bobby', phone: '+8613912345678' }, [['app_user', 'U1'], ['phone', '+8613912345678']]),
    customer('shop_pg/accounts/K1', { name: 'Carl Xu', email: 'carl@example.com' }, [['shop_account', 'K1'], ['email', 'carl@example.com']]),
    order(carl.orderNo, UNIFIED_STATUS[carl.status]!, '2026-01-05T10:00:00+08:00', [['email', 'carl@example.com']]),
  ]);

  const common = { rules, customerUpdatedChannel: channel };
  gw = await env.start({ ...common, sources: via(healthy), settings: settingsWith({ timeout_ms: 3000 }) });
  down = await env.start({ ...common, sources: via(stopped), settings: settingsWith({ timeout_ms: 500 }) });
  slow = await env.start({ ...common, sources: hanging, settings: settingsWith({ timeout_ms: 300 }) });
});

afterAll(async () => {
  await env?.close();
  await Promise.all(proxies.map((p) => p.destroy()));
  await closeHung?.();
});

describe('context panel', () => {
  it('sends the linked customer to the assigned agent: golden record with lineage, identities with evidence, orders with lines and live status, CRM, open tickets', async () => {
    const agent = await makeAgent(env, 't_ann');
    const agentWs = await connectAgent(env, gw.port, agent);
    const visitor = await signedVisitor(gw.port, { email: 'Ann@Example.com' }, 'ann: where is my order?');
    const frame = await contextOf(agentWs, visitor.conversationId, 'linked');
    const { customer: golden, identities, orders, crm, tickets } = frame.parts as Record<string, { asOf: string | null; stale: boolean; data: never }>;

    const g = golden!.data as { fields: Record<string, unknown>; lineage: Record<string, { source: string; mapping?: string }> };
    expect(g.fields).toMatchObject({ name: 'Ann Lee', email: 'ann@example.com', city: 'Shanghai' });
    expect(g.lineage.city).toMatchObject({ source: 'shop_pg' });
    const ids = identities!.data as { identities: { kind: string; value: string }[]; chain: { record: string; via: { key: string } | null }[] };
    expect(ids.identities).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'email', value: 'ann@example.com' }), expect.objectContaining({ kind: 'crm_id', value: 'C1' })]));
    // Why the shop account and the CRM record are one person: the email they share.
    expect(ids.chain.map((c) => c.record)).toEqual(expect.arrayContaining(['crm_oracle/customers/C1', 'shop_pg/accounts/A1', 'tickets_php/tickets/T1']));
    expect(ids.chain.filter((c) => c.record.startsWith('shop_pg/') || c.record.startsWith('crm_oracle/')).map((c) => c.via?.key ?? null)).toEqual(
      expect.arrayContaining(['email:ann@example.com']),
    );

    const o = orders!.data as { order_no: string; status: string; lines: unknown[]; live?: { status: string; asOf: string } }[];
    expect(o.map((x) => x.order_no)).toEqual([openOrders[0]!.orderNo, 'SO-ANN-OLD']);
    expect(o[0]!.lines).toEqual([{ sku: 'SKU-1', name: '台灯', qty: 2, unit_price: '139.50' }]);
    expect(o[0]!.live).toMatchObject({ status: openOrders[0]!.status, orderNo: openOrders[0]!.orderNo });
    expect(o[1]!.live).toBeUndefined(); // delivered: not looked up
    expect(orders!.stale).toBe(false);
    expect((crm!.data as { crm_id: string; vip_level: string }[]).map((c) => [c.crm_id, c.vip_level])).toEqual([['C1', '3']]);
    expect((tickets!.data as { ticket_no: string }[]).map((t) => t.ticket_no)).toEqual(['T1']);
    for (const part of [golden, identities, orders, crm, tickets]) expect(part!.asOf).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The visitor never gets one.
    expect(visitor.client.frames.some((f) => f.type === 'context')).toBe(false);
    for (const c of [agentWs, visitor.client]) c.close();
  });

  it('re-sends the context when a sync changes the customer (customer.updated)', async () => {
    const agent = await makeAgent(env, 't_dora');
    const agentWs = await connectAgent(env, gw.port, agent);
    const visitor = await signedVisitor(gw.port, { email: 'dora@example.com' }, 'dora: hello');
    const first = await contextOf(agentWs, visitor.conversationId, 'linked');
    expect((first.parts.orders!.data as { status: string }[])[0]!.status).toBe('paid');

    const dora = openOrders[1]!;
    const result = await load([order(dora.orderNo, 'shipped', '2026-01-04T10:00:00+08:00', [['email', 'dora@example.com']]), ticket('T9', 'open', [['email', 'dora@example.com']])]);
    expect(result.customerIds).toContain(first.customerId);
    await publishUpdated(result);
    const updated = await contextOf(agentWs, visitor.conversationId, 'updated');
    expect(updated.customerId).toBe(first.customerId);
    expect((updated.parts.orders!.data as { status: string }[])[0]!.status).toBe('shipped');
    expect((updated.parts.tickets!.data as { ticket_no: string }[]).map((t) => t.ticket_no)).toEqual(['T9']);
    for (const c of [agentWs, visitor.client]) c.close();
  });

  it("re-links a conversation whose customer a merge absorbed, and shows the merge's evidence", async () => {
    const agent = await makeAgent(env, 't_bob');
    const agentWs = await connectAgent(env, gw.port, agent);
    const visitor = await signedVisitor(gw.port, { phone: '139 1234 5678' }, 'bob: hi');
    const before = await contextOf(agentWs, visitor.conversationId, 'linked');
    // A record carrying both Bob's email and the app user's phone: the two customers are one.
    const result = await load([customer('shop_pg/addresses/AD1', { name: 'Bob Ma' }, [['email', 'bob@example.com'], ['phone', '+8613912345678']])]);
    expect(result.absorbed).toHaveLength(1);
    await publishUpdated(result);
    const survivor = result.absorbed[0]!.into;
    const after = await contextOf(agentWs, visitor.conversationId, before.customerId === survivor ? 'updated' : 'relinked');
    expect(after.customerId).toBe(survivor);
    const { rows } = await env.db.pool.query('SELECT customer_id FROM gateway.conversation WHERE id = $1', [visitor.conversationId]);
    expect(Number(rows[0].customer_id)).toBe(survivor);
    const merges = (after.parts.identities!.data as { merges: { action: string; absorbedId: number; evidence: { path: { key: string }[] } }[] }).merges;
    expect(merges).toEqual([expect.objectContaining({ action: 'merge', absorbedId: result.absorbed[0]!.id })]);
    expect(merges[0]!.evidence.path.map((s) => s.key).join(' ')).toMatch(/email:bob@example.com|phone:\+8613912345678/);
    for (const c of [agentWs, visitor.client]) c.close();
  });

  it.each([
    ['stopped', () => down, 'CONN_UNREACHABLE'],
    ['hanging (never answers)', () => slow, 'GW_LOOKUP_TIMEOUT'],
  ])('sends the panel with orders marked stale when the SOAP source is %s, the other parts whole', async (_what, instance, code) => {
    const g = instance();
    const agent = await makeAgent(env, 't_carl');
    const agentWs = await connectAgent(env, g.port, agent);
    await env.db.pool.query(`UPDATE gateway.conversation SET status = 'closed' WHERE team = 't_carl'`);
    const visitor = await signedVisitor(g.port, { email: 'carl@example.com' }, 'carl: my order?');
    // The hanging service never answers: a frame here means the panel did not wait for it.
    const frame = await contextOf(agentWs, visitor.conversationId, 'linked');
    const orders = frame.parts.orders!;
    expect(orders).toMatchObject({ stale: true, error: expect.stringMatching(code === 'CONN_UNREACHABLE' ? /^CONN_(UNREACHABLE|TIMEOUT)$/ : /^GW_LOOKUP_TIMEOUT$/) });
    expect(orders.staleSince).toMatch(/^\d{4}-/);
    // The last synced state is still shown.
    expect((orders.data as { order_no: string; live?: unknown }[]).map((o) => [o.order_no, o.live])).toEqual([[openOrders[2]!.orderNo, undefined]]);
    for (const part of ['customer', 'identities', 'crm', 'tickets']) expect(frame.parts[part]!.stale).toBe(false);
    expect((frame.parts.customer!.data as { fields: { name: string } }).fields.name).toBe('Carl Xu');
    for (const c of [agentWs, visitor.client]) c.close();
  });

  it("keeps agent A out of agent B's customer: no frame, no REST context, no canned rendering", async () => {
    const owner = await makeAgent(env, 't_owner');
    const other = await makeAgent(env, 't_other');
    const ownerWs = await connectAgent(env, gw.port, owner);
    const otherWs = await connectAgent(env, down.port, other);
    const visitor = await signedVisitor(gw.port, { email: 'ann@example.com' }, 'owner: private');
    const id = visitor.conversationId;
    const mine = await contextOf(ownerWs, id, 'linked');

    const ownerToken = await login(gw.port, owner);
    const otherToken = await login(gw.port, other);
    const path = `/api/conversations/${id}/context`;
    const ok = await http(gw.port, 'GET', path, undefined, { authorization: `Bearer ${ownerToken}` });
    expect([ok.status, ok.json?.customerId]).toEqual([200, mine.customerId]);
    for (const p of [path, `/api/conversations/${id}/canned`]) {
      const refused = await http(down.port, 'GET', p, undefined, { authorization: `Bearer ${otherToken}` });
      expect([refused.status, refused.code]).toEqual([404, 'GW_CONVERSATION_NOT_FOUND']);
    }
    const byVisitor = await http(gw.port, 'GET', path, undefined, { authorization: `Bearer ${visitor.token}` });
    expect([byVisitor.status, byVisitor.code]).toEqual([403, 'GW_FORBIDDEN']);

    // A sync of that customer refreshes the owner's panel and still sends nothing to the other agent.
    await publishUpdated({ customerIds: [mine.customerId], absorbed: [] } as unknown as BatchResult);
    await contextOf(ownerWs, id, 'updated');
    // Once handed over, the panel follows the conversation, and the first agent hears no more of it.
    ownerWs.send({ type: 'transfer', conversationId: id, toAgentId: other.id });
    await contextOf(otherWs, id, 'linked');
    await ownerWs.next((f) => f.type === 'conversation' && f.event === 'transferred');
    const ownerFrames = ownerWs.frames.filter((f) => f.type === 'context').length;
    await publishUpdated({ customerIds: [mine.customerId], absorbed: [] } as unknown as BatchResult);
    await contextOf(otherWs, id, 'updated');
    expect(ownerWs.frames.filter((f) => f.type === 'context').length).toBe(ownerFrames);
    expect(otherWs.frames.filter((f) => f.type === 'context' && f.conversationId !== id)).toEqual([]);
    const nowRefused = await http(gw.port, 'GET', path, undefined, { authorization: `Bearer ${ownerToken}` });
    expect(nowRefused.status).toBe(404);
    for (const c of [ownerWs, otherWs, visitor.client]) c.close();
  });

  it("renders canned replies with the conversation's customer, reporting unknown variables", async () => {
    const agent = await makeAgent(env, 't_eve');
    const agentWs = await connectAgent(env, gw.port, agent);
    const visitor = await signedVisitor(gw.port, { email: 'ann@example.com' }, 'eve: question');
    const token = await login(gw.port, agent);
    const r = await http(gw.port, 'GET', `/api/conversations/${visitor.conversationId}/canned`, undefined, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(r.json!.replies).toEqual([
      { id: 'status', title: 'Status', text: `Hi Ann Lee, order ${openOrders[0]!.orderNo} is ${UNIFIED_STATUS[openOrders[0]!.status]}; 1 open ticket(s).`, unknown: [], empty: [] },
      { id: 'typo', title: 'Typo', text: 'Dear ', unknown: ['customer.nmae'], empty: [] },
    ]);
    const list = await http(gw.port, 'GET', '/api/canned', undefined, { authorization: `Bearer ${token}` });
    expect((list.json!.replies as { id: string }[]).map((x) => x.id)).toEqual(['status', 'typo']);
    for (const c of [agentWs, visitor.client]) c.close();
  });
});
