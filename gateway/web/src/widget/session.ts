/**
 * The visitor's session with the gateway (`POST /api/visitor/session`). The token is kept in
 * `localStorage` (`junction.visitor`, on the retailer's origin) with the identity it was
 * issued for, so a reload keeps the same visitor and their conversation. A token is reused
 * (sent as bearer, which renews the same visitor) only for the same signed identity, or to
 * add an identity to an anonymous visitor; another shopper signing in on the same browser,
 * or signing out, starts a new visitor, so nobody sees someone else's conversation.
 */
import { ApiError, api } from '../shared/api.js';
import { localExpiry, renewalDue } from '../shared/token-lifetime.js';
import type { EmbedConfig } from './embed.js';

const KEY = 'junction.visitor';

interface Stored {
  token: string;
  /** Epoch ms on this browser's clock: `expiresIn` after the answer arrived (token-lifetime.ts). */
  expiresAt: number;
  visitorId: string;
  /** {@link EmbedConfig.identityKey} it was issued for; null: anonymous. */
  identity: string | null;
  /** The highest seq the visitor has seen, per conversation (the unread badge survives reloads). */
  read: Record<string, number>;
}

interface SessionAnswer {
  token: string;
  expiresAt: string;
  /** Absent from gateways before it. */
  expiresIn?: number;
  visitorId: string;
  identified: boolean;
  customerLinked: boolean;
}

function load(): Stored | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Stored | null;
    return s && typeof s.token === 'string' && typeof s.visitorId === 'string' ? { ...s, read: s.read ?? {} } : null;
  } catch {
    return null;
  }
}

function save(s: Stored): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    /* storage off (private mode): the session lasts this page */
  }
}

export class VisitorSession {
  private current: Stored | null = null;
  private inflight: Promise<Stored> | null = null;

  constructor(private readonly cfg: EmbedConfig) {}

  get visitorId(): string | null {
    return this.current?.visitorId ?? null;
  }

  /** `visitor:<id>`, the sender id of this visitor's messages. */
  get participantId(): string | null {
    return this.current ? `visitor:${this.current.visitorId}` : null;
  }

  /** Starts (or renews) the session at page load. */
  open(): Promise<Stored> {
    return this.once(() => this.start(load(), true));
  }

  /**
   * A token for the next connection, renewed when it is near its expiry on this browser's
   * clock (`renewalDue`: the chat client asks for a renewed token RENEW_LEAD_MS before expiry,
   * so it must get a fresh one).
   */
  async token(): Promise<string> {
    const s = this.current;
    if (s && !renewalDue(s.expiresAt)) return s.token;
    return (await this.once(() => this.start(s, false))).token;
  }

  /** After a failed connection: a refused token is dropped, so the next one is fresh. */
  async check(): Promise<boolean> {
    const s = this.current;
    if (!s) return true;
    try {
      await api('/api/conversations', { base: this.cfg.origin, token: s.token });
    } catch (err) {
      if (err instanceof ApiError && err.unauthorized && this.current === s) this.current = { ...s, expiresAt: 0 };
    }
    return true;
  }

  readSeq(conversationId: number): number {
    return this.current?.read[conversationId] ?? 0;
  }

  markSeen(conversationId: number, seq: number): void {
    const s = this.current;
    if (!s || (s.read[conversationId] ?? 0) >= seq) return;
    this.current = { ...s, read: { ...s.read, [conversationId]: seq } };
    save(this.current);
  }

  private once(fn: () => Promise<Stored>): Promise<Stored> {
    this.inflight ??= fn().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async start(prev: Stored | null, atLoad: boolean): Promise<Stored> {
    const { signed, identityKey } = this.cfg;
    const usable = prev !== null && prev.expiresAt > Date.now() + 5000 ? prev : null;
    // Same identity (or an anonymous visitor signing in): renew that visitor.
    const reuse = usable && (usable.identity === identityKey || usable.identity === null) ? usable : null;
    // A signature verifies for a few minutes after the page was made: sent at load, or
    // when there is no token left to renew.
    const sendSigned = signed !== null && (atLoad || reuse === null);
    try {
      return await this.request(sendSigned ? signed : {}, reuse, sendSigned ? identityKey : (reuse?.identity ?? null));
    } catch (err) {
      if (!(err instanceof ApiError) || !err.unauthorized) throw err;
      if (err.code === 'GW_BAD_IDENTITY_SIGNATURE') {
        // A stale page (its signature expired) or a misconfigured site: keep chatting, as the
        // visitor the stored token names when it may be reused (issued for this identity, or
        // anonymous: the same shopper before signing in), else anonymously. The identity stays
        // the token's own: the page's was not verified.
        console.warn(`Junction chat: ${err.message}`);
        return this.request({}, reuse, reuse?.identity ?? null);
      }
      // The stored token was refused (expired, or the gateway's secret changed): a new visitor.
      if (reuse) return this.start(null, atLoad);
      throw err;
    }
  }

  private async request(body: object, bearer: Stored | null, identity: string | null): Promise<Stored> {
    const a = await api<SessionAnswer>('/api/visitor/session', { base: this.cfg.origin, method: 'POST', body, token: bearer?.token });
    const s: Stored = {
      token: a.token,
      expiresAt: localExpiry(a.expiresAt, a.expiresIn),
      visitorId: a.visitorId,
      identity,
      read: bearer && bearer.visitorId === a.visitorId ? bearer.read : {},
    };
    this.current = s;
    save(s);
    return s;
  }
}
