/**
 * CPU time used by a benchmark's parts: which side bounds a run (this process or its
 * PostgreSQL backend), and what each costs per record. On a shared 2-core machine both the
 * rates and these figures drift between runs of the same code (by up to a fifth, measured
 * 2026-11-23), so a change is judged over several runs.
 */
import pidusage from 'pidusage';

/** CPU seconds of this process (every thread: the garbage collector's helpers too). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** User + system CPU seconds process `pid` of this machine has used so far; null when it cannot be read. */
async function processCpuSeconds(pid: number): Promise<number | null> {
  try {
    return (await pidusage(pid)).ctime / 1000;
  } catch {
    return null;
  }
}

/**
 * CPU seconds this process and a PostgreSQL backend use while `work` runs. `backendPid` is
 * null when the server is not on this machine (its pid means nothing here): then so is `postgres`.
 */
export async function cpuDuring<T>(backendPid: number | null, work: () => Promise<T>): Promise<{ result: T; node: number; postgres: number | null }> {
  const node0 = ownCpuSeconds();
  const pg0 = backendPid === null ? null : await processCpuSeconds(backendPid);
  const result = await work();
  const node = ownCpuSeconds() - node0;
  const pg1 = backendPid === null ? null : await processCpuSeconds(backendPid);
  if (backendPid !== null) pidusage.clear();
  return { result, node, postgres: pg0 === null || pg1 === null ? null : pg1 - pg0 };
}
