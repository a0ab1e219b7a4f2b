/** Agent login with a legacy scrypt hash (round 1): it still works, and the hash is upgraded to argon2id. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashScryptLegacy, verifyPassword } from '../../gateway/auth/password.js';
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
});
