/**
 * Chat analytics in a scratch ClickHouse database: messages and conversation changes arrive
 * in batches; with ClickHouse unreachable (a TCP proxy in front of it, stopped) chat goes on
 * unaffected and the rows arrive once it is back, each once through the `*_current` views.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { stackSettings } from '../../config/env.js';
import type { RunningGateway } from '../../gateway/server.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { scratchClickhouse, type ScratchClickhouse } from '../helpers/clickhouse.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let ch: ScratchClickhouse;
let proxy: TcpProxy;
let client: ClickHouseClient;
let gw: RunningGateway;
const clickhousePort = () => stackSettings().services.clickhouse.port;

beforeAll(async () => {
  env = await gatewayEnv('analytics');
  ch = await scratchClickhouse('gateway_analytics');
  proxy = await startTcpProxy('127.0.0.1', clickhousePort());
  const viaProxy = stackSettings({ ...process.env, JUNCTION_CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}` });
  client = createClickhouseClient(viaProxy, { database: ch.database, requestTimeoutMs: 2000 });
  gw = await env.start({ clickhouse: client, settings: { analytics: { flush_ms: 100, batch_rows: 50 } } });
});

afterAll(async () => {
  await env?.close();
  await client?.close();
  await proxy?.destroy();
  await ch?.close();
});

/** Polls a ClickHouse query until `done` holds (or 20 s pass: the assertions that follow fail). */
async function until<T>(query: string, done: (rows: T[]) => boolean): Promise<T[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = await ch.rows<T>(query);
    if (done(rows) || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function chat(visitorText: string, replies: number) {
  const agent = await makeAgent(env);
  const agentWs = await connectAgent(env, gw.port, agent);
  const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
  const first = await sendAndAck(visitor, { clientMsgId: 'v-0', text: visitorText, page: { url: 'https://shop.example.com/help', channel: 'app' } } as never);
  const id = first.conversationId;
  for (let i = 0; i < replies; i++) await sendAndAck(agentWs, { conversationId: id, clientMsgId: `a-${i}`, text: `reply ${i}` });
  return { agent, agentWs, visitor, id };
}

describe('chat analytics', () => {
  it('sends messages and the conversation (assigned, answered, closed) to ClickHouse', async () => {
    const { agent, agentWs, visitor, id } = await chat('héllo 你好', 4);
    agentWs.send({ type: 'close', conversationId: id });
    await visitor.next((f) => f.type === 'conversation' && f.event === 'closed');
    const messages = await until<{ seq: string; sender_kind: string; agent_id: string; text_length: number; team: string }>(
      `SELECT seq, sender_kind, agent_id, text_length, team FROM chat_messages_current WHERE conversation_id = '${id}' ORDER BY seq`,
      (r) => r.length >= 5,
    );
    expect(messages.map((m) => [Number(m.seq), m.sender_kind, m.agent_id, m.team])).toEqual([
      [1, 'visitor', '', 'support'],
      ...[2, 3, 4, 5].map((s) => [s, 'agent', String(agent.id), 'support']),
    ]);
    expect(messages[0]!.text_length).toBe(8); // characters, not bytes
    const [conv] = await until<Record<string, unknown>>(
      `SELECT status, agent_id, team, channel, page, message_count, assigned_at IS NOT NULL AS assigned, first_response_at IS NOT NULL AS answered, closed_at IS NOT NULL AS closed
         FROM conversations_current WHERE conversation_id = '${id}'`,
      (r) => r[0]?.status === 'closed',
    );
    expect(conv).toEqual({ status: 'closed', agent_id: String(agent.id), team: 'support', channel: 'app', page: 'https://shop.example.com/help', message_count: 5, assigned: 1, answered: 1, closed: 1 });
    for (const c of [agentWs, visitor]) c.close();
  });

  it('never blocks chat while ClickHouse is down, and sends what waited once it is back', async () => {
    const port = proxy.port;
    await proxy.destroy();
    const { agentWs, visitor, id } = await chat('are you there?', 3);
    // Every message was acked (sendAndAck) with ClickHouse unreachable; analytics kept them.
    const stats = gw.context.analytics.stats;
    const deadline = Date.now() + 10_000;
    while (stats.failedFlushes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(stats.failedFlushes).toBeGreaterThan(0);
    expect(stats.dropped).toBe(0);

    proxy = await startTcpProxy('127.0.0.1', clickhousePort(), { port });
    const rows = await until<{ n: string }>(`SELECT count() AS n FROM chat_messages_current WHERE conversation_id = '${id}'`, (r) => Number(r[0]?.n) >= 4);
    expect(Number(rows[0]!.n)).toBe(4);
    const [conv] = await until<{ message_count: number }>(`SELECT message_count FROM conversations_current WHERE conversation_id = '${id}'`, (r) => r[0]?.message_count === 4);
    expect(conv?.message_count).toBe(4);
    for (const c of [agentWs, visitor]) c.close();
  });
});
