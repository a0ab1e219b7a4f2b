/** Agent login with a legacy scrypt hash (round 1): it still works, and the hash is upgraded to argon2id. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashScryptLegacy, verifyPassword } from '../../gateway/auth/password.js';
import { LOGIN_FAILURES_PER_ADDRESS } from '../../gateway/http/auth-routes.js';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, http, makeAgent, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('login');
  gw = await env.start();
});

afterAll(async () => {
  await env?.close();
});

const hashOf = async (id: number) => (await env.db.pool.query<{ password_hash: string }>('SELECT password_hash FROM gateway.agent WHERE id = $1', [id])).rows[0]!.password_hash;

describe('agent login', () => {
  it('stores new agents with argon2id', async () => {
    const agent = await makeAgent(env);
    expect(await hashOf(agent.id)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('accepts a legacy scrypt hash and replaces it with argon2id on success only', async () => {
    const agent = await makeAgent(env);
    const legacy = await hashScryptLegacy(agent.password, { ln: 12, r: 8, p: 1 });
    await env.db.pool.query('UPDATE gateway.agent SET password_hash = $2 WHERE id = $1', [agent.id, legacy]);

    const wrong = await http(gw.port, 'POST', '/api/auth/login', { email: agent.email, password: 'not it' });
    expect([wrong.status, wrong.code]).toEqual([401, 'GW_BAD_CREDENTIALS']);
    expect(await hashOf(agent.id)).toBe(legacy);

    const ok = await http(gw.port, 'POST', '/api/auth/login', { email: agent.email, password: agent.password });
    expect(ok.status).toBe(200);
    const upgraded = await hashOf(agent.id);
    expect(upgraded).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(agent.password, upgraded)).toBe(true);
    const again = await http(gw.port, 'POST', '/api/auth/login', { email: agent.email, password: agent.password });
    expect(again.status).toBe(200);
  });

  // Each on an instance of its own: the limiters are per instance, and these exhaust them for 127.0.0.1.
  const attempt = (port: number, email: string, password: string) => http(port, 'POST', '/api/auth/login', { email, password }).then((r) => [r.status, r.code]);

  it('refuses an email holding U+0000 as a bad request (PostgreSQL text cannot hold it)', async () => {
    const own = await env.start();
    expect(await attempt(own.port, 'ann\u0000@x.cn', 'guess')).toEqual([400, 'GW_BAD_REQUEST']);
  });

  it('counts every spelling of an email the lookup treats as the same against one budget', async () => {
    const own = await env.start();
    const agent = await makeAgent(env);
    for (let i = 0; i < 10; i++) expect(await attempt(own.port, agent.email, 'guess')).toEqual([401, 'GW_BAD_CREDENTIALS']);
    for (const variant of [` ${agent.email}`, `${agent.email}\t`, ` ${agent.email.toUpperCase()} `]) {
      expect(await attempt(own.port, variant, 'guess')).toEqual([429, 'GW_RATE_LIMITED']);
    }
  });

  it(`refuses an address after ${LOGIN_FAILURES_PER_ADDRESS} failed logins a minute across emails; successful ones do not count`, async () => {
    const own = await env.start();
    // Many agents logging in from one address (an office behind NAT): more than the failure budget.
    const agents = await Promise.all(Array.from({ length: LOGIN_FAILURES_PER_ADDRESS + 5 }, () => makeAgent(env)));
    for (const a of agents) expect((await attempt(own.port, a.email, a.password))[0]).toBe(200);
    const agent = await makeAgent(env);
    for (let i = 0; i < LOGIN_FAILURES_PER_ADDRESS; i++) expect(await attempt(own.port, `nobody${i}@example.com`, 'guess')).toEqual([401, 'GW_BAD_CREDENTIALS']);
    expect(await attempt(own.port, 'someone-else@example.com', 'guess')).toEqual([429, 'GW_RATE_LIMITED']);
    expect(await attempt(own.port, agent.email, agent.password)).toEqual([429, 'GW_RATE_LIMITED']);
  });
});
