/**
 * The two transports `bench gateway` drives with one load generator: the real gateway
 * (visitors and agents through its login and visitor-session endpoints, one conversation per
 * visitor, cumulative acks by seq) and a bare `ws` relay (the same frames, forwarded to the
 * named peer, nothing stored).
 */
import WebSocket from 'ws';
import { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../../gateway/protocol.js';
import { addAgent } from '../../gateway/store/agents.js';
import type pg from 'pg';
import { login, ORIGIN, visitorToken } from '../gateway/helpers.js';
import type { LoadConversation, LoadTarget } from './gateway-load.js';

export interface Transport extends LoadTarget {
  /** Client messages the server acknowledged (gateway: stored). */
  acked(): number;
  close(): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function open(url: string, protocols: string[] = []): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, { origin: ORIGIN, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

/** Runs `fn` over `items` with at most `n` at a time. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }));
  return out;
}

/** Splits `sockets` into agents (one in ten) and visitors. */
export function split(sockets: number): { agents: number; visitors: number } {
  const agents = Math.max(1, Math.round(sockets / 10));
  return { agents, visitors: Math.max(1, sockets - agents) };
}

interface GwFrame { type: string; conversationId?: number; seq?: number; text?: string; sender?: { kind: string } }

/** Opens the gateway's sockets and one conversation per visitor, each assigned to an agent. */
export async function gatewayTransport(port: number, db: pg.Pool, sockets: number, log: (line: string) => void): Promise<Transport> {
  const { agents, visitors } = split(sockets);
  const capacity = Math.ceil(visitors / agents) + 1;
  const target: Transport = { conversations: [], received: () => undefined, acked: () => acked, close: () => all.forEach((w) => w.terminate()) };
  let acked = 0;
  const all: WebSocket[] = [];
  const agentOf = new Map<number, WebSocket>();
  const pendingAcks = new Map<WebSocket, Map<number, number>>();

  const attach = (ws: WebSocket, own: 'visitor' | 'agent') => {
    const seqs = new Map<number, number>();
    pendingAcks.set(ws, seqs);
    ws.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString()) as GwFrame;
      if (f.type === 'ack') acked++;
      else if (f.type === 'msg' && f.conversationId !== undefined) {
        seqs.set(f.conversationId, Math.max(seqs.get(f.conversationId) ?? 0, f.seq ?? 0));
        if (own === 'agent' && !agentOf.has(f.conversationId)) agentOf.set(f.conversationId, ws);
        if (f.sender?.kind !== own) target.received(f.text ?? '');
      }
    });
  };
  const url = `ws://127.0.0.1:${port}/ws`;
  const hello = (ws: WebSocket) => ws.send(JSON.stringify({ type: 'hello', resume: {} }));

  const agentList = await pool(Array.from({ length: agents }, (_, i) => i), 8, async (i) => {
    const a = { email: `bench${i}@example.com`, name: `bench${i}`, team: 'support', password: `pw-bench-${i}-secret` };
    await addAgent(db, { ...a, capacity });
    const ws = await open(url, [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${await login(port, a)}`]);
    attach(ws, 'agent');
    hello(ws);
    all.push(ws);
    return ws;
  });
  log(`gateway: ${agentList.length} agents online (capacity ${capacity} each)`);
  await sleep(1000); // presence registers just after the welcome

  const visitorConvs = await pool(Array.from({ length: visitors }, (_, i) => i), 32, async (i) => {
    const { token } = await visitorToken(port);
    const ws = await open(url, [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`]);
    attach(ws, 'visitor');
    hello(ws);
    all.push(ws);
    const conversationId = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('first message not acked within 30 s')), 30_000);
      const onMsg = (data: Buffer) => {
        const f = JSON.parse(data.toString()) as GwFrame;
        if (f.type !== 'ack' || f.conversationId === undefined) return;
        clearTimeout(timer);
        ws.off('message', onMsg);
        resolve(f.conversationId);
      };
      ws.on('message', onMsg);
      ws.send(JSON.stringify({ type: 'msg', clientMsgId: `v${i}-open`, text: 'hello' }));
    });
    return { ws, conversationId, i };
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && visitorConvs.some((v) => !agentOf.has(v.conversationId))) await sleep(100);
  let n = 0;
  for (const v of visitorConvs) {
    const agentWs = agentOf.get(v.conversationId);
    if (!agentWs) continue;
    const conv: LoadConversation = {
      fromVisitor: (text) => v.ws.send(JSON.stringify({ type: 'msg', conversationId: v.conversationId, clientMsgId: `v${n++}`, text })),
      fromAgent: (text) => agentWs.send(JSON.stringify({ type: 'msg', conversationId: v.conversationId, clientMsgId: `a${n++}`, text })),
    };
    target.conversations.push(conv);
  }
  log(`gateway: ${visitorConvs.length} visitors, ${target.conversations.length} conversations assigned`);
  // Receivers ack cumulatively by seq, as a client would, once a second.
  const timer = setInterval(() => {
    for (const [ws, seqs] of pendingAcks) {
      for (const [conversationId, seq] of seqs) if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ack', conversationId, seq }));
      seqs.clear();
    }
  }, 1000);
  const close = target.close;
  target.close = () => (clearInterval(timer), close());
  return target;
}

/** The bare relay's sockets, paired like the gateway's (visitor i ↔ agent i mod agents). */
export async function relayTransport(port: number, sockets: number): Promise<Transport> {
  const { agents, visitors } = split(sockets);
  const all: WebSocket[] = [];
  const target: Transport = { conversations: [], received: () => undefined, acked: () => 0, close: () => all.forEach((w) => w.terminate()) };
  const connect = async (id: string) => {
    const ws = await open(`ws://127.0.0.1:${port}/?id=${id}`);
    ws.on('message', (data: Buffer) => target.received((JSON.parse(data.toString()) as { text: string }).text));
    all.push(ws);
    return ws;
  };
  const agentWs = await pool(Array.from({ length: agents }, (_, i) => i), 32, (i) => connect(`a${i}`));
  const visitorWs = await pool(Array.from({ length: visitors }, (_, i) => i), 32, (i) => connect(`v${i}`));
  let n = 0;
  visitorWs.forEach((v, i) => {
    const a = agentWs[i % agents]!;
    target.conversations.push({
      fromVisitor: (text) => v.send(JSON.stringify({ type: 'msg', to: `a${i % agents}`, conversationId: i + 1, clientMsgId: `v${n++}`, text })),
      fromAgent: (text) => a.send(JSON.stringify({ type: 'msg', to: `v${i}`, conversationId: i + 1, clientMsgId: `a${n++}`, text })),
    });
  });
  return target;
}
