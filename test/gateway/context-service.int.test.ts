/** The context service's panel cache: reused for `gateway.context.reuse_ms`, then let go. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('ctxcache');
  gw = await env.start({ settings: { context: { reuse_ms: 100 } } });
});

afterAll(async () => {
  await env?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('context service', () => {
  it('drops a panel older than reuse_ms once another is built, so the cache does not grow with every customer shown', async () => {
    const service = gw.context.context;
    // Customers the unified view does not have: their parts are stale, the panels still build.
    const first = await service.panel(900_001);
    expect(await service.panel(900_001)).toBe(first); // reused within reuse_ms
    expect(service.cachedPanels).toBe(1);
    await sleep(150);
    await service.panel(900_002);
    expect(service.cachedPanels).toBe(1);
    expect(await service.panel(900_001)).not.toBe(first); // built afresh
  });
});
