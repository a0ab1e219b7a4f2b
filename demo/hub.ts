/**
 * The hub processes of the demo: one `junction start --role all` (worker + scheduler + ops
 * API) in the background, like the stack's services — a pid file, a log file, a readiness
 * wait on `/readyz`. Idempotent: a hub that is already up is left alone.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JunctionError } from '../config/errors.js';
import type { StackSettings } from '../config/env.js';
import { HUB_NODE_FLAGS, PROJECT_ROOT } from '../config/env.js';
import { portIsFree, portOwner } from './stack/ports.js';
import { launch, ownedPid, stopPid, tail } from './stack/processes.js';

export interface HubOptions {
  settings: StackSettings;
  /** The ops server's port (config `ops.port`): readiness is asked there. */
  opsPort: number;
  /** The chat gateway's port (config `gateway.port`). */
  gatewayPort: number;
  /** Config file the hub runs with. @defaultValue config/junction.yaml */
  configFile?: string;
  log: (line: string) => void;
  /** @defaultValue 60000 */
  readyTimeoutMs?: number;
}

const HUB_MARK = 'bin/junction.js';
const pidFile = (s: StackSettings) => path.join(s.dataDir, 'run', 'hub.pid');
export const hubLogFile = (s: StackSettings) => path.join(s.dataDir, 'logs', 'hub.log');

async function ready(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts the hub unless it runs already; resolves when `/readyz` answers 200. */
export async function hubUp(options: HubOptions): Promise<{ pid: number; state: 'started' | 'running' }> {
  const { settings, opsPort, log } = options;
  const running = ownedPid(pidFile(settings), HUB_MARK);
  if (running !== undefined && (await ready(opsPort))) return { pid: running, state: 'running' };
  if (running !== undefined) await stopPid(running, 'SIGTERM', 10_000);
  // A port held by something else (a hub of your own?) would make the new hub exit while
  // the other one answered /readyz in its place.
  for (const [port, setting] of [[opsPort, 'ops.port'], [options.gatewayPort, 'gateway.port']] as const) {
    if (await portIsFree(port)) continue;
    const owner = portOwner(port);
    throw new JunctionError(
      'STACK_PORT_TAKEN',
      `hub: port ${port} on 127.0.0.1 (${setting}) is already in use${owner ? ` by ${owner}` : ''}, not by the demo's hub; stop that process or set ${setting} in the config`,
      { details: { service: 'hub', port } },
    );
  }
  const args = [...HUB_NODE_FLAGS, path.join(PROJECT_ROOT, 'bin', 'junction.js'), 'start', '--role', 'all', '--demo'];
  if (options.configFile) args.push('--config', options.configFile);
  const pid = launch({ command: process.execPath, args, cwd: PROJECT_ROOT }, hubLogFile(settings), pidFile(settings));
  log(`hub: started (pid ${pid}), waiting until ready…`);
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (ownedPid(pidFile(settings), HUB_MARK) === undefined) break;
    if (await ready(opsPort)) return { pid, state: 'started' };
    await sleep(300);
  }
  throw new JunctionError('DEMO_HUB_NOT_READY', `the hub did not become ready on port ${opsPort}; last lines of ${hubLogFile(settings)}:\n${tail(hubLogFile(settings))}`);
}

/** Stops the hub this demo started (graceful: running batches commit first). */
export async function hubDown(settings: StackSettings, log: (line: string) => void): Promise<void> {
  const pid = ownedPid(pidFile(settings), HUB_MARK);
  if (pid === undefined) return;
  const how = await stopPid(pid, 'SIGTERM', 30_000);
  log(`hub: ${how} (pid ${pid})`);
}
