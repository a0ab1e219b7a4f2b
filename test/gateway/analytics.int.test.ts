/**
 * Chat analytics in a scratch ClickHouse database: messages and conversation changes arrive
 * in batches; with ClickHouse unreachable (a TCP proxy in front of it, stopped) chat goes on
 * unaffected and the rows arrive once it is back, each once through the `*_current` views.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { PassThrough } from 'node:stream';
import { stackSettings } from '../../config/env.js';
import { createLogger } from '../../config/log.js';
import { ChatAnalytics } from '../../gateway/analytics.js';
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

  it('sends a reopen (the visitor writing again after a close) with its conversation, one row per reopen', async () => {
    const { agentWs, visitor, id } = await chat('one question', 1);
    try {
      for (const n of [1, 2]) {
        agentWs.send({ type: 'close', conversationId: id });
        await visitor.waitCount((f) => f.type === 'conversation' && f.event === 'closed' && f.conversation.id === id, n);
        await sendAndAck(visitor, { conversationId: id, clientMsgId: `v-again-${n}`, text: 'one more thing' });
        await agentWs.waitCount((f) => f.type === 'conversation' && f.event === 'reopened' && f.conversation.id === id, n);
        const { rows } = await env.db.pool.query(`SELECT floor(extract(epoch FROM reopened_at))::int8 AS at FROM gateway.conversation WHERE id = $1`, [id]);
        const reopens = await until<{ reopen_no: number; at: number }>(
          `SELECT reopen_no, toUInt32(reopened_at) AS at FROM conversation_reopens_current WHERE conversation_id = '${id}' ORDER BY reopen_no`,
          (r) => r.length >= n,
        );
        expect(reopens.at(-1)).toEqual({ reopen_no: n, at: Number(rows[0].at) });
      }
      const [conv] = await until<{ status: string }>(`SELECT status FROM conversations_current WHERE conversation_id = '${id}'`, (r) => r[0]?.status === 'open');
      expect(conv?.status).toBe('open');
      expect(await ch.rows(`SELECT reopen_no FROM conversation_reopens_current WHERE conversation_id = '${id}' ORDER BY reopen_no`)).toEqual([{ reopen_no: 1 }, { reopen_no: 2 }]);
    } finally {
      for (const c of [agentWs, visitor]) c.close();
    }
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

  it('sends times a DateTime cannot hold (before 1970, after 2106) as NULL, or clamped where the column cannot be NULL, and logs how many', async () => {
    const { rows } = await env.db.pool.query(
      `INSERT INTO gateway.conversation (visitor_id, team, status, opening_client_msg_id, created_at, closed_at)
       VALUES ('v-times', 'support', 'closed', 'o-1', '1900-01-01T00:00:00Z', '2200-01-01T00:00:00Z') RETURNING id`,
    );
    const id = Number(rows[0].id);
    const out = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    out.on('data', (b: Buffer) => lines.push(...b.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)));
    // Straight to ClickHouse (not through the proxy the other tests stop).
    const analytics = new ChatAnalytics({ pool: env.db.pool, client: ch.client, settings: { enabled: true, flush_ms: 60_000, batch_rows: 10, max_buffer_rows: 100 }, log: createLogger({ level: 'warn', destination: out }) });
    try {
      analytics.conversationChanged(id);
      analytics.messages([{ conversationId: id, seq: 1, sender: { kind: 'visitor', id: 'visitor:v-times' }, clientMsgId: 'o-1', text: 'hi', at: '2200-01-01T00:00:00.000Z' }]);
      await analytics.flush();
    } finally {
      await analytics.close();
    }
    expect(analytics.stats).toMatchObject({ conversations: 1, messages: 1, failedFlushes: 0 });
    expect(await ch.rows(`SELECT toUInt32(opened_at) AS opened, closed_at IS NULL AS no_close FROM conversations_current WHERE conversation_id = '${id}'`)).toEqual([{ opened: 0, no_close: 1 }]);
    expect(await ch.rows(`SELECT toUInt32(created_at) AS created FROM chat_messages_current WHERE conversation_id = '${id}'`)).toEqual([{ created: 4_294_967_295 }]);
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.outOfRange)).toEqual([{ conversations: 2, chat_messages: 1 }]);
  });
});
