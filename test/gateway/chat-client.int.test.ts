/**
 * The browser chat client (gateway/web/src/shared/chat-client.ts) against a real gateway,
 * in Node.js with `ws` as its WebSocket: the agent reaches the gateway through a TCP proxy
 * that the tests cut for real, so drops, resends and resumes happen as in a browser.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { ChatClient, type ChatMessage, type SocketLike } from '../../gateway/web/src/shared/chat-client.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { gatewayEnv, login, makeAgent, untilOnline, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;
const clients: ChatClient[] = [];
const proxies: TcpProxy[] = [];

const socket = (url: string, protocols: string[]) => new WebSocket(url, protocols) as unknown as SocketLike;

function client(port: number, token: string): ChatClient {
  const c = new ChatClient({ url: `ws://127.0.0.1:${port}/ws`, getToken: async () => token, socket, minDelayMs: 50, maxDelayMs: 200, ackDelayMs: 20 });
  clients.push(c);
  c.start();
  return c;
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function proxy(options: { port?: number; delayMs?: number } = {}): Promise<TcpProxy> {
  const p = await startTcpProxy('127.0.0.1', gw.port, options);
  proxies.push(p);
  return p;
}

const texts = (list: readonly ChatMessage[]) => list.map((m) => m.text);
const seqs = (list: readonly ChatMessage[]) => list.map((m) => m.seq);

async function stored(conversationId: number): Promise<{ seq: number; text: string; client_msg_id: string }[]> {
  const { rows } = await env.db.pool.query('SELECT seq::int, text, client_msg_id FROM gateway.message WHERE conversation_id = $1 ORDER BY seq', [conversationId]);
  return rows;
}

beforeAll(async () => {
  env = await gatewayEnv('chat_client');
  gw = await env.start({ settings: { routing: [{ team: 't_cc', match: '.' }] } });
});

afterAll(async () => {
  for (const c of clients) c.stop();
  await Promise.all(proxies.map((p) => p.destroy()));
  await env?.close();
});

describe('chat client', () => {
  it('loses and doubles nothing when the agent\'s network drops while both sides write', async () => {
    const agent = await makeAgent(env, 't_cc');
    let link = await proxy();
    const agentClient = client(link.port, await login(gw.port, agent));
    await until('agent online', () => agentClient.getState().status === 'online');
    await untilOnline(env, agent);

    const visitor = client(gw.port, (await visitorToken(gw.port)).token);
    await until('visitor online', () => visitor.getState().status === 'online');
    visitor.send('hello, 我的订单在哪里?');
    const conversationId = await until('conversation', () => Number(Object.keys(agentClient.getState().conversations)[0]) || undefined);
    await until('first message at the agent', () => agentClient.messagesOf(conversationId).length === 1);
    // The visitor's ack (which names the conversation) and the agent's copy race each other.
    await until('the visitor\'s first message in its conversation', () => visitor.getState().unassigned.length === 0);

    const port = link.port;
    await link.destroy();
    await until('agent sees the drop', () => agentClient.getState().status === 'reconnecting');
    for (let i = 1; i <= 3; i++) visitor.send(`visitor ${i}`, { conversationId });
    agentClient.send('agent 1', { conversationId });
    agentClient.send('agent 2', { conversationId });
    expect(agentClient.messagesOf(conversationId).filter((m) => m.state === 'pending')).toHaveLength(2);
    await until('visitor messages stored', async () => (await stored(conversationId)).length === 4);

    link = await proxy({ port });
    await until('agent back, everything delivered', () => agentClient.getState().status === 'online' && agentClient.messagesOf(conversationId).length === 6 && agentClient.messagesOf(conversationId).every((m) => m.state === 'stored'));
    await until('visitor has the agent replies', () => visitor.messagesOf(conversationId).length === 6);

    const rows = await stored(conversationId);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const c of [agentClient, visitor]) {
      expect(seqs(c.messagesOf(conversationId))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(texts(c.messagesOf(conversationId))).toEqual(rows.map((r) => r.text));
    }
    expect(texts(agentClient.messagesOf(conversationId)).slice(4)).toEqual(['agent 1', 'agent 2']);
  });

  it('shows a message once when its ack was lost and the resend is answered as a duplicate', async () => {
    const agent = await makeAgent(env, 't_cc');
    // Answers from the gateway take 1 s through this link: the message is stored long before its ack could arrive.
    let link = await proxy({ delayMs: 1000 });
    const agentClient = client(link.port, await login(gw.port, agent));
    await until('agent online', () => agentClient.getState().status === 'online', 20_000);
    await untilOnline(env, agent);
    const visitor = client(gw.port, (await visitorToken(gw.port)).token);
    visitor.send('is anyone there?');
    const conversationId = await until('conversation', () => Number(Object.keys(agentClient.getState().conversations)[0]) || undefined, 20_000);

    agentClient.send('yes, I am here', { conversationId });
    await until('reply stored', async () => (await stored(conversationId)).length === 2);
    const port = link.port;
    await link.destroy();
    expect(agentClient.messagesOf(conversationId).find((m) => m.text === 'yes, I am here')?.state).toBe('pending');

    link = await proxy({ port });
    await until('resend acked', () => agentClient.messagesOf(conversationId).every((m) => m.state === 'stored') && agentClient.messagesOf(conversationId).length === 2);
    expect(await stored(conversationId)).toHaveLength(2);
    expect(texts(agentClient.messagesOf(conversationId))).toEqual(['is anyone there?', 'yes, I am here']);
    expect(seqs(agentClient.messagesOf(conversationId))).toEqual([1, 2]);
  });

  it('merges REST history with what the socket delivers, each seq once', async () => {
    const agent = await makeAgent(env, 't_cc');
    const agentToken = await login(gw.port, agent);
    const agentClient = client(gw.port, agentToken);
    await until('agent online', () => agentClient.getState().status === 'online');
    await untilOnline(env, agent);
    const visitor = client(gw.port, (await visitorToken(gw.port)).token);
    visitor.send('one');
    const conversationId = await until('conversation', () => Number(Object.keys(agentClient.getState().conversations)[0]) || undefined);
    visitor.send('two', { conversationId });
    await until('two messages', () => agentClient.messagesOf(conversationId).length === 2);

    const res = await fetch(`http://127.0.0.1:${gw.port}/api/conversations/${conversationId}/messages?after=0`, { headers: { authorization: `Bearer ${agentToken}` } });
    const body = (await res.json()) as { messages: { seq: number; sender: ChatMessage['sender']; clientMsgId: string; text: string; at: string }[] };
    agentClient.merge(conversationId, body.messages.map((m) => ({ ...m, conversationId, state: 'stored' as const, mine: false })));
    expect(texts(agentClient.messagesOf(conversationId))).toEqual(['one', 'two']);
  });

  it('stops as unauthorized when the agent is disabled while connected', async () => {
    const agent = await makeAgent(env, 't_cc');
    const agentClient = client(gw.port, await login(gw.port, agent));
    await until('agent online', () => agentClient.getState().status === 'online');
    await env.db.pool.query('UPDATE gateway.agent SET disabled_at = now() WHERE id = $1', [agent.id]);
    await env.redis.publish(env.keys.agent(agent.id), JSON.stringify({ e: 'kick', reason: 'agent disabled' }));
    await until('unauthorized', () => agentClient.getState().status === 'unauthorized');
  });
});
