/**
 * The stack lock: one holder per data folder at a time, others wait and then run; another
 * folder does not wait; a symlink to a folder is that folder; a holder killed with SIGKILL
 * frees it (the kernel closes its socket).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { JunctionError } from '../../../config/errors.js';
import { withStackLock } from '../../../demo/stack/lock.js';

const folder = () => `/tmp/junction-lock-test-${process.pid}-${Math.random().toString(36).slice(2)}`;

describe('withStackLock', () => {
  it('runs holders of one data folder one after the other, and tells the waiting one why', async () => {
    const dir = folder();
    const events: string[] = [];
    const lines: string[] = [];
    const holder = (name: string) => async () => {
      events.push(`${name} in`);
      await sleep(300);
      events.push(`${name} out`);
      return name;
    };
    const first = withStackLock(dir, holder('a'));
    await sleep(50);
    const second = withStackLock(dir, holder('b'), { log: (l) => lines.push(l) });
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(events).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(lines).toEqual([`another junction stack command is running on ${dir}; waiting for it to finish…`]);
  });

  it('is freed when its holder throws, and another folder never waits', async () => {
    const dir = folder();
    await expect(withStackLock(dir, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    let inner = '';
    await withStackLock(dir, async () => {
      inner = await withStackLock(folder(), async () => 'other folder ran', { waitMs: 100 });
    });
    expect(inner).toBe('other folder ran');
  });

  it('waiting past waitMs is STACK_BUSY naming the folder', async () => {
    const dir = folder();
    await withStackLock(dir, async () => {
      const err = await withStackLock(dir, async () => 'never', { waitMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JunctionError);
      expect((err as JunctionError).code).toBe('STACK_BUSY');
      expect((err as Error).message).toContain(dir);
    });
  });

  it('a folder reached through a symlink or a `..` shares the lock of its real path, before and after it exists', async () => {
    const base = folder();
    fs.mkdirSync(base);
    try {
      const link = `${base}-link`;
      fs.symlinkSync(base, link);
      try {
        for (const sub of ['data', 'not-yet']) {
          if (sub === 'data') fs.mkdirSync(path.join(base, sub));
          await withStackLock(path.join(base, sub), async () => {
            for (const other of [path.join(link, sub), path.join(base, 'x', '..', sub)]) {
              const code = await withStackLock(other, async () => 'ran', { waitMs: 300 }).catch((e: unknown) => (e as JunctionError).code);
              expect(code, other).toBe('STACK_BUSY');
            }
          });
        }
      } finally {
        fs.rmSync(link);
      }
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('a holder killed with SIGKILL leaves nothing behind: the next one gets the lock at once', async () => {
    const dir = folder();
    // A child process that takes the lock and hangs on to it.
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { withStackLock } = await import(${JSON.stringify(new URL('../../../demo/stack/lock.ts', import.meta.url).pathname)});
      await withStackLock(${JSON.stringify(dir)}, async () => { console.log('held'); await new Promise(() => setInterval(() => {}, 1000)); });
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    const busy = await withStackLock(dir, async () => 'got it', { waitMs: 300 }).catch((e: unknown) => (e as JunctionError).code);
    expect(busy).toBe('STACK_BUSY');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await withStackLock(dir, async () => 'got it', { waitMs: 2000 })).toBe('got it');
  });
});
