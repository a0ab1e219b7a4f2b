/**
 * The agent's login, kept in `sessionStorage` (key `junction.agent`): it lives as long as the
 * tab, survives a reload, and is never put in a URL or a log. Its token is renewed at
 * `POST /api/auth/refresh` when it nears its expiry, for as long as the gateway lets one
 * login go on (`gateway.agent_login_max_s`).
 */
import { api } from '../shared/api.js';
import { RENEW_LEAD_MS } from '../shared/chat-client.js';

export interface AgentInfo {
  id: number;
  email: string;
  name: string;
  team: string;
}

export interface AgentSession {
  token: string;
  expiresAt: string;
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

export function saveSession(session: AgentSession): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

let refreshing: Promise<string> | null = null;

/**
 * The stored token, refreshed first when it expires within {@link RENEW_LEAD_MS} (the chat
 * client asks for a renewed token that long before expiry, so it must get a fresh one). A
 * refused refresh (a disabled agent, a login past its maximum age) gives the old token back:
 * the call or connection that uses it is refused too, which sends the page to the login form.
 */
export function freshToken(): Promise<string | null> {
  const s = loadSession();
  if (!s) return Promise.resolve(null);
  if (Date.parse(s.expiresAt) - Date.now() > RENEW_LEAD_MS) return Promise.resolve(s.token);
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
