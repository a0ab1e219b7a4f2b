/** `junction agents add | list | disable | team` as a user runs them, against a scratch database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../gateway/auth/password.js';
import { runCli } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let db: ScratchDb;
const env = { JUNCTION_PG_DATABASE: 'junction_test_gateway_cli' };

beforeAll(async () => {
  db = await scratchDatabase('gateway_cli');
});

afterAll(async () => {
  await db?.close();
});

describe('junction agents', () => {
  it('adds, lists and disables agents', async () => {
    const added = await runCli(['agents', 'add', '--email', 'Ann@Example.com', '--name', 'Ann', '--team', 'billing', '--json'], env);
    expect(added.code).toBe(0);
    const ann = JSON.parse(added.stdout) as { id: number; email: string; team: string; password: string };
    expect(ann).toMatchObject({ email: 'ann@example.com', team: 'billing', disabled: false });
    const { rows } = await db.pool.query('SELECT password_hash FROM gateway.agent WHERE id = $1', [ann.id]);
    expect(await verifyPassword(ann.password, rows[0].password_hash)).toBe(true);

    const dup = await runCli(['agents', 'add', '--email', 'ann@example.com', '--name', 'Ann again', '--team', 'billing'], env);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('[GW_AGENT_EXISTS]');

    expect((await runCli(['agents', 'disable', 'ann@example.com'], env)).code).toBe(0);
    const listed = (JSON.parse((await runCli(['agents', 'list', '--json'], env)).stdout) as { agents: { email: string; disabled: boolean }[] }).agents;
    expect(listed).toEqual([expect.objectContaining({ email: 'ann@example.com', disabled: true })]);
    const missing = await runCli(['agents', 'disable', 'nobody@example.com'], env);
    expect(missing.stderr).toContain('[GW_AGENT_NOT_FOUND]');
  });

  it('team moves an agent, says when it is already there, and refuses a malformed team or an unknown agent', async () => {
    const added = await runCli(['agents', 'add', '--email', 'bo@example.com', '--name', 'Bo', '--team', 'billing', '--json'], env);
    expect(added.code, added.stderr).toBe(0);
    const moved = await runCli(['agents', 'team', 'bo@example.com', 'order'], env);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(/^moved agent \d+ bo@example.com from team billing to order$/m);
    const { rows } = await db.pool.query("SELECT team FROM gateway.agent WHERE email = 'bo@example.com'");
    expect(rows).toEqual([{ team: 'order' }]);
    const same = await runCli(['agents', 'team', 'bo@example.com', 'order', '--json'], env);
    expect(JSON.parse(same.stdout)).toMatchObject({ email: 'bo@example.com', team: 'order' });
    const bad = await runCli(['agents', 'team', 'bo@example.com', 'Bad Team'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[GW_AGENT_INVALID]');
    const missing = await runCli(['agents', 'team', 'nobody@example.com', 'order'], env);
    expect(missing.stderr).toContain('[GW_AGENT_NOT_FOUND]');
  });

  it('passwd sets a generated password (shown once) or one from stdin, and revokes earlier logins', async () => {
    const added = await runCli(['agents', 'add', '--email', 'cy@example.com', '--name', 'Cy', '--team', 'billing', '--json'], env);
    expect(added.code, added.stderr).toBe(0);
    const changed = await runCli(['agents', 'passwd', 'cy@example.com', '--json'], env);
    expect(changed.code, changed.stderr).toBe(0);
    const out = JSON.parse(changed.stdout) as { email: string; password: string; tokensValidAfter: string };
    expect(out.email).toBe('cy@example.com');
    expect(Date.parse(out.tokensValidAfter)).toBeGreaterThan(Date.now() - 60_000);
    const hash = async () => (await db.pool.query("SELECT password_hash FROM gateway.agent WHERE email = 'cy@example.com'")).rows[0].password_hash as string;
    expect(await verifyPassword(out.password, await hash())).toBe(true);
    // runCli gives the child no standard input: an empty password.
    const short = await runCli(['agents', 'passwd', 'cy@example.com', '--password-stdin'], env);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('[GW_AGENT_INVALID]');
    // Longer than login accepts: the agent could never log in with it.
    const long = await runCli(['agents', 'passwd', 'cy@example.com', '--password-stdin'], env, undefined, `${'x'.repeat(1025)}\n`);
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('has 1025 characters; login accepts at most 1024 [GW_AGENT_INVALID]');
    const piped = await runCli(['agents', 'passwd', 'cy@example.com', '--password-stdin'], env, undefined, 'piped-in-password\n');
    expect(piped.code, piped.stderr).toBe(0);
    expect(await verifyPassword('piped-in-password', await hash())).toBe(true);
    const missing = await runCli(['agents', 'passwd', 'nobody@example.com'], env);
    expect(missing.stderr).toContain('[GW_AGENT_NOT_FOUND]');
  });
});
