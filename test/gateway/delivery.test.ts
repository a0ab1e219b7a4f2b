/** Ordered delivery per conversation: late, early and repeated fan-out messages still reach the socket once, in order. */
import { describe, expect, it } from 'vitest';
import { ConversationStream } from '../../gateway/delivery.js';
import type { MessageRecord } from '../../gateway/events.js';

const msg = (seq: number): MessageRecord => ({ conversationId: 1, seq, sender: { kind: 'visitor', id: 'visitor:x' }, clientMsgId: `c${seq}`, text: `m${seq}`, at: '' });

function harness(stored: number, after = 0) {
  const sent: number[] = [];
  const fetches: [number, number | undefined][] = [];
  const stream = new ConversationStream(1, after, {
    send: (m) => sent.push(m.seq),
    fetch: async (_id, from, limit, until) => {
      fetches.push([from, until]);
      const out: MessageRecord[] = [];
      for (let s = from + 1; s <= Math.min(stored, until ?? Infinity) && out.length < limit; s++) out.push(msg(s));
      return out;
    },
    onError: () => undefined,
  });
  return { stream, sent, fetches };
}

describe('ConversationStream', () => {
  it('catches up from the resume point, then takes live messages', async () => {
    const h = harness(5, 2);
    await h.stream.catchUp();
    await h.stream.offer(msg(6));
    expect(h.sent).toEqual([3, 4, 5, 6]);
  });

  it('drops repeats and fills a gap from the store before a message that came early', async () => {
    const h = harness(10);
    await h.stream.offer(msg(1));
    await h.stream.offer(msg(1));
    await h.stream.offer(msg(4)); // 2 and 3 were published later by another instance
    await h.stream.offer(msg(2));
    await h.stream.offer(msg(3));
    expect(h.sent).toEqual([1, 2, 3, 4]);
    expect(h.fetches).toEqual([[1, 3]]);
  });

  it('sends nothing after close', async () => {
    const h = harness(3);
    h.stream.close();
    await h.stream.catchUp();
    await h.stream.offer(msg(1));
    expect(h.sent).toEqual([]);
  });
});
