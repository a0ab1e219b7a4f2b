/**
 * Every `junction` command and subcommand answers `--help` (commander), via the real entry;
 * failures every command shares (config, services, a closed pipe) are reported by bin/cli.ts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { runCli } from '../helpers/cli.js';

/** Command names listed under "Commands:" in a commander help text. */
function subcommands(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return section
    .split('\n')
    .map((l) => /^ {2}([a-z][a-z-]*)/.exec(l)?.[1])
    .filter((n): n is string => Boolean(n) && n !== 'help');
}

describe('junction CLI', () => {
  it('answers --help on every command, recursively', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const names = subcommands(top.stdout);
    for (const expected of ['check', 'demo', 'migrate', 'schema', 'stack']) expect(names).toContain(expected);
    // Level by level, a few spawns at a time: some 30 commands at 2-4 s of startup each.
    let level = names.map((n) => [n]);
    let visited = 0;
    while (level.length) {
      const next: string[][] = [];
      for (let i = 0; i < level.length; i += 4) {
        const chunk = level.slice(i, i + 4);
        const results = await Promise.all(chunk.map((path) => runCli([...path, '--help'])));
        results.forEach((res, j) => {
          const path = chunk[j]!;
          expect(res.code, `${path.join(' ')} --help`).toBe(0);
          expect(res.stdout).toContain(`Usage: junction ${path.join(' ')}`);
          visited += 1;
          for (const sub of subcommands(res.stdout)) next.push([...path, sub]);
        });
      }
      level = next;
    }
    expect(visited).toBeGreaterThanOrEqual(8);
  }, 300_000);

  it('a service that does not answer is named without its password', async () => {
    const res = await runCli(['sync', 'tickets_php.tickets'], { JUNCTION_REDIS_URL: 'redis://:TopSecretRedisPw@127.0.0.1:1' });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('Redis at redis://:***@127.0.0.1:1 does not answer');
    expect(res.stderr).toContain('[STACK_NOT_RUNNING]');
    expect(res.stderr).not.toContain('TopSecretRedisPw');
    // One line: no ioredis "Unhandled error event" with its stack before it.
    expect(res.stderr).not.toContain('Unhandled error event');
    expect(res.stderr).toContain('ECONNREFUSED');
  });

  it('a hub database that does not answer is one coded line, without its password or a stack', async () => {
    const env = { JUNCTION_PG_URL: 'postgres://junction:TopSecretPgPw@127.0.0.1:1/junction' };
    const results = await Promise.all([['dlq', 'list'], ['migrate'], ['agents', 'list']].map((args) => runCli(args, env)));
    for (const res of results) {
      expect(res.code).toBe(1);
      expect(res.stderr.trim()).toBe(
        'junction: PostgreSQL at postgres://junction:***@127.0.0.1:1/junction does not answer (connect ECONNREFUSED 127.0.0.1:1): start the stack (junction stack up) or set JUNCTION_PG_URL [STACK_NOT_RUNNING]',
      );
    }
  });

  it('an invalid config is listed as check lists it, exit 2, whatever the command', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-cli-'));
    const file = path.join(dir, 'junction.yaml');
    fs.writeFileSync(file, 'version: 1\nsources: {}\nbogus_key: 1\n');
    try {
      const commands = [['check'], ['schedules', 'list'], ['dlq', 'replay'], ['read', 'a.b'], ['discover', 'a']];
      const results = await Promise.all(commands.map((args) => runCli([...args, '--config', file])));
      results.forEach((res, i) => {
        expect(res.code, commands[i]!.join(' ')).toBe(2);
        expect(res.stderr.trim(), commands[i]!.join(' ')).toBe(`${path.relative(PROJECT_ROOT, file)}:3:1 bogus_key: unknown key "bogus_key" [CFG_UNKNOWN_KEY]`);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('output into a pipe that closed early (| head) ends quietly with exit 0', async () => {
    // `schema` writes some 75 kB at once; the reading end is closed before it starts.
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'junction.js'), 'schema'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('an unknown command is an error with a hint, not a silent success', async () => {
    const res = await runCli(['frobnicate']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
