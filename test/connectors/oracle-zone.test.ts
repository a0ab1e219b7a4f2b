/**
 * Oracle DATE/TIMESTAMP values in a process whose local zone has daylight saving (Oracle
 * mocked: no server here; the values go through oracledb Thin's own wire codec). Thin decodes
 * and binds them through the local zone, where a spring-forward gap has no 02:30: a stored
 * 02:30 was emitted as 03:30 and a checkpoint bound an hour off. Each case runs in a child
 * process started with that TZ, as a running process's zone cannot be switched reliably here.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';

/** `node args…` with `TZ=tz`; its stdout and stderr, failing on a non-zero exit. */
function run(args: string[], tz: string): { stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, TZ: tz }, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status}: ${child.stderr}`);
  return { stdout: child.stdout, stderr: child.stderr };
}

describe('Oracle DATE values in a process zone with daylight saving (Oracle mocked: no server here)', () => {
  it.each([
    ['Europe/Berlin', '2026-03-29T02:30:00'],
    ['America/New_York', '2026-03-08T02:30:00'],
  ])('TZ=%s: a DATE stored as %s (inside its spring-forward gap) is emitted and bound as stored', { timeout: 30_000 }, (tz, stored) => {
    const child = run(['--import', 'tsx', path.join(PROJECT_ROOT, 'test', 'connectors', 'oracle-zone-child.ts'), stored], tz);
    const result = JSON.parse(child.stdout) as { zone: string; emitted: string; stored: number[]; bound: number[] };
    expect(result.emitted).toBe(`${stored}.000Z`);
    expect(result.bound).toEqual(result.stored);
    expect(result.zone).toBe('UTC');
  });

  it('bin/junction.js runs every command in UTC, whatever TZ the host sets', { timeout: 30_000 }, () => {
    // An --import hook is loaded before bin/junction.js; at exit it reports the zone the CLI ran in.
    const hook = 'data:text/javascript,process.on("exit",()=>process.stderr.write("ZONE="+Intl.DateTimeFormat().resolvedOptions().timeZone))';
    const child = run(['--import', hook, path.join(PROJECT_ROOT, 'bin', 'junction.js'), '--help'], 'Europe/Berlin');
    expect(child.stderr).toContain('ZONE=UTC');
  });
});
