/** The group-commit batcher with a fake flush: batching, order per lane, per-request and whole-batch failures. */
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../gateway/store/group-commit.js';

function recorder(fail?: (n: number) => boolean) {
  const batches: number[][] = [];
  let release: (() => void) | undefined;
  const gate = { held: false };
  const flush = async (batch: number[]) => {
    batches.push(batch);
    if (gate.held) await new Promise<void>((r) => (release = r));
    return batch.map((n) => (fail?.(n) ? new Error(`no ${n}`) : n * 10));
  };
  return { batches, flush, gate, release: () => release?.() };
}

describe('GroupCommit', () => {
  it('writes what arrives together in one batch, in arrival order', async () => {
    const r = recorder();
    const gc = new GroupCommit<number, number>({ flush: r.flush, laneKey: () => 0, lanes: 1, windowMs: 5 });
    const results = await Promise.all([1, 2, 3, 4].map((n) => gc.submit(n)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(r.batches).toEqual([[1, 2, 3, 4]]);
  });

  it('queues behind a running flush, then flushes the queue at once', async () => {
    const r = recorder();
    r.gate.held = true;
    const gc = new GroupCommit<number, number>({ flush: r.flush, laneKey: () => 0, lanes: 1, windowMs: 0 });
    const first = gc.submit(1);
    await new Promise((res) => setTimeout(res, 10));
    const rest = [2, 3, 4].map((n) => gc.submit(n));
    r.gate.held = false;
    r.release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40]);
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    expect(gc.stats).toEqual({ batches: 2, requests: 4, largestBatch: 3 });
  });

  it('splits at maxBatch and spreads keys over lanes', async () => {
    const r = recorder();
    const gc = new GroupCommit<number, number>({ flush: r.flush, laneKey: (n) => n % 2, lanes: 2, windowMs: 5, maxBatch: 2 });
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => gc.submit(n)));
    // Each batch holds one lane's keys, in order.
    for (const b of r.batches) expect(new Set(b.map((n) => n % 2)).size).toBe(1);
    expect(r.batches.flat().filter((n) => n % 2 === 1)).toEqual([1, 3, 5]);
    expect(Math.max(...r.batches.map((b) => b.length))).toBe(2);
  });

  it('fails one request alone, or the whole batch when the flush throws', async () => {
    const r = recorder((n) => n === 2);
    const gc = new GroupCommit<number, number>({ flush: r.flush, laneKey: () => 0, lanes: 1 });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => gc.submit(n)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const broken = new GroupCommit<number, number>({ flush: async () => Promise.reject(new Error('db down')), laneKey: () => 0 });
    const all = await Promise.allSettled([1, 2].map((n) => broken.submit(n)));
    expect(all.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  });

  it('drains what is queued', async () => {
    const r = recorder();
    const gc = new GroupCommit<number, number>({ flush: r.flush, laneKey: () => 0, windowMs: 50 });
    const p = gc.submit(1);
    await gc.drain();
    expect(r.batches).toEqual([[1]]);
    expect(await p).toBe(10);
  });

  it('rejects a wrong option by name', () => {
    expect(() => new GroupCommit<number, number>({ flush: async () => [], laneKey: () => 0, lanes: 0 })).toThrow(/lanes/);
  });
});
