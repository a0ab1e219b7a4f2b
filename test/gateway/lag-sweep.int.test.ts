/**
 * A message committed by an instance that died before publishing it (simulated: written
 * straight to the store, announced nowhere) still reaches the live sockets of other
 * instances, through the lag sweep, without them writing or reconnecting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('lag_sweep');
  gw = await env.start({ settings: { reassign_sweep_ms: 200 } });
});

afterAll(async () => {
  await env?.close();
});

/** Stores a visitor message the way a commit does, with no fan-out event: its instance died. */
async function storeUnannounced(conversationId: number, visitorId: string, clientMsgId: string, text: string): Promise<number> {
  const { rows } = await env.db.pool.query<{ seq: string }>(
    `WITH c AS (UPDATE gateway.conversation SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq)
     INSERT INTO gateway.message (conversation_id, seq, sender_kind, sender_id, client_msg_id, text)
     SELECT $1, last_seq, 'visitor', $2, $3, $4 FROM c RETURNING seq`,
    [conversationId, `visitor:${visitorId}`, clientMsgId, text],
  );
  return Number(rows[0]!.seq);
}

describe('the lag sweep', () => {
  it('delivers a stored message that was never announced to the live sockets of its conversation', async () => {
    const agent = await connectAgent(env, gw.port, await makeAgent(env));
    const session = await visitorToken(gw.port);
    const { client: visitor } = await TestClient.connect(gw.port, session.token);
    const { conversationId } = await sendAndAck(visitor, { clientMsgId: 'v-1', text: 'hello' });
    await agent.next((f) => f.type === 'msg' && f.clientMsgId === 'v-1');

    const seq = await storeUnannounced(conversationId, session.visitorId, 'v-orphan', 'sent just before the crash');
    const got = await agent.next((f) => f.type === 'msg' && f.clientMsgId === 'v-orphan', 5000);
    expect(got).toMatchObject({ conversationId, seq: 2, text: 'sent just before the crash' });
    expect(seq).toBe(2);
    // The visitor's other view of it (as if from another tab) arrives too, once each.
    await visitor.next((f) => f.type === 'msg' && f.clientMsgId === 'v-orphan', 5000);
    expect(agent.timeline(conversationId).map((m) => m.seq)).toEqual([1, 2]);
    agent.close();
    visitor.close();
  });
});
