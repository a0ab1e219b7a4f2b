/** Read-ahead of one batch: the next page is requested while the current one is processed. */
import { describe, expect, it } from 'vitest';
import { prefetch } from '../../pipelines/prefetch.js';

/** A source that records the order of events and whose pages resolve when told to. */
function fakeSource(pages: number, failAt?: number) {
  const events: string[] = [];
  let returned = false;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        next: async () => {
          const n = ++i;
          events.push(`fetch ${n}`);
          await new Promise((r) => setTimeout(r, 1));
          if (n === failAt) throw new Error(`page ${n} failed`);
          return n > pages ? { done: true, value: undefined } : { done: false, value: n };
        },
        return: async () => {
          returned = true;
          events.push('return');
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { source, events, wasReturned: () => returned };
}

describe('prefetch', () => {
  it('asks for page N+1 before page N is handed out, and yields every page in order', async () => {
    const { source, events } = fakeSource(3);
    const seen: number[] = [];
    for await (const page of prefetch(source)) {
      events.push(`process ${page}`);
      seen.push(page);
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(events).toEqual(['fetch 1', 'fetch 2', 'process 1', 'fetch 3', 'process 2', 'fetch 4', 'process 3']);
  });

  it('surfaces a read-ahead error only when its page is asked for, after the current page', async () => {
    const { source, events } = fakeSource(5, 2);
    const seen: number[] = [];
    const err = await (async () => {
      for await (const page of prefetch(source)) {
        // the failing fetch of page 2 has already settled here; page 1 still completes
        await new Promise((r) => setTimeout(r, 5));
        seen.push(page);
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect((err as Error).message).toBe('page 2 failed');
    expect(events.slice(0, 2)).toEqual(['fetch 1', 'fetch 2']);
  });

  it('a consumer stopping early aborts the pending read, waits for it, then closes the source', async () => {
    const { source, events, wasReturned } = fakeSource(10);
    let stopped = 0;
    for await (const page of prefetch(source, { onStop: () => stopped++ })) {
      if (page === 2) break;
    }
    expect(stopped).toBe(1);
    expect(wasReturned()).toBe(true);
    // page 3 was being fetched when the consumer stopped: return() comes after it settled
    expect(events.slice(-2)).toEqual(['fetch 3', 'return']);
  });
});
