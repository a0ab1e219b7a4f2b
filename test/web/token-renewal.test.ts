/**
 * Token renewal on a browser whose clock is hours off the server's: the chat client
 * (gateway/web/src/shared/chat-client.ts), the agent console's session
 * (gateway/web/src/agent/session.ts) and the widget's (gateway/web/src/widget/session.ts)
 * renew RENEW_LEAD_MS before the expiry the server states, counted from the answer's arrival
 * (token-lifetime.ts), never too late (behind) nor in a loop (ahead). Fake timers drive the
 * browser's clock; the "server" stamps its answers from its own clock, `skew` apart.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, RENEW_LEAD_MS } from '../../gateway/web/src/shared/chat-client.js';
import { FakeSocket } from './fake-socket.js';

// Computed specifiers: the root tsconfig (no DOM) must not follow these into gateway/web,
// which `tsc -p gateway/web` checks; vitest transforms them itself.
const AGENT_SESSION_MODULE = '../../gateway/web/src/agent/session.js';
const VISITOR_SESSION_MODULE = '../../gateway/web/src/widget/session.js';

const SERVER_T0 = Date.parse('2026-03-02T08:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

/** Skews of the browser's clock against the server's. */
const SKEWS = [
  ['3 h behind', -3 * HOUR],
  ['3 h ahead', 3 * HOUR],
  ['right', 0],
] as const;

/** The server's clock while the browser's (faked) one says Date.now(). */
let skew = 0;
const serverNow = () => Date.now() - skew;
/** How the gateway states a token's expiry: its own time, and seconds from the answer. */
const expiry = (ttlSeconds: number) => ({ expiresAt: new Date(serverNow() + ttlSeconds * 1000).toISOString(), expiresIn: ttlSeconds });

function startClock(s: number): void {
  skew = s;
  vi.useFakeTimers({ now: SERVER_T0 + s });
}

/** `sessionStorage` / `localStorage` for Node. */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

/** A fetch that answers each call with the next of `answers` (as JSON, 200) and records the calls. */
function fakeFetch(answers: (() => unknown)[]) {
  const calls: { url: string; authorization: string | null }[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit = {}) => {
    calls.push({ url, authorization: new Headers(init.headers).get('authorization') });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    return new Response(JSON.stringify(answer()), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fetch);
  return calls;
}

beforeEach(() => {
  vi.stubGlobal('sessionStorage', memoryStorage());
  vi.stubGlobal('localStorage', memoryStorage());
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the chat client renews the socket token by the lifetime the server states', () => {
  it.each(SKEWS)('with the browser clock %s: once, RENEW_LEAD_MS before the expiry, then not again until the next one', async (_what, s) => {
    startClock(s);
    const sockets: FakeSocket[] = [];
    let tokenCalls = 0;
    const client = new ChatClient({
      url: 'ws://gateway.test/ws',
      getToken: async () => `t${++tokenCalls}`,
      socket: () => {
        const ws = new FakeSocket(1);
        sockets.push(ws);
        return ws;
      },
    });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = sockets[0]!;
    ws.onopen?.({});
    const { expiresAt, expiresIn } = expiry(3600);
    ws.receive({
      type: 'welcome', sessionId: 's', instanceId: 'i', role: 'agent', participantId: 'agent:1', conversations: [],
      heartbeatMs: 30_000, maxPayloadBytes: 16_384, maxTextChars: 4000, tokenExpiresAt: expiresAt, tokenExpiresIn: expiresIn,
    });
    expect(client.getState().status).toBe('online');
    const auths = () => ws.sent.filter((f) => f.type === 'auth');

    await vi.advanceTimersByTimeAsync(HOUR - RENEW_LEAD_MS - MIN);
    expect({ tokenCalls, auths: auths().length }).toEqual({ tokenCalls: 1, auths: 0 });
    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(auths()).toEqual([{ type: 'auth', token: 't2' }]);

    const renewed = expiry(3600);
    ws.receive({ type: 'auth', expiresAt: renewed.expiresAt, expiresIn: renewed.expiresIn });
    await vi.advanceTimersByTimeAsync(HOUR - RENEW_LEAD_MS - MIN);
    expect({ tokenCalls, auths: auths().length }).toEqual({ tokenCalls: 2, auths: 1 });
    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(auths().map((f) => f.token)).toEqual(['t2', 't3']);
    client.stop();
  });
});

describe("the agent console's session refreshes by the lifetime the server states", () => {
  type AgentSession = { token: string; expiresAt: string; expiresIn?: number; agent: { id: number; email: string; name: string; team: string } };
  let session: { saveSession(s: AgentSession): void; freshToken(): Promise<string | null> };

  beforeEach(async () => {
    session = await import(/* @vite-ignore */ AGENT_SESSION_MODULE);
  });

  const agent = { id: 7, email: 'mei@example.com', name: 'Mei', team: 'support' };

  it.each(SKEWS)('with the browser clock %s: not before RENEW_LEAD_MS ahead of the expiry, then once', async (_what, s) => {
    startClock(s);
    const calls = fakeFetch([() => ({ token: 'a2', ...expiry(3600), agent })]);
    // As the login form hands the answer over, the moment it arrives.
    session.saveSession({ token: 'a1', ...expiry(3600), agent });

    expect(await session.freshToken()).toBe('a1');
    await vi.advanceTimersByTimeAsync(HOUR - RENEW_LEAD_MS - MIN);
    expect(await session.freshToken()).toBe('a1');
    expect(calls).toEqual([]);

    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(await session.freshToken()).toBe('a2');
    expect(calls).toEqual([{ url: '/api/auth/refresh', authorization: 'Bearer a1' }]);
    expect(await session.freshToken()).toBe('a2');
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(await session.freshToken()).toBe('a2');
    expect(calls).toHaveLength(1);
  });
});

describe("the widget's visitor session renews by the lifetime the server states", () => {
  type Session = { open(): Promise<unknown>; token(): Promise<string>; visitorId: string | null };
  let VisitorSession: new (cfg: Record<string, unknown>) => Session;

  beforeEach(async () => {
    ({ VisitorSession } = await import(/* @vite-ignore */ VISITOR_SESSION_MODULE));
  });

  const cfg = { origin: 'https://chat.example.com', socketUrl: 'wss://chat.example.com/ws', title: 'Chat', signed: null, identityKey: null };
  const TTL_S = 12 * 3600;
  const visitorId = '5b0e8f4e-6a53-4a53-9c1a-0c5f1d7d2a11';

  it.each(SKEWS)('with the browser clock %s: the same visitor, renewed once RENEW_LEAD_MS before the expiry', async (_what, s) => {
    startClock(s);
    const answer = (token: string) => () => ({ token, ...expiry(TTL_S), visitorId, identified: false, customerLinked: false });
    const calls = fakeFetch([answer('v1'), answer('v2')]);
    const visitor = new VisitorSession(cfg);
    await visitor.open();

    expect(await visitor.token()).toBe('v1');
    await vi.advanceTimersByTimeAsync(TTL_S * 1000 - RENEW_LEAD_MS - MIN);
    expect(await visitor.token()).toBe('v1');
    expect(calls).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(await visitor.token()).toBe('v2');
    // A renewal: the old token as bearer keeps the visitor.
    expect(calls[1]).toEqual({ url: 'https://chat.example.com/api/visitor/session', authorization: 'Bearer v1' });
    expect(await visitor.token()).toBe('v2');
    expect(calls).toHaveLength(2);
    expect(visitor.visitorId).toBe(visitorId);
  });
});
