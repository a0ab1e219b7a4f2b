import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, type ApiOptions } from '../shared/api.js';
import { ChatPane } from './chat-pane.js';
import { ConsoleCtx, type ConsoleContext } from './console-context.js';
import { ConsoleHeader } from './console-header.js';
import { ConversationList } from './conversation-list.js';
import { groupOf, listEntries } from './conversation-view.js';
import { CustomerAside } from './customer-aside.js';
import { ErrorToast, useToast } from './error-toast.js';
import { MobileBar, type View } from './mobile-bar.js';
import { freshToken, participantOf, type AgentSession } from './session.js';
import { useChatClient } from './use-chat-client.js';
import { useDirectory } from './use-directory.js';
import { useHistory } from './use-history.js';
import { useNow } from './use-now.js';
import { useTeam } from './use-team.js';

interface Props {
  session: AgentSession;
  onLogout(why?: string): void;
}

const EXPIRED = 'Your session expired. Log in again.';

/** The logged-in console: header, conversation list, chat, customer panel (three columns, or one at a time on a phone). */
export function AgentConsole({ session, onLogout }: Props) {
  // One login per console (app.tsx keys it by token): the agent does not change under it.
  const { client, state } = useChatClient(session.agent);
  const me = participantOf(session.agent);
  const { toast, report, dismiss } = useToast(state.lastError);

  const call = useCallback(
    async <T,>(path: string, options: Omit<ApiOptions, 'token'> = {}): Promise<T> => {
      try {
        // The stored token: the chat client refreshes it in the background.
        return await api<T>(path, { ...options, token: (await freshToken()) ?? session.token });
      } catch (err) {
        if (err instanceof ApiError && err.unauthorized) onLogout(EXPIRED);
        throw err;
      }
    },
    [session.token, onLogout],
  );
  const ctx = useMemo<ConsoleContext>(() => ({ session, me, client, call, report }), [session, me, client, call, report]);
  const history = useHistory(ctx);
  const { directory, refresh } = useDirectory(call);
  const now = useNow();
  const mineCount = Object.values(state.conversations).filter((c) => c.status === 'open').length;
  const team = useTeam(call, mineCount);

  const [selected, setSelected] = useState<number | null>(null);
  const [view, setView] = useState<View>('list');

  useEffect(() => {
    if (state.status !== 'unauthorized') return;
    onLogout(state.lastError?.code === 'GW_AGENT_DISABLED' ? 'This account was disabled.' : EXPIRED);
  }, [state.status, state.lastError, onLogout]);

  // Each conversation's latest page once, so waiting times, unread counts and read marks are
  // right in the list after a reload (the socket resumes after this agent's last ack only).
  // One at a time: a long team queue must not become a burst of requests.
  const requested = useRef(new Set<number>());
  const preload = useRef(Promise.resolve());
  const { loadLatest } = history;
  useEffect(() => {
    for (const c of Object.values(state.conversations)) {
      if (c.status !== 'open' || !groupOf(c, session.agent) || requested.current.has(c.id)) continue;
      requested.current.add(c.id);
      preload.current = preload.current.then(() => loadLatest(c.id));
    }
  }, [state.conversations, session.agent, loadLatest]);

  const entries = useMemo(() => listEntries(state, history.reads, session.agent, me), [state, history.reads, session.agent, me]);

  // Null once the selected conversation is no longer this agent's: nothing of it to show.
  const entry = entries.find((e) => e.conversation.id === selected) ?? null;

  const select = useCallback((id: number) => {
    setSelected(id);
    setView('chat');
  }, []);

  return (
    <ConsoleCtx.Provider value={ctx}>
      <div className="console" data-view={view}>
        <ConsoleHeader agent={session.agent} status={state.status} attempts={state.attempts} onLogout={() => onLogout()} />
        <MobileBar view={view} hasSelection={selected !== null} onBack={() => setView('list')} onToggleCustomer={() => setView((v) => (v === 'customer' ? 'chat' : 'customer'))} />
        <ConversationList entries={entries} selected={selected} now={now} team={team} onSelect={select} />
        <ChatPane conversationId={selected} state={state} entry={entry} history={history} directory={directory} refreshDirectory={refresh} />
        <CustomerAside selected={selected !== null} yours={entry !== null} linked={entry !== null && entry.conversation.customerId !== null} context={entry === null ? null : (state.contexts[entry.conversation.id] ?? null)} />
        {toast && <ErrorToast error={toast} onDismiss={dismiss} />}
      </div>
    </ConsoleCtx.Provider>
  );
}
