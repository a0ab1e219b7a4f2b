/**
 * Reads one item ahead of the consumer: while batch N is mapped and loaded, the request for
 * batch N+1 is already on its way to the source. One ahead is enough to hide the source's
 * latency behind the load (or the load behind the source) and keeps memory at two batches.
 */

export interface PrefetchOptions {
  /**
   * Called when the consumer stops before the end (break, throw): it should abort the
   * request still in flight (the source's read signal), so that closing does not wait for it.
   */
  onStop?: () => void;
}

/**
 * Yields the items of `source` in order, asking for the next one before handing out the
 * current one. An error of the read-ahead surfaces when the consumer asks for that item,
 * not earlier: the current item is processed (and committed) first.
 */
export async function* prefetch<T>(source: AsyncIterable<T>, options: PrefetchOptions = {}): AsyncGenerator<T, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  let ahead: Promise<IteratorResult<T>> | undefined = it.next();
  let finished = false;
  try {
    for (;;) {
      const current: IteratorResult<T> = await ahead;
      ahead = undefined;
      if (current.done) {
        finished = true;
        return;
      }
      ahead = it.next();
      // Observed later (await above); until then a rejection must not count as unhandled.
      ahead.catch(() => undefined);
      yield current.value;
    }
  } finally {
    if (!finished) {
      options.onStop?.();
      // An async generator queues return() behind a pending next(): let that settle first
      // (the abort above makes it quick), then close the source so it releases what it holds.
      if (ahead) await ahead.catch(() => undefined);
      await it.return?.().catch(() => undefined);
    }
  }
}
