/**
 * A conversation's stored messages through the REST API (`GET /api/conversations/:id/messages`,
 * which a visitor may call for their own conversation), so a reload shows the history the
 * socket's resume does not resend (it resumes after the last acked seq), and who read how far.
 */
import { api } from '../shared/api.js';
import type { ChatMessage, Participant } from '../shared/chat-client.js';

interface Page {
  messages: { conversationId: number; seq: number; sender: Participant; clientMsgId: string; text: string; at: string }[];
  nextAfter: number | null;
  /** Read marks by participant id (highest seq read). */
  reads?: Record<string, number>;
}

export interface History {
  messages: ChatMessage[];
  reads: Record<string, number>;
}

/** Pages of 500 at most; a widget conversation is far shorter than the cap. */
const MAX_PAGES = 10;

export async function loadHistory(origin: string, token: string, conversationId: number, participantId: string): Promise<History> {
  const out: ChatMessage[] = [];
  let reads: Record<string, number> = {};
  let after = 0;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api<Page>(`/api/conversations/${conversationId}/messages?after=${after}&limit=500`, { base: origin, token });
    for (const m of page.messages) out.push({ ...m, state: 'stored', mine: m.sender.id === participantId });
    reads = page.reads ?? reads;
    if (page.nextAfter === null) break;
    after = page.nextAfter;
  }
  return { messages: out, reads };
}
