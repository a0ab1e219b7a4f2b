/**
 * The HTTP probes of the stack (ClickHouse, the PHP apps) with a URL that carries
 * credentials: they reach the server with the credentials in a header, and neither a
 * failure nor `stack status` repeats the password.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackSettings } from '../../../config/env.js';
import { SERVICES, fetchService } from '../../../demo/stack/services.js';
import { stackStatus } from '../../../demo/stack/stack.js';
import { runCli } from '../../helpers/cli.js';

const PASSWORD = 'TopSecretProbePw';

let server: http.Server;
let base: string;
const seen: { url: string | undefined; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    res.end('Ok.\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

/** A loopback port nobody listens on (fetch refuses "bad ports" such as 1 before connecting). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const probeOf = (name: string) => SERVICES.find((s) => s.name === name)!.probe;
const ctx = { settings: stackSettings({}), dir: () => '/nonexistent', log: () => undefined };

describe('stack probes with credentials in the URL', () => {
  it('sends them as Basic authorization, not in the URL', async () => {
    seen.length = 0;
    const res = await fetchService(new URL(`http://default:${encodeURIComponent('p@ss:' + PASSWORD)}@${base}/ping`));
    expect(res.status).toBe(200);
    expect(seen).toEqual([{ url: '/ping', authorization: `Basic ${Buffer.from(`default:p@ss:${PASSWORD}`).toString('base64')}` }]);
  });

  it.each(['clickhouse', 'tickets_php'])('the %s probe answers through them', async (name) => {
    await expect(probeOf(name)(`http://default:${PASSWORD}@${base}/`, ctx)).resolves.toBeUndefined();
  });

  it('a probe that fails does not repeat the password', async () => {
    const err = await probeOf('clickhouse')(`http://default:${PASSWORD}@127.0.0.1:${await closedPort()}/`, ctx).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(`${err!.message} ${String((err!.cause as Error | undefined)?.message)}`).not.toContain(PASSWORD);
  });

  it('stack status shows the URL and the reason without the password', async () => {
    const port = await closedPort();
    const settings = stackSettings({ JUNCTION_CLICKHOUSE_URL: `http://default:${PASSWORD}@127.0.0.1:${port}`, JUNCTION_TICKETS_URL: `http://u:${PASSWORD}@127.0.0.1:${port}` });
    const rows = await stackStatus({ settings, only: ['clickhouse', 'tickets_php'] });
    expect(rows.map((r) => [r.name, r.state])).toEqual([['clickhouse', 'unreachable'], ['tickets_php', 'unreachable']]);
    expect(rows[0]!.reason).toContain('ECONNREFUSED');
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
  });

  it('stack status --only lists only those services, through the CLI', async () => {
    const res = await runCli(['stack', 'status', '--only', 'clickhouse', '--json'], { JUNCTION_CLICKHOUSE_URL: `http://default:${PASSWORD}@${base}` });
    expect(res.code, res.stderr).toBe(0);
    const rows = (JSON.parse(res.stdout) as { services: { name: string; state: string; url: string }[] }).services;
    expect(rows).toEqual([expect.objectContaining({ name: 'clickhouse', state: 'external', url: `http://default:***@${base}/` })]);
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
  });
});
