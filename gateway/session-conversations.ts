/**
 * The conversations one socket sees: their summaries, the ordered delivery stream of each
 * open one, and the fan-out subscriptions behind them. Visibility is re-decided on every
 * conversation event (a transfer can take one away, a queue or an assignment can add one).
 *
 * Most sockets are idle visitors with no conversation yet, so everything here is allocated
 * on first use: an idle socket holds this object and its personal channel, nothing more.
 */
import type { Principal } from './auth/token.js';
import type { GatewayContext } from './context.js';
import { ConversationStream, type OwnMessage } from './delivery.js';
import type { ConversationEventKind, FanoutEvent, MessageRecord } from './events.js';
import type { FanoutListener } from './fanout.js';
import type { ConversationSummary, ServerFrame } from './protocol.js';
import { canSee, getConversation, getConversations, openConversationsOf } from './store/conversations.js';
import { messagesAfter } from './store/messages.js';
import { ackedSeqs } from './store/receipts.js';

/**
 * The read of a hinted conversation, one per `resync` event this instance received: every
 * socket that heard the same hint (a team channel reaches each agent of the team) shares it.
 * Each read starts after its hint arrived, which was published after the change it is
 * about, so sharing it loses nothing; a hint heard later is another event and reads again.
 */
const hintReads = new WeakMap<FanoutEvent, Promise<ConversationSummary[]>>();

/** The socket's session: it receives the fan-out events of every subscribed channel. */
export interface ConversationsHost extends FanoutListener {
  readonly sessionId: string;
  readonly principal: Principal;
  readonly participant: string;
  send(frame: ServerFrame): void;
  isClosed(): boolean;
}

/** One conversation this client sees. */
interface Seen {
  summary: ConversationSummary;
  /** Delivering (the conversation is open). */
  stream: ConversationStream | null;
  /** Where a closed conversation's stream stopped, should it reopen. */
  stoppedAt: number | null;
  /** Ends the context watch of an agent's linked open conversation. */
  unwatch: (() => void) | null;
}

/** A message this socket wrote, with the stream its ack goes out on. */
export interface OwnTicket {
  stream: ConversationStream;
  own: OwnMessage;
}

/** Messages read at once for a conversation that closed while its client was away. */
const CLOSED_PAGE = 200;

/** Conversation events already handled: one event reaches a session on up to four channels. */
const SEEN_EVENTS = 64;

export class SessionConversations {
  private seen: Map<number, Seen> | null = null;
  /** Subscribed channels (an array: an idle visitor has one). */
  private channels: string[] | null = null;
  private seenEvents: string[] | null = null;
  /** Set once the welcome went out: context frames must not come before it. */
  private welcomed = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly host: ConversationsHost,
  ) {}

  has(id: number): boolean {
    return this.seen?.has(id) ?? false;
  }

  /** The summary this client holds (open or closed). */
  get(id: number): ConversationSummary | undefined {
    return this.seen?.get(id)?.summary;
  }

  /**
   * The highest seq this client can have of conversation `id`: what its stream delivered, or
   * where a closed one's stopped. An ack or read past it names messages it never received.
   */
  received(id: number): number {
    const s = this.seen?.get(id);
    if (!s) return 0;
    return s.stream?.lastSeq ?? s.stoppedAt ?? s.summary.lastSeq;
  }

  all(): ConversationSummary[] {
    return this.seen ? [...this.seen.values()].map((s) => s.summary) : [];
  }

  /** Ids of the conversations being delivered (the open ones). */
  openIds(): number[] {
    const out: number[] = [];
    for (const [id, s] of this.seen ?? []) if (s.stream) out.push(id);
    return out;
  }

  /** Subscribes a channel (once) to the host; resolves when Redis confirmed it. */
  async listen(channel: string): Promise<void> {
    const channels = (this.channels ??= []);
    if (!channels.includes(channel)) channels.push(channel);
    await this.ctx.fanout.subscribe(channel, this.host);
    // Closed or muted while Redis confirmed: the subscription must not outlive that.
    if (this.host.isClosed() || !this.channels?.includes(channel)) this.ctx.fanout.unsubscribe(channel, this.host);
  }

  private mute(channel: string): void {
    const at = this.channels?.indexOf(channel) ?? -1;
    if (at < 0) return;
    this.channels!.splice(at, 1);
    this.ctx.fanout.unsubscribe(channel, this.host);
  }

  private track(c: ConversationSummary): Seen {
    const map = (this.seen ??= new Map());
    let s = map.get(c.id);
    // A read that started before a change it then missed is older than what an event brought.
    // (A summary without a version, from an instance of an older release, counts as newest.)
    if (s) {
      if (!(c.version < s.summary.version)) s.summary = c;
    } else map.set(c.id, (s = { summary: c, stream: null, stoppedAt: null, unwatch: null }));
    return s;
  }

  /**
   * Starts delivering a conversation after seq `after`; with `catchUp`, what is stored already
   * is sent now. With `recheck`, it is read again once its channel is subscribed (see
   * {@link confirm}): false when it turned out to be no longer this client's.
   */
  async attach(c: ConversationSummary, after: number, catchUp = false, recheck = false): Promise<boolean> {
    const s = this.track(c);
    if (c.status !== 'open' || s.stream) return true;
    const stream = new ConversationStream(c.id, after, {
      send: (m: MessageRecord) => this.host.send({ type: 'msg', ...m }),
      fetch: (id, from, limit, until) => messagesAfter(this.ctx.pool, id, from, limit, until),
      onError: (err, id) => this.ctx.log.warn({ err, conversationId: id, session: this.host.sessionId }, 'catch-up failed; the next message retries'),
    });
    s.stream = stream;
    s.stoppedAt = null;
    // Subscribe before reading PostgreSQL: nothing published after the read can be missed.
    await this.listen(this.ctx.keys.conversation(c.id));
    if (recheck && (await this.confirm([c.id])).length === 0) return false;
    if (catchUp) void stream.catchUp();
    if (this.welcomed) this.watchContext(s);
    return true;
  }

  /**
   * Reads `ids` again once their channels are subscribed and keeps those still open and this
   * client's (with the newer summary), returned; the others are dropped before any frame of
   * theirs goes out. A change between the read that attached a conversation and its
   * subscription was published where this socket was not listening yet: a transfer to
   * another team reaches that team's channel, not this one's, and was missed for good.
   */
  async confirm(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const now = new Map((await getConversations(this.ctx.pool, ids)).map((c) => [c.id, c]));
    const kept: number[] = [];
    for (const id of ids) {
      const c = now.get(id);
      if (c && c.status === 'open' && canSee(c, this.host.principal)) {
        this.track(c);
        kept.push(id);
      } else this.detach(id, true);
    }
    return kept;
  }

  /** Agents only: the linked customer's panel, now and whenever a sync changes it. */
  private watchContext(s: Seen): void {
    const c = s.summary;
    if (this.host.principal.kind !== 'agent' || c.customerId === null || c.status !== 'open' || s.unwatch) return;
    if (!s.stream || this.host.isClosed()) return;
    // A merge re-links the conversation by itself: the `relinked` event brings the summary
    // (or a re-sync finds it changed), so the panel's customer and the summary never disagree.
    s.unwatch = this.ctx.context.watch(c.id, c.customerId, { send: (frame) => this.host.send(frame) });
  }

  private unwatchContext(s: Seen): void {
    s.unwatch?.();
    s.unwatch = null;
  }

  /** Attaches a conversation that just became visible, resuming after this participant's stored ack; false when it is no longer theirs. */
  private async attachFromReceipt(c: ConversationSummary): Promise<boolean> {
    const acked = await ackedSeqs(this.ctx.pool, this.host.participant, [c.id]);
    return this.attach(c, acked.get(c.id) ?? 0, true, true);
  }

  /**
   * Conversations a resuming client names (`resume`, id → the last seq it holds) that are no
   * longer open: those it may still see (its own; an agent's assigned ones) closed while it
   * was away. It is sent what was written after its resume point, then the `closed` event,
   * so it learns how they ended instead of waiting on them for ever. After the welcome.
   */
  async closedSince(resume: Readonly<Record<string, number>>): Promise<void> {
    const ids = Object.keys(resume).map(Number).filter((id) => !this.seen?.has(id));
    if (ids.length === 0) return;
    for (const c of await getConversations(this.ctx.pool, ids)) {
      if (c.status !== 'closed' || !canSee(c, this.host.principal)) continue;
      const s = this.track(c);
      for (let after = Math.min(resume[String(c.id)]!, c.lastSeq); after < c.lastSeq && !this.host.isClosed(); ) {
        const page = await messagesAfter(this.ctx.pool, c.id, after, CLOSED_PAGE, c.lastSeq);
        if (page.length === 0) break;
        for (const m of page) this.host.send({ type: 'msg', ...m });
        after = page[page.length - 1]!.seq;
      }
      // Sent up to its last message (a resume point past it claims what does not exist).
      s.stoppedAt = c.lastSeq;
      this.host.send({ type: 'conversation', event: 'closed', conversation: c });
    }
  }

  /** Starts every attached stream's catch-up and context watch (after the welcome went out). */
  catchUpAll(): void {
    this.welcomed = true;
    for (const s of this.seen?.values() ?? []) {
      if (s.stream) void s.stream.catchUp();
      this.watchContext(s);
    }
  }

  /**
   * Conversation events may have been missed: fan-out was lost for a while (the subscriber
   * connection reconnected), the store refused a write as not this client's, or an instance
   * whose publish failed says so (a `resync` event). What this client sees is read again from
   * PostgreSQL and each difference is handled as its event would have been (a conversation
   * transferred away is told and detached; one assigned meanwhile is attached); then every
   * stream reads the messages it missed. With `only`, just that conversation is read again,
   * and its stream catches up; with the `hint` event that asked for it, the read is shared
   * by every socket of this instance that heard that event. Before the welcome nothing is
   * due: the hello reads everything anyway. A visitor who holds no conversation is not
   * read: only their own first message opens one, and it is answered on the socket that
   * sent it.
   * @returns whether the client was sent any missed change
   */
  async resync(only?: number, hint?: FanoutEvent & { e: 'resync' }): Promise<boolean> {
    if (!this.welcomed || this.host.isClosed()) return false;
    if (only === undefined && this.host.principal.kind === 'visitor' && !this.seen?.size) return false;
    const now = new Map<number, ConversationSummary>();
    if (only === undefined) for (const c of await openConversationsOf(this.ctx.pool, this.host.principal)) now.set(c.id, c);
    // Delivering here but no longer among the open ones this client sees: closed, or gone elsewhere.
    const stale = only !== undefined ? [only] : [...(this.seen ?? [])].filter(([id, s]) => s.stream && !now.has(id)).map(([id]) => id);
    for (const c of await this.readConversations(stale, only === undefined ? undefined : hint)) now.set(c.id, c);
    let changed = false;
    for (const c of now.values()) {
      const known = this.seen?.get(c.id)?.summary;
      const missed = missedEvent(known, c, this.host.principal);
      if (missed) await this.apply(missed, c);
      else if (known) this.track(c);
      changed ||= missed !== null;
    }
    const streams = only === undefined ? [...(this.seen?.values() ?? [])] : [this.seen?.get(only)];
    for (const s of streams) if (s?.stream) void s.stream.catchUp();
    return changed;
  }

  /** Summaries of `ids`; one read per `hint` for every socket here (see {@link hintReads}). */
  private readConversations(ids: number[], hint?: FanoutEvent): Promise<ConversationSummary[]> {
    if (!hint) return getConversations(this.ctx.pool, ids);
    let read = hintReads.get(hint);
    if (!read) {
      read = getConversations(this.ctx.pool, ids);
      hintReads.set(hint, read);
    }
    return read;
  }

  /** A conversation the client names before its event arrived (assigned a moment ago). */
  async discover(id: number): Promise<boolean> {
    const c = await getConversation(this.ctx.pool, id);
    if (!c || !canSee(c, this.host.principal)) return false;
    return this.attachFromReceipt(c);
  }

  private detach(id: number, forget: boolean): void {
    const s = this.seen?.get(id);
    if (!s) return;
    this.unwatchContext(s);
    if (s.stream) {
      s.stoppedAt = s.stream.lastSeq;
      s.stream.close();
      s.stream = null;
    }
    this.mute(this.ctx.keys.conversation(id));
    if (forget) this.seen!.delete(id);
  }

  /** Calls `visit` with each conversation delivered here and the highest seq delivered. */
  deliveredSeqs(visit: (conversationId: number, seq: number) => void): void {
    for (const [id, s] of this.seen ?? []) if (s.stream) visit(id, s.stream.lastSeq);
  }

  /** A live message from fan-out, to its conversation's stream. */
  offer(message: MessageRecord): Promise<void> {
    return this.seen?.get(message.conversationId)?.stream?.offer(message) ?? Promise.resolve();
  }

  /** The socket submits a message: its ack will take the message's place (ConversationStream.expect); null when the conversation has no stream here. */
  expectOwn(conversationId: number, clientMsgId: string): OwnTicket | null {
    const stream = this.seen?.get(conversationId)?.stream;
    return stream ? { stream, own: stream.expect(clientMsgId, this.host.participant) } : null;
  }

  /** The store answered: the ack goes out in the message's place (ConversationStream.stored), or at once when untracked. */
  stored(ticket: OwnTicket | null, message: MessageRecord, ack: () => void): void {
    if (ticket) void ticket.stream.stored(ticket.own, message, ack);
    else ack();
  }

  /** The store refused the message. */
  refused(ticket: OwnTicket | null): void {
    ticket?.stream.refused(ticket.own);
  }

  async onConversationEvent(event: Extract<FanoutEvent, { e: 'conversation' }>): Promise<void> {
    const handled = (this.seenEvents ??= []);
    if (handled.includes(event.eventId)) return;
    handled.push(event.eventId);
    if (handled.length > SEEN_EVENTS) handled.shift();
    // Published after commit by whichever instance made the change: two changes can arrive
    // in the opposite order. An older state than the one held would take a conversation
    // from the agent who now has it (or show it back to the one who lost it).
    const known = this.seen?.get(event.conversation.id);
    if (known && event.conversation.version < known.summary.version) return;
    await this.apply(event.event, event.conversation);
  }

  /** A conversation changed (`kind`, now `c`): attach, track or detach it, and tell the client. */
  private async apply(kind: ConversationEventKind, c: ConversationSummary): Promise<void> {
    const known = this.seen?.get(c.id);
    const visible = canSee(c, this.host.principal);
    if (!visible && !known) return;
    // A re-link of a conversation this client does not hold (a closed one of its past) is not news to it.
    if (kind === 'relinked' && !known) return;
    if (visible && !known && c.status === 'open') {
      if (!(await this.attachFromReceipt(c))) return; // moved on meanwhile: never this client's
    } else if (visible && c.status === 'open' && !known?.stream) {
      if (!(await this.reattach(c))) return;
    } else if (visible) this.track(c);
    // Closed: what was stored before the close goes out first. Its fan-out copy may still be
    // on its way (published late by the writer's instance), and the stream stops here.
    if (visible && c.status === 'closed') await known?.stream?.catchUp(c.lastSeq);
    this.host.send({ type: 'conversation', event: kind, conversation: c });
    // It left this client (transferred elsewhere) or ended: no more frames for it.
    if (!visible) this.detach(c.id, true);
    else if (c.status === 'closed') this.detach(c.id, false);
  }

  /** A known conversation is open again (reopened): deliver from where its stream stopped. */
  async reattach(c: ConversationSummary): Promise<boolean> {
    const after = this.seen?.get(c.id)?.stoppedAt ?? null;
    if (after === null) return this.attachFromReceipt(c);
    return this.attach(c, after, true, true);
  }

  /** Stops every stream and subscription (the socket closed). */
  close(): void {
    for (const id of [...(this.seen?.keys() ?? [])]) this.detach(id, false);
    for (const channel of this.channels ?? []) this.ctx.fanout.unsubscribe(channel, this.host);
    this.channels = null;
  }
}

/**
 * The conversation event a client holding `before` (undefined: it does not know the
 * conversation) missed if the conversation is now `now`; null when nothing it sees changed.
 */
function missedEvent(before: ConversationSummary | undefined, now: ConversationSummary, p: Principal): ConversationEventKind | null {
  if (!before) return now.status === 'open' && canSee(now, p) ? (now.assignedAgentId === null ? 'queued' : 'assigned') : null;
  if (before.status !== now.status) return now.status === 'closed' ? 'closed' : 'reopened';
  if (before.assignedAgentId !== now.assignedAgentId || before.team !== now.team) return now.assignedAgentId === null ? 'queued' : 'transferred';
  if (before.customerId !== now.customerId) return 'relinked';
  return null;
}
