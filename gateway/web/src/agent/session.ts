/**
 * The agent's login, kept in `sessionStorage` (key `junction.agent`): it lives as long as the
 * tab, survives a reload, and is never put in a URL or a log. Its token is renewed at
 * `POST /api/auth/refresh` when it nears its expiry, for as long as the gateway lets one
 * login go on (`gateway.agent_login_max_s`).
 */
import { api } from '../shared/api.js';
import { localExpiry, renewalDue } from '../shared/token-lifetime.js';

export interface AgentInfo {
  id: number;
  email: string;
  name: string;
  team: string;
}

export interface AgentSession {
  token: string;
  /** When the token expires on the server's clock (ISO). */
  expiresAt: string;
  /** The token's life in seconds when the server answered (absent from gateways before it). */
  expiresIn?: number;
  /** When the token expires on this browser's clock (epoch ms), set by {@link saveSession}: renewal goes by this one. */
  expiresLocal?: number;
  agent: AgentInfo;
}

const KEY = 'junction.agent';

export function loadSession(): AgentSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<AgentSession>;
    if (typeof s.token !== 'string' || typeof s.agent?.id !== 'number') return null;
    return s as AgentSession;
  } catch {
    return null;
  }
}

/**
 * Stores a session as the server just gave it (a login, a refresh): its expiry is put on this
 * browser's clock now, `expiresIn` after this moment, so a browser clock minutes off neither
 * renews too late nor in a loop.
 */
export function saveSession(session: AgentSession): void {
  const expiresLocal = session.expiresLocal ?? localExpiry(session.expiresAt, session.expiresIn);
  sessionStorage.setItem(KEY, JSON.stringify({ ...session, expiresLocal }));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

let refreshing: Promise<string> | null = null;

/**
 * The stored token, refreshed first when it is near its expiry on this browser's clock
 * (`renewalDue`: the chat client asks for a renewed token RENEW_LEAD_MS before expiry, so it
 * must get a fresh one). A refused refresh (a disabled agent, a login past its maximum age)
 * gives the old token back: the call or connection that uses it is refused too, which sends
 * the page to the login form. `force`: refresh anyway (the server refused the token: the
 * agent moved to another team, whose token the refresh signs).
 */
export function freshToken(force = false): Promise<string | null> {
  const s = loadSession();
  if (!s) return Promise.resolve(null);
  // A session stored before expiresLocal existed: the server's time is all there is.
  if (!force && !renewalDue(s.expiresLocal ?? Date.parse(s.expiresAt))) return Promise.resolve(s.token);
  refreshing ??= api<AgentSession>('/api/auth/refresh', { method: 'POST', token: s.token })
    .then(
      (fresh) => {
        // Logged out meanwhile: keep it that way.
        if (loadSession()?.token === s.token) saveSession(fresh);
        return fresh.token;
      },
      () => s.token,
    )
    .finally(() => (refreshing = null));
  return refreshing;
}

/** How this agent appears as a message sender. */
export const participantOf = (agent: AgentInfo): string => `agent:${agent.id}`;
