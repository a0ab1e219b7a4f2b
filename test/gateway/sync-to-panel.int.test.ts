/**
 * A sync that changes a customer's order reaches the agent's open panel, end to end: a real
 * scratch PostgreSQL source read by the postgres connector, `runSync` into the gateway's own
 * scratch hub database, `customer.updated` published by the sync's own publisher
 * (`customerEventPublisher` as `onCommitted`, on this file's channel), and the gateway
 * re-sending the `context` frame to the agent assigned to the linked conversation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { signIdentity } from '../../gateway/auth/identity.js';
import type { ServerFrame } from '../../gateway/protocol.js';
import type { RunningGateway } from '../../gateway/server.js';
import { customerEventPublisher } from '../../pipelines/events.js';
import { runSync } from '../../pipelines/run-sync.js';
import { scratchSource, SOURCE, STREAM, tempDir, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { connectAgent, gatewayEnv, IDENTITY_SECRET, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

type ContextFrame = Extract<ServerFrame, { type: 'context' }>;
type OrderRow = { order_no: string; status: string };

let env: GatewayEnv;
let source: ScratchSource;
let config: ResolvedConfig;
let gw: RunningGateway;
let channel: string;

/** One incremental sync of the scratch stream, publishing `customer.updated` like the workers do. */
async function sync(): Promise<void> {
  const publish = customerEventPublisher(env.redis, { channel, log: silentLogger });
  await runSync({ config, pool: env.db.pool, source: SOURCE, stream: STREAM, log: silentLogger, trigger: 'test', onCommitted: publish });
}

beforeAll(async () => {
  env = await gatewayEnv('sync_panel');
  channel = `${env.prefix}customer.updated`;
  // 5 orders, all of one customer (c0@example.com).
  source = await scratchSource('gw_sync_panel', 5);
  config = await loadConfig(writeSyncConfig(tempDir('gw-sync-panel'), { sourceUrl: source.url }));
  await sync();
  gw = await env.start({ customerUpdatedChannel: channel, settings: { routing: [{ team: 't_sync', match: '^sync:' }], context: { orders: 10, tickets: 10, reuse_ms: 0 } } });
}, 60_000);

afterAll(async () => {
  await env?.close();
  await source?.close();
});

describe('sync → open panel', () => {
  it('a sync that changes a customer\'s order reaches the open panel', async () => {
    const agent = await makeAgent(env, 't_sync');
    const agentWs = await connectAgent(env, gw.port, agent);
    const identity = { email: 'C0@example.com' };
    const ts = Math.floor(Date.now() / 1000);
    const session = await visitorToken(gw.port, { identity, timestamp: ts, signature: signIdentity(identity, ts, IDENTITY_SECRET) });
    const { client: visitor } = await TestClient.connect(gw.port, session.token);
    const { conversationId } = await sendAndAck(visitor, { clientMsgId: 'first', text: 'sync: my order?' });

    const linked = (await agentWs.next((f) => f.type === 'context' && f.conversationId === conversationId && f.reason === 'linked')) as ContextFrame;
    const before = linked.parts.orders!.data as OrderRow[];
    expect(before.map((o) => o.order_no).sort()).toEqual(['SO0000001', 'SO0000002', 'SO0000003', 'SO0000004', 'SO0000005']);
    // SO0000001 is 'SHIPPED' in the source (status cycles PAID, SHIPPED, COMPLETED, CANCELLED from i % 4).
    expect(before.find((o) => o.order_no === 'SO0000001')!.status).toBe('shipped');

    await source.pool.query(`UPDATE legacy.orders SET status = 'CANCELLED', updated_at = now() WHERE order_no = 'SO0000001'`);
    await sync();

    const updated = (await agentWs.next((f) => f.type === 'context' && f.conversationId === conversationId && f.reason === 'updated', 15_000)) as ContextFrame;
    expect(updated.customerId).toBe(linked.customerId);
    const after = updated.parts.orders!.data as OrderRow[];
    expect(after.find((o) => o.order_no === 'SO0000001')!.status).toBe('cancelled');
    expect(after).toHaveLength(5);
    // The visitor never sees a panel.
    expect(visitor.frames.some((f) => f.type === 'context')).toBe(false);
    for (const c of [agentWs, visitor]) c.close();
  });
});
