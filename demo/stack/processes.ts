/**
 * Background processes of the stack: started detached with their output in a log file and
 * their pid in a pid file, so `down` stops exactly what `up` started and nothing else.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LaunchSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
}

/** Starts a detached process whose stdout and stderr append to `logFile`; returns its pid. */
export function launch(spec: LaunchSpec, logFile: string, pidFile: string): number {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.mkdirSync(path.dirname(pidFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    detached: true,
    stdio: ['ignore', out, out],
    uid: spec.uid,
    gid: spec.gid,
  });
  fs.closeSync(out);
  // Spawn failures (missing program or folder) arrive as an event; record them in the log
  // where the readiness wait will show them, instead of crashing the CLI.
  child.on('error', (err) => fs.appendFileSync(logFile, `junction: could not start ${spec.command}: ${err.message}\n`));
  if (child.pid === undefined) throw new Error(`could not spawn ${spec.command}`);
  child.unref();
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  return child.pid;
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) is not running.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

/**
 * The pid from `pidFile` if that process is alive and still runs `binary` — a recycled pid
 * that now belongs to something else must never be signalled.
 */
export function ownedPid(pidFile: string, binary: string): number | undefined {
  const pid = readPid(pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(path.basename(binary))) return undefined;
  } catch {
    // No /proc (not Linux): trust the pid file.
  }
  return pid;
}

/**
 * Sends `signal` (to the whole process group when `group`: PHP's server forks workers that
 * outlive a signalled parent), waits up to `timeoutMs` for the exit, then SIGKILLs the group.
 */
export async function stopPid(pid: number, signal: NodeJS.Signals, timeoutMs: number, group = false): Promise<'stopped' | 'killed'> {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      if (group) killGroup(pid);
      return 'stopped';
    }
    await sleep(100);
  }
  killGroup(pid);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return 'killed';
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // no such group left
  }
}

/** The last `lines` lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
