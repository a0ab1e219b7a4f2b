/** `GET /api/team/conversations`: what teammates hold, for agents of that team only. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { connectAgent, gatewayEnv, http, login, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('team');
  gw = await env.start({ settings: { routing: [{ team: 't_team', match: '^team:' }] } });
});

afterAll(async () => {
  await env?.close();
});

describe('team conversations', () => {
  it("lists teammates' open conversations with the holder's name, not one's own nor other teams'", async () => {
    const holder = await makeAgent(env, 't_team', 'holder');
    const mate = await makeAgent(env, 't_team', 'mate');
    const stranger = await makeAgent(env, 't_other', 'stranger');
    const holderWs = await connectAgent(env, gw.port, holder);
    const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
    const { conversationId } = await sendAndAck(visitor, { clientMsgId: 'm1', text: 'team: hello' });
    await holderWs.next((f) => f.type === 'conversation' && f.conversation.id === conversationId);

    const asMate = await http(gw.port, 'GET', '/api/team/conversations', undefined, { authorization: `Bearer ${await login(gw.port, mate)}` });
    expect(asMate.status).toBe(200);
    expect(asMate.json).toMatchObject({ team: 't_team', conversations: [{ id: conversationId, assignedAgentId: holder.id, assignedAgentName: 'holder', status: 'open' }] });

    const asHolder = await http(gw.port, 'GET', '/api/team/conversations', undefined, { authorization: `Bearer ${await login(gw.port, holder)}` });
    expect(asHolder.json).toEqual({ team: 't_team', conversations: [] });
    const asStranger = await http(gw.port, 'GET', '/api/team/conversations', undefined, { authorization: `Bearer ${await login(gw.port, stranger)}` });
    expect(asStranger.json).toEqual({ team: 't_other', conversations: [] });

    // Closed ones leave the view.
    holderWs.send({ type: 'close', conversationId });
    await holderWs.next((f) => f.type === 'conversation' && f.event === 'closed');
    const afterClose = await http(gw.port, 'GET', '/api/team/conversations', undefined, { authorization: `Bearer ${await login(gw.port, mate)}` });
    expect(afterClose.json).toEqual({ team: 't_team', conversations: [] });
    holderWs.close();
    visitor.close();
  });

  it('is for agents only', async () => {
    const r = await http(gw.port, 'GET', '/api/team/conversations', undefined, { authorization: `Bearer ${(await visitorToken(gw.port)).token}` });
    expect([r.status, r.code]).toEqual([403, 'GW_FORBIDDEN']);
    const none = await http(gw.port, 'GET', '/api/team/conversations');
    expect([none.status, none.code]).toEqual([401, 'GW_AUTH_REQUIRED']);
  });
});
