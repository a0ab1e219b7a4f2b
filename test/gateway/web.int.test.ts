/**
 * How the gateway serves the built web UI: pages with the CSP, the widget, hashed assets,
 * the /ops redirect, and a clear GW_WEB_NOT_BUILT before `npm run web:build` ran.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_DIST } from '../../gateway/http/web.js';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let built: RunningGateway;
let unbuilt: RunningGateway;
let dist: string;

/** A tiny stand-in build, so this test does not depend on the real one being current. */
function fakeDist(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-web-'));
  fs.mkdirSync(path.join(dir, 'agent'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'agent', 'index.html'), '<!doctype html><title>agent</title><script type="module" src="/assets/agent-abc123.js"></script>');
  fs.writeFileSync(path.join(dir, 'assets', 'agent-abc123.js'), 'console.log("agent")');
  fs.writeFileSync(path.join(dir, 'widget.js'), '(function(){})()');
  return dir;
}

beforeAll(async () => {
  env = await gatewayEnv('web');
  dist = fakeDist();
  built = await env.start({ web: { distDir: dist, opsUrl: 'http://127.0.0.1:18090' } });
  unbuilt = await env.start({ web: { distDir: path.join(dist, 'missing') } });
});

afterAll(async () => {
  await env?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

const get = (gw: RunningGateway, p: string) => fetch(`http://127.0.0.1:${gw.port}${p}`, { redirect: 'manual' });

describe('web UI serving', () => {
  it('serves the agent console with a CSP that allows scripts from this origin only', async () => {
    const res = await get(built, '/agent');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('/assets/agent-abc123.js');
  });

  it('serves hashed assets for a year and 404s unknown ones as JSON errors', async () => {
    const asset = await get(built, '/assets/agent-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const missing = await get(built, '/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-junction-error')).toBe('GW_BAD_REQUEST');
  });

  it('serves the widget to any site and redirects / and /ops', async () => {
    const widget = await get(built, '/widget.js');
    expect(widget.status).toBe(200);
    expect(widget.headers.get('content-type')).toMatch(/javascript/);
    expect(widget.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect((await get(built, '/')).headers.get('location')).toBe('/agent');
    expect((await get(built, '/ops')).headers.get('location')).toBe('http://127.0.0.1:18090/ops');
  });

  it('answers 503 GW_WEB_NOT_BUILT with the build command when the UI was not built', async () => {
    for (const p of ['/agent', '/widget.js']) {
      const res = await get(unbuilt, p);
      expect(res.status).toBe(503);
      expect(res.headers.get('x-junction-error')).toBe('GW_WEB_NOT_BUILT');
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('npm run web:build');
    }
    // No ops server configured: /ops is not this instance's.
    expect((await get(unbuilt, '/ops')).status).toBe(404);
  });

  it('the real build has the agent page, the ops page and the widget', () => {
    // npm test builds the UI first (bin/bootstrap.sh); a missing file here is a broken build.
    for (const f of ['agent/index.html', 'ops/index.html', 'widget.js']) expect(fs.existsSync(path.join(WEB_DIST, f)), f).toBe(true);
  });
});
