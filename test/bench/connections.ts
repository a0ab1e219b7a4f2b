/**
 * `npm run bench -- connections`: memory per idle authenticated socket of one gateway
 * instance against a plain `ws` server holding the same number of sockets. Both servers run
 * as child processes (their memory is theirs, not the clients'); the clients spread over
 * several 127.0.0.x source addresses so ephemeral ports do not run out. Memory is measured
 * after a forced GC in the server, before and after the sockets connect: (delta) / sockets,
 * as RSS and as JS heap + external memory (the goal is judged on the latter).
 * The count is capped by this process's open-file limit (`ulimit -n`), reported when it bites.
 * Goal: the gateway at most 2× the plain server per socket.
 */
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { StackSettings } from '../../config/env.js';
import { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../../gateway/protocol.js';
import { ORIGIN, visitorToken } from '../gateway/helpers.js';
import { scratchDatabase } from '../helpers/unified.js';
import { pool } from './gateway-transports.js';
import type { ServerMemory } from './bench-server.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface ConnectionsBenchOptions {
  settings: StackSettings;
  /** @defaultValue 20000 */
  sockets?: number;
  log: (line: string) => void;
}

interface ServerFigures {
  sockets: number;
  before: ServerMemory;
  after: ServerMemory;
  rssPerSocket: number;
  /** JS heap + external (Buffers) per socket: what the server's code holds for a socket. */
  heapPerSocket: number;
}

export interface ConnectionsBenchFigures {
  bench: 'connections';
  requested: number;
  sockets: number;
  openFileLimit: number;
  /** Why fewer sockets than requested, if so. */
  limitedBy: string | null;
  gateway: ServerFigures;
  plain: ServerFigures;
  /** Gateway / plain, per socket. `met` judges `heap`: at small counts RSS barely moves (pages the allocator already holds). */
  ratios: { rss: number; heap: number };
  goal: { ratio: number };
  met: boolean;
}

/** Open files this process may hold (the soft limit children inherit). */
function openFileLimit(hard = false): number {
  const out = execSync(hard ? 'ulimit -Hn' : 'ulimit -n', { shell: '/bin/sh' }).toString().trim();
  return out === 'unlimited' ? 1_048_576 : Number(out);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const PER_ADDRESS = 10_000;

function connect(url: string, i: number, protocols: string[]): Promise<WebSocket> {
  // 127.0.0.2, .3, …: each source address has its own ephemeral port range.
  const localAddress = `127.0.0.${2 + Math.floor(i / PER_ADDRESS)}`;
  const ws = new WebSocket(url, protocols, { origin: ORIGIN, perMessageDeflate: false, localAddress });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

async function measure(server: ServerProcess, sockets: number, open: (i: number) => Promise<WebSocket>, label: string, log: (l: string) => void): Promise<ServerFigures> {
  await sleep(500);
  const before = await server.memory();
  const clients = await pool(Array.from({ length: sockets }, (_, i) => i), 64, open);
  await sleep(2000);
  const after = await server.memory();
  for (const c of clients) c.terminate();
  const f = { sockets: after.sockets, before, after, rssPerSocket: Math.round((after.rss - before.rss) / sockets), heapPerSocket: Math.round((after.heapUsed + after.external - before.heapUsed - before.external) / sockets) };
  log(`${label}: ${f.sockets.toLocaleString('en')} sockets; RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB = ${f.rssPerSocket.toLocaleString('en')} B/socket; heap + external ${f.heapPerSocket.toLocaleString('en')} B/socket`);
  return f;
}

/** Runs the connections benchmark: the gateway first, then the plain server. */
export async function benchConnections(o: ConnectionsBenchOptions): Promise<ConnectionsBenchFigures> {
  const requested = o.sockets ?? 20_000;
  const limit = openFileLimit();
  // Every client socket is a file descriptor here and one in the server; keep room for the rest.
  const sockets = Math.min(requested, limit - 1000);
  const hardLimit = openFileLimit(true);
  const raise = hardLimit >= requested + 1000 ? `raise it with \`ulimit -n ${requested + 1000}\` before the run` : `the hard limit is ${hardLimit}: raise it in limits.conf or the service manager first`;
  const limitedBy = sockets < requested ? `ulimit -n is ${limit}: ${sockets} sockets at most (${raise})` : null;
  if (limitedBy) o.log(`connections: ${limitedBy}`);
  const db = await scratchDatabase('bench_connections');
  const redisUrl = o.settings.services.redis.url;
  const redisPrefix = `{jbench-conn-${randomBytes(3).toString('hex')}}:gw:`;
  const redis = new Redis(redisUrl);
  try {
    const gwServer = await startServerProcess({ kind: 'gateway', pgUrl: db.url, redisUrl, redisPrefix, settings: { heartbeat_ms: 30_000 } });
    let gateway: ServerFigures;
    try {
      const url = `ws://127.0.0.1:${gwServer.port}/ws`;
      o.log(`connections: ${sockets.toLocaleString('en')} visitor sessions…`);
      const tokens = await pool(Array.from({ length: sockets }, (_, i) => i), 32, async () => (await visitorToken(gwServer.port)).token);
      gateway = await measure(gwServer, sockets, async (i) => {
        const ws = await connect(url, i, [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${tokens[i]}`]);
        ws.send(JSON.stringify({ type: 'hello', resume: {} }));
        return ws;
      }, 'gateway', o.log);
    } finally {
      await gwServer.stop();
    }
    const plainServer = await startServerProcess({ kind: 'plain' });
    let plain: ServerFigures;
    try {
      plain = await measure(plainServer, sockets, (i) => connect(`ws://127.0.0.1:${plainServer.port}/`, i, []), 'plain ws', o.log);
    } finally {
      await plainServer.stop();
    }
    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
    const ratios = { rss: ratio(gateway.rssPerSocket, plain.rssPerSocket), heap: ratio(gateway.heapPerSocket, plain.heapPerSocket) };
    return { bench: 'connections', requested, sockets, openFileLimit: limit, limitedBy, gateway, plain, ratios, goal: { ratio: 2 }, met: ratios.heap <= 2 };
  } finally {
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.close();
  }
}
