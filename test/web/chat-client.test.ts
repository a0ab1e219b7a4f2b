/**
 * The browser chat client (gateway/web/src/shared/chat-client.ts) against a fake socket, for
 * what a real gateway makes hard to time: a retry or a React StrictMode remount while the
 * token is on its way (one socket, never an orphan), a welcome that no longer lists a
 * conversation lost while away, a conversation transferred away (its customer context goes
 * with it), and resume points and acks that never skip a hole a REST page left.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, type ChatClientOptions, type ChatMessage, type ConversationSummary, type ServerFrame } from '../../gateway/web/src/shared/chat-client.js';
import { FakeSocket } from './fake-socket.js';

const TOKEN_MS = 30;
let sockets: FakeSocket[];
const clients: ChatClient[] = [];

function chatClient(options: Partial<ChatClientOptions> = {}): ChatClient {
  const c = new ChatClient({
    url: 'ws://gateway.test/ws',
    // The token takes a while (a refresh): the window in which a second attempt used to start.
    getToken: () => new Promise((resolve) => setTimeout(() => resolve('tok'), TOKEN_MS)),
    socket: () => {
      const ws = new FakeSocket();
      sockets.push(ws);
      return ws;
    },
    minDelayMs: 100,
    maxDelayMs: 100,
    ackDelayMs: 5,
    ...options,
  });
  clients.push(c);
  return c;
}

const T0 = '2026-03-02T08:00:00.000Z';

function conv(id: number, over: Partial<ConversationSummary> = {}): ConversationSummary {
  return { id, status: 'open', team: 'support', assignedAgentId: 7, visitorId: `v${id}`, customerId: 50 + id, lastSeq: 0, createdAt: T0, version: 1, ...over };
}

function welcome(conversations: ConversationSummary[]): ServerFrame {
  return {
    type: 'welcome', sessionId: 's', instanceId: 'i', role: 'agent', participantId: 'agent:7', conversations,
    heartbeatMs: 30_000, maxPayloadBytes: 16_384, maxTextChars: 4000, tokenExpiresAt: '2026-03-02T09:00:00.000Z', tokenExpiresIn: 3600,
  };
}

const msg = (conversationId: number, seq: number): ServerFrame => ({
  type: 'msg', conversationId, seq, sender: { kind: 'visitor', id: `visitor:v${conversationId}` }, clientMsgId: `c${seq}`, text: `m${seq}`, at: T0,
});

const context = (conversationId: number, name: string): ServerFrame => ({
  type: 'context', conversationId, customerId: 50 + conversationId, reason: 'linked',
  parts: { customer: { asOf: T0, stale: false, data: { fields: { name } } } },
});

const typing = (conversationId: number): ServerFrame => ({ type: 'typing', conversationId, who: { kind: 'visitor', id: `visitor:v${conversationId}` }, on: true });

/** Stored messages as a REST history page gives them. */
function page(conversationId: number, from: number, to: number): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (let seq = from; seq <= to; seq++) {
    out.push({ conversationId, seq, clientMsgId: `c${seq}`, sender: { kind: 'visitor', id: `visitor:v${conversationId}` }, text: `m${seq}`, at: T0, state: 'stored', mine: false });
  }
  return out;
}

/** Starts a client and brings its first socket online with `conversations`. */
async function online(c: ChatClient, conversations: ConversationSummary[]): Promise<FakeSocket> {
  c.start();
  await vi.advanceTimersByTimeAsync(TOKEN_MS);
  const ws = sockets.at(-1)!;
  ws.open();
  ws.receive(welcome(conversations));
  return ws;
}

/** Drops the socket and opens the next one: the hello it sends. */
async function reconnect(ws: FakeSocket): Promise<{ next: FakeSocket; hello: Record<string, unknown> }> {
  ws.drop();
  await vi.advanceTimersByTimeAsync(200 + TOKEN_MS);
  const next = sockets.at(-1)!;
  expect(next).not.toBe(ws);
  next.open();
  return { next, hello: next.sent[0]! };
}

beforeEach(() => {
  sockets = [];
  vi.useFakeTimers({ now: Date.parse(T0) });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
  vi.useRealTimers();
});

describe('the token after a close', () => {
  it('asks getToken to renew after a 4401 close (token refused: expired, or the agent moved), not after a plain drop', async () => {
    const hints: (boolean | undefined)[] = [];
    const c = chatClient({ getToken: (hint) => (hints.push(hint?.rejected), Promise.resolve('tok')) });
    const first = await online(c, []);
    first.drop(1006);
    await vi.advanceTimersByTimeAsync(200);
    const second = sockets.at(-1)!;
    expect(second).not.toBe(first);
    second.open();
    second.receive(welcome([]));
    second.drop(4401);
    await vi.advanceTimersByTimeAsync(200);
    expect(sockets.at(-1)).not.toBe(second);
    expect(hints).toEqual([false, false, true]);
  });
});

describe('the chat client opens one socket at a time', () => {
  it('ignores retryNow (the browser back online) while an attempt waits for its token', async () => {
    const c = chatClient();
    c.start();
    await vi.advanceTimersByTimeAsync(1);
    c.retryNow();
    await vi.advanceTimersByTimeAsync(2 * TOKEN_MS);
    expect(sockets).toHaveLength(1);
    c.stop();
    expect(sockets[0]!.closed).toBe(true);
  });

  it('leaves one socket after stop and start while the token is on its way (React StrictMode), and stop closes it', async () => {
    const c = chatClient();
    c.start();
    c.stop();
    c.start();
    await vi.advanceTimersByTimeAsync(2 * TOKEN_MS);
    expect(sockets).toHaveLength(1);
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([{ type: 'hello', resume: {} }]);
    c.stop();
    expect(sockets.map((s) => s.closed)).toEqual([true]);
  });

  it('closes a socket that opens after it was given up, instead of greeting the server on it', async () => {
    const c = chatClient();
    c.start();
    await vi.advanceTimersByTimeAsync(TOKEN_MS);
    const ws = sockets[0]!;
    c.stop();
    ws.closed = false;
    ws.open(); // a socket that opened anyway
    expect(ws.sent).toEqual([]);
    expect(ws.closed).toBe(true);
  });

  it('does not start a second attempt from the backoff timer while retryNow started one during the auth check', async () => {
    let tokens = 0;
    const c = chatClient({
      // The second token takes longer than the backoff: a refresh on a slow network.
      getToken: () => new Promise((resolve) => setTimeout(() => resolve('tok'), tokens++ === 0 ? 0 : 500)),
      checkAuth: () => new Promise((resolve) => setTimeout(() => resolve(true), 20)),
    });
    c.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]!.drop(); // refused before it opened: the client checks the token first
    await vi.advanceTimersByTimeAsync(5);
    c.retryNow(); // 'online' while the check runs
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    expect(sockets[1]!.sent).toEqual([{ type: 'hello', resume: {} }]);
  });
});

describe('the welcome after a reconnect', () => {
  it('drops an open conversation it no longer lists, with its customer context and typing', async () => {
    const c = chatClient();
    const ws = await online(c, [conv(1), conv(2)]);
    ws.receive(context(1, 'Ann'));
    ws.receive(context(2, 'Bo'));
    ws.receive(msg(1, 1));
    ws.receive(typing(1));
    // Away past the grace period: conversation 1 went to another agent.
    const { next } = await reconnect(ws);
    next.receive(welcome([conv(2)]));
    const s = c.getState();
    expect(Object.keys(s.conversations)).toEqual(['2']);
    expect(Object.keys(s.contexts)).toEqual(['2']);
    expect(s.typing[1]).toBeUndefined();
  });

  it('keeps closed conversations, and one that closed while away comes back with its context in its closed frame', async () => {
    const c = chatClient();
    const ws = await online(c, [conv(1), conv(2)]);
    ws.receive(context(1, 'Ann'));
    ws.receive(context(2, 'Bo'));
    ws.receive(msg(1, 1));
    ws.receive(msg(2, 1));
    ws.receive({ type: 'conversation', event: 'closed', conversation: conv(2, { status: 'closed', lastSeq: 1 }) });
    const { next, hello } = await reconnect(ws);
    expect(hello).toEqual({ type: 'hello', resume: { 1: 1, 2: 1 } });
    // Conversation 1 closed while away: not in the welcome, then its missed messages and its closed frame.
    next.receive(welcome([]));
    expect(Object.keys(c.getState().conversations)).toEqual(['2']);
    next.receive(msg(1, 2));
    next.receive({ type: 'conversation', event: 'closed', conversation: conv(1, { status: 'closed', lastSeq: 2 }) });
    const s = c.getState();
    expect(s.conversations[1]?.status).toBe('closed');
    expect(s.contexts[1]?.parts.customer?.data).toEqual({ fields: { name: 'Ann' } });
    expect(s.conversations[2]?.status).toBe('closed');
    expect(s.contexts[2]?.parts.customer?.data).toEqual({ fields: { name: 'Bo' } });
  });
});

describe('a conversation that leaves the agent', () => {
  it('takes its customer context and typing along when transferred to another agent', async () => {
    const c = chatClient();
    const ws = await online(c, [conv(1), conv(2)]);
    ws.receive(context(1, 'Ann'));
    ws.receive(context(2, 'Bo'));
    ws.receive(typing(1));
    ws.receive({ type: 'conversation', event: 'transferred', conversation: conv(1, { assignedAgentId: 9 }) });
    const s = c.getState();
    expect(s.contexts[1]).toBeUndefined();
    expect(s.typing[1]).toBeUndefined();
    expect(s.contexts[2]).toBeDefined();
    // The summary stays: the console says the conversation is no longer the agent's.
    expect(s.conversations[1]?.assignedAgentId).toBe(9);
  });

  it("goes by the console's rule when given one: to another team's queue", async () => {
    const c = chatClient({ sees: (x) => x.assignedAgentId === 7 || (x.assignedAgentId === null && x.team === 'support') });
    const ws = await online(c, [conv(1), conv(2)]);
    ws.receive(context(1, 'Ann'));
    ws.receive(context(2, 'Bo'));
    ws.receive({ type: 'conversation', event: 'queued', conversation: conv(1, { assignedAgentId: null, team: 'billing' }) });
    ws.receive({ type: 'conversation', event: 'queued', conversation: conv(2, { assignedAgentId: null }) });
    expect(Object.keys(c.getState().contexts)).toEqual(['2']);
  });
});

describe('resume points and acks', () => {
  it('resume from the end of the unbroken run when a REST page left a hole, and the resend fills it', async () => {
    const c = chatClient();
    const ws = await online(c, [conv(1, { lastSeq: 200 })]);
    // After a reload the socket resends 11..200 in order; the latest REST page lands meanwhile.
    for (let seq = 11; seq <= 60; seq++) ws.receive(msg(1, seq));
    c.merge(1, page(1, 151, 200));
    await vi.advanceTimersByTimeAsync(10);
    expect(ws.sent.filter((f) => f.type === 'ack').at(-1)).toEqual({ type: 'ack', conversationId: 1, seq: 60 });
    // The newest message held, which the latest history page goes by, is still 200.
    expect(c.lastSeq(1)).toBe(200);

    const { next, hello } = await reconnect(ws);
    expect(hello).toEqual({ type: 'hello', resume: { 1: 60 } });
    next.receive(welcome([conv(1, { lastSeq: 200 })]));
    for (let seq = 61; seq <= 200; seq++) next.receive(msg(1, seq));
    expect(c.messagesOf(1).map((m) => m.seq)).toEqual(Array.from({ length: 190 }, (_, i) => 11 + i));
    expect(c.heldThrough(1)).toBe(200);
  });

  it('acks a regained conversation no further than before the messages written while it was elsewhere', async () => {
    const c = chatClient();
    const ws = await online(c, [conv(2, { lastSeq: 50 })]);
    for (let seq = 1; seq <= 50; seq++) ws.receive(msg(2, seq));
    ws.receive({ type: 'conversation', event: 'transferred', conversation: conv(2, { assignedAgentId: 9, lastSeq: 50 }) });
    ws.receive({ type: 'conversation', event: 'transferred', conversation: conv(2, { lastSeq: 80 }) });
    ws.receive(msg(2, 81));
    await vi.advanceTimersByTimeAsync(10);
    expect(ws.sent.filter((f) => f.type === 'ack').at(-1)).toEqual({ type: 'ack', conversationId: 2, seq: 50 });
    const { hello } = await reconnect(ws);
    expect(hello).toEqual({ type: 'hello', resume: { 2: 50 } });
  });

  it('counts pending messages out of the run', () => {
    const c = chatClient();
    c.merge(3, page(3, 4, 6));
    c.send('on its way', { conversationId: 3 });
    expect(c.heldThrough(3)).toBe(6);
    expect(c.heldThrough(4)).toBe(0);
  });
});
