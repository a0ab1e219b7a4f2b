/**
 * The demo's agent logins on a scratch database: one per team the demo config routes to, all
 * with the public demo password, created once (a second run and an existing account are left
 * alone); and the "Open in a browser" block `junction demo` prints with them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { DEMO_AGENT_PASSWORD, demoAgents, demoTeams, ensureDemoAgents } from '../../demo/agents.js';
import { describeDemo } from '../../demo/run.js';
import { verifyPassword } from '../../gateway/auth/password.js';
import { addAgent, findAgentForLogin, listAgents, setAgentDisabled } from '../../gateway/store/agents.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let db: ScratchDb;
let config: ResolvedConfig;

beforeAll(async () => {
  db = await scratchDatabase('demo_agents');
  config = await loadConfig(`${PROJECT_ROOT}/config/junction.yaml`);
}, 60_000);

afterAll(async () => {
  await db?.close();
});

describe('demo agents', () => {
  it('are one per team the demo config routes to', () => {
    expect(demoTeams(config.gateway)).toEqual(['support', 'billing', 'logistics', 'english']);
    expect(demoAgents(['support', 'english', 'vip'])).toEqual([
      { email: 'support@demo.junction', name: 'Lin (support)', team: 'support' },
      { email: 'english@demo.junction', name: 'Emma (english)', team: 'english' },
      { email: 'vip@demo.junction', name: 'Alex (vip)', team: 'vip' },
    ]);
  });

  it('are created once with the demo password; existing accounts are left as they are', async () => {
    // Someone already made billing's account, with a password of their own, and disabled it.
    await addAgent(db.pool, { email: 'billing@demo.junction', name: 'Own billing', team: 'billing', password: 'my-own-password' });
    await setAgentDisabled(db.pool, 'billing@demo.junction', true);
    const teams = demoTeams(config.gateway);

    const first = await ensureDemoAgents(db.pool, teams);
    expect(first.created.map((a) => a.email)).toEqual(['support@demo.junction', 'logistics@demo.junction', 'english@demo.junction']);
    expect(first.existing.map((a) => a.email)).toEqual(['billing@demo.junction']);

    for (const a of first.created) {
      const stored = await findAgentForLogin(db.pool, a.email);
      expect(stored).toMatchObject({ name: a.name, team: a.team, disabled: false });
      expect(await verifyPassword(DEMO_AGENT_PASSWORD, stored!.passwordHash)).toBe(true);
    }
    const billing = await findAgentForLogin(db.pool, 'billing@demo.junction');
    expect(billing).toMatchObject({ name: 'Own billing', disabled: true });
    expect(await verifyPassword('my-own-password', billing!.passwordHash)).toBe(true);

    const again = await ensureDemoAgents(db.pool, teams);
    expect(again.created).toEqual([]);
    expect(again.existing).toHaveLength(4);
    expect((await listAgents(db.pool)).map((a) => a.email).sort()).toEqual(
      ['billing@demo.junction', 'english@demo.junction', 'logistics@demo.junction', 'support@demo.junction'],
    );
  });

  it('are printed by junction demo with the pages to open', () => {
    const text = describeDemo({ services: [], seeded: 'already', groundTruth: '/tmp/ground_truth.csv' }, stackSettings(), { config, failed: [] });
    const block = text.slice(text.indexOf('Open in a browser:'));
    expect(block).toContain(`http://127.0.0.1:${config.gateway.port}/agent`);
    expect(block).toContain(`password ${DEMO_AGENT_PASSWORD}`);
    for (const a of demoAgents(demoTeams(config.gateway))) expect(block).toMatch(new RegExp(`${a.email.replace(/\./g, '\\.')}\\s+${a.name.replace(/[()]/g, '\\$&')}`));
    expect(block).toContain(`http://127.0.0.1:${config.gateway.port}/demo/shop`);
    expect(block).toContain(`http://127.0.0.1:${config.ops.port}/ops`);
    // The demo default token is shown (it is public); one set through the environment never is.
    if (config.ops.admin_token === 'demo-admin-token-change-me') expect(block).toContain('admin token demo-admin-token-change-me');
    else expect(block).not.toContain(String(config.ops.admin_token));

    const noShop = { ...config, gateway: { ...config.gateway, demo_shop: false } } as ResolvedConfig;
    expect(describeDemo({ services: [], seeded: 'already', groundTruth: '/tmp/g.csv' }, stackSettings(), { config: noShop, failed: [] })).not.toContain('/demo/shop');
  });
});
