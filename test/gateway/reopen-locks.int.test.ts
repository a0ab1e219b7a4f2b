/**
 * Reopening locks agent rows as every assigner does: in id order, in one statement. It used to
 * lock the conversation's last agent first and the team's online agents after, so a queue
 * drain holding a lower id and then waiting on that agent deadlocked with it. Real PostgreSQL
 * and Redis.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { connectAgent, gatewayEnv, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;

beforeAll(async () => {
  env = await gatewayEnv('reopenlocks');
  gw = await env.start();
});

afterAll(async () => {
  await env?.close();
});

it('a reopen whose last agent is full waits for a drain holding a lower id without holding that agent: no deadlock', async () => {
  const low = await makeAgent(env, 'locks');
  const last = await makeAgent(env, 'locks', undefined, 0); // full: no free slot
  expect(low.id).toBeLessThan(last.id);
  const sockets = [await connectAgent(env, gw.port, low), await connectAgent(env, gw.port, last)];
  const drain = await env.db.pool.connect();
  const reopen = await env.db.pool.connect();
  try {
    // A drain of the team's queue has locked the lower id.
    await drain.query('BEGIN');
    await drain.query(`SET LOCAL lock_timeout = '5s'`);
    await drain.query('SELECT id FROM gateway.agent WHERE id = $1 FOR NO KEY UPDATE', [low.id]);
    await reopen.query('BEGIN');
    const planned = gw.context.router.planReopen(reopen, 'locks', last.id).then(
      (agent) => ({ agent }),
      (err: { code?: string }) => ({ failed: err.code ?? String(err) }),
    );
    // Until the reopen waits on the lower id (pg_locks shows a lock not granted).
    for (let i = 0; i < 100; i++) {
      const { rows } = await env.db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`);
      if (rows[0].n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // The drain then takes the last agent too: it must get it.
    const next = await drain.query('SELECT id FROM gateway.agent WHERE id = $1 FOR NO KEY UPDATE', [last.id]).then(
      () => 'locked',
      (err: { code?: string }) => err.code,
    );
    await drain.query('COMMIT').catch(() => drain.query('ROLLBACK'));
    expect(next).toBe('locked');
    expect(await planned).toEqual({ agent: low.id });
    await reopen.query('COMMIT');
  } finally {
    drain.release();
    reopen.release();
    for (const s of sockets) s.close();
  }
});

it('a reopen the store fails (a deadlock aborted it) fails that message, retryable, and the socket goes on; the resend reopens', async () => {
  const agent = await makeAgent(env, 'support');
  const agentWs = await connectAgent(env, gw.port, agent);
  const { client: visitor } = await TestClient.connect(gw.port, (await visitorToken(gw.port)).token);
  const { conversationId } = await sendAndAck(visitor, { clientMsgId: 'r-1', text: 'hello' });
  agentWs.send({ type: 'close', conversationId });
  await visitor.next((f) => f.type === 'conversation' && f.event === 'closed');
  const router = gw.context.router;
  const planReopen = router.planReopen.bind(router);
  router.planReopen = () => Promise.reject(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
  try {
    visitor.send({ type: 'msg', conversationId, clientMsgId: 'r-2', text: 'still there?' });
    const refused = await visitor.next((f) => f.type === 'error' && f.clientMsgId === 'r-2');
    expect(refused).toMatchObject({ code: 'GW_STORE_UNAVAILABLE', conversationId, retryable: true });
  } finally {
    router.planReopen = planReopen;
  }
  visitor.frames.splice(0); // the refusal above answers r-2 too
  const resent = await sendAndAck(visitor, { conversationId, clientMsgId: 'r-2', text: 'still there?' });
  expect(resent).toMatchObject({ conversationId, seq: 2 });
  for (const c of [visitor, agentWs]) c.close();
});
