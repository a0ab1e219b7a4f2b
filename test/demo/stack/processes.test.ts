/**
 * Pid files of the stack and the demo's hub: a pid is ours only while the process that has
 * it is the one `launch` started (same start time), so a recycled pid, even one now running
 * the same program, is never signalled nor taken for a running service.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, launch, ownedPid, startTime, stopPid } from '../../../demo/stack/processes.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-pids-'));
const started: number[] = [];
afterAll(async () => {
  for (const pid of started) if (isAlive(pid)) await stopPid(pid, 'SIGKILL', 2000);
  fs.rmSync(dir, { recursive: true, force: true });
});

function sleeper(name: string): { pid: number; pidFile: string } {
  const pidFile = path.join(dir, `${name}.pid`);
  const pid = launch({ command: 'sleep', args: ['60'] }, path.join(dir, `${name}.log`), pidFile);
  started.push(pid);
  return { pid, pidFile };
}

describe('ownedPid', () => {
  it('launch records the start time beside the pid, and the process it started is owned', () => {
    const { pid, pidFile } = sleeper('a');
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(`${pid}\n${startTime(pid)}\n`);
    expect(startTime(pid)).toMatch(/^\d+$/);
    expect(ownedPid(pidFile, 'sleep')).toBe(pid);
  });

  it('the same pid with another start time (a recycled pid running the same program) is not owned', () => {
    const { pid, pidFile } = sleeper('b');
    fs.writeFileSync(pidFile, `${pid}\n${Number(startTime(pid)) - 1}\n`);
    expect(ownedPid(pidFile, 'sleep')).toBeUndefined();
  });

  it('a pid file of the old form (pid only) is still read, by the program it runs', () => {
    const { pid, pidFile } = sleeper('c');
    fs.writeFileSync(pidFile, `${pid}\n`);
    expect(ownedPid(pidFile, 'sleep')).toBe(pid);
    expect(ownedPid(pidFile, 'redis-server')).toBeUndefined();
  });

  it('a process that exited, a missing file and a garbled one are not owned', async () => {
    const { pid, pidFile } = sleeper('d');
    await stopPid(pid, 'SIGKILL', 2000);
    expect(ownedPid(pidFile, 'sleep')).toBeUndefined();
    expect(ownedPid(path.join(dir, 'none.pid'), 'sleep')).toBeUndefined();
    fs.writeFileSync(pidFile, 'x\n');
    expect(ownedPid(pidFile, 'sleep')).toBeUndefined();
  });
});
