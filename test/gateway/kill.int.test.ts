/**
 * kill -9 of an instance: its clients reconnect to the surviving one, resume and resend;
 * every message that was acked before the kill reaches the agent, once, in order.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, login, makeAgent, spawnGateway, visitorToken, type GatewayEnv } from './helpers.js';
import { ResilientClient } from './resilient-client.js';

let env: GatewayEnv;
let survivor: RunningGateway;
let child: ChildProcess | undefined;

beforeAll(async () => {
  env = await gatewayEnv('kill');
  survivor = await env.start();
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await env?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill -9 of an instance', () => {
  it('delivers every acked message after its clients resume on the other instance', async () => {
    const { proc, port: doomed } = await spawnGateway(env);
    child = proc;
    const agentAccount = await makeAgent(env);
    const agent = new ResilientClient(await login(survivor.port, agentAccount));
    await agent.connect(survivor.port);
    const visitors = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const v = new ResilientClient((await visitorToken(doomed)).token);
        await v.connect(doomed);
        return v;
      }),
    );
    visitors.forEach((v, i) => v.send({ clientMsgId: `k${i}-0`, text: 'opening' }));
    for (let t = 0; t < 400 && visitors.some((v) => v.conversationId === undefined); t++) await sleep(25);

    const N = 40;
    let killedAt = -1;
    for (let n = 1; n < N; n++) {
      visitors.forEach((v, i) => v.send({ conversationId: v.conversationId, clientMsgId: `k${i}-${n}`, text: `message ${n}` }));
      if (n === 15) {
        proc.kill('SIGKILL');
        killedAt = n;
      }
      await sleep(5);
    }
    await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(null) : proc.once('exit', r)));
    expect(proc.signalCode).toBe('SIGKILL');
    // What was acked before the kill must arrive; the rest is resent by the clients.
    const ackedBeforeKill = visitors.map((v) => new Map(v.acks));
    for (const v of visitors) v.drop();
    await Promise.all(visitors.map((v) => v.connect(survivor.port)));

    const done = () => visitors.every((v) => v.pending.size === 0) && visitors.every((v) => (agent.lastSeq.get(v.conversationId!) ?? 0) >= N);
    for (let t = 0; t < 800 && !done(); t++) await sleep(25);

    expect(killedAt).toBe(15);
    expect(ackedBeforeKill.reduce((n, m) => n + m.size, 0)).toBeGreaterThan(0);
    for (const [i, v] of visitors.entries()) {
      const atAgent = agent.received.get(v.conversationId!) ?? [];
      // Once each, in order, nothing missing.
      expect(atAgent.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, k) => k + 1));
      expect(new Set(atAgent.map((m) => m.clientMsgId))).toEqual(new Set(Array.from({ length: N }, (_, k) => `k${i}-${k}`)));
      for (const [clientMsgId, ack] of ackedBeforeKill[i]!) expect(atAgent.find((m) => m.clientMsgId === clientMsgId)?.seq).toBe(ack.seq);
    }
    for (const c of [agent, ...visitors]) c.close();
  });
});
