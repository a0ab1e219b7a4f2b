/**
 * `junction start --role …` as a real child process against a scratch hub database and a
 * Redis database number of its own: it prints one line per role with its URLs, serves the
 * ops server, and stops cleanly (exit 0) on SIGTERM and SIGINT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings, withDatabase } from '../../config/env.js';
import { redisConnection, syncQueue } from '../../pipelines/queue.js';
import { runCli } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { ADMIN_TOKEN, SCHEDULES_YAML, configYaml, writeConfig } from '../jobs/fixture.js';

const REDIS_DB = 12;
const redisUrl = `${stackSettings().services.redis.url.replace(/\/\d*$/, '')}/${REDIS_DB}`;
let db: ScratchDb;
let configFile: string;
const children = new Set<ChildProcess>();

interface Hub {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** `junction start` with `args`, this file's config (`config: null`: the committed one) and the scratch hub database. */
function startHub(args: string[], env: Record<string, string> = {}, config: string | null = configFile): Hub {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'junction.js'), 'start', ...args, ...(config ? ['--config', config] : []), '--port', '0'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, JUNCTION_PG_URL: db.url, JUNCTION_REDIS_URL: redisUrl, JUNCTION_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
  return { child, out, exited };
}

/** Resolves with the first stdout match of `re`; rejects when the process exits first or after `ms`. */
async function waitFor(hub: Hub, re: RegExp, ms = 120_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  let exited = false;
  void hub.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    const m = re.exec(hub.out.stdout);
    if (m) return m;
    if (exited) throw new Error(`exited before printing ${re}:\n${hub.out.stdout}\n${hub.out.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${re} within ${ms} ms:\n${hub.out.stdout}\n${hub.out.stderr}`);
}

beforeAll(async () => {
  db = await scratchDatabase('jobs_start');
  // A gateway section too: --role all starts the gateway, which needs a signing secret.
  configFile = writeConfig(configYaml(`${SCHEDULES_YAML}ops:\n  admin_token: ${ADMIN_TOKEN}\ngateway:\n  token_secret: test-gateway-token-secret-0123456789\n  identity_secret: test-gateway-identity-secret-0123456789\n`));
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  const redis = redisConnection(redisUrl);
  const queue = syncQueue(redis);
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  redis.disconnect();
  await db?.close();
  if (configFile) fs.rmSync(path.dirname(configFile), { recursive: true, force: true });
});

describe('junction start', () => {
  it('--role scheduler serves the ops server and stops with exit 0 on SIGTERM', { timeout: 240_000 }, async () => {
    const hub = startHub(['--role', 'scheduler']);
    const [line, url] = await waitFor(hub, /^scheduler: 2 schedules ticking; ops API (http:\/\/127\.0\.0\.1:\d+)\/api\/ops, .*$/m);
    expect(line).toContain(`queue board ${url}/ops/queues`);
    expect(line).toContain(`metrics ${url}/metrics`);
    expect(hub.out.stdout).not.toContain('worker:');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const schedules = await fetch(`${url}/api/ops/schedules`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(schedules.status).toBe(200);
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
    expect(hub.out.stdout).toContain('stopped (scheduler)');
    expect(hub.out.stderr).not.toContain(ADMIN_TOKEN);
  });

  it('--role all starts the worker, the scheduler and the gateway in one process and stops on SIGINT', { timeout: 240_000 }, async () => {
    const hub = startHub(['--role', 'all', '--concurrency', '2', '--gateway-port', '0']);
    await waitFor(hub, /^gateway: http:\/\/127\.0\.0\.1:\d+ .*$/m);
    expect(hub.out.stdout).toMatch(/^scheduler: .*$/m);
    expect(hub.out.stdout).toMatch(/^worker: started, 2 jobs at once, queue \{junction\}:sync on redis:\/\/127\.0\.0\.1:\d+\/12$/m);
    hub.child.kill('SIGINT');
    expect(await hub.exited).toBe(0);
    expect(hub.out.stdout).toContain('stopped (all)');
  });

  it('refuses an unknown role', { timeout: 120_000 }, async () => {
    const r = await runCli(['start', '--role', 'boss']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('expected one of worker, scheduler, gateway, all');
  });

  it('refuses to serve with the secrets config/junction.yaml publishes (and its demo shop) unless told it runs the demo', { timeout: 120_000 }, async () => {
    const unset = { JUNCTION_GATEWAY_TOKEN_SECRET: '', JUNCTION_GATEWAY_IDENTITY_SECRET: '', JUNCTION_ADMIN_TOKEN: '', JUNCTION_PG_URL: db.url, JUNCTION_REDIS_URL: redisUrl };
    const r = await runCli(['start', '--role', 'all', '--port', '0', '--gateway-port', '0'], unset);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gateway.token_secret, gateway.identity_secret, ops.admin_token, gateway.demo_shop are what config/junction.yaml publishes');
    expect(r.stderr).toContain('[CFG_DEMO_ONLY]');
    expect(r.stderr).not.toContain('change-me');
    // A worker serves nothing: it starts whatever the gateway and ops secrets are.
    const worker = startHub(['--role', 'worker'], unset, null);
    await waitFor(worker, /worker: started/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });

  it('exits 1 with JOB_SCHEMA_MISSING on a database without the jobs tables, leaving nothing running', { timeout: 120_000 }, async () => {
    const hub = startHub(['--role', 'scheduler'], { JUNCTION_PG_URL: withDatabase(db.url, 'postgres') });
    expect(await hub.exited).toBe(1);
    expect(hub.out.stderr).toContain('[JOB_SCHEMA_MISSING]');
  });
});
