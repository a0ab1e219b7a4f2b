/**
 * The gateway's live lookups count a source's `rate_limit` in the same Redis window as the
 * sync workers (the demo ticket API, 20/s "for the source as a whole"), not a window of their
 * own per gateway process; and a lookup that finds the window spent by a sync answers stale
 * at once, without counting a failure towards the source's circuit.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import { RequestGate } from '../../connectors/rest/limiter.js';
import type { Connector } from '../../connectors/types.js';
import { lookupSources, type LookupSource } from '../../gateway/enrich/lookup-connectors.js';
import { LiveLookups } from '../../gateway/enrich/lookups.js';
import { GatewayKeys } from '../../gateway/events.js';
import { testSettings } from './helpers.js';

let redis: Redis;
let config: ResolvedConfig;
let ticketId: string;
const opened: Connector[] = [];
const keys = new GatewayKeys(`{jtest-gw-lookup-rate-${randomBytes(3).toString('hex')}}:gw:`);
const key = (source: string) => `{jtest-lookup-rate-${randomBytes(3).toString('hex')}}:rate:${source}`;

beforeAll(async () => {
  redis = new Redis(stackSettings().services.redis.url);
  config = await loadConfig(`${PROJECT_ROOT}/config/junction.yaml`);
  const reader = createConnector('tickets_php', config.sources.tickets_php!, { log: silentLogger });
  opened.push(reader);
  for await (const batch of reader.read('tickets', null, { limit: 1 })) ticketId = String(batch.records[0]!.id);
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  const left = await redis.keys(`${keys.prefix}*`);
  if (left.length) await redis.del(...left);
  redis.disconnect();
});

const ticketsPart = () => ({ asOf: '2026-01-01T00:00:00.000Z', stale: false, data: [{ ticket_id: ticketId, status: 'open', syncedAt: '2026-01-01T00:00:00.000Z' }] });

/** Live ticket lookups whose shared window is `rateKey`; any failure would open the circuit. `calls` counts the requests that reach the connector. */
function ticketLookups(rateKey: string) {
  const settings = testSettings({
    lookups: [{ part: 'tickets', source: 'tickets_php', lookup: 'ticket', params: { id: 'ticket_id' }, timeout_ms: 800, cache_ttl_s: 0 }],
    lookup_circuit: { error_percent: 1, volume: 1, reset_ms: 60_000 },
  });
  const source = lookupSources(settings, config.sources, silentLogger, () => ({ redis, key: rateKey })).get('tickets_php')!;
  opened.push(source.connector);
  const calls = { n: 0 };
  const real = source.connector;
  const connector = { ...real, source: real.source, type: real.type, lookup: (...args) => (calls.n++, real.lookup(...args)), close: () => real.close() } as Connector;
  const sources = new Map<string, LookupSource>([['tickets_php', { ...source, connector }]]);
  return { lookups: new LiveLookups({ settings, sources, redis, keys, log: silentLogger }), calls };
}

describe('lookupSources', () => {
  it("counts the source's requests in the shared window the workers use", async () => {
    const rateKey = key('tickets_php');
    const { lookups, calls } = ticketLookups(rateKey);
    // The window opened a minute long, not a second, so it is still there to be read however
    // long the lookup (a real call to the ticket API) and the reads below take on a slow machine.
    await redis.set(rateKey, 0, 'PX', 60_000);
    await lookups.refresh(ticketsPart(), 'tickets');
    lookups.shutdown();
    expect(calls.n).toBe(1);
    const counted = await redis.keys(`*${rateKey}*`);
    expect(counted).toHaveLength(1);
    expect(Number(await redis.get(counted[0]!))).toBeGreaterThanOrEqual(1);
    await redis.del(...counted);
  });

  it('answers stale at once when a sync spent the shared window, and the circuit stays closed', async () => {
    const cfg = config.sources.tickets_php!;
    if (cfg.type !== 'rest' || !cfg.rate_limit) throw new Error('tickets_php is expected to be a rest source with a rate_limit');
    const perSecond = cfg.rate_limit.per_second;
    const rateKey = key('tickets_php');
    const { lookups, calls } = ticketLookups(rateKey);
    // The window opened a minute long, not a second: on a slow machine the lookups below may
    // come more than a second after the sync, and find a fresh window instead of the spent one.
    await redis.set(rateKey, 0, 'PX', 60_000);
    // A sync at the full rate: the workers' own gate spends the window under the same key.
    const sync = new RequestGate({ concurrency: perSecond, perSecond, burst: perSecond, shared: { redis, key: rateKey } });
    await Promise.all(Array.from({ length: perSecond }, () => sync.run(async () => undefined)));

    const parts = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      parts.push(await lookups.refresh(ticketsPart(), 'tickets'));
      // At once: not after waiting out the lookup's timeout_ms (800) for a window that stays spent a minute.
      expect(performance.now() - started).toBeLessThan(800);
    }
    for (const p of parts) expect(p).toMatchObject({ stale: true, error: 'GW_LOOKUP_RATE_LIMITED', staleSince: expect.any(String) });
    expect(calls.n).toBe(0);

    // Next window (the spent one ended here): the source is called and answers. Had the stale
    // answers counted as failures, the circuit (volume 1, error_percent 1) would be open: GW_LOOKUP_CIRCUIT_OPEN.
    await redis.del(rateKey);
    const after = await lookups.refresh(ticketsPart(), 'tickets');
    lookups.shutdown();
    expect(after).toMatchObject({ stale: false });
    expect((after.data as { live?: { source: string } }[])[0]!.live).toMatchObject({ source: 'tickets_php' });
    expect(calls.n).toBe(1);
    await redis.del(rateKey);
  });

  it('refuses a lookup source it was not given', () => {
    const settings = testSettings({ lookups: [{ part: 'orders', source: 'nowhere', lookup: 'x', params: { a: 'b' } }] });
    expect(() => lookupSources(settings, config.sources, silentLogger)).toThrow(expect.objectContaining({ code: 'CFG_UNKNOWN_REF' }));
  });
});
