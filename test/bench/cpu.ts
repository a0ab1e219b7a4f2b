/**
 * CPU time used by a benchmark's parts: which side bounds a run (this process or its
 * PostgreSQL backend), and what each costs per record. On a shared 2-core machine both the
 * rates and these figures drift between runs of the same code (by up to a fifth, measured
 * 2026-11-23), so a change is judged over several runs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSecond: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`, 100 on Linux when that cannot run). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * User + system CPU seconds process `pid` has used so far, from `/proc/<pid>/stat`; null when
 * there is no such entry (the process runs on another machine, or this is not Linux).
 */
export function processCpuSeconds(pid: number): number | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields count from its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / clockTicks() : null;
}

/** CPU seconds of this process (every thread: the garbage collector's helpers too). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU seconds this process and a PostgreSQL backend (by pid) use while `work` runs. */
export async function cpuDuring<T>(backendPid: number, work: () => Promise<T>): Promise<{ result: T; node: number; postgres: number | null }> {
  const node0 = ownCpuSeconds();
  const pg0 = processCpuSeconds(backendPid);
  const result = await work();
  const node = ownCpuSeconds() - node0;
  const pg1 = processCpuSeconds(backendPid);
  return { result, node, postgres: pg0 === null || pg1 === null ? null : pg1 - pg0 };
}
