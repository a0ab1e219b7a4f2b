/**
 * The REST calls the agent console pages with: history backwards (`before`), read marks in
 * the history answer, and `GET /api/agents` (transfer targets with presence and teams).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAgentDisabled } from '../../gateway/store/agents.js';
import type { RunningGateway } from '../../gateway/server.js';
import { connectAgent, gatewayEnv, http, login, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('history');
  gw = await env.start({ settings: { default_team: 'support', routing: [{ team: 'vip', match: 'vip' }, { team: 'export', language: ['en'] }] } });
});

afterAll(async () => {
  await env?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const seqsOf = (json: Record<string, unknown> | null) => (json!.messages as { seq: number }[]).map((m) => m.seq);

describe('GET /api/conversations/:id/messages?before=', () => {
  let conversationId: number;
  let token: string;
  let visitor: TestClient;

  beforeAll(async () => {
    const agent = await makeAgent(env, 'support', 'pager');
    token = await login(gw.port, agent);
    const v = await visitorToken(gw.port);
    ({ client: visitor } = await TestClient.connect(gw.port, v.token));
    const first = await sendAndAck(visitor, { clientMsgId: 'h-1', text: '你好，第 1 条' });
    conversationId = first.conversationId;
    for (let i = 2; i <= 7; i++) await sendAndAck(visitor, { conversationId, clientMsgId: `h-${i}`, text: `message ${i}` });
  });

  afterAll(() => visitor?.close());

  const page = (query: string) => http(gw.port, 'GET', `/api/conversations/${conversationId}/messages?${query}`, undefined, bearer(token));

  it('pages backwards from the latest page to the first message, ascending within a page', async () => {
    const latest = await page('before=8&limit=3');
    expect(latest.status).toBe(200);
    expect(seqsOf(latest.json)).toEqual([5, 6, 7]);
    expect(latest.json!.nextBefore).toBe(5);
    expect(latest.json!.nextAfter).toBeNull();

    const middle = await page('before=5&limit=3');
    expect(seqsOf(middle.json)).toEqual([2, 3, 4]);
    expect(middle.json!.nextBefore).toBe(2);

    const oldest = await page('before=2&limit=3');
    expect(seqsOf(oldest.json)).toEqual([1]);
    expect((oldest.json!.messages as { text: string }[])[0]!.text).toBe('你好，第 1 条');
    expect(oldest.json!.nextBefore).toBeNull();
  });

  it('says there is nothing older when a page ends exactly at seq 1', async () => {
    const r = await page('before=4&limit=3');
    expect(seqsOf(r.json)).toEqual([1, 2, 3]);
    expect(r.json!.nextBefore).toBeNull();
  });

  it('answers a before beyond the last seq with the latest page', async () => {
    const r = await page('before=1000&limit=2');
    expect(seqsOf(r.json)).toEqual([6, 7]);
    expect(r.json!.nextBefore).toBe(6);
  });

  it('keeps paging forwards with after (nextBefore null)', async () => {
    const r = await page('after=2&limit=2');
    expect(seqsOf(r.json)).toEqual([3, 4]);
    expect(r.json!.nextAfter).toBe(4);
    expect(r.json!.nextBefore).toBeNull();
  });

  it('refuses after and before together, and a before below 1', async () => {
    for (const q of ['after=1&before=5', 'before=0', 'before=x']) {
      const r = await page(q);
      expect([q, r.status, r.code]).toEqual([q, 400, 'GW_BAD_REQUEST']);
    }
  });

  it('applies the visibility rule to before pages too', async () => {
    const stranger = await makeAgent(env, 'billing', 'pager-stranger');
    const r = await http(gw.port, 'GET', `/api/conversations/${conversationId}/messages?before=8`, undefined, bearer(await login(gw.port, stranger)));
    expect([r.status, r.code]).toEqual([404, 'GW_CONVERSATION_NOT_FOUND']);
  });

  it("includes the participants' read marks", async () => {
    visitor.send({ type: 'read', conversationId, seq: 6 });
    // Receipts are written in batches: wait for this one to land (the test times out otherwise).
    let reads: Record<string, number> = {};
    while (Object.keys(reads).length === 0) {
      reads = (await page('before=8&limit=1')).json!.reads as Record<string, number>;
      if (Object.keys(reads).length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(Object.values(reads)).toEqual([6]);
    expect(Object.keys(reads)[0]).toMatch(/^visitor:/);
  });
});

describe('a conversation closed while queued', () => {
  it("is no longer the team's to read: messages, context and canned replies are not found; its visitor still reads it", async () => {
    const agent = await makeAgent(env, 'export', 'queue-reader'); // never online: the conversation stays queued
    const token = await login(gw.port, agent);
    const v = await visitorToken(gw.port);
    const { client: visitor } = await TestClient.connect(gw.port, v.token);
    visitor.send({ type: 'msg', clientMsgId: 'q-1', text: 'my order number is 1234', page: { language: 'en' } });
    const ack = await visitor.next((f) => f.type === 'ack' || f.type === 'error');
    if (ack.type !== 'ack') throw new Error(`refused: ${JSON.stringify(ack)}`);
    const id = ack.conversationId;
    const paths = [`/api/conversations/${id}/messages`, `/api/conversations/${id}/context`, `/api/conversations/${id}/canned`];
    const asAgent = async () => Promise.all(paths.map(async (p) => (await http(gw.port, 'GET', p, undefined, bearer(token))).code ?? 'ok'));
    // Queued: the team's (the context answers that no customer is linked yet).
    expect(await asAgent()).toEqual(['ok', 'GW_CUSTOMER_NOT_LINKED', 'ok']);
    visitor.send({ type: 'close', conversationId: id });
    await visitor.next((f) => f.type === 'conversation' && f.event === 'closed');
    expect(await asAgent()).toEqual(Array(3).fill('GW_CONVERSATION_NOT_FOUND'));
    const own = await http(gw.port, 'GET', `/api/conversations/${id}/messages`, undefined, bearer(v.token));
    expect([own.status, seqsOf(own.json)]).toEqual([200, [1]]);
    visitor.close();
  });
});

describe('GET /api/agents', () => {
  it('lists enabled agents with presence and every team a conversation can go to', async () => {
    const online = await makeAgent(env, 'support', 'list-online');
    const offline = await makeAgent(env, 'sales', 'list-offline');
    const gone = await makeAgent(env, 'legacy', 'list-disabled');
    await setAgentDisabled(env.db.pool, gone.email, true);
    const ws = await connectAgent(env, gw.port, online);

    const r = await http(gw.port, 'GET', '/api/agents', undefined, bearer(await login(gw.port, offline)));
    expect(r.status).toBe(200);
    const agents = r.json!.agents as { id: number; name: string; team: string; online: boolean }[];
    expect(agents.find((a) => a.id === online.id)).toEqual({ id: online.id, name: 'list-online', team: 'support', online: true });
    expect(agents.find((a) => a.id === offline.id)).toEqual({ id: offline.id, name: 'list-offline', team: 'sales', online: false });
    expect(agents.some((a) => a.id === gone.id)).toBe(false);
    // Agents' teams ∪ routing rules' teams ∪ the default team; a disabled agent's team is not one.
    expect(r.json!.teams).toEqual(expect.arrayContaining(['export', 'sales', 'support', 'vip']));
    expect(r.json!.teams).not.toContain('legacy');
    const teams = r.json!.teams as string[];
    expect(teams).toEqual([...teams].sort());
    expect(new Set(teams).size).toBe(teams.length);
    ws.close();
  });

  it('is for agents only', async () => {
    const v = await visitorToken(gw.port);
    const byVisitor = await http(gw.port, 'GET', '/api/agents', undefined, bearer(v.token));
    expect([byVisitor.status, byVisitor.code]).toEqual([403, 'GW_FORBIDDEN']);
    const anonymous = await http(gw.port, 'GET', '/api/agents');
    expect([anonymous.status, anonymous.code]).toEqual([401, 'GW_AUTH_REQUIRED']);
  });
});
