/**
 * A chat client as a real one should behave: it remembers the last seq it received per
 * conversation and every message it sent that was not acked yet; after a drop it
 * reconnects (to any instance), says hello with its resume points and resends the unacked
 * messages with their original clientMsgIds. It also records every seq it ever received,
 * raw, so tests can count losses and duplicates: each `msg`, and each `ack` standing in for
 * its own message (a seq beyond what it held; see PROTOCOL.md).
 */
import type { ServerFrame } from '../../gateway/protocol.js';
import { TestClient, type Arrival } from './helpers.js';

type Msg = Extract<ServerFrame, { type: 'msg' }>;
/** A message as it arrived, over any of the client's connections. */
export interface Received extends Arrival {
  conversationId: number;
}

export interface OutgoingMessage {
  conversationId?: number;
  clientMsgId: string;
  text: string;
}

export class ResilientClient {
  client: TestClient | null = null;
  readonly lastSeq = new Map<number, number>();
  /** Every seq received per conversation, in arrival order, over every connection. */
  readonly received = new Map<number, Received[]>();
  readonly pending = new Map<string, OutgoingMessage>();
  readonly acks = new Map<string, { conversationId: number; seq: number }>();
  readonly errors: ServerFrame[] = [];
  connections = 0;
  /** Called with each new message (the agent's auto-reply hangs here). */
  onMessage: ((m: Msg) => void) | undefined;

  constructor(readonly token: string) {}

  async connect(port: number): Promise<void> {
    const client = await TestClient.open(port, this.token);
    this.client = client;
    this.connections++;
    client.listeners.push((f) => this.onFrame(client, f));
    client.send({ type: 'hello', resume: Object.fromEntries(this.lastSeq) });
    await client.next((f) => f.type === 'welcome');
    for (const m of this.pending.values()) client.send({ type: 'msg', ...m });
  }

  private onFrame(client: TestClient, f: ServerFrame): void {
    if (client !== this.client) return;
    if (f.type === 'msg') {
      this.receive(f, 'msg');
      this.ackSoon(client);
      this.onMessage?.(f);
    } else if (f.type === 'ack') {
      if (f.seq > (this.lastSeq.get(f.conversationId) ?? 0)) this.receive(f, 'ack');
      const m = this.pending.get(f.clientMsgId);
      this.pending.delete(f.clientMsgId);
      this.acks.set(f.clientMsgId, { conversationId: f.conversationId, seq: f.seq });
      // A visitor's later messages name the conversation its first one opened.
      if (m && m.conversationId === undefined) this.conversationId = f.conversationId;
    } else if (f.type === 'error') {
      this.errors.push(f);
    }
  }

  /** The visitor's conversation, once its first message was acked. */
  conversationId: number | undefined;

  private ackTimer: NodeJS.Timeout | undefined;

  /** Acks are cumulative: one per conversation every few ms is enough (and keeps under the rate limit). */
  private ackSoon(client: TestClient): void {
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      if (client !== this.client) return;
      for (const [conversationId, seq] of this.lastSeq) {
        if (this.ackedUpTo.get(conversationId) === seq) continue;
        this.ackedUpTo.set(conversationId, seq);
        client.send({ type: 'ack', conversationId, seq });
      }
    }, 20);
  }

  private readonly ackedUpTo = new Map<number, number>();

  send(m: OutgoingMessage): void {
    this.pending.set(m.clientMsgId, m);
    this.client?.send({ type: 'msg', ...m });
  }

  /** Drops the connection abruptly (no close handshake), as a lost network does. */
  drop(): void {
    this.client?.ws.terminate();
    this.client = null;
  }

  close(): void {
    this.client?.close();
    this.client = null;
  }

  private receive(f: Pick<Msg, 'conversationId' | 'seq' | 'clientMsgId'>, via: Received['via']): void {
    const list = this.received.get(f.conversationId) ?? [];
    list.push({ conversationId: f.conversationId, seq: f.seq, clientMsgId: f.clientMsgId, via });
    this.received.set(f.conversationId, list);
    if (f.seq > (this.lastSeq.get(f.conversationId) ?? 0)) this.lastSeq.set(f.conversationId, f.seq);
  }

  /** Seqs received for a conversation, raw (duplicates would show twice). */
  seqs(conversationId: number): number[] {
    return (this.received.get(conversationId) ?? []).map((m) => m.seq);
  }
}
