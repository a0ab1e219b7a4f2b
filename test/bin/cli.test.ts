/** Every `junction` command and subcommand answers `--help` (commander), via the real entry. */
import { describe, expect, it } from 'vitest';
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
  });

  it('an unknown command is an error with a hint, not a silent success', async () => {
    const res = await runCli(['frobnicate']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
