/**
 * What the agent console's conversation list derives from the chat client's state
 * (gateway/web/src/agent/conversation-view.ts): groups, unread counts from either source of
 * read marks, waiting times, the customer's name, the order, and the waiting-time format.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatState, ContextFrame, ConversationSummary } from '../../gateway/web/src/shared/chat-client.js';

// Computed specifiers: the root tsconfig (no DOM) must not follow these into gateway/web,
// which `tsc -p gateway/web` checks; vitest transforms them itself.
const VIEW_MODULE = '../../gateway/web/src/agent/conversation-view.js';
const FORMAT_MODULE = '../../gateway/web/src/agent/format.js';

type Agent = { id: number; email: string; name: string; team: string };
type Entry = { conversation: ConversationSummary; group: string; unread: number; waitingSince: number | null; customerName: string | null };
let view: {
  groupOf(c: ConversationSummary, agent: Agent): string | null;
  customerNameOf(c: ContextFrame | undefined): string | null;
  othersRead(state: ChatState, reads: Record<number, Record<string, number>>, id: number, me: string): number;
  unreadCount(messages: readonly ChatMessage[], myRead: number): number;
  waitingSince(c: ConversationSummary, messages: readonly ChatMessage[]): number | null;
  listEntries(state: ChatState, reads: Record<number, Record<string, number>>, agent: Agent, me: string): Entry[];
};
let formatWaiting: (ms: number) => string;

beforeAll(async () => {
  view = await import(/* @vite-ignore */ VIEW_MODULE);
  ({ formatWaiting } = await import(/* @vite-ignore */ FORMAT_MODULE));
});

const ME: Agent = { id: 7, email: 'mei@example.com', name: 'Mei', team: 'support' };
const me = 'agent:7';
const T0 = Date.parse('2026-01-05T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();

function conv(id: number, over: Partial<ConversationSummary> = {}): ConversationSummary {
  return { id, status: 'open', team: 'support', assignedAgentId: 7, visitorId: `v${id}`, customerId: null, lastSeq: 0, createdAt: at(0), version: 1, ...over };
}

function msg(seq: number, who: 'visitor' | 'me' | 'agent:9', min: number): ChatMessage {
  const sender = who === 'visitor' ? { kind: 'visitor' as const, id: 'visitor:x' } : { kind: 'agent' as const, id: who === 'me' ? me : who };
  return { conversationId: 1, seq, clientMsgId: `c${seq}`, sender, text: `m${seq}`, at: at(min), state: 'stored', mine: who === 'me' };
}

function state(over: Partial<ChatState>): ChatState {
  return { status: 'online', attempts: 0, role: 'agent', participantId: me, maxTextChars: 4000, conversations: {}, messages: {}, unassigned: [], typing: {}, readBy: {}, contexts: {}, lastError: null, ...over };
}

describe('agent console conversation list', () => {
  it.each([
    ['assigned to me', conv(1), 'mine'],
    ["my team's queue", conv(1, { assignedAgentId: null }), 'queued'],
    ["another team's queue", conv(1, { assignedAgentId: null, team: 'billing' }), null],
    ['assigned to someone else', conv(1, { assignedAgentId: 9 }), null],
    ['closed, mine', conv(1, { status: 'closed' }), 'closed'],
  ])('groups a conversation %s', (_what, c, group) => {
    expect(view.groupOf(c, ME)).toBe(group);
  });

  it('counts unread messages of others above my read mark, from frames or REST, whichever is further', () => {
    const messages = [msg(1, 'visitor', 0), msg(2, 'me', 1), msg(3, 'visitor', 2), msg(4, 'visitor', 3), msg(5, 'agent:9', 4)];
    expect(view.unreadCount(messages, 0)).toBe(4);
    expect(view.unreadCount(messages, 3)).toBe(2);
    const s = state({ conversations: { 1: conv(1) }, messages: { 1: messages }, readBy: { 1: { [me]: 1, 'visitor:x': 2 } } });
    const [fromFrames] = view.listEntries(s, {}, ME, me);
    expect(fromFrames!.unread).toBe(3);
    const [fromRest] = view.listEntries(s, { 1: { [me]: 4 } }, ME, me);
    expect(fromRest!.unread).toBe(1);
    // The other side's mark for my messages never counts my own.
    expect(view.othersRead(s, { 1: { [me]: 5, 'visitor:x': 4 } }, 1, me)).toBe(4);
  });

  it('waits since the oldest unanswered customer message, since opening without messages, not at all once answered', () => {
    const c = conv(1, { createdAt: at(-5) });
    expect(view.waitingSince(c, [])).toBe(T0 - 5 * 60_000);
    expect(view.waitingSince(c, [msg(1, 'visitor', 0), msg(2, 'visitor', 1)])).toBe(T0);
    expect(view.waitingSince(c, [msg(1, 'visitor', 0), msg(2, 'me', 1), msg(3, 'visitor', 2), msg(4, 'visitor', 3)])).toBe(T0 + 2 * 60_000);
    expect(view.waitingSince(c, [msg(1, 'visitor', 0), msg(2, 'agent:9', 1)])).toBeNull();
  });

  it('sorts the longest waiting first, answered ones last, and names a linked customer', () => {
    const context = { type: 'context', conversationId: 2, customerId: 5, reason: 'linked', parts: { customer: { asOf: null, stale: false, data: { fields: { name: '王芳' } } } } } as ContextFrame;
    const s = state({
      conversations: { 1: conv(1), 2: conv(2), 3: conv(3, { assignedAgentId: null }), 4: conv(4, { assignedAgentId: 9 }) },
      messages: { 1: [msg(1, 'visitor', 5)], 2: [msg(1, 'visitor', 1)], 3: [msg(1, 'visitor', 0), msg(2, 'me', 1)] },
      contexts: { 2: context },
    });
    const entries = view.listEntries(s, {}, ME, me);
    expect(entries.map((e) => [e.conversation.id, e.group, e.customerName])).toEqual([
      [2, 'mine', '王芳'],
      [1, 'mine', null],
      [3, 'queued', null],
    ]);
    expect(view.customerNameOf(undefined)).toBeNull();
  });

  it('names a customer without a name by nickname, then email', () => {
    const frame = (fields: Record<string, unknown>) => ({ type: 'context', conversationId: 1, customerId: 1, reason: 'linked', parts: { customer: { asOf: null, stale: false, data: { fields } } } }) as unknown as ContextFrame;
    expect(view.customerNameOf(frame({ name: null, nickname: 'siyuan', email: 'a@b.cn' }))).toBe('siyuan');
    expect(view.customerNameOf(frame({ name: ' ', nickname: null, email: 'a@b.cn' }))).toBe('a@b.cn');
    expect(view.customerNameOf(frame({ name: null, nickname: null, email: null }))).toBeNull();
  });

  it.each([
    [20_000, '< 1 min'],
    [12 * 60_000, '12 min'],
    [125 * 60_000, '2 h 5 min'],
    [120 * 60_000, '2 h'],
    [50 * 3600_000, '2 d'],
  ])('formats %i ms of waiting as %s', (ms, text) => {
    expect(formatWaiting(ms)).toBe(text);
  });
});
