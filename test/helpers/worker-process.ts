/**
 * Sync worker *processes*, as production runs them (`junction start --role worker`), for
 * the tests and benchmarks that kill one with SIGKILL mid-batch and start another. Where the
 * process finds its services comes from the environment (`JUNCTION_PG_DATABASE`,
 * `JUNCTION_REDIS_URL`, `JUNCTION_CLICKHOUSE_DATABASE`, …), as for any hub process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { HUB_NODE_FLAGS, PROJECT_ROOT } from '../../config/env.js';

export interface WorkerProcessOptions {
  /** The config file the worker loads (`--config`). */
  configFile: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Jobs at once in the process (`--concurrency`). @defaultValue the config's */
  concurrency?: number;
  /** How long it may take to say it started. @defaultValue 90000 */
  readyTimeoutMs?: number;
}

export interface WorkerProcess {
  readonly pid: number;
  /** Whether it has exited (killed or by itself). */
  readonly exited: boolean;
  /** The last 64 KiB of what it printed (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGKILL: no handler runs, open transactions die with their connections. Resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful: running batches commit), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const KEEP = 64 * 1024;
/** What `junction start --role worker` prints once its BullMQ worker runs. */
const READY = /^worker: started/m;

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts `junction start --role worker` and resolves once it reports that it runs. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const args = [...HUB_NODE_FLAGS, path.join(PROJECT_ROOT, 'bin', 'junction.js'), 'start', '--role', 'worker', '--config', options.configFile];
  if (options.concurrency) args.push('--concurrency', String(options.concurrency));
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, JUNCTION_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > KEEP * 2) out = out.slice(-KEEP);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const gone = exitOf(child);

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker ${child.pid} did not start within ${options.readyTimeoutMs ?? 90_000} ms:\n${out.slice(-4000)}`));
    }, options.readyTimeoutMs ?? 90_000);
    const check = () => {
      if (!READY.test(out)) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve();
    };
    child.stdout!.on('data', check);
    void gone.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker ${child.pid} exited (${child.exitCode ?? child.signalCode}) before it started:\n${out.slice(-4000)}`));
    });
  });

  return {
    pid: child.pid!,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    output: () => out.slice(-KEEP),
    kill: async () => {
      child.kill('SIGKILL');
      await gone;
    },
    stop: async (graceMs = 30_000) => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}
