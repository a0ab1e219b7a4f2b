/**
 * Stream fences (pipelines/stream-fence.ts) on the real PostgreSQL: each take raises the
 * number; a transaction holding an older one is refused; a take waits for a batch the
 * previous holder has open and checked, so that batch commits before the new holder starts,
 * and gives up (null) when that batch stays open past its wait.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JunctionError } from '../../config/errors.js';
import { assertFence, takeFence } from '../../pipelines/stream-fence.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let hub: ScratchDb;
beforeAll(async () => {
  hub = await scratchDatabase('fence');
}, 120_000);
afterAll(async () => {
  await hub?.close();
});

it('raises the number per stream; only the latest one passes', async () => {
  const a1 = (await takeFence(hub.pool, 'src', 'a'))!;
  const a2 = (await takeFence(hub.pool, 'src', 'a'))!;
  const b1 = (await takeFence(hub.pool, 'src', 'b'))!;
  expect(a2).toBe(a1 + 1);
  expect(b1).toBe(1);
  const tx = await hub.pool.connect();
  try {
    await tx.query('BEGIN');
    await assertFence(tx, 'src', 'a', a2);
    await assertFence(tx, 'src', 'b', b1);
    const err = await assertFence(tx, 'src', 'a', a1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JunctionError);
    expect((err as JunctionError).code).toBe('SYNC_LOCK_LOST');
    expect((err as JunctionError).retryable).toBe(true);
    expect((err as Error).message).toContain(`fence ${a2}, this job's ${a1}`);
    await tx.query('ROLLBACK');
    await tx.query('BEGIN');
    await expect(assertFence(tx, 'src', 'never-taken', 1)).rejects.toThrow(/fence none/);
  } finally {
    await tx.query('ROLLBACK');
    tx.release();
  }
});

it('a take waits for the open batch that checked the previous fence, which then commits', async () => {
  const mine = (await takeFence(hub.pool, 'src', 'c'))!;
  await hub.pool.query('CREATE TABLE IF NOT EXISTS public.fence_batch (n int)');
  const tx = await hub.pool.connect();
  try {
    await tx.query('BEGIN');
    await tx.query('INSERT INTO public.fence_batch VALUES (1)');
    await assertFence(tx, 'src', 'c', mine);
    let newer: number | undefined;
    const taking = takeFence(hub.pool, 'src', 'c').then((n) => (newer = n ?? undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(newer).toBeUndefined();
    await tx.query('COMMIT');
    expect(await taking).toBe(mine + 1);
    expect((await hub.pool.query('SELECT count(*)::int AS n FROM public.fence_batch')).rows[0].n).toBe(1);
  } finally {
    tx.release();
  }
});

it('a take gives up after its wait when the open batch does not commit (a frozen holder): null, and the fence stays', async () => {
  const mine = (await takeFence(hub.pool, 'src', 'd'))!;
  const tx = await hub.pool.connect();
  try {
    await tx.query('BEGIN');
    await assertFence(tx, 'src', 'd', mine);
    expect(await takeFence(hub.pool, 'src', 'd', 200)).toBeNull();
    await assertFence(tx, 'src', 'd', mine);
    await tx.query('COMMIT');
  } finally {
    tx.release();
  }
  expect(await takeFence(hub.pool, 'src', 'd', 200)).toBe(mine + 1);
});
