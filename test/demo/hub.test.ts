/**
 * The demo's hub start: a port it needs that another process holds is STACK_PORT_TAKEN before
 * anything starts, even when that process answers /readyz like a hub would (it is not ours).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stackSettings } from '../../config/env.js';
import { JunctionError } from '../../config/errors.js';
import { hubUp } from '../../demo/hub.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-hub-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

it.each(['ops', 'gateway'] as const)('another process on the %s port (answering /readyz 200) is STACK_PORT_TAKEN, and no hub is started', async (which) => {
  const stranger = http.createServer((_req, res) => res.end('ok'));
  const free = net.createServer();
  const taken = await listen(stranger);
  const other = await listen(free);
  await new Promise((resolve) => free.close(resolve));
  try {
    const ports = which === 'ops' ? { opsPort: taken, gatewayPort: other } : { opsPort: other, gatewayPort: taken };
    const settings = stackSettings({ JUNCTION_DATA_DIR: dataDir });
    // A config that does not exist: were a hub started anyway, it would exit at once.
    const err = await hubUp({ settings, ...ports, configFile: path.join(dataDir, 'none.yaml'), log: () => undefined, readyTimeoutMs: 5000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JunctionError);
    expect((err as JunctionError).code).toBe('STACK_PORT_TAKEN');
    expect((err as Error).message).toContain(`port ${taken}`);
    expect((err as Error).message).toContain(which === 'ops' ? 'ops.port' : 'gateway.port');
    expect(fs.existsSync(path.join(dataDir, 'run', 'hub.pid'))).toBe(false);
  } finally {
    await new Promise((resolve) => stranger.close(resolve));
  }
});
