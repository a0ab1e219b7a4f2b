import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ChatState, Participant } from '../shared/chat-client.js';
import { ChatHeader } from './chat-header.js';
import { Composer } from './composer.js';
import { useConsole } from './console-context.js';
import { othersRead, type ListEntry } from './conversation-view.js';
import { MessageList } from './message-list.js';
import { TypingIndicator } from './typing-indicator.js';
import type { Directory } from './use-directory.js';
import { firstSeq, type History } from './use-history.js';
import { useWindowFocus } from './use-window-focus.js';

interface Props {
  conversationId: number | null;
  state: ChatState;
  /** The conversation as the list sees it; null when it is not (or no longer) this agent's. */
  entry: ListEntry | null;
  history: History;
  directory: Directory;
  refreshDirectory(): Promise<void>;
}

export function ChatPane({ conversationId: id, state, entry, history, directory, refreshDirectory }: Props) {
  const { client, me } = useConsole();
  const [drafts, setDrafts] = useState<Readonly<Record<number, string>>>({});
  /** Failed messages sent again as new ones: the failed copy is hidden. */
  const [retried, setRetried] = useState<ReadonlySet<string>>(new Set());
  const [atBottom, setAtBottom] = useState(true);
  const focused = useWindowFocus();

  const { loadLatest, loadEarlier } = history;
  useEffect(() => {
    if (id !== null) void loadLatest(id);
  }, [id, loadLatest]);

  const held = id === null ? undefined : state.messages[id];
  const messages = useMemo(() => (held ?? []).filter((m) => !retried.has(m.clientMsgId)), [held, retried]);
  // A read mark is cumulative: never past a hole a history page left (its messages were not shown).
  const readThrough = id === null ? 0 : client.heldThrough(id);
  const open = entry !== null && entry.group !== 'closed';

  // Read marks: only what the agent can see (the newest messages in view, window focused).
  useEffect(() => {
    if (id === null || !open || !atBottom || !focused || state.status !== 'online' || document.visibilityState !== 'visible') return;
    client.markRead(id, readThrough);
  }, [id, open, atBottom, focused, state.status, readThrough, client]);

  const nameOf = useCallback(
    (p: Participant): string => {
      if (p.kind === 'visitor') return entry?.customerName ?? 'Visitor';
      if (p.kind === 'system') return 'Junction';
      if (p.id === me) return 'You';
      return directory.agents.find((a) => `agent:${a.id}` === p.id)?.name ?? `Agent ${p.id.slice('agent:'.length)}`;
    },
    [entry?.customerName, directory, me],
  );

  const retry = useCallback(
    (clientMsgId: string, text: string) => {
      if (id === null) return;
      setRetried((s) => new Set(s).add(clientMsgId));
      client.send(text, { conversationId: id });
    },
    [client, id],
  );

  if (id === null) {
    return (
      <section className="pane pane-chat" aria-label="Chat">
        <p className="chat-empty">Select a conversation from the list.</p>
      </section>
    );
  }

  const conversation = state.conversations[id];
  const status = history.status[id];
  const first = firstSeq(messages);
  const typing = Object.entries(state.typing[id] ?? {})
    .filter(([who]) => who !== me)
    .map(([who]) => nameOf({ kind: who.startsWith('visitor:') ? 'visitor' : 'agent', id: who }));

  return (
    <section className="pane pane-chat" aria-label="Chat">
      {conversation && <ChatHeader conversation={conversation} entry={entry} directory={directory} refreshDirectory={refreshDirectory} />}
      <MessageList
        conversationId={id}
        messages={messages}
        othersRead={othersRead(state, history.reads, id, me)}
        hasEarlier={first !== null && first > 1}
        loading={status?.loading ?? false}
        error={status?.error ?? null}
        nameOf={nameOf}
        onLoadEarlier={() => void loadEarlier(id)}
        onRetry={retry}
        onAtBottom={setAtBottom}
      />
      <TypingIndicator names={typing} />
      <Composer
        conversationId={id}
        draft={drafts[id] ?? ''}
        setDraft={(text) => setDrafts((d) => ({ ...d, [id]: text }))}
        maxChars={state.maxTextChars}
        disabledReason={open ? null : entry?.group === 'closed' ? 'This conversation is closed.' : 'This conversation is no longer yours.'}
      />
    </section>
  );
}
