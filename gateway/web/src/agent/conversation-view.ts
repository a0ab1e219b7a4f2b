/**
 * What the conversation list shows, derived from the client's state (pure functions, so the
 * list re-derives on every change and the 30-s clock): which group a conversation is in,
 * its unread count, how long the customer has been waiting, the linked customer's name.
 */
import type { ChatMessage, ChatState, ContextFrame, ConversationSummary } from '../shared/chat-client.js';
import type { AgentInfo } from './session.js';

export type Group = 'queued' | 'mine' | 'closed';

export interface ListEntry {
  conversation: ConversationSummary;
  group: Group;
  unread: number;
  /** Since when (ms) the oldest unanswered customer message waits; null when answered. */
  waitingSince: number | null;
  customerName: string | null;
}

/** Read marks from REST history (`reads`), per conversation, beside the client's own. */
export type ServerReads = Readonly<Record<number, Readonly<Record<string, number>>>>;

/** Queued: the team's queue; mine: assigned to me; null: not (or no longer) this agent's. */
export function groupOf(c: ConversationSummary, agent: AgentInfo): Group | null {
  const visible = c.assignedAgentId === agent.id || (c.assignedAgentId === null && c.team === agent.team);
  if (!visible) return null;
  if (c.status === 'closed') return 'closed';
  return c.assignedAgentId === null ? 'queued' : 'mine';
}

/** How the list names a customer: the golden `name`, else the nickname, else the email (many app users never gave a name). */
export function customerNameOf(context: ContextFrame | undefined): string | null {
  const data = context?.parts.customer?.data as { fields?: Record<string, unknown> } | null | undefined;
  for (const field of ['name', 'nickname', 'email']) {
    const value = data?.fields?.[field];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return null;
}

/** How far `participant` read, from frames or from REST history, whichever is further. */
export function readMark(state: ChatState, reads: ServerReads, id: number, participant: string): number {
  return Math.max(state.readBy[id]?.[participant] ?? 0, reads[id]?.[participant] ?? 0);
}

/** How far anyone but `me` read (the other side's read mark for my messages). */
export function othersRead(state: ChatState, reads: ServerReads, id: number, me: string): number {
  let max = 0;
  for (const source of [state.readBy[id], reads[id]]) {
    for (const [who, seq] of Object.entries(source ?? {})) if (who !== me && seq > max) max = seq;
  }
  return max;
}

export function unreadCount(messages: readonly ChatMessage[], myRead: number): number {
  return messages.filter((m) => m.seq !== null && m.seq > myRead && !m.mine).length;
}

/**
 * Since when the customer waits: their oldest message no agent answered after it. With no
 * messages held yet, since the conversation opened; once answered, not waiting.
 */
export function waitingSince(c: ConversationSummary, messages: readonly ChatMessage[]): number | null {
  if (messages.length === 0) return Date.parse(c.createdAt);
  let since: number | null = null;
  for (const m of messages) {
    if (m.sender.kind === 'visitor') since ??= Date.parse(m.at);
    else if (m.sender.kind === 'agent') since = null;
  }
  return since;
}

function byWaiting(a: ListEntry, b: ListEntry): number {
  if (a.waitingSince !== null && b.waitingSince !== null) return a.waitingSince - b.waitingSince;
  if (a.waitingSince !== null) return -1;
  if (b.waitingSince !== null) return 1;
  return a.conversation.id - b.conversation.id;
}

/** Every conversation of this agent, longest waiting first. */
export function listEntries(state: ChatState, reads: ServerReads, agent: AgentInfo, me: string): ListEntry[] {
  const out: ListEntry[] = [];
  for (const c of Object.values(state.conversations)) {
    const group = groupOf(c, agent);
    if (!group) continue;
    const messages = state.messages[c.id] ?? [];
    out.push({
      conversation: c,
      group,
      unread: unreadCount(messages, readMark(state, reads, c.id, me)),
      waitingSince: group === 'closed' ? null : waitingSince(c, messages),
      customerName: customerNameOf(state.contexts[c.id]),
    });
  }
  return out.sort(byWaiting);
}
