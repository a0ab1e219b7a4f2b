/** Starts a benchmark server (bench-server.ts) as a child process and talks to it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config/env.js';
import type { BenchServerSpec, ServerMemory } from './bench-server.js';

export interface ServerProcess {
  port: number;
  pid: number;
  /** Memory after a forced GC in the child. */
  memory(): Promise<ServerMemory>;
  stop(): Promise<void>;
}

function nextMessage<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.off('message', onMessage), reject(new Error(`bench server: no ${type} within ${timeoutMs} ms`))), timeoutMs);
    const onMessage = (m: { type: string } & T) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`bench server exited with ${code}`))));
  });
}

/** Forks the server of `spec` and resolves once it listens. */
export async function startServerProcess(spec: BenchServerSpec): Promise<ServerProcess> {
  const child = fork(path.join(PROJECT_ROOT, 'test/bench/bench-server.ts'), [], {
    cwd: PROJECT_ROOT,
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, BENCH_SERVER: JSON.stringify(spec), JUNCTION_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await nextMessage<{ port: number }>(child, 'ready', 60_000);
  return {
    port,
    pid: child.pid!,
    memory: async () => {
      const answer = nextMessage<{ memory: ServerMemory }>(child, 'memory', 30_000);
      child.send({ type: 'memory' });
      return (await answer).memory;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
