/**
 * Nothing lost, nothing doubled: 26 visitors and 4 agents spread over two instances chat;
 * mid-stream 10% of the sockets (2 visitors, 1 agent) drop without a close handshake and
 * come back on the other instance with their resume points, resending what was not acked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, login, makeAgent, visitorToken, type GatewayEnv } from './helpers.js';
import { ResilientClient } from './resilient-client.js';

let env: GatewayEnv;
let a: RunningGateway;
let b: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('resume');
  // Room for every conversation (26 over 4 agents): a queued one would be answered by the whole team.
  const settings = { agent_capacity: 10 };
  a = await env.start({ settings });
  b = await env.start({ settings });
});

afterAll(async () => {
  await env?.close();
});

const VISITORS = 26;
const AGENTS = 4;
const PER_VISITOR = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `done` until it holds or the deadline passes (the test then fails on its assertions). */
async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(25);
}

describe('resume after dropped sockets', () => {
  it('loses and duplicates nothing when 10% of the sockets drop mid-stream', async () => {
    const ports = [a.port, b.port];
    const agents: ResilientClient[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const agent = await makeAgent(env, 'support', `resume_agent${i}`);
      const client = new ResilientClient(await login(ports[i % 2]!, agent));
      // Each visitor message gets exactly one reply, whatever the agent sees twice.
      client.onMessage = (m) => {
        if (m.sender.kind === 'visitor') client.send({ conversationId: m.conversationId, clientMsgId: `re-${m.clientMsgId}`, text: `re: ${m.text}` });
      };
      await client.connect(ports[i % 2]!);
      agents.push(client);
    }
    const visitors: ResilientClient[] = [];
    for (let i = 0; i < VISITORS; i++) {
      const v = new ResilientClient((await visitorToken(ports[i % 2]!)).token);
      await v.connect(ports[i % 2]!);
      visitors.push(v);
    }

    // First messages open the conversations (acked before the stream starts).
    visitors.forEach((v, i) => v.send({ clientMsgId: `v${i}-0`, text: `visitor ${i} message 0` }));
    await until(() => visitors.every((v) => v.conversationId !== undefined), 15_000);
    expect(visitors.every((v) => v.conversationId !== undefined)).toBe(true);

    const dropped = [visitors[3]!, visitors[10]!, agents[1]!];
    const stream = async (v: ResilientClient, i: number) => {
      for (let n = 1; n < PER_VISITOR; n++) {
        v.send({ conversationId: v.conversationId, clientMsgId: `v${i}-${n}`, text: `visitor ${i} message ${n}` });
        await sleep(5 + (i % 7));
      }
    };
    const senders = visitors.map(stream);
    await sleep(60);
    for (const c of dropped) c.drop();
    await sleep(100);
    // Messages written while offline wait in the clients, to be sent after the resume.
    expect(dropped.slice(0, 2).every((c) => c.pending.size > 0)).toBe(true);
    // Each comes back on the other instance than before.
    await Promise.all(dropped.map((c, i) => c.connect(ports[(i + 1) % 2]!)));
    await Promise.all(senders);

    const total = PER_VISITOR * 2;
    const finished = () => visitors.every((v) => v.pending.size === 0 && v.lastSeq.get(v.conversationId!) === total) && agents.every((g) => g.pending.size === 0);
    await until(finished, 30_000);

    expect(dropped.every((c) => c.connections === 2)).toBe(true);
    expect(visitors.flatMap((v) => v.errors).concat(agents.flatMap((g) => g.errors))).toEqual([]);
    // Stored: every message exactly once.
    const { rows } = await env.db.pool.query<{ conversation_id: string; n: number; top: number; visitor: number; agent: number }>(
      `SELECT conversation_id, count(*)::int AS n, max(seq)::int AS top,
              count(*) FILTER (WHERE sender_kind = 'visitor')::int AS visitor, count(*) FILTER (WHERE sender_kind = 'agent')::int AS agent
       FROM gateway.message GROUP BY conversation_id`,
    );
    expect(rows).toHaveLength(VISITORS);
    for (const r of rows) expect([r.n, r.top, r.visitor, r.agent]).toEqual([total, total, PER_VISITOR, PER_VISITOR]);
    // Delivered: each visitor got 1..60 once each, in order, across its connections.
    for (const v of visitors) expect(v.seqs(v.conversationId!)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Each agent got every conversation it handled whole: no repeat, no gap.
    const handled = new Set<number>();
    for (const g of agents) {
      for (const [conversationId] of g.received) {
        expect(g.seqs(conversationId)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        handled.add(conversationId);
      }
    }
    expect(handled.size).toBe(VISITORS);
    for (const c of [...visitors, ...agents]) c.close();
  });
});
