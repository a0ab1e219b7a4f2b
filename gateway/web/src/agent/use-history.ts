import { useCallback, useRef, useState } from 'react';
import { ApiError } from '../shared/api.js';
import type { ChatMessage, ConversationSummary, Participant } from '../shared/chat-client.js';
import type { ConsoleContext } from './console-context.js';
import type { ServerReads } from './conversation-view.js';

interface HistoryPage {
  conversation: ConversationSummary;
  messages: { conversationId: number; seq: number; sender: Participant; clientMsgId: string; text: string; at: string }[];
  nextBefore: number | null;
  reads: Record<string, number>;
}

export interface HistoryStatus {
  loading: boolean;
  error: string | null;
}

export const PAGE_SIZE = 50;

/** The smallest seq held for a conversation (null when none). */
export function firstSeq(messages: readonly ChatMessage[]): number | null {
  for (const m of messages) if (m.seq !== null) return m.seq;
  return null;
}

/**
 * REST history beside the socket: the latest page of a conversation (merged into the client,
 * which drops the seqs it holds), earlier pages on request, and the read marks the answers
 * carry. The socket only resumes after what this agent acked, so after a reload the latest
 * page is what brings the conversation's recent past back.
 */
export function useHistory(ctx: Pick<ConsoleContext, 'client' | 'call' | 'me'>) {
  const { client, call, me } = ctx;
  const [reads, setReads] = useState<ServerReads>({});
  const [status, setStatus] = useState<Readonly<Record<number, HistoryStatus>>>({});
  const inflight = useRef(new Set<number>());

  const load = useCallback(
    async (id: number, before: number) => {
      if (inflight.current.has(id)) return;
      inflight.current.add(id);
      setStatus((s) => ({ ...s, [id]: { loading: true, error: null } }));
      try {
        const page = await call<HistoryPage>(`/api/conversations/${id}/messages?before=${before}&limit=${PAGE_SIZE}`);
        client.merge(
          id,
          page.messages.map((m) => ({ ...m, state: 'stored' as const, mine: m.sender.id === me })),
        );
        setReads((r) => ({ ...r, [id]: page.reads }));
        setStatus((s) => ({ ...s, [id]: { loading: false, error: null } }));
      } catch (err) {
        const message = err instanceof ApiError ? err.message : (err as Error).message;
        setStatus((s) => ({ ...s, [id]: { loading: false, error: message } }));
      } finally {
        inflight.current.delete(id);
      }
    },
    [client, call, me],
  );

  /** The newest page (before the highest seq known from the summary or the socket, plus one). */
  const loadLatest = useCallback(
    (id: number) => {
      const summarySeq = client.getState().conversations[id]?.lastSeq ?? 0;
      return load(id, Math.max(summarySeq, client.lastSeq(id)) + 1);
    },
    [client, load],
  );

  /** The page before the oldest message held. */
  const loadEarlier = useCallback(
    (id: number) => {
      const first = firstSeq(client.messagesOf(id));
      if (first === null || first <= 1) return Promise.resolve();
      return load(id, first);
    },
    [client, load],
  );

  return { reads, status, loadLatest, loadEarlier };
}

export type History = ReturnType<typeof useHistory>;
