/** A socket session against the real services when Redis fails under it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('session');
  gw = await env.start();
});

afterAll(async () => {
  await env?.close();
});

describe('socket session', () => {
  it('keeps the socket open when relaying typing or read fails (Redis gone)', async () => {
    const { client } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
    const { conversationId, seq } = await sendAndAck(client, { clientMsgId: 'first', text: 'hi' });
    // The instance's publishing connection goes away for good: every PUBLISH now fails.
    gw.context.redis.disconnect();
    client.send({ type: 'typing', conversationId });
    client.send({ type: 'read', conversationId, seq });
    // Answered without Redis, after the two relays (frames are handled in order): the socket is still served.
    client.send({ type: 'typing', conversationId: 999_999 });
    await Promise.race([client.next((f) => f.type === 'error' && f.conversationId === 999_999), client.closed]);
    expect(client.frames.filter((f) => f.type === 'error').map((f) => f.type === 'error' && f.code)).toEqual(['GW_CONVERSATION_NOT_FOUND']);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    client.close();
  });
});
