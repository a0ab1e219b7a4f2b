/**
 * The message path's group commit against the real PostgreSQL: one row the database cannot
 * hold fails only its own request, not the batch it shares a transaction with. The protocol
 * refuses NUL before it gets here, so these requests go to the message path directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJunctionError } from '../../config/errors.js';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('msgpath');
  gw = await env.start({ settings: { commit_lanes: 1 } });
});

afterAll(async () => {
  await env?.close();
});

/** A visitor's conversation with one stored message (seq 1). */
async function conversation(): Promise<{ conversationId: number; senderId: string; client: TestClient }> {
  const { client, welcome } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
  const ack = await sendAndAck(client, { clientMsgId: 'first', text: 'hi' });
  return { conversationId: ack.conversationId, senderId: welcome.participantId, client };
}

const outcome = (p: Promise<{ message: { seq: number } }>) =>
  p.then(
    (r) => ({ seq: r.message.seq }),
    (err: unknown) => (isJunctionError(err) ? { code: err.code, retryable: err.retryable } : { unexpected: String(err) }),
  );

describe('message path', () => {
  it('stores the rest of a batch when one message is a data error (SQLSTATE 22), and refuses that one for good', async () => {
    const [a, b] = [await conversation(), await conversation()];
    const before = gw.commitStats().batches;
    // Submitted in one turn of the event loop, on one lane: one batch.
    const results = await Promise.all([
      outcome(gw.context.messages.submit({ conversationId: a.conversationId, senderId: a.senderId, clientMsgId: 'a2', text: 'before' })),
      outcome(gw.context.messages.submit({ conversationId: b.conversationId, senderId: b.senderId, clientMsgId: 'b2', text: 'a\u0000b' })),
      outcome(gw.context.messages.submit({ conversationId: a.conversationId, senderId: a.senderId, clientMsgId: 'a3', text: 'after' })),
    ]);
    expect(gw.commitStats().batches - before).toBe(1);
    expect(results).toEqual([{ seq: 2 }, { code: 'GW_BAD_FRAME', retryable: false }, { seq: 3 }]);
    const { rows } = await env.db.pool.query<{ text: string }>('SELECT text FROM gateway.message WHERE conversation_id = $1 ORDER BY seq', [a.conversationId]);
    expect(rows.map((r) => r.text)).toEqual(['hi', 'before', 'after']);
    // Alone in its batch it is refused the same way: resending would fail again.
    expect(await outcome(gw.context.messages.submit({ conversationId: b.conversationId, senderId: b.senderId, clientMsgId: 'b3', text: '\u0000' }))).toEqual({
      code: 'GW_BAD_FRAME',
      retryable: false,
    });
    a.client.close();
    b.client.close();
  });
});
