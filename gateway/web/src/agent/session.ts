/**
 * The agent's login, kept in `sessionStorage` (key `junction.agent`): it lives as long as the
 * tab, survives a reload, and is never put in a URL or a log.
 */

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

/** How this agent appears as a message sender. */
export const participantOf = (agent: AgentInfo): string => `agent:${agent.id}`;
