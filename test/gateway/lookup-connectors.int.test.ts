/**
 * The gateway's lookup connectors count a source's `rate_limit` in the same Redis window as
 * the sync workers (the demo ticket API, 20/s "for the source as a whole"), not a window of
 * their own per gateway process.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import type { Connector } from '../../connectors/types.js';
import { lookupConnectors } from '../../gateway/enrich/lookup-connectors.js';
import { testSettings } from './helpers.js';

let redis: Redis;
let config: ResolvedConfig;
const opened: Connector[] = [];
const key = (source: string) => `{jtest-lookup-rate-${randomBytes(3).toString('hex')}}:rate:${source}`;

beforeAll(async () => {
  redis = new Redis(stackSettings().services.redis.url);
  config = await loadConfig(`${PROJECT_ROOT}/config/junction.yaml`);
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  redis.disconnect();
});

describe('lookupConnectors', () => {
  it("counts the source's requests in the shared window the workers use", async () => {
    const settings = testSettings({ lookups: [{ part: 'tickets', source: 'tickets_php', lookup: 'ticket', params: { id: 'ticket_id' } }] });
    const rateKey = key('tickets_php');
    const connectors = lookupConnectors(settings, config.sources, silentLogger, { redis, key: () => rateKey });
    const tickets = connectors.get('tickets_php')!;
    opened.push(tickets);
    await tickets.lookup('ticket', { id: '1' }).catch(() => undefined); // found or not: the request was made
    const counted = await redis.keys(`*${rateKey}*`);
    expect(counted).toHaveLength(1);
    expect(Number(await redis.get(counted[0]!))).toBeGreaterThanOrEqual(1);
    await redis.del(...counted);
  });

  it('refuses a lookup source it was not given', () => {
    const settings = testSettings({ lookups: [{ part: 'orders', source: 'nowhere', lookup: 'x', params: { a: 'b' } }] });
    expect(() => lookupConnectors(settings, config.sources, silentLogger)).toThrow(expect.objectContaining({ code: 'CFG_UNKNOWN_REF' }));
  });
});
