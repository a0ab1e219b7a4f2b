/**
 * `npm run bench -- gateway`: N sockets (one agent in ten, the rest visitors with one
 * conversation each) on loopback against one gateway instance in a child process (its own
 * scratch database and Redis prefix); the offered rate steps up until p99 passes 100 ms or
 * delivery falls behind, and the best sustained step is the gateway's rate. The same load
 * generator then drives a bare `ws` relay (child process, nothing stored) the same way.
 * Every message the gateway acked must be a row of gateway.message at the end. Also p50/p99
 * of both at a fixed offered rate. Goal: the gateway ≥ 0.6 of the relay's rate.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { StackSettings } from '../../config/env.js';
import { scratchDatabase } from '../helpers/unified.js';
import { findMaxRate, runStep, type StepResult } from './gateway-load.js';
import { gatewayTransport, relayTransport, type Transport } from './gateway-transports.js';
import type { ServerMemory } from './bench-server.js';
import { startServerProcess } from './server-process.js';

export interface GatewayBenchOptions {
  settings: StackSettings;
  /** @defaultValue 1000 */
  sockets?: number;
  /** Seconds per step. @defaultValue 5 */
  seconds?: number;
  /** The fixed offered rate of the latency figures. @defaultValue 5000 */
  fixedRate?: number;
  log: (line: string) => void;
}

interface ContenderFigures {
  /** Best step with p99 < 100 ms and delivery keeping up (0: none). */
  maxSustainedMsgPerSec: number;
  /** Most delivered while delivery kept up, whatever the latency. */
  maxKeptUpMsgPerSec: number;
  maxStep: StepResult | null;
  steps: StepResult[];
  fixed: StepResult;
}

export interface GatewayBenchFigures {
  bench: 'gateway';
  sockets: number;
  conversations: number;
  stepSeconds: number;
  gateway: ContenderFigures & { acked: number; storedRows: number; durable: boolean; loopDelay: ServerMemory['loopDelay'] };
  relay: ContenderFigures & { loopDelay: ServerMemory['loopDelay'] };
  /** gateway / relay max sustained rate. */
  ratio: number;
  /** gateway / relay throughput whatever the latency. */
  keptUpRatio: number;
  goal: { ratio: number; p99Ms: number };
  met: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function measure(t: Transport, label: string, o: Required<Pick<GatewayBenchOptions, 'seconds' | 'fixedRate'>> & { log: GatewayBenchOptions['log'] }): Promise<ContenderFigures> {
  // A short warm-up (JIT, connections, plans) that does not count.
  await runStep(t, 200, 2);
  const { best, maxKeptUp, steps } = await findMaxRate(t, { seconds: o.seconds, log: o.log, label });
  await sleep(1000);
  const fixed = await runStep(t, o.fixedRate, o.seconds);
  o.log(`${label}: fixed ${o.fixedRate} msg/s offered → delivered ${fixed.delivered} msg/s, p50 ${fixed.p50} ms, p99 ${fixed.p99} ms${fixed.sustained ? '' : ' (not sustained: beyond what this machine allows)'}`);
  return { maxSustainedMsgPerSec: best?.delivered ?? 0, maxKeptUpMsgPerSec: maxKeptUp, maxStep: best, steps, fixed };
}

/** Runs the gateway benchmark, then the relay, and compares them. */
export async function benchGateway(o: GatewayBenchOptions): Promise<GatewayBenchFigures> {
  const sockets = o.sockets ?? 1000;
  const params = { seconds: o.seconds ?? 5, fixedRate: o.fixedRate ?? 5000, log: o.log };
  const db = await scratchDatabase('bench_gateway');
  const redisUrl = o.settings.services.redis.url;
  const redisPrefix = `{jbench-gw-${randomBytes(3).toString('hex')}}:gw:`;
  const redis = new Redis(redisUrl);
  try {
    const server = await startServerProcess({
      kind: 'gateway',
      pgUrl: db.url,
      redisUrl,
      redisPrefix,
      poolSize: 10,
      settings: { rate_limit: { frames_per_second: 10_000, burst: 0 }, heartbeat_ms: 10_000, agent_capacity: 1000 },
    });
    let gw: GatewayBenchFigures['gateway'];
    let conversations = 0;
    try {
      const t = await gatewayTransport(server.port, db.pool, sockets, o.log);
      conversations = t.conversations.length;
      await server.memory(); // resets the loop-delay histogram: the set-up does not count
      const figures = await measure(t, 'gateway', params);
      const { loopDelay } = await server.memory();
      o.log(`gateway: server event-loop delay over the steps p50 ${loopDelay.p50} ms, p99 ${loopDelay.p99} ms, max ${loopDelay.max} ms`);
      await sleep(2000); // the last acks in flight
      const acked = t.acked();
      t.close();
      const storedRows = Number((await db.pool.query(`SELECT count(*) AS n FROM gateway.message WHERE sender_kind <> 'system'`)).rows[0].n);
      gw = { ...figures, acked, storedRows, durable: storedRows >= acked, loopDelay };
      o.log(`gateway: ${acked.toLocaleString('en')} messages acked, ${storedRows.toLocaleString('en')} rows in gateway.message: ${gw.durable ? 'every acked message is durable' : 'ACKED MESSAGES MISSING'}`);
    } finally {
      await server.stop();
    }

    const relayServer = await startServerProcess({ kind: 'relay' });
    let relay: GatewayBenchFigures['relay'];
    try {
      const t = await relayTransport(relayServer.port, sockets);
      await relayServer.memory();
      const figures = await measure(t, 'relay', params);
      relay = { ...figures, loopDelay: (await relayServer.memory()).loopDelay };
      t.close();
    } finally {
      await relayServer.stop();
    }
    const ratio = relay.maxSustainedMsgPerSec > 0 ? Math.round((gw.maxSustainedMsgPerSec / relay.maxSustainedMsgPerSec) * 100) / 100 : 0;
    const keptUpRatio = relay.maxKeptUpMsgPerSec > 0 ? Math.round((gw.maxKeptUpMsgPerSec / relay.maxKeptUpMsgPerSec) * 100) / 100 : 0;
    return { bench: 'gateway', sockets, conversations, stepSeconds: params.seconds, gateway: gw, relay, ratio, keptUpRatio, goal: { ratio: 0.6, p99Ms: 100 }, met: ratio >= 0.6 && gw.durable };
  } finally {
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.close();
  }
}
