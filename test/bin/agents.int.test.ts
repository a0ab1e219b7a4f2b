/**
 * `junction agents add` refusing what it cannot store or what could never log in, with a
 * code and before anything is written, against a scratch database.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFiles, yaml } from '../config/yaml-fixtures.js';
import { runCli } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let db: ScratchDb;
const env = { JUNCTION_PG_DATABASE: 'junction_test_agents_add' };

beforeAll(async () => {
  db = await scratchDatabase('agents_add');
});

afterAll(async () => {
  await db?.close();
});

async function agentCount(): Promise<number> {
  return Number((await db.pool.query('SELECT count(*) AS n FROM gateway.agent')).rows[0].n);
}

describe('junction agents add', () => {
  it.each([
    ['an empty email', ['--email', '', '--name', 'Ann', '--team', 'billing'], /--email "" is not an email address/],
    ['an email without a domain', ['--email', 'ann', '--name', 'Ann', '--team', 'billing'], /--email "ann" is not an email address/],
    ['an email the login refuses (over 254 characters)', ['--email', `${'a'.repeat(250)}@x.cn`, '--name', 'Ann', '--team', 'billing'], /is not an email address/],
    ['an empty name', ['--email', 'ann@example.com', '--name', ' ', '--team', 'billing'], /--name is empty/],
    ['a team name with spaces and capitals', ['--email', 'ann@example.com', '--name', 'Ann', '--team', 'Billing Team'], /--team "Billing Team" is not a team name/],
  ])('refuses %s with GW_AGENT_INVALID and stores nothing', async (_what, args, message) => {
    const r = await runCli(['agents', 'add', ...args], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\[GW_AGENT_INVALID\]$/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await agentCount()).toBe(0);
  });

  it('refuses a password shorter than 8 characters from standard input', async () => {
    // runCli gives the child no standard input: an empty password, the shortest of all.
    const r = await runCli(['agents', 'add', '--email', 'ann@example.com', '--name', 'Ann', '--team', 'billing', '--password-stdin'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has 0 characters; at least 8 are needed \[GW_AGENT_INVALID\]/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await agentCount()).toBe(0);
  });

  it('adds an agent to a team no routing rule names, with a warning', async () => {
    const r = await runCli(['agents', 'add', '--email', 'vip@example.com', '--name', 'Vip', '--team', 'vip_desk', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: no routing rule names team vip_desk .*by transfer only/);
    expect(JSON.parse(r.stdout)).toMatchObject({ email: 'vip@example.com', team: 'vip_desk' });
    const routed = await runCli(['agents', 'add', '--email', 'bill@example.com', '--name', 'Bill', '--team', 'billing'], env);
    expect(routed.code, routed.stderr).toBe(0);
    expect(routed.stderr).toBe('');
  });

  it('adds an agent to a named team when the config does not load here (a source env var unset): a note, no warning, no failure', async () => {
    const dir = writeFiles({
      'junction.yaml': yaml(`
        version: 1
        sources:
          shop:
            type: postgres
            url: \${JUNCTION_TEST_AGENTS_UNSET_URL}
            streams:
              accounts: { table: shop.accounts, cursor: [updated_at, id], key: id }
      `),
    });
    const config = path.join(dir, 'junction.yaml');
    const args = ['agents', 'add', '--email', 'remote@example.com', '--name', 'Remote', '--config', config, '--json'];
    const r = await runCli([...args, '--team', 'vip_desk'], { ...env, JUNCTION_TEST_AGENTS_UNSET_URL: undefined });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^note: team vip_desk is not checked against the routing rules: the config did not load \(.*JUNCTION_TEST_AGENTS_UNSET_URL.*\[CFG_ENV_MISSING\]\)$/m);
    expect(r.stderr).not.toMatch(/warning/);
    expect(JSON.parse(r.stdout)).toMatchObject({ email: 'remote@example.com', team: 'vip_desk' });
    // Without --team the config names the team: it must load.
    const unnamed = await runCli(args, { ...env, JUNCTION_TEST_AGENTS_UNSET_URL: undefined });
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toMatch(/\[CFG_ENV_MISSING\]/);
  });

  it("sets an agent's own capacity at add and later, back to the config's default, and refuses a bad one", async () => {
    const config = ['-c', path.join(process.cwd(), 'config/junction.yaml')];
    const added = await runCli(['agents', 'add', '--email', 'cap@example.com', '--name', 'Cap', '--team', 'billing', '--capacity', '2', ...config, '--json'], env);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ email: 'cap@example.com', capacity: 2 });
    const set = await runCli(['agents', 'capacity', 'CAP@example.com', '0', '--json'], env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ email: 'cap@example.com', capacity: 0 });
    const back = await runCli(['agents', 'capacity', 'cap@example.com', 'default'], env);
    expect(back.stdout).toMatch(/capacity gateway\.agent_capacity \(default\)/);
    expect((await db.pool.query(`SELECT capacity FROM gateway.agent WHERE email = 'cap@example.com'`)).rows[0].capacity).toBeNull();
    for (const bad of ['-1', '1001', 'lots']) {
      const r = await runCli(['agents', 'capacity', 'cap@example.com', bad], env);
      expect(r.code, bad).toBe(1);
      expect(r.stderr).toMatch(/\[(GW_AGENT_INVALID|CLI_USAGE)\]|unknown option/);
    }
    const nobody = await runCli(['agents', 'capacity', 'nobody@example.com', '3'], env);
    expect(nobody.stderr).toMatch(/no agent with email nobody@example\.com \[GW_AGENT_NOT_FOUND\]/);
  });
});
