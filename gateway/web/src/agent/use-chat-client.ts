import { useEffect, useState, useSyncExternalStore } from 'react';
import { api, ApiError } from '../shared/api.js';
import { ChatClient, type ChatState } from '../shared/chat-client.js';
import { groupOf } from './conversation-view.js';
import { freshToken, loadSession, type AgentInfo } from './session.js';

function socketUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/**
 * The one ChatClient of this login: started on mount, stopped on logout. It reads the token
 * from the stored session each time it connects or its socket needs a renewed one (refreshed
 * when near its expiry), and asks the REST API (cheap, same token)
 * whether a failed connection was a refused token, since browsers cannot see why. A
 * conversation this `agent` no longer sees (the list's rule) loses its customer context.
 */
export function useChatClient(agent: AgentInfo): { client: ChatClient; state: ChatState } {
  const [client] = useState(
    () =>
      new ChatClient({
        url: socketUrl(),
        getToken: async (hint) => {
          const token = await freshToken(hint?.rejected ?? false);
          if (!token) throw new Error('not logged in');
          return token;
        },
        checkAuth: async () => {
          try {
            await api('/api/conversations', { token: loadSession()?.token ?? null });
            return true;
          } catch (err) {
            return !(err instanceof ApiError && err.unauthorized);
          }
        },
        sees: (c) => groupOf(c, agent) !== null,
      }),
  );

  useEffect(() => {
    client.start();
    const online = () => client.retryNow();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      client.stop();
    };
  }, [client]);

  const state = useSyncExternalStore(client.subscribe, client.getState);
  return { client, state };
}
