/** Which settings only the demo may serve with: the committed config's published secrets, and its shop page. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { demoOnlySettings } from '../../config/published-secrets.js';

const committed = path.join(PROJECT_ROOT, 'config/junction.yaml');

describe('demoOnlySettings', () => {
  it('names every surface secret left at its published default, and the demo shop', async () => {
    const config = await loadConfig(committed, { env: {} });
    expect(await demoOnlySettings(config)).toEqual(['gateway.token_secret', 'gateway.identity_secret', 'ops.admin_token', 'gateway.demo_shop']);
  });

  it('names nothing that came from the environment', async () => {
    const env = {
      JUNCTION_GATEWAY_TOKEN_SECRET: 'a-real-token-secret-of-this-deployment-0123',
      JUNCTION_GATEWAY_IDENTITY_SECRET: 'a-real-identity-secret-0123',
      JUNCTION_ADMIN_TOKEN: 'a-real-admin-token-0123',
    };
    const config = await loadConfig(committed, { env });
    expect(await demoOnlySettings(config)).toEqual(['gateway.demo_shop']);
  });

  it('names nothing once the three secrets are set and JUNCTION_DEMO_SHOP=false turns the shop off', async () => {
    const env = {
      JUNCTION_GATEWAY_TOKEN_SECRET: 'a-real-token-secret-of-this-deployment-0123',
      JUNCTION_GATEWAY_IDENTITY_SECRET: 'a-real-identity-secret-0123',
      JUNCTION_ADMIN_TOKEN: 'a-real-admin-token-0123',
      JUNCTION_DEMO_SHOP: 'false',
    };
    const config = await loadConfig(committed, { env });
    expect(config.gateway.demo_shop).toBe(false);
    expect(await demoOnlySettings(config)).toEqual([]);
  });
});
