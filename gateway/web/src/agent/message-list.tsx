import { useLayoutEffect, useRef } from 'react';
import type { ChatMessage, Participant } from '../shared/chat-client.js';
import { MessageItem } from './message-item.js';

interface Props {
  conversationId: number;
  messages: readonly ChatMessage[];
  /** The other side's read mark (for the marks on this agent's messages). */
  othersRead: number;
  hasEarlier: boolean;
  loading: boolean;
  error: string | null;
  nameOf(p: Participant): string;
  onLoadEarlier(): void;
  onRetry(clientMsgId: string, text: string): void;
  /** Whether the newest message is in view (read marks are sent only then). */
  onAtBottom(atBottom: boolean): void;
}

const NEAR_BOTTOM_PX = 40;
/** Messages of one sender closer than this form a run (the name shows once). */
const RUN_MS = 5 * 60_000;

const continues = (prev: ChatMessage | undefined, m: ChatMessage) =>
  prev !== undefined && prev.sender.id === m.sender.id && prev.mine === m.mine && Date.parse(m.at) - Date.parse(prev.at) < RUN_MS;

/**
 * The messages, scrolled to the newest while the agent is at the bottom. An earlier page
 * added on top keeps what the agent was looking at in place.
 */
export function MessageList({ conversationId, messages, othersRead, hasEarlier, loading, error, nameOf, onLoadEarlier, onRetry, onAtBottom }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const last = useRef({ conversationId: -1, first: null as number | null, newestKey: '', height: 0, top: 0, stick: true });
  const first = messages.find((m) => m.seq !== null)?.seq ?? null;
  const newest = messages.at(-1);
  const newestKey = newest ? `${newest.mine}:${newest.clientMsgId}` : '';

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const prev = last.current;
    // Re-rendered without new content: leave the scroll position to the agent.
    if (prev.conversationId === conversationId && prev.first === first && prev.newestKey === newestKey && prev.height === el.scrollHeight) return;
    if (prev.conversationId !== conversationId || (newestKey !== prev.newestKey && newest?.mine)) {
      // Another conversation, or the agent just wrote: show the newest.
      el.scrollTop = el.scrollHeight;
      prev.stick = true;
    } else if (first !== null && prev.first !== null && first < prev.first && !prev.stick) {
      el.scrollTop = prev.top + (el.scrollHeight - prev.height);
    } else if (prev.stick) {
      el.scrollTop = el.scrollHeight;
    }
    last.current = { conversationId, first, newestKey, height: el.scrollHeight, top: el.scrollTop, stick: prev.stick };
    onAtBottom(el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX);
  }, [conversationId, messages, first, newestKey, newest?.mine, onAtBottom]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    last.current = { ...last.current, height: el.scrollHeight, top: el.scrollTop, stick: atBottom };
    onAtBottom(atBottom);
  };

  return (
    <div className="messages" ref={scroller} onScroll={onScroll}>
      {hasEarlier && (
        <button type="button" className="load-earlier" onClick={onLoadEarlier} disabled={loading}>
          {loading ? 'Loading…' : 'Load earlier messages'}
        </button>
      )}
      {error && (
        <p className="history-error" role="status">
          History could not be loaded: {error}
        </p>
      )}
      <ol role="log" aria-label="Messages" tabIndex={0}>
        {messages.map((m, i) => (
          <MessageItem
            key={`${m.mine ? 'me' : m.sender.id}:${m.clientMsgId}`}
            message={m}
            sender={nameOf(m.sender)}
            continued={continues(messages[i - 1], m)}
            read={m.seq !== null && othersRead >= m.seq}
            onRetry={onRetry}
          />
        ))}
      </ol>
      {messages.length === 0 && !loading && <p className="chat-empty">No messages yet.</p>}
    </div>
  );
}
