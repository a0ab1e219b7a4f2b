/**
 * Ordered delivery of one conversation to one socket. The socket receives the
 * conversation's messages strictly by seq, each once: live messages from fan-out can arrive
 * late, early or twice (two instances publish in commit order, not arrival order; a resend
 * republishes), so anything at or below what was sent is dropped, and a message beyond the
 * next seq first pulls the missing range from PostgreSQL (it is committed: seqs are
 * allocated under the conversation's row lock, so seq n+1 commits after n).
 * Operations run one at a time per conversation, in the order they were asked for.
 *
 * The connection that wrote a message gets its `ack` in that message's place instead of a
 * copy: one frame per message for its writer instead of two. The store's answer and the
 * message's copy (fan-out, catch-up) race; whichever comes first, the ack goes out once, after
 * every earlier seq and before any later one: an ack first waits for the seqs before it, and a
 * copy of a message still in flight holds the stream until the store's answer (the ack, with
 * its `duplicate` flag) arrives.
 */
import type { MessageRecord } from './events.js';

export interface DeliveryIo {
  /** Sends one message frame to the socket. */
  send(message: MessageRecord): void;
  /** Messages with after < seq ≤ until (no bound when undefined), in order, at most `limit`. */
  fetch(conversationId: number, after: number, limit: number, until?: number): Promise<MessageRecord[]>;
  onError(err: unknown, conversationId: number): void;
}

const PAGE = 500;
/** How long an ack waits for the earlier seqs and its message's copy to come through fan-out. */
const COPY_WAIT_MS = 1000;

/** A message this connection wrote, from submit until its ack went out. */
export interface OwnMessage {
  readonly clientMsgId: string;
  readonly senderId: string;
  /** Set when the store answered: the ack to send, or null when the message was refused. */
  settle(ack: (() => void) | null): void;
  readonly answer: Promise<(() => void) | null>;
  /** The ack went out in place of a copy (so the answer's own turn sends nothing). */
  placed: boolean;
}

export class ConversationStream {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** This connection's messages in flight, by clientMsgId (the first submit of each). */
  private inflight: Map<string, OwnMessage> | null = null;

  /** @param delivered the highest seq the client already has */
  constructor(
    readonly conversationId: number,
    private delivered: number,
    private readonly io: DeliveryIo,
  ) {}

  /** The highest seq sent (or held by the client at resume). */
  get lastSeq(): number {
    return this.delivered;
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(op).catch((err: unknown) => this.io.onError(err, this.conversationId));
    return this.chain;
  }

  private async emit(m: MessageRecord): Promise<void> {
    if (this.closed || m.seq !== this.delivered + 1) return;
    const own = this.inflight?.get(m.clientMsgId);
    if (own && own.senderId === m.sender.id) {
      // Our own message, its ack not out yet: hold this place until the store answers.
      this.inflight!.delete(m.clientMsgId);
      const ack = await own.answer;
      own.placed = true;
      if (this.closed || m.seq !== this.delivered + 1) return void ack?.();
      this.delivered = m.seq;
      if (ack) ack();
      else this.io.send(m);
      return;
    }
    this.delivered = m.seq;
    this.io.send(m);
  }

  /** Sends everything stored after what was delivered (resume, newly visible conversation). */
  catchUp(until?: number): Promise<void> {
    return this.enqueue(() => this.pull(until));
  }

  private async pull(until?: number): Promise<void> {
    for (;;) {
      if (this.closed || (until !== undefined && this.delivered >= until)) return;
      const page = await this.io.fetch(this.conversationId, this.delivered, PAGE, until);
      for (const m of page) await this.emit(m);
      if (page.length < PAGE) return;
    }
  }

  /** A live message from fan-out. */
  offer(m: MessageRecord): Promise<void> {
    return this.enqueue(async () => {
      if (m.seq <= this.delivered) return;
      if (m.seq > this.delivered + 1) await this.pull(m.seq - 1);
      await this.emit(m);
    });
  }

  /**
   * This connection submits a message: its ack, once {@link OwnMessage.settle}d, goes out in
   * the message's place. A clientMsgId already in flight is not tracked twice (the resend's
   * ack then follows the first one's).
   */
  expect(clientMsgId: string, senderId: string): OwnMessage {
    let settle!: OwnMessage['settle'];
    const answer = new Promise<(() => void) | null>((resolve) => (settle = resolve));
    const own: OwnMessage = { clientMsgId, senderId, settle, answer, placed: false };
    const map = (this.inflight ??= new Map());
    if (!map.has(clientMsgId)) map.set(clientMsgId, own);
    return own;
  }

  /**
   * The store answered `own` with message `m`: its ack goes out in the message's place.
   * When earlier seqs have not reached this socket yet, they are on their way through
   * fan-out: written on this instance, they were published before this message, so they
   * arrive ahead of its copy; written on another, the copy's own gap fill reads them. Either
   * way the copy puts the ack in place; should it not come within `copyWaitMs` (a publish
   * failed), the gap is read from the store. Reading it at once instead made every ack of a busy
   * gateway, whose fan-out lags its store answers, a query. The ack always goes out, even
   * when the catch-up fails or the conversation left the socket.
   */
  stored(own: OwnMessage, m: MessageRecord, ack: () => void, copyWaitMs = COPY_WAIT_MS): Promise<void> {
    own.settle(ack);
    return this.enqueue(async () => {
      if (own.placed) return;
      if (!this.closed && m.seq > this.delivered + 1 && this.inflight?.get(own.clientMsgId) === own) {
        setTimeout(() => void this.enqueue(() => this.placeAck(own, m, ack)), copyWaitMs).unref();
        return;
      }
      await this.placeAck(own, m, ack);
    });
  }

  private async placeAck(own: OwnMessage, m: MessageRecord, ack: () => void): Promise<void> {
    if (own.placed) return;
    own.placed = true;
    if (this.inflight?.get(own.clientMsgId) === own) this.inflight.delete(own.clientMsgId);
    try {
      if (!this.closed && m.seq > this.delivered + 1) await this.pull(m.seq - 1);
    } finally {
      if (!this.closed && m.seq === this.delivered + 1) this.delivered = m.seq;
      ack();
    }
  }

  /** The store refused `own`: a copy holding its place (there should be none) goes out as a message. */
  refused(own: OwnMessage): void {
    own.settle(null);
    if (this.inflight?.get(own.clientMsgId) === own) this.inflight.delete(own.clientMsgId);
  }

  /** Stops sending (the conversation left this socket). */
  close(): void {
    this.closed = true;
  }
}
