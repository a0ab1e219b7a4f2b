/** Ordered delivery per conversation: late, early and repeated fan-out messages still reach the socket once, in order. */
import { describe, expect, it } from 'vitest';
import { ConversationStream } from '../../gateway/delivery.js';
import type { MessageRecord } from '../../gateway/events.js';

const msg = (seq: number): MessageRecord => ({ conversationId: 1, seq, sender: { kind: 'visitor', id: 'visitor:x' }, clientMsgId: `c${seq}`, text: `m${seq}`, at: '' });
const ME = 'visitor:x';
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function harness(stored: number, after = 0) {
  const sent: (number | string)[] = [];
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

  describe("the writer's own message: its ack in the message's place", () => {
    it('ack first, earlier seqs still on their way: they and the copy come through fan-out, and the copy puts the ack in place', async () => {
      const h = harness(3, 1); // 2 is the other side's, still on its way; 3 is ours
      const own = h.stream.expect('c3', ME);
      await h.stream.stored(own, msg(3), () => h.sent.push('ack3'));
      expect(h.sent).toEqual([]);
      await h.stream.offer(msg(2));
      await h.stream.offer(msg(3));
      await h.stream.offer(msg(3));
      expect(h.sent).toEqual([2, 'ack3']);
      expect(h.fetches).toEqual([]);
    });

    it('ack first, and no copy comes (a publish failed): the gap is read from the store, then the ack goes out', async () => {
      const h = harness(3, 1);
      const own = h.stream.expect('c3', ME);
      await h.stream.stored(own, msg(3), () => h.sent.push('ack3'), 20);
      await new Promise((resolve) => setTimeout(resolve, 60));
      await h.stream.offer(msg(3));
      expect(h.sent).toEqual([2, 'ack3']);
      expect(h.fetches).toEqual([[1, 2]]);
    });

    it('ack in order: sent at once, and the copy that follows is dropped', async () => {
      const h = harness(2, 1);
      const own = h.stream.expect('c2', ME);
      await h.stream.stored(own, msg(2), () => h.sent.push('ack2'));
      await h.stream.offer(msg(2));
      expect(h.sent).toEqual(['ack2']);
      expect(h.fetches).toEqual([]);
    });

    it('copy first: it holds its place until the store answers, then the ack goes out once, before later seqs', async () => {
      const h = harness(4);
      const own = h.stream.expect('c2', ME);
      void h.stream.offer(msg(1));
      const held = h.stream.offer(msg(2));
      const later = h.stream.offer(msg(3));
      await tick();
      expect(h.sent).toEqual([1]);
      await h.stream.stored(own, msg(2), () => h.sent.push('ack2'));
      await Promise.all([held, later]);
      await h.stream.offer(msg(2));
      expect(h.sent).toEqual([1, 'ack2', 3]);
    });

    it('a catch-up reaching the message in flight holds its place too', async () => {
      const h = harness(3);
      const own = h.stream.expect('c2', ME);
      const catchUp = h.stream.catchUp();
      await tick();
      expect(h.sent).toEqual([1]);
      void h.stream.stored(own, msg(2), () => h.sent.push('ack2'));
      await catchUp;
      expect(h.sent).toEqual([1, 'ack2', 3]);
    });

    it("another participant's message with the same clientMsgId is not held", async () => {
      const h = harness(2);
      h.stream.expect('c1', 'agent:other');
      await h.stream.offer(msg(1));
      expect(h.sent).toEqual([1]);
    });

    it('a refused message whose copy arrived anyway goes out as a message', async () => {
      const h = harness(1);
      const own = h.stream.expect('c1', ME);
      const held = h.stream.offer(msg(1));
      await tick();
      h.stream.refused(own);
      await held;
      expect(h.sent).toEqual([1]);
    });

    it('a resend of a message delivered before is acked after it (duplicate), with no second copy', async () => {
      const h = harness(1);
      await h.stream.offer(msg(1));
      const own = h.stream.expect('c1', ME);
      await h.stream.stored(own, msg(1), () => h.sent.push('ack1'));
      expect(h.sent).toEqual([1, 'ack1']);
    });

    it('the ack still goes out after close', async () => {
      const h = harness(1);
      const own = h.stream.expect('c1', ME);
      h.stream.close();
      await h.stream.stored(own, msg(1), () => h.sent.push('ack1'));
      expect(h.sent).toEqual(['ack1']);
    });
  });
});
