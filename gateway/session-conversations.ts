/**
 * The conversations one socket sees: their summaries, the ordered delivery stream of each
 * open one, and the fan-out subscriptions behind them. Visibility is re-decided on every
 * conversation event (a transfer can take one away, a queue or an assignment can add one).
 */
import type { Principal } from './auth/token.js';
import type { GatewayContext } from './context.js';
import { ConversationStream } from './delivery.js';
import type { FanoutEvent, MessageRecord } from './events.js';
import type { ConversationSummary, ServerFrame } from './protocol.js';
import { canSee, getConversation } from './store/conversations.js';
import { messagesAfter } from './store/messages.js';
import { ackedSeqs } from './store/receipts.js';

export interface ConversationsHost {
  readonly sessionId: string;
  readonly principal: Principal;
  readonly participant: string;
  send(frame: ServerFrame): void;
  /** Where fan-out events of every subscribed channel go. */
  onEvent(event: FanoutEvent): void;
  isClosed(): boolean;
}

export class SessionConversations {
  private readonly summaries = new Map<number, ConversationSummary>();
  private readonly streams = new Map<number, ConversationStream>();
  private readonly unsubscribe = new Map<string, () => void>();
  /** Conversation events already handled: one event reaches a session on up to four channels. */
  private readonly seenEvents: string[] = [];
  /** Context watches of an agent's linked open conversations (ended when one leaves). */
  private readonly contextWatches = new Map<number, () => void>();
  /** Where a closed conversation's stream stopped, should it reopen. */
  private readonly stoppedAt = new Map<number, number>();
  /** Set once the welcome went out: context frames must not come before it. */
  private welcomed = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly host: ConversationsHost,
  ) {}

  has(id: number): boolean {
    return this.summaries.has(id);
  }

  all(): ConversationSummary[] {
    return [...this.summaries.values()];
  }

  /** Ids of the conversations being delivered (the open ones). */
  openIds(): number[] {
    return [...this.streams.keys()];
  }

  /** Subscribes a channel (once) to the host's event handler; resolves when Redis confirmed it. */
  async listen(channel: string): Promise<void> {
    if (this.unsubscribe.has(channel)) return;
    const off = await this.ctx.fanout.subscribe(channel, (event) => this.host.onEvent(event));
    if (this.host.isClosed() || this.unsubscribe.has(channel)) off();
    else this.unsubscribe.set(channel, off);
  }

  private mute(channel: string): void {
    this.unsubscribe.get(channel)?.();
    this.unsubscribe.delete(channel);
  }

  /** Starts delivering a conversation after seq `after`; with `catchUp`, what is stored already is sent now. */
  async attach(c: ConversationSummary, after: number, catchUp = false): Promise<void> {
    this.summaries.set(c.id, c);
    if (c.status !== 'open' || this.streams.has(c.id)) return;
    const stream = new ConversationStream(c.id, after, {
      send: (m: MessageRecord) => this.host.send({ type: 'msg', ...m }),
      fetch: (id, from, limit, until) => messagesAfter(this.ctx.pool, id, from, limit, until),
      onError: (err, id) => this.ctx.log.warn({ err, conversationId: id, session: this.host.sessionId }, 'catch-up failed; the next message retries'),
    });
    this.streams.set(c.id, stream);
    // Subscribe before reading PostgreSQL: nothing published after the read can be missed.
    await this.listen(this.ctx.keys.conversation(c.id));
    if (catchUp) void stream.catchUp();
    if (this.welcomed) this.watchContext(c);
  }

  /** Agents only: the linked customer's panel, now and whenever a sync changes it. */
  private watchContext(c: ConversationSummary): void {
    if (this.host.principal.kind !== 'agent' || c.customerId === null || c.status !== 'open' || this.contextWatches.has(c.id)) return;
    if (!this.streams.has(c.id) || this.host.isClosed()) return;
    const stop = this.ctx.context.watch(c.id, c.customerId, {
      send: (frame) => this.host.send(frame),
      relinked: (id, customerId) => {
        const known = this.summaries.get(id);
        if (known) this.summaries.set(id, { ...known, customerId });
      },
    });
    this.contextWatches.set(c.id, stop);
  }

  private unwatchContext(id: number): void {
    this.contextWatches.get(id)?.();
    this.contextWatches.delete(id);
  }

  /** Attaches a conversation that just became visible, resuming after this participant's stored ack. */
  private async attachFromReceipt(c: ConversationSummary): Promise<void> {
    const acked = await ackedSeqs(this.ctx.pool, this.host.participant, [c.id]);
    await this.attach(c, acked.get(c.id) ?? 0, true);
  }

  /** Starts every attached stream's catch-up and context watch (after the welcome went out). */
  catchUpAll(): void {
    this.welcomed = true;
    for (const stream of this.streams.values()) void stream.catchUp();
    for (const c of this.summaries.values()) this.watchContext(c);
  }

  /** A conversation the client names before its event arrived (assigned a moment ago). */
  async discover(id: number): Promise<boolean> {
    const c = await getConversation(this.ctx.pool, id);
    if (!c || !canSee(c, this.host.principal)) return false;
    await this.attachFromReceipt(c);
    return true;
  }

  private detach(id: number, forget: boolean): void {
    this.unwatchContext(id);
    const stream = this.streams.get(id);
    if (stream && !forget) this.stoppedAt.set(id, stream.lastSeq);
    stream?.close();
    this.streams.delete(id);
    this.mute(this.ctx.keys.conversation(id));
    if (forget) {
      this.summaries.delete(id);
      this.stoppedAt.delete(id);
    }
  }

  /** A live message from fan-out, to its conversation's stream. */
  offer(message: MessageRecord): Promise<void> {
    return this.streams.get(message.conversationId)?.offer(message) ?? Promise.resolve();
  }

  async onConversationEvent(event: Extract<FanoutEvent, { e: 'conversation' }>): Promise<void> {
    if (this.seenEvents.includes(event.eventId)) return;
    this.seenEvents.push(event.eventId);
    if (this.seenEvents.length > 64) this.seenEvents.shift();
    const c = event.conversation;
    const known = this.summaries.has(c.id);
    const visible = canSee(c, this.host.principal);
    if (!visible && !known) return;
    if (visible && !known && c.status === 'open') await this.attachFromReceipt(c);
    else if (visible && c.status === 'open' && !this.streams.has(c.id)) await this.reattach(c);
    else if (visible) this.summaries.set(c.id, c);
    this.host.send({ type: 'conversation', event: event.event, conversation: c });
    // It left this client (transferred elsewhere) or ended: no more frames for it.
    if (!visible) this.detach(c.id, true);
    else if (c.status === 'closed') this.detach(c.id, false);
  }

  /** A known conversation is open again (reopened): deliver from where its stream stopped. */
  async reattach(c: ConversationSummary): Promise<void> {
    const after = this.stoppedAt.get(c.id);
    this.stoppedAt.delete(c.id);
    if (after === undefined) return this.attachFromReceipt(c);
    await this.attach(c, after, true);
  }

  /** The summary this client holds (open or closed). */
  get(id: number): ConversationSummary | undefined {
    return this.summaries.get(id);
  }

  /** Stops every stream and subscription (the socket closed). */
  close(): void {
    for (const id of [...this.streams.keys()]) this.detach(id, false);
    for (const id of [...this.contextWatches.keys()]) this.unwatchContext(id);
    for (const off of this.unsubscribe.values()) off();
    this.unsubscribe.clear();
  }
}
