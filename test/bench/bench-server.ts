/**
 * Child-process entry of the gateway benchmarks, so the server's CPU and memory are its own
 * and not the load generator's. `BENCH_SERVER` (JSON) says what to run:
 * - `gateway`: one real gateway instance (startGateway) on a scratch database;
 * - `relay`: a bare `ws` server that forwards each frame to the socket named by its `to`;
 * - `plain`: a bare `ws` server that accepts sockets and keeps them (idle memory peer).
 * It sends `{ ready, port }` over IPC, answers `memory` with its (post-GC) memory usage, and
 * closes on `stop`.
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type BenchServerSpec =
  | { kind: 'gateway'; pgUrl: string; redisUrl: string; redisPrefix: string; settings: Record<string, unknown>; poolSize?: number }
  | { kind: 'relay' }
  | { kind: 'plain' };

export interface ServerMemory {
  rss: number;
  heapUsed: number;
  /** Memory of Buffers and ArrayBuffers (socket buffers), outside the JS heap. */
  external: number;
  sockets: number;
  /** The server's event-loop delay since the previous question (ms): a busy or blocked loop. */
  loopDelay: { p50: number; p99: number; max: number };
}

interface Server {
  port: number;
  sockets(): number;
  close(): Promise<void>;
}

async function bareServer(relay: boolean): Promise<Server> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 16_384 });
  const byId = new Map<string, WebSocket>();
  wss.on('connection', (ws, req) => {
    if (!relay) return;
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    byId.set(id, ws);
    ws.on('close', () => byId.delete(id));
    ws.on('message', (data: Buffer) => {
      // The peer is named in the frame; parsing it is the least any relay does.
      const to = (JSON.parse(data.toString()) as { to?: string }).to;
      if (to !== undefined) byId.get(to)?.send(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets: () => wss.clients.size,
    close: () => new Promise<void>((resolve) => (wss.clients.forEach((c) => c.terminate()), server.close(() => resolve()))),
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_SERVER ?? '{}') as BenchServerSpec;
  let server: Server;
  if (spec.kind === 'gateway') {
    // Loaded only here: the bare servers hold no gateway code in their memory.
    const { startGateway } = await import('../../gateway/server.js');
    const { testSettings } = await import('../gateway/helpers.js');
    const gw = await startGateway({ gateway: testSettings(spec.settings), pgUrl: spec.pgUrl, redisUrl: spec.redisUrl, redisPrefix: spec.redisPrefix, port: 0, host: '0.0.0.0', poolSize: spec.poolSize ?? 10 });
    server = { port: gw.port, sockets: () => gw.sockets(), close: () => gw.close() };
  } else {
    server = await bareServer(spec.kind === 'relay');
  }
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('message', (m: { type: string }) => {
    if (m.type === 'memory') {
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      const loopDelay = { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) };
      delay.reset();
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      process.send!({ type: 'memory', memory: { rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, sockets: server.sockets(), loopDelay } satisfies ServerMemory });
    } else if (m.type === 'stop') {
      void server.close().finally(() => process.exit(0));
    }
  });
  process.send!({ type: 'ready', port: server.port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
