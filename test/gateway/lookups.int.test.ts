/**
 * Live lookups against the real SOAP service behind a TCP proxy: answers are cached in Redis
 * with their TTL (a later panel gets them even with the source gone), and a source that keeps
 * failing opens its circuit, after which it is not called at all until the reset time.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import type { Connector } from '../../connectors/types.js';
import { LiveLookups } from '../../gateway/enrich/lookups.js';
import { GatewayKeys } from '../../gateway/events.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { testSettings } from './helpers.js';

let redis: Redis;
let proxy: TcpProxy;
let connector: Connector;
let orderNo: string;
const keys = new GatewayKeys(`{jtest-gw-lookups-${randomBytes(3).toString('hex')}}:gw:`);
const calls = { n: 0 };

beforeAll(async () => {
  redis = new Redis(stackSettings().services.redis.url);
  proxy = await startTcpProxy('127.0.0.1', stackSettings().services.orders_soap.port);
  const config = await loadConfig(`${PROJECT_ROOT}/config/junction.yaml`);
  const soap = { ...config.sources.orders_soap!, wsdl: `http://127.0.0.1:${proxy.port}/orders.php?wsdl` };
  const real = createConnector('orders_soap', soap, { log: silentLogger });
  // Counts the calls that reach the connector (a cache hit or an open circuit makes none).
  connector = { ...real, source: real.source, type: real.type, lookup: (...args) => (calls.n++, real.lookup(...args)), close: () => real.close() } as Connector;
  for await (const batch of real.read('orders', null, { limit: 20 })) orderNo = String(batch.records[0]!.orderNo);
});

afterAll(async () => {
  await connector?.close();
  await proxy?.destroy();
  const left = await redis.keys(`${keys.prefix}*`);
  if (left.length) await redis.del(...left);
  redis.disconnect();
});

const part = () => ({ asOf: '2026-01-01T00:00:00.000Z', stale: false, data: [{ order_no: orderNo, status: 'paid', syncedAt: '2026-01-01T00:00:00.000Z' }] });

function lookups(overrides: Record<string, unknown>) {
  const settings = testSettings({
    lookups: [{ part: 'orders', source: 'orders_soap', lookup: 'order_status', params: { orderNo: 'order_no' }, timeout_ms: 2000, ...overrides }],
    lookup_circuit: { error_percent: 50, volume: 2, reset_ms: 60_000 },
  });
  return new LiveLookups({ settings, sources: new Map([['orders_soap', { connector }]]), redis, keys, log: silentLogger });
}

describe('live lookups', () => {
  it('caches answers in Redis for cache_ttl_s, so a later panel has them with the source gone', async () => {
    const l = lookups({ cache_ttl_s: 60 });
    const first = await l.refresh(part(), 'orders');
    expect(first.stale).toBe(false);
    const live = (first.data as { live: { orderNo: string; asOf: string } }[])[0]!.live;
    expect(live.orderNo).toBe(orderNo);
    const cached = await redis.keys(`${keys.prefix}lookup:orders_soap:order_status:*`);
    expect(cached).toHaveLength(1);
    expect(await redis.ttl(cached[0]!)).toBeGreaterThan(0);

    const before = calls.n;
    const again = await l.refresh(part(), 'orders');
    expect(calls.n).toBe(before); // answered from the cache
    expect((again.data as { live: { asOf: string } }[])[0]!.live.asOf).toBe(live.asOf);
    // The part is as of its oldest row: here the one row's live answer.
    expect(again.asOf).toBe(live.asOf);
    l.shutdown();
  });

  it('opens the circuit of a failing source: later panels are stale without calling it', async () => {
    const l = lookups({ cache_ttl_s: 0 });
    await proxy.destroy();
    const failures = [await l.refresh(part(), 'orders'), await l.refresh(part(), 'orders')];
    for (const f of failures) expect(f).toMatchObject({ stale: true, error: expect.stringMatching(/^CONN_/), staleSince: expect.any(String) });
    const before = calls.n;
    const open = await l.refresh(part(), 'orders');
    expect(open).toMatchObject({ stale: true, error: 'GW_LOOKUP_CIRCUIT_OPEN' });
    expect(calls.n).toBe(before);
    // Stale since the first failure, not since this panel.
    expect(open.staleSince).toBe(failures[0]!.staleSince);
    l.shutdown();
  });
});
