/**
 * `junction stack up | down | status`: the real services Junction and its demo estate need,
 * on loopback, in the project-local data folder. Idempotent: `up` twice starts nothing the
 * second time; `down` stops only processes whose pid files `up` wrote.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceEndpoint, ServiceName, StackSettings } from '../../config/env.js';
import { JunctionError } from '../../config/errors.js';
import { redact } from '../../config/redact.js';
import { urlPasswords } from '../../config/secret.js';
import { ensureFerretdb } from './ferretdb.js';
import { withStackLock } from './lock.js';
import { ensurePackages } from './packages.js';
import { portIsFree, portOwner } from './ports.js';
import { launch, ownedPid, stopPid, tail } from './processes.js';
import type { ServiceDef, StackContext } from './services.js';
import { SERVICES } from './services.js';

export type ServiceState = 'running' | 'starting' | 'unhealthy' | 'stopped' | 'external' | 'unreachable';

export interface ServiceStatus {
  name: ServiceName;
  state: ServiceState;
  url: string;
  pid?: number;
  /** Probe round trip in ms when healthy; the reason otherwise. */
  latencyMs?: number;
  reason?: string;
  log?: string;
}

export interface StackOptions {
  settings: StackSettings;
  /** Only these services (default: all). */
  only?: ServiceName[];
  log?: (line: string) => void;
}

function context(settings: StackSettings, log: (line: string) => void): StackContext {
  return { settings, log, dir: (name) => path.join(settings.dataDir, name) };
}

const pidFile = (s: StackSettings, name: ServiceName) => path.join(s.dataDir, 'run', `${name}.pid`);
const logFile = (s: StackSettings, name: ServiceName) => path.join(s.dataDir, 'logs', `${name}.log`);

function selected(only: ServiceName[] | undefined): ServiceDef[] {
  return only ? SERVICES.filter((s) => only.includes(s.name)) : SERVICES;
}

/** Shows a URL without its password. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function probeOnce(def: ServiceDef, url: string, ctx: StackContext): Promise<{ ok: true; ms: number } | { ok: false; reason: string }> {
  const started = performance.now();
  try {
    await def.probe(url, ctx);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    // fetch says only "fetch failed"; the refused connection or timeout is its cause.
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    const reason = err instanceof Error ? `${err.message}${cause}` : String(err);
    // Drivers may repeat the URL they were given in their errors; status prints the reason.
    return { ok: false, reason: redact(reason, urlPasswords(url)) };
  }
}

/** Starts every selected service that is not running yet, then waits until all are ready. */
export async function stackUp(options: StackOptions): Promise<ServiceStatus[]> {
  return withStackLock(options.settings.dataDir, () => up(options), { log: options.log });
}

async function up(options: StackOptions): Promise<ServiceStatus[]> {
  const { settings } = options;
  const log = options.log ?? (() => undefined);
  const ctx = context(settings, log);
  const defs = selected(options.only);
  const local = defs.filter((d) => !settings.services[d.name].external);
  fs.mkdirSync(settings.dataDir, { recursive: true });

  ensurePackages(local.flatMap((d) => d.packages), log);
  if (local.some((d) => d.name === 'mongo')) ctx.ferretdbBin = ensureFerretdb(settings.dataDir, settings.ferretdbBin, log);

  const results = await Promise.allSettled(defs.map((def) => upOne(def, settings.services[def.name], ctx)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    const passwords = defs.flatMap((d) => urlPasswords(settings.services[d.name].url));
    const text = redact(failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n\n'), passwords);
    const first = failures[0];
    throw new JunctionError(first instanceof JunctionError ? first.code : 'STACK_START_FAILED', text);
  }
  return results.map((r) => (r as PromiseFulfilledResult<ServiceStatus>).value);
}

async function upOne(def: ServiceDef, endpoint: ServiceEndpoint, ctx: StackContext): Promise<ServiceStatus> {
  const { settings } = ctx;
  const url = endpoint.url;
  if (endpoint.external) {
    const probe = await probeOnce(def, url, ctx);
    if (!probe.ok) {
      throw new JunctionError('STACK_NOT_RUNNING', `${def.name}: the external server at ${safeUrl(url)} does not answer: ${probe.reason}`);
    }
    return { name: def.name, state: 'external', url: safeUrl(url), latencyMs: probe.ms };
  }

  const pidPath = pidFile(settings, def.name);
  const logPath = logFile(settings, def.name);
  def.tidy?.(ctx);
  let pid = ownedPid(pidPath, def.binary(ctx));
  if (pid === undefined) {
    const ports = [{ port: endpoint.port, variable: portVariable(def.name) }, ...(def.otherPorts?.(ctx) ?? [])];
    for (const { port, variable } of ports) {
      if (await portIsFree(port)) continue;
      const owner = portOwner(port);
      throw new JunctionError(
        'STACK_PORT_TAKEN',
        `${def.name}: port ${port} on 127.0.0.1 is already in use${owner ? ` by ${owner}` : ''}, not by this stack; stop that process or choose another port (${variable})`,
        { details: { service: def.name, port } },
      );
    }
    def.prepare?.(ctx, endpoint);
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    fs.writeFileSync(logPath, '', { flag: 'a' });
    const logStart = fs.statSync(logPath).size;
    pid = launch(def.launch(ctx, endpoint), logPath, pidPath);
    ctx.log(`${def.name}: started (pid ${pid}), waiting until ready…`);
    await waitReady(def, url, pid, ctx, logPath, logStart);
  } else {
    await waitReady(def, url, pid, ctx, logPath, 0);
  }
  // Idempotent (creates only what is missing), so it also repairs an interrupted first start.
  await def.afterReady?.(ctx, endpoint);
  const probe = await probeOnce(def, url, ctx);
  return { name: def.name, state: 'running', url: safeUrl(url), pid, ...(probe.ok ? { latencyMs: probe.ms } : {}) };
}

function portVariable(name: ServiceName): string {
  const prefix = { postgres: 'JUNCTION_PG', redis: 'JUNCTION_REDIS', clickhouse: 'JUNCTION_CLICKHOUSE', mongo: 'JUNCTION_MONGO', orders_soap: 'JUNCTION_ORDERS_SOAP', tickets_php: 'JUNCTION_TICKETS' }[name];
  return `${prefix}_PORT, or ${prefix}_URL to use an existing server`;
}

async function waitReady(def: ServiceDef, url: string, pid: number, ctx: StackContext, logPath: string, logStart: number): Promise<void> {
  const deadline = Date.now() + ctx.settings.readyTimeoutSec * 1000;
  let reason = 'no answer yet';
  for (;;) {
    const probe = await probeOnce(def, url, ctx);
    if (probe.ok) return;
    reason = probe.reason;
    const exited = ownedPid(pidFile(ctx.settings, def.name), def.binary(ctx)) !== pid;
    if (exited || Date.now() > deadline) {
      const why = exited ? 'the process exited' : `not ready after ${ctx.settings.readyTimeoutSec}s (last probe: ${reason})`;
      throw new JunctionError('STACK_START_FAILED', `${def.name}: ${why}\n--- last lines of ${logPath} ---\n${logSince(logPath, logStart)}`, {
        details: { service: def.name },
      });
    }
    await sleep(250);
  }
}

function logSince(file: string, offset: number): string {
  const text = tail(file, 40);
  if (offset === 0) return text;
  try {
    const fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size - offset, 16_384));
    fs.readSync(fd, buf, 0, buf.length, Math.max(offset, size - buf.length));
    fs.closeSync(fd);
    return buf.toString('utf8').trim() || text;
  } catch {
    return text;
  }
}

/** Stops the services this stack started (pid files); leaves external ones and strangers alone. */
export async function stackDown(options: StackOptions): Promise<ServiceStatus[]> {
  return withStackLock(options.settings.dataDir, () => down(options), { log: options.log });
}

async function down(options: StackOptions): Promise<ServiceStatus[]> {
  const { settings } = options;
  const ctx = context(settings, options.log ?? (() => undefined));
  const defs = selected(options.only).filter((d) => !settings.services[d.name].external);
  // PHP apps first, the databases they use last.
  const order = [...defs].reverse();
  const out: ServiceStatus[] = [];
  for (const def of order) {
    const pidPath = pidFile(settings, def.name);
    const pid = ownedPid(pidPath, binaryOrName(def, ctx));
    if (pid !== undefined) {
      const how = await stopPid(pid, def.stopSignal ?? 'SIGTERM', 30_000, def.stopGroup);
      ctx.log(`${def.name}: ${how} (pid ${pid})`);
    }
    fs.rmSync(pidPath, { force: true });
    out.push({ name: def.name, state: 'stopped', url: safeUrl(settings.services[def.name].url) });
  }
  return out.reverse();
}

function binaryOrName(def: ServiceDef, ctx: StackContext): string {
  // For status/down the FerretDB binary path is not resolved; its name is enough for /proc.
  try {
    return def.binary(ctx);
  } catch {
    return def.name;
  }
}

/** Every service with its URL, pid and health. */
export async function stackStatus(options: StackOptions): Promise<ServiceStatus[]> {
  const { settings } = options;
  const ctx = context(settings, options.log ?? (() => undefined));
  return Promise.all(
    selected(options.only).map(async (def): Promise<ServiceStatus> => {
      const endpoint = settings.services[def.name];
      const url = safeUrl(endpoint.url);
      const probe = await probeOnce(def, endpoint.url, ctx);
      if (endpoint.external) {
        return probe.ok ? { name: def.name, state: 'external', url, latencyMs: probe.ms } : { name: def.name, state: 'unreachable', url, reason: probe.reason };
      }
      const pid = ownedPid(pidFile(settings, def.name), binaryOrName(def, ctx));
      const log = logFile(settings, def.name);
      if (pid === undefined) return { name: def.name, state: 'stopped', url, log };
      return probe.ok
        ? { name: def.name, state: 'running', url, pid, latencyMs: probe.ms, log }
        : { name: def.name, state: 'unhealthy', url, pid, reason: probe.reason, log };
    }),
  );
}
