import { useEffect, useState } from 'react';
import type { ConversationSummary } from '../shared/chat-client.js';
import type { ConsoleContext } from './console-context.js';

export type TeamConversation = ConversationSummary & { assignedAgentName: string | null };

/** How often the team's view is read again: it is for orientation, not for acting on. */
const POLL_MS = 15_000;

/**
 * `GET /api/team/conversations`: what teammates hold right now. Read at login, every 15 s,
 * and whenever this agent's own list changes (a transfer or close often moves one).
 */
export function useTeam(call: ConsoleContext['call'], changed: unknown): readonly TeamConversation[] {
  const [team, setTeam] = useState<readonly TeamConversation[]>([]);
  useEffect(() => {
    let live = true;
    const read = () =>
      call<{ conversations: TeamConversation[] }>('/api/team/conversations')
        .then((r) => live && setTeam(r.conversations))
        .catch(() => undefined);
    read();
    const timer = setInterval(read, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [call, changed]);
  return team;
}
