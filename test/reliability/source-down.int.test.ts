/**
 * A source that goes away mid-sync (a TCP proxy in front of its PostgreSQL, destroyed): the
 * job's attempts fail and are retried, the source's circuit opens with the failure's code
 * and reason, and once the source is back the circuit closes by itself after a probe and the
 * sync completes with the view equal to the source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCircuit, type CircuitStatus } from '../../pipelines/circuit.js';
import { queuedSync, type QueuedSync } from '../helpers/queued-sync.js';
import { redisUrlWithDb } from '../helpers/queue-harness.js';
import { SOURCE, hashDiff, sourceHashes, unifiedHashes } from '../helpers/sync-fixture.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const ROWS = 20_000;
let fx: QueuedSync;
let proxy: TcpProxy;
let pgPort: number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

beforeAll(async () => {
  fx = await queuedSync({
    name: 'rel_source',
    rows: ROWS,
    redisUrl: redisUrlWithDb(8),
    sourceUrl: async (url) => {
      const u = new URL(url);
      pgPort = Number(u.port);
      proxy = await startTcpProxy(u.hostname, pgPort);
      u.port = String(proxy.port);
      return u.toString();
    },
    pipelines: '{ batch_size: 500, attempts: 50, backoff_ms: 200, circuit: { failures: 3, open_ms: 3000 } }',
  });
}, 180_000);

afterAll(async () => {
  await fx?.close();
  await proxy?.destroy();
});

describe('a source that goes down mid-sync', () => {
  it('retries, opens its circuit with the reason, and recovers by itself once the source is back', async () => {
    const worker = await fx.startWorker();
    await fx.enqueue('source-down');
    await waitFor('first batches loaded', 120_000, async () => ((await fx.loaded()) >= 2000 ? true : undefined));

    const port = proxy.port;
    await proxy.destroy();
    const open = await waitFor<CircuitStatus>('circuit open', 90_000, async () => {
      const c = await readCircuit(fx.redis, SOURCE);
      return c.state === 'open' ? c : undefined;
    });
    console.log(`source-down: circuit of ${SOURCE} open after ${open.failures} failed attempts: ${open.code} ${open.reason}; next probe at ${open.nextProbeAt}`);
    expect(open.code).toMatch(/^CONN_/);
    expect(open.reason).toBeTruthy();
    expect(open.failures).toBeGreaterThanOrEqual(3);
    expect(open.openedAt).not.toBeNull();
    expect(open.nextProbeAt).not.toBeNull();
    const job = await fx.queue.getJob('source-down');
    expect(['delayed', 'waiting', 'active', 'prioritized']).toContain(await job!.getState());
    expect(worker.exited).toBe(false);
    const whileDown = await fx.loaded();
    expect(whileDown).toBeLessThan(ROWS);

    proxy = await startTcpProxy('127.0.0.1', pgPort, { port });
    const end = await fx.waitForJob('source-down', 180_000);
    expect(end.state, end.state === 'failed' ? end.reason : '').toBe('completed');
    expect((await readCircuit(fx.redis, SOURCE)).state).toBe('closed');
    const expected = await sourceHashes(fx.config);
    expect(hashDiff(expected, await unifiedHashes(fx.hub.pool))).toEqual([]);
    expect(expected.size).toBe(ROWS);
  }, 600_000);
});
