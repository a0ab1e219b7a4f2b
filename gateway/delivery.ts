/**
 * Ordered delivery of one conversation to one socket. The socket receives the
 * conversation's messages strictly by seq, each once: live messages from fan-out can arrive
 * late, early or twice (two instances publish in commit order, not arrival order; a resend
 * republishes), so anything at or below what was sent is dropped, and a message beyond the
 * next seq first pulls the missing range from PostgreSQL (it is committed: seqs are
 * allocated under the conversation's row lock, so seq n+1 commits after n).
 * Operations run one at a time per conversation, in the order they were asked for.
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

export class ConversationStream {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

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

  private emit(m: MessageRecord): void {
    if (this.closed || m.seq !== this.delivered + 1) return;
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
      for (const m of page) this.emit(m);
      if (page.length < PAGE) return;
    }
  }

  /** A live message from fan-out. */
  offer(m: MessageRecord): Promise<void> {
    return this.enqueue(async () => {
      if (m.seq <= this.delivered) return;
      if (m.seq > this.delivered + 1) await this.pull(m.seq - 1);
      this.emit(m);
    });
  }

  /** Stops sending (the conversation left this socket). */
  close(): void {
    this.closed = true;
  }
}
