/**
 * The widget's visitor session (gateway/web/src/widget/session.ts) on a page whose signed
 * identity the gateway refuses (`GW_BAD_IDENTITY_SIGNATURE`: a page cached past the
 * signature's few minutes, a misconfigured site): the visitor keeps chatting as the stored
 * token's visitor when that token may be reused (the same identity, or an anonymous visitor:
 * the same shopper before signing in), and starts afresh, anonymously, otherwise, so nobody
 * sees another customer's conversation.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Computed specifier: the root tsconfig (no DOM) must not follow it into gateway/web.
const VISITOR_SESSION_MODULE = '../../gateway/web/src/widget/session.js';

type Session = { open(): Promise<{ visitorId: string; identity: string | null }> };
let VisitorSession: new (cfg: Record<string, unknown>) => Session;

const KEY = 'junction.visitor';
const ORIGIN = 'https://chat.example.com';
const IDENTITY_KEY = '[["email","ann@example.com"]]';
const cfg = {
  origin: ORIGIN,
  socketUrl: 'wss://chat.example.com/ws',
  title: 'Chat',
  signed: { identity: { email: 'ann@example.com' }, timestamp: 1767225600, signature: 'too-old' },
  identityKey: IDENTITY_KEY,
};

/** The gateway: refuses every signature; a bearer token renews its visitor, none makes a new one. */
function fakeGateway(visitorOf: Record<string, string>) {
  const calls: { signed: boolean; bearer: string | null }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit = {}) => {
      const body = JSON.parse(String(init.body ?? '{}')) as Record<string, unknown>;
      const bearer = new Headers(init.headers).get('authorization')?.replace(/^Bearer /, '') ?? null;
      calls.push({ signed: 'signature' in body, bearer });
      if ('signature' in body) {
        return Response.json({ error: { code: 'GW_BAD_IDENTITY_SIGNATURE', message: 'the identity signature is too old' } }, { status: 401 });
      }
      const visitorId = bearer === null ? 'v-new' : visitorOf[bearer]!;
      return Response.json({ token: `renewed-${visitorId}`, expiresAt: new Date(Date.now() + 12 * 3600_000).toISOString(), expiresIn: 43_200, visitorId, identified: false, customerLinked: false });
    }),
  );
  return calls;
}

function storeToken(token: string, visitorId: string, identity: string | null): void {
  localStorage.setItem(KEY, JSON.stringify({ token, expiresAt: Date.now() + 3600_000, visitorId, identity, read: { 4: 2 } }));
}

beforeEach(async () => {
  const m = new Map<string, string>();
  vi.stubGlobal('localStorage', { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) });
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  ({ VisitorSession } = await import(/* @vite-ignore */ VISITOR_SESSION_MODULE));
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('a visitor session whose page signature is refused', () => {
  it('keeps the anonymous visitor of the stored token (and their conversation)', async () => {
    storeToken('anon-token', 'v-anon', null);
    const calls = fakeGateway({ 'anon-token': 'v-anon' });
    const s = await new VisitorSession(cfg).open();
    expect(calls).toEqual([
      { signed: true, bearer: 'anon-token' },
      { signed: false, bearer: 'anon-token' },
    ]);
    // Still anonymous: the page's identity was not verified.
    expect(s).toMatchObject({ visitorId: 'v-anon', identity: null, read: { 4: 2 } });
  });

  it('keeps the visitor of a stored token issued for the same identity', async () => {
    storeToken('ann-token', 'v-ann', IDENTITY_KEY);
    const calls = fakeGateway({ 'ann-token': 'v-ann' });
    const s = await new VisitorSession(cfg).open();
    expect(calls.at(-1)).toEqual({ signed: false, bearer: 'ann-token' });
    expect(s).toMatchObject({ visitorId: 'v-ann', identity: IDENTITY_KEY });
  });

  it("never reuses another identity's token: a new anonymous visitor", async () => {
    storeToken('bo-token', 'v-bo', '[["email","bo@example.com"]]');
    const calls = fakeGateway({ 'bo-token': 'v-bo' });
    const s = await new VisitorSession(cfg).open();
    expect(calls).toEqual([
      { signed: true, bearer: null },
      { signed: false, bearer: null },
    ]);
    expect(s).toMatchObject({ visitorId: 'v-new', identity: null });
  });
});
