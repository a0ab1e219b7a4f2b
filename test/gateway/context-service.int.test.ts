/**
 * The context service: its panel cache (reused for `gateway.context.reuse_ms`, then let go),
 * and a merge's re-link reaching chat analytics: two instances on one database hear the same
 * `customer.updated`, and ClickHouse then counts the conversation and its messages under the
 * survivor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIdentity } from '../../gateway/auth/identity.js';
import type { ServerFrame } from '../../gateway/protocol.js';
import type { RunningGateway } from '../../gateway/server.js';
import { applyBatch, type BatchResult } from '../../pipelines/load/apply-batch.js';
import type { CustomerUpdatedEvent } from '../../pipelines/queue.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { scratchClickhouse, type ScratchClickhouse } from '../helpers/clickhouse.js';
import { inTx, mapped, testRules } from '../helpers/unified.js';
import { gatewayEnv, IDENTITY_SECRET, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

const rules = testRules();
let env: GatewayEnv;
let gw: RunningGateway;
let ch: ScratchClickhouse;

beforeAll(async () => {
  env = await gatewayEnv('ctxcache');
  gw = await env.start({ settings: { context: { reuse_ms: 100 } } });
  ch = await scratchClickhouse('gateway_relink');
});

afterAll(async () => {
  await env?.close();
  await ch?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a ClickHouse query until `done` holds (or 10 s pass: the assertions that follow fail). */
async function until<T>(query: string, done: (rows: T[]) => boolean): Promise<T[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await ch.rows<T>(query);
    if (done(rows) || Date.now() > deadline) return rows;
    await sleep(100);
  }
}

describe('context service', () => {
  it('drops a panel older than reuse_ms once another is built, so the cache does not grow with every customer shown', async () => {
    const service = gw.context.context;
    // Customers the unified view does not have: their parts are stale, the panels still build.
    const first = await service.panel(900_001);
    expect(await service.panel(900_001)).toBe(first); // reused within reuse_ms
    expect(service.cachedPanels).toBe(1);
    await sleep(150);
    await service.panel(900_002);
    expect(service.cachedPanels).toBe(1);
    expect(await service.panel(900_001)).not.toBe(first); // built afresh
  });

  it('a merge moves a conversation to the survivor: a relinked conversation event, and its messages in ClickHouse too', async () => {
    const channel = `${env.prefix}customer.updated`;
    const common = { rules, customerUpdatedChannel: channel, clickhouse: ch.client, settings: { analytics: { flush_ms: 50, batch_rows: 50 } } };
    // Two instances hear the event: whichever re-links the conversation sends it.
    const [a] = [await env.start(common), await env.start(common)];
    const load = (records: MappedRecord[]): Promise<BatchResult> => inTx(env.db.pool, (tx) => applyBatch(tx, records, rules));
    // The shop account first (the lower id survives a merge), then the app user the visitor signs as.
    await load([mapped('shop_pg/accounts/R1', { fields: { name: 'Rae Qin' }, keys: [['shop_account', 'R1'], ['email', 'rae@example.com']] })]);
    await load([mapped('app_mongo/users/R9', { fields: { nickname: 'rae' }, keys: [['app_user', 'R9'], ['phone', '+8613955556666']] })]);

    const identity = { phone: '139 5555 6666' };
    const ts = Math.floor(Date.now() / 1000);
    const session = await visitorToken(a.port, { identity, timestamp: ts, signature: signIdentity(identity, ts, IDENTITY_SECRET) });
    const { client: visitor } = await TestClient.connect(a.port, session.token);
    const { conversationId: id } = await sendAndAck(visitor, { clientMsgId: 'r-1', text: 'hello' });
    const before = Number((await env.db.pool.query('SELECT version FROM gateway.conversation WHERE id = $1', [id])).rows[0].version);
    await sendAndAck(visitor, { conversationId: id, clientMsgId: 'r-2', text: 'anyone?' });
    const linked = await until<{ customer_id: string }>(`SELECT customer_id FROM conversations_current WHERE conversation_id = '${id}'`, (r) => r.length === 1);
    const absorbedId = Number(linked[0]?.customer_id);
    expect(absorbedId).toBeGreaterThan(0);
    expect(await until(`SELECT seq FROM chat_messages_current WHERE conversation_id = '${id}'`, (r) => r.length === 2)).toHaveLength(2);

    // A record with both keys: the app user's customer is absorbed into the shop account's.
    const result = await load([mapped('shop_pg/addresses/RA1', { keys: [['email', 'rae@example.com'], ['phone', '+8613955556666']] })]);
    expect(result.absorbed).toEqual([expect.objectContaining({ id: absorbedId })]);
    const survivor = result.absorbed[0]!.into;
    const event: CustomerUpdatedEvent = { type: 'customer.updated', customerIds: result.customerIds, absorbed: result.absorbed, source: 'test', stream: 'test', runId: 0, at: new Date().toISOString() };
    await env.redis.publish(channel, JSON.stringify(event));

    // Whoever sees the conversation hears of its new customer, with the version the re-link gave it.
    const relinked = (await visitor.next((f) => f.type === 'conversation' && f.conversation.id === id && f.event === 'relinked')) as Extract<ServerFrame, { type: 'conversation' }>;
    expect(relinked.conversation).toMatchObject({ customerId: survivor, version: before + 1 });
    const conversation = await until<{ customer_id: string }>(`SELECT customer_id FROM conversations_current WHERE conversation_id = '${id}'`, (r) => r[0]?.customer_id === String(survivor));
    expect(conversation).toEqual([{ customer_id: String(survivor) }]);
    const messages = await ch.rows<{ seq: string; customer_id: string }>(`SELECT seq, customer_id FROM chat_messages_current WHERE conversation_id = '${id}' ORDER BY seq`);
    expect(messages).toEqual([{ seq: '1', customer_id: String(survivor) }, { seq: '2', customer_id: String(survivor) }]);
    visitor.close();
  });

  it('a re-link of a closed conversation the socket does not hold sends it no frame (it is not brought back)', async () => {
    const channel = `${env.prefix}customer.updated`;
    const gwc = await env.start({ rules, customerUpdatedChannel: channel });
    const load = (records: MappedRecord[]): Promise<BatchResult> => inTx(env.db.pool, (tx) => applyBatch(tx, records, rules));
    await load([mapped('shop_pg/accounts/S1', { fields: { name: 'Sol Wu' }, keys: [['shop_account', 'S1'], ['email', 'sol@example.com']] })]);
    await load([mapped('app_mongo/users/S9', { fields: { nickname: 'sol' }, keys: [['app_user', 'S9'], ['phone', '+8613966667777']] })]);
    const identity = { phone: '139 6666 7777' };
    const ts = Math.floor(Date.now() / 1000);
    const session = await visitorToken(gwc.port, { identity, timestamp: ts, signature: signIdentity(identity, ts, IDENTITY_SECRET) });
    const { client: first } = await TestClient.connect(gwc.port, session.token);
    const { conversationId: id } = await sendAndAck(first, { clientMsgId: 's-1', text: 'hello' });
    first.send({ type: 'close', conversationId: id });
    await first.next((f) => f.type === 'conversation' && f.conversation.id === id && f.event === 'closed');
    first.close();

    const { client: later } = await TestClient.connect(gwc.port, session.token);
    const result = await load([mapped('shop_pg/addresses/SA1', { keys: [['email', 'sol@example.com'], ['phone', '+8613966667777']] })]);
    expect(result.absorbed).toHaveLength(1);
    const survivor = result.absorbed[0]!.into;
    const event: CustomerUpdatedEvent = { type: 'customer.updated', customerIds: result.customerIds, absorbed: result.absorbed, source: 'test', stream: 'test', runId: 0, at: new Date().toISOString() };
    await env.redis.publish(channel, JSON.stringify(event));
    for (let i = 0; i < 100; i++) {
      const { rows } = await env.db.pool.query('SELECT customer_id FROM gateway.conversation WHERE id = $1', [id]);
      if (Number(rows[0].customer_id) === survivor) break;
      await sleep(50);
    }
    expect(Number((await env.db.pool.query('SELECT customer_id FROM gateway.conversation WHERE id = $1', [id])).rows[0].customer_id)).toBe(survivor);
    // The socket sees its own messages' traffic only: a message round trip after the re-link shows nothing came before it.
    const { conversationId: fresh } = await sendAndAck(later, { clientMsgId: 's-2', text: 'new question' });
    expect(fresh).not.toBe(id);
    expect(later.frames.filter((f) => f.type === 'conversation' && f.conversation.id === id)).toEqual([]);
    later.close();
  });
});
