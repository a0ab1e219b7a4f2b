/**
 * `junction stack` against the real services: idempotent `up`, `status` health, a taken
 * port refused clearly, and `down` stopping only what its own `up` started.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../config/env.js';
import { isAlive } from '../../../demo/stack/processes.js';
import { runCli } from '../../helpers/cli.js';

interface Row {
  name: string;
  state: string;
  pid?: number;
  latencyMs?: number;
  url: string;
}

function parseRows(stdout: string): Row[] {
  return (JSON.parse(stdout) as { services: Row[] }).services;
}

/** A free loopback port, found by binding port 0. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-stack-test-'));
  scratch.push(dir);
  return dir;
}

/** initdb's side folders in a data folder. */
const sideFolders = (dataDir: string) => fs.readdirSync(dataDir).filter((d) => d.startsWith('postgres.initdb'));

/** Pids of the initdb processes (and the servers they run) working in `dataDir`. */
function initdbs(dataDir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.includes(dataDir) && /initdb|postgres/.test(cmd);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('junction stack (real services)', () => {
  it('up twice is idempotent: the second run starts nothing and keeps the same pids', async () => {
    const first = await runCli(['stack', 'up', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['stack', 'up', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/started \(pid/);
    const a = parseRows(first.stdout);
    const b = parseRows(second.stdout);
    expect(b.map((r) => [r.name, r.pid])).toEqual(a.map((r) => [r.name, r.pid]));
    expect(b.map((r) => r.name)).toEqual(['postgres', 'redis', 'clickhouse', 'mongo', 'orders_soap', 'tickets_php']);
  });

  it('status lists every service with its URL, pid and health', async () => {
    const res = await runCli(['stack', 'status', '--json']);
    expect(res.code, res.stdout).toBe(0);
    for (const row of parseRows(res.stdout)) {
      expect(['running', 'external']).toContain(row.state);
      expect(row.latencyMs).toBeGreaterThanOrEqual(0);
      expect(row.url).toMatch(/^[a-z]+:\/\//);
      if (row.state === 'running') expect(row.pid).toBeGreaterThan(1);
    }
    const table = await runCli(['stack', 'status']);
    expect(table.stdout).toMatch(/^SERVICE\s+STATE\s+PID\s+HEALTH\s+URL/);
  });

  it('a port taken by another process is a clear STACK_PORT_TAKEN error naming port and service, not a hang', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const res = await runCli(['stack', 'up', '--only', 'redis'], { JUNCTION_DATA_DIR: tempDataDir(), JUNCTION_REDIS_PORT: String(port) }, 30_000);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain('[STACK_PORT_TAKEN]');
      expect(res.stderr).toContain(`port ${port}`);
      expect(res.stderr).toContain('redis');
      expect(res.stderr).toContain('JUNCTION_REDIS_PORT');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      squatter.close();
    }
  });

  it('ClickHouse\'s native TCP port taken is STACK_PORT_TAKEN naming that port and its variable, before anything starts', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const tcpPort = (squatter.address() as net.AddressInfo).port;
    const dataDir = tempDataDir();
    try {
      const res = await runCli(['stack', 'up', '--only', 'clickhouse'], {
        JUNCTION_DATA_DIR: dataDir, JUNCTION_CLICKHOUSE_PORT: String(await freePort()), JUNCTION_CLICKHOUSE_TCP_PORT: String(tcpPort),
      }, 60_000);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain('[STACK_PORT_TAKEN]');
      expect(res.stderr).toContain(`port ${tcpPort}`);
      expect(res.stderr).toContain('JUNCTION_CLICKHOUSE_TCP_PORT');
      expect(fs.existsSync(path.join(dataDir, 'run', 'clickhouse.pid'))).toBe(false);
    } finally {
      squatter.close();
    }
  });

  it('down stops only what its own up started, and an external URL is never started', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const env = { JUNCTION_DATA_DIR: dataDir, JUNCTION_REDIS_PORT: String(port) };
    const up = await runCli(['stack', 'up', '--only', 'redis', '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    const [row] = parseRows(up.stdout);
    expect(row!.state).toBe('running');
    const pid = row!.pid!;
    expect(fs.readFileSync(path.join(dataDir, 'run', 'redis.pid'), 'utf8').split('\n')[0]).toBe(String(pid));
    // The redis.conf written for it keeps the queue-safe settings.
    const conf = fs.readFileSync(path.join(dataDir, 'redis', 'redis.conf'), 'utf8');
    expect(conf).toMatch(/appendfsync everysec/);
    expect(conf).toMatch(/maxmemory-policy noeviction/);

    const down = await runCli(['stack', 'down', '--only', 'redis'], env);
    expect(down.code, down.stderr).toBe(0);
    // Killed (a zombie awaiting its reaper counts as gone).
    expect(isAlive(pid)).toBe(false);
    // The main stack's redis (another data folder) is untouched.
    const main = parseRows((await runCli(['stack', 'status', '--json'])).stdout);
    expect(main.find((r) => r.name === 'redis')!.state).toMatch(/running|external/);

    // With JUNCTION_REDIS_URL set to the main stack's server, nothing is started here.
    const mainRedis = main.find((r) => r.name === 'redis')!.url;
    const ext = await runCli(['stack', 'up', '--only', 'redis', '--json'], { ...env, JUNCTION_REDIS_URL: mainRedis });
    expect(ext.code, ext.stderr).toBe(0);
    expect(parseRows(ext.stdout)[0]!.state).toBe('external');
    expect(fs.existsSync(path.join(dataDir, 'run', 'redis.pid'))).toBe(false);
  });

  it('two ups at once on one data folder: one starts the service, the other waits and finds it running', async () => {
    const env = { JUNCTION_DATA_DIR: tempDataDir(), JUNCTION_REDIS_PORT: String(await freePort()) };
    const ups = await Promise.all([1, 2, 3].map(() => runCli(['stack', 'up', '--only', 'redis', '--json'], env)));
    try {
      for (const up of ups) expect(up.code, up.stderr).toBe(0);
      expect(ups.filter((up) => /redis: started \(pid/.test(up.stderr))).toHaveLength(1);
      expect(new Set(ups.map((up) => parseRows(up.stdout)[0]!.pid)).size).toBe(1);
    } finally {
      await runCli(['stack', 'down', '--only', 'redis'], env);
    }
  });

  it('down stops PHP with all its forked workers (the whole process group)', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const main = parseRows((await runCli(['stack', 'status', '--json'])).stdout);
    const env = { JUNCTION_DATA_DIR: dataDir, JUNCTION_TICKETS_PORT: String(port), JUNCTION_PG_URL: main.find((r) => r.name === 'postgres')!.url };
    const up = await runCli(['stack', 'up', '--only', 'tickets_php', '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    const listening = () =>
      fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`127.0.0.1:${port}`) && isAlive(Number(p));
        } catch {
          return false;
        }
      });
    // The master and PHP_CLI_SERVER_WORKERS workers.
    expect(listening().length).toBeGreaterThan(1);
    const down = await runCli(['stack', 'down', '--only', 'tickets_php'], env);
    expect(down.code, down.stderr).toBe(0);
    expect(listening()).toEqual([]);
  });

  it('an initdb killed halfway (kill -9) is redone by the next up, which then starts PostgreSQL', async () => {
    const dataDir = tempDataDir();
    const env = { JUNCTION_DATA_DIR: dataDir, JUNCTION_PG_PORT: String(await freePort()), JUNCTION_READY_TIMEOUT_SEC: '20' };
    // Its own process group, so that initdb and the servers it runs die with it.
    const first = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'junction.js'), 'stack', 'up', '--only', 'postgres'], {
      cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: 'ignore', detached: true,
    });
    const written = () => fs.readdirSync(dataDir).some((d) => d.startsWith('postgres') && fs.existsSync(path.join(dataDir, d, 'PG_VERSION')));
    const deadline = Date.now() + 60_000;
    while (!written() && Date.now() < deadline) await sleep(5);
    expect(written()).toBe(true);
    process.kill(-first.pid!, 'SIGKILL');
    await new Promise((resolve) => (first.exitCode === null && first.signalCode === null ? first.once('exit', resolve) : resolve(null)));

    const up = await runCli(['stack', 'up', '--only', 'postgres', '--json'], env, 90_000);
    try {
      expect(up.code, up.stderr).toBe(0);
      expect(parseRows(up.stdout)[0]!.state).toBe('running');
      expect(sideFolders(dataDir)).toEqual([]);
    } finally {
      await runCli(['stack', 'down', '--only', 'postgres'], env);
    }
  });

  it('an initdb outliving its killed stack up finishes in its own folder; the next up makes its own cluster, and a later up (PostgreSQL running) clears the leftover', async () => {
    const dataDir = tempDataDir();
    const env = { JUNCTION_DATA_DIR: dataDir, JUNCTION_PG_PORT: String(await freePort()), JUNCTION_READY_TIMEOUT_SEC: '20' };
    const first = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'junction.js'), 'stack', 'up', '--only', 'postgres'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!sideFolders(dataDir).some((d) => fs.existsSync(path.join(dataDir, d, 'PG_VERSION'))) && Date.now() < deadline) await sleep(5);
    const orphans = initdbs(dataDir);
    expect(orphans.length).toBeGreaterThan(0);
    // Only the node process: its initdb goes on, an orphan.
    first.kill('SIGKILL');
    await new Promise((resolve) => (first.exitCode === null && first.signalCode === null ? first.once('exit', resolve) : resolve(null)));
    const leftover = `postgres.initdb.${first.pid}`;
    try {
      const up = await runCli(['stack', 'up', '--only', 'postgres', '--json'], env, 90_000);
      expect(up.code, up.stderr).toBe(0);
      expect(parseRows(up.stdout)[0]!.state).toBe('running');
      for (let i = 0; i < 600 && orphans.some(isAlive); i++) await sleep(100);
      expect(orphans.filter(isAlive)).toEqual([]);
      // The orphan wrote nowhere but its own folder: the running cluster is whole.
      expect(fs.existsSync(path.join(dataDir, 'postgres', 'global', 'pg_control'))).toBe(true);
      const again = await runCli(['stack', 'up', '--only', 'postgres', '--json'], env, 90_000);
      expect(again.code, again.stderr).toBe(0);
      expect(parseRows(again.stdout)[0]!.pid).toBe(parseRows(up.stdout)[0]!.pid);
      expect(sideFolders(dataDir)).not.toContain(leftover);
      expect(sideFolders(dataDir)).toEqual([]);
    } finally {
      await runCli(['stack', 'down', '--only', 'postgres'], env);
    }
  });

  it('a cluster folder an older release left halfway (PG_VERSION, no global/pg_control) is redone, not started', async () => {
    const dataDir = tempDataDir();
    fs.mkdirSync(path.join(dataDir, 'postgres', 'base'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'postgres', 'PG_VERSION'), '15\n');
    const env = { JUNCTION_DATA_DIR: dataDir, JUNCTION_PG_PORT: String(await freePort()), JUNCTION_READY_TIMEOUT_SEC: '20' };
    const up = await runCli(['stack', 'up', '--only', 'postgres', '--json'], env, 90_000);
    try {
      expect(up.code, up.stderr).toBe(0);
      expect(up.stderr).toContain('holds an initdb stopped halfway (no global/pg_control); redoing it');
      expect(parseRows(up.stdout)[0]!.state).toBe('running');
    } finally {
      await runCli(['stack', 'down', '--only', 'postgres'], env);
    }
  });

  it('a data folder that is not empty and holds no cluster is named, not overwritten', async () => {
    const dataDir = tempDataDir();
    fs.mkdirSync(path.join(dataDir, 'postgres'));
    fs.writeFileSync(path.join(dataDir, 'postgres', 'notes.txt'), 'mine\n');
    const up = await runCli(['stack', 'up', '--only', 'postgres'], { JUNCTION_DATA_DIR: dataDir, JUNCTION_PG_PORT: String(await freePort()) });
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain('[STACK_START_FAILED]');
    expect(up.stderr).toContain(`${path.join(dataDir, 'postgres')} is not empty but holds no cluster`);
    expect(fs.readFileSync(path.join(dataDir, 'postgres', 'notes.txt'), 'utf8')).toBe('mine\n');
  });
});
