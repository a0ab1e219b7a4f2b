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
  // The start time tells this process from a later one given the same pid (after a reboot).
  const started = startTime(child.pid);
  fs.writeFileSync(pidFile, `${child.pid}\n${started === undefined ? '' : `${started}\n`}`);
  return child.pid;
}

/** When `pid` started, in clock ticks since boot (/proc/PID/stat field 22); undefined without /proc. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The pid file's pid and, when it was written by {@link launch} on Linux, the process's start time. */
function readPidFile(pidFile: string): { pid: number; started?: string } | undefined {
  try {
    const [first, second] = fs.readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(first!.trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return second?.trim() ? { pid, started: second.trim() } : { pid };
  } catch {
    return undefined;
  }
}

export function readPid(pidFile: string): number | undefined {
  return readPidFile(pidFile)?.pid;
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
 * The pid from `pidFile` if that process is alive, started when the pid file says, and still
 * runs `binary`: a recycled pid that now belongs to something else, even another copy of
 * the same program, must never be signalled or taken for ours.
 */
export function ownedPid(pidFile: string, binary: string): number | undefined {
  const file = readPidFile(pidFile);
  if (file === undefined || !isAlive(file.pid)) return undefined;
  const { pid } = file;
  // No /proc at all (not Linux): the pid file is all there is to go on.
  if (!fs.existsSync('/proc/self')) return pid;
  // On Linux, a pid whose /proc entry cannot be read has exited since isAlive.
  if (file.started !== undefined && startTime(pid) !== file.started) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(path.basename(binary)) ? pid : undefined;
  } catch {
    return undefined;
  }
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
