/**
 * One authenticated WebSocket: the protocol state machine (hello first, then frames),
 * per-socket rate limit, the conversations this client sees and their ordered delivery,
 * and the fan-out subscriptions behind them.
 *
 * Inbound frames are handled one at a time in arrival order (a chain of promises), but a
 * message is only *queued* for group commit before the next frame is read: its ack is sent
 * when its batch commits, so a client may pipeline messages without waiting for acks and
 * they still take seqs in the order sent.
 *
 * The rate limit counts a frame when it arrives, not when its turn comes: frames whose
 * handling waits on PostgreSQL would otherwise be counted at the database's pace, and a
 * flooding socket's backlog would grow without ever tripping the limit. The backlog is
 * capped as well ({@link MAX_WAITING_FRAMES}).
 */
import type { RawData, WebSocket } from 'ws';
import { JunctionError, isJunctionError, type ErrorCode } from '../config/errors.js';
import { participantId, principalOf, samePrincipal, secondsLeft, tokenEpoch as tokenEpochOf, verifyToken, type Principal } from './auth/token.js';
import type { GatewayContext } from './context.js';
import { drainSoon } from './drain.js';
import { close as closeConversation, openForVisitor, reopenForVisitor, transfer } from './conversations.js';
import { participantKind, type FanoutEvent } from './events.js';
import { FrameBudget } from './frame-budget.js';
import type { PresenceEntry } from './presence.js';
import { CLOSE, parseClientFrame, type ClientFrame, type CloseCode, type ConversationSummary, type HelloFrame, type MsgFrame, type ServerFrame } from './protocol.js';
import { SessionConversations, type ConversationsHost } from './session-conversations.js';
import { getAgent, movedReason, revokedLogin, type Agent } from './store/agents.js';
import { isNotYours, openConversationsOf } from './store/conversations.js';
import { storedMessage } from './store/messages.js';
import { ackedSeqs } from './store/receipts.js';

/** How long a socket may stay silent before its `hello`. */
export const HELLO_TIMEOUT_MS = 10_000;
/** A client that lets this much pile up unread is dropped; it resumes when it reconnects. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/**
 * Frames a socket may have waiting for their turn; one more closes it like a flood (4408,
 * GW_RATE_LIMITED). Raised to what `gateway.rate_limit` lets a client send at once (one
 * second's frames plus the burst): ws hands over every frame of one TCP read before any is
 * handled, so a client pipelining within a high configured limit must not be cut off.
 */
export const MAX_WAITING_FRAMES = 64;

// One set of socket listeners for every socket (`this` is the socket), instead of four
// closures per socket: an idle socket should cost little more than `ws` itself.
const sessionOf = new WeakMap<WebSocket, SocketSession>();
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  sessionOf.get(this)?.received(data, isBinary);
}
function onPong(this: WebSocket): void {
  const s = sessionOf.get(this);
  if (s) s.alive = true;
}
function onClose(this: WebSocket): void {
  void sessionOf.get(this)?.teardown();
}
function onError(this: WebSocket, err: Error): void {
  sessionOf.get(this)?.socketError(err);
}

/** Session ids are unique per instance; presence keys them with the instance id. */
let lastSessionId = 0;

export class SocketSession implements ConversationsHost {
  readonly sessionId = (++lastSessionId).toString(36);
  readonly participant: string;
  /** Cleared by the heartbeat before each ping, set by the pong. */
  alive = true;
  private state: 'hello' | 'ready' | 'closed' = 'hello';
  private readonly conversations: SessionConversations;
  private readonly budget: FrameBudget;
  /** Frames (and fan-out events) are handled one at a time, in arrival order; null when idle. */
  private inbound: Promise<void> | null = null;
  /** Frames received whose turn has not come yet. */
  private waiting = 0;
  private events: Promise<void> | null = null;
  /** Fan-out events that came before the welcome was sent. */
  private early: FanoutEvent[] | null = null;
  private helloTimer: NodeJS.Timeout | null;
  private presenceJoined = false;
  /** This socket's messages not stored yet, by conversation: a close or transfer sent after them waits for them. */
  private submitting: Map<number, Set<Promise<void>>> | null = null;
  /** Set once the socket closed and its subscriptions and presence are cleared. */
  private closed: { promise: Promise<void>; resolve: () => void } | null = null;
  private finished = false;

  constructor(
    private readonly ws: WebSocket,
    readonly principal: Principal,
    /** Epoch ms when this socket's token expires; an `auth` frame moves it. */
    private tokenExpiresAt: number,
    private readonly ctx: GatewayContext,
    private readonly onClosed: (s: SocketSession) => void,
    /** Agents: the token epoch of this socket's token; an `auth` frame brings its token's. */
    private tokenEpoch = 0,
  ) {
    this.participant = participantId(principal);
    this.conversations = new SessionConversations(ctx, this);
    this.budget = new FrameBudget(ctx.settings.rate_limit);
    sessionOf.set(ws, this);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
    this.helloTimer = setTimeout(() => this.violate('GW_BAD_FRAME', CLOSE.BAD_FRAME, `no hello within ${HELLO_TIMEOUT_MS} ms`), HELLO_TIMEOUT_MS);
  }

  /** Resolves once the socket closed and its subscriptions and presence are cleared. */
  get done(): Promise<void> {
    if (this.finished) return Promise.resolve();
    if (!this.closed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.closed = { promise, resolve };
    }
    return this.closed.promise;
  }

  /** @internal a frame from the socket (socket listener) */
  received(data: RawData, isBinary: boolean): void {
    if (this.state === 'closed') return;
    if (!this.budget.take()) return this.violate('GW_RATE_LIMITED', CLOSE.RATE_LIMITED, 'too many frames');
    const { frames_per_second, burst } = this.ctx.settings.rate_limit;
    if (this.waiting >= Math.max(MAX_WAITING_FRAMES, frames_per_second + burst)) return this.violate('GW_RATE_LIMITED', CLOSE.RATE_LIMITED, 'too many frames waiting to be handled');
    this.waiting++;
    const next = (this.inbound ?? Promise.resolve())
      .then(() => {
        this.waiting--;
        return this.onFrame(data, isBinary);
      })
      .catch((err: unknown) => this.fail(err));
    this.inbound = next;
    void next.then(() => {
      if (this.inbound === next) this.inbound = null;
    });
  }

  /** @internal (socket listener) */
  socketError(err: Error): void {
    this.ctx.log.debug({ err, session: this.sessionId }, 'socket error');
  }

  isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Presence registration of this socket (refreshed by the heartbeat). */
  get presenceEntry(): PresenceEntry {
    const p = this.principal;
    return { participantId: this.participant, socketKey: `${this.ctx.instanceId}:${this.sessionId}`, ...(p.kind === 'agent' ? { team: p.team } : {}) };
  }

  /** Each conversation this socket delivers, with the highest seq it delivered (the lag sweep). */
  deliveredSeqs(visit: (conversationId: number, seq: number) => void): void {
    if (this.state === 'ready') this.conversations.deliveredSeqs(visit);
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  // ---- sending ---------------------------------------------------------------------------

  send(frame: ServerFrame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ctx.log.warn({ session: this.sessionId, buffered: this.ws.bufferedAmount }, 'slow consumer dropped');
      this.ws.terminate();
      return;
    }
    this.ws.send(JSON.stringify(frame));
  }

  private sendError(code: ErrorCode, message: string, extra: { clientMsgId?: string; conversationId?: number; retryable?: boolean } = {}): void {
    const { retryable = false, ...ids } = extra;
    this.send({ type: 'error', code, message, retryable, ...ids });
  }

  /** A protocol violation: tell the client why, then close with the stable code. */
  private violate(code: ErrorCode, closeCode: CloseCode, message: string): void {
    if (this.state === 'closed') return;
    this.sendError(code, message);
    this.state = 'closed';
    this.ws.close(closeCode, closeReason(message));
  }

  /** The instance is going away: ask the client to reconnect (to another instance). */
  shutdown(): void {
    if (this.state === 'closed') return;
    this.send({ type: 'reconnect', reason: 'instance shutting down' });
    this.state = 'closed';
    this.ws.close(CLOSE.RECONNECT, 'reconnect');
  }

  /** Heartbeat: a socket that did not answer the previous ping is dead. @returns false when it was dropped */
  ping(): boolean {
    if (!this.alive) {
      this.ws.terminate();
      return false;
    }
    this.alive = false;
    this.ws.ping();
    return true;
  }

  /** Heartbeat: closes the socket (4401) once its token expired. @returns true when it did */
  expireIfDue(now: number): boolean {
    if (this.state === 'closed' || now < this.tokenExpiresAt) return false;
    this.violate('GW_TOKEN_EXPIRED', CLOSE.UNAUTHORIZED, 'token expired; send auth with a renewed token before it expires, or reconnect with a fresh one');
    return true;
  }

  /** Drops the connection without a close handshake (shutdown of unresponsive sockets). */
  terminate(): void {
    this.ws.terminate();
  }

  /** The agent was disabled. */
  kick(reason: string): void {
    this.violate('GW_AGENT_DISABLED', CLOSE.FORBIDDEN, reason);
  }

  /**
   * Agents only: closes the socket when its agent was disabled or moved to another team since
   * its token was signed (the token's team decides which queue it sees). False when it did.
   */
  private async agentStillValid(): Promise<boolean> {
    if (this.principal.kind !== 'agent') return true;
    return this.judgeAgent(await getAgent(this.ctx.pool, this.principal.agentId));
  }

  /**
   * Heartbeat (agents): `agent` as just read, null when gone. A socket whose kick was lost
   * (Redis away when the agent was disabled, moved or given a new password) closes within a
   * heartbeat instead of acting until its token expires.
   */
  recheckAgent(agent: Agent | null): void {
    if (this.state === 'ready' && this.principal.kind === 'agent') this.judgeAgent(agent);
  }

  private judgeAgent(agent: Agent | null): boolean {
    const p = this.principal;
    if (p.kind !== 'agent') return true;
    if (!agent || agent.disabled) {
      this.kick('agent disabled');
      return false;
    }
    const revoked = revokedLogin(agent, this.tokenEpoch);
    if (revoked) {
      this.violate('GW_TOKEN_INVALID', CLOSE.UNAUTHORIZED, revoked);
      return false;
    }
    if (agent.team !== p.team) {
      this.violate('GW_TOKEN_INVALID', CLOSE.UNAUTHORIZED, `${movedReason(p.agentId, p.team, agent.team)}: renew the token at POST /api/auth/refresh and reconnect`);
      return false;
    }
    return true;
  }

  private fail(err: unknown): void {
    if (isJunctionError(err)) {
      this.sendError(err.code, err.message, { retryable: err.retryable });
      return;
    }
    this.ctx.log.error({ err, session: this.sessionId }, 'frame handling failed');
    this.sendError('GW_INTERNAL', 'internal error; reconnect and resume', { retryable: true });
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.ws.close(CLOSE.INTERNAL, 'internal error');
    }
  }

  // ---- inbound ---------------------------------------------------------------------------

  private async onFrame(data: RawData, isBinary: boolean): Promise<void> {
    if (this.state === 'closed') return;
    if (isBinary) return this.violate('GW_BAD_FRAME', CLOSE.BAD_FRAME, 'binary frames are not part of the protocol');
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return this.violate(parsed.violation.code, parsed.violation.close, parsed.violation.message);
    const frame = parsed.frame;
    if (this.state === 'hello' && frame.type !== 'hello') return this.violate('GW_BAD_FRAME', CLOSE.BAD_FRAME, 'the first frame must be hello');
    if (this.state === 'ready' && frame.type === 'hello') return this.violate('GW_BAD_FRAME', CLOSE.BAD_FRAME, 'hello was already sent');
    try {
      await this.dispatch(frame);
    } catch (err) {
      if (!isJunctionError(err)) throw err;
      // A refused action answers the frame it came with; the socket stays open.
      this.sendError(err.code, err.message, {
        retryable: err.retryable,
        ...('conversationId' in frame && frame.conversationId !== undefined ? { conversationId: frame.conversationId } : {}),
        ...(frame.type === 'msg' ? { clientMsgId: frame.clientMsgId } : {}),
      });
    }
  }

  private async dispatch(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'hello':
        return this.hello(frame);
      case 'msg':
        return this.message(frame);
      case 'ack':
      case 'read': {
        if (!this.visible(frame.conversationId, frame.type)) return;
        // No further than this connection was sent: a read mark ahead of it would show the
        // other side's later messages as read. (Not refused: a console that merged a history
        // page a moment before the socket delivered its last message is honest.)
        const seq = Math.min(frame.seq, this.conversations.received(frame.conversationId));
        if (seq < 1) return;
        this.ctx.receipts.note(frame.conversationId, this.participant, frame.type === 'ack' ? { acked: seq } : { read: seq });
        if (frame.type === 'read') await this.relay(frame.conversationId, { e: 'read', conversationId: frame.conversationId, who: this.participant, seq });
        return;
      }
      case 'typing':
        if (!this.visible(frame.conversationId, 'typing')) return;
        return this.relay(frame.conversationId, { e: 'typing', conversationId: frame.conversationId, who: this.participant, on: frame.on });
      case 'transfer': {
        if (this.principal.kind !== 'agent') return this.sendError('GW_FORBIDDEN', 'only agents transfer conversations', { conversationId: frame.conversationId });
        if (!this.visible(frame.conversationId, 'transfer')) return;
        const to = frame.toAgentId !== undefined ? { toAgentId: frame.toAgentId } : { toTeam: frame.toTeam! };
        return this.change(frame.conversationId, () => transfer(this.ctx, frame.conversationId, to, this.principal));
      }
      case 'close':
        if (!this.visible(frame.conversationId, 'close')) return;
        return this.change(frame.conversationId, () => closeConversation(this.ctx, frame.conversationId, this.principal));
      case 'auth':
        return this.renew(frame.token);
    }
  }

  /**
   * A renewed token for this socket. A bad or expired one is answered with its error and
   * changes nothing (the socket still ends at the old expiry); one for another principal,
   * or for the same one with another team or linked customer, is refused: what this socket
   * is subscribed to depends on those, so that takes a new connection.
   */
  private async renew(token: string): Promise<void> {
    const claims = verifyToken(token, this.ctx.settings.token_secret);
    if (!samePrincipal(principalOf(claims), this.principal)) {
      // The same agent with another team: this socket's team is stale (moved); it closes (4401).
      if (claims.kind === 'agent' && this.principal.kind === 'agent' && claims.agentId === this.principal.agentId && !(await this.agentStillValid())) return;
      throw new JunctionError('GW_TOKEN_INVALID', 'the token is for another principal, team or customer; reconnect with it');
    }
    // The renewed token's epoch decides from now on (a fresh login after a revocation carries
    // the new one); a token revoked since, sent over a login that is not (a stale tab's), is
    // refused and changes nothing.
    if (claims.kind === 'agent') {
      const epoch = tokenEpochOf(claims);
      const agent = epoch === this.tokenEpoch ? null : await getAgent(this.ctx.pool, claims.agentId);
      const revoked = agent && !agent.disabled ? revokedLogin(agent, epoch) : null;
      if (revoked && agent && !revokedLogin(agent, this.tokenEpoch)) throw new JunctionError('GW_TOKEN_INVALID', revoked);
      this.tokenEpoch = epoch;
    }
    if (!(await this.agentStillValid())) return;
    this.tokenExpiresAt = Math.max(this.tokenExpiresAt, claims.exp * 1000);
    this.send({ type: 'auth', expiresAt: new Date(this.tokenExpiresAt).toISOString(), expiresIn: secondsLeft(this.tokenExpiresAt) });
  }

  /**
   * A transfer or close: its refusal names the conversation; one refused as no longer this
   * client's (a missed event) has the socket's view of it read again.
   */
  private async change(conversationId: number, work: () => Promise<unknown>): Promise<void> {
    // Frames are handled in order: a message this socket sent before is stored (or refused) first.
    const pending = this.submitting?.get(conversationId);
    if (pending) await Promise.allSettled([...pending]);
    try {
      await work();
    } catch (err) {
      if (!isJunctionError(err)) throw err;
      this.sendError(err.code, err.message, { conversationId, retryable: err.retryable });
      if (isNotYours(err)) this.resync(conversationId);
    }
  }

  /** True when this client sees the conversation; otherwise answers GW_CONVERSATION_NOT_FOUND. */
  private visible(conversationId: number, what: string): boolean {
    if (this.conversations.has(conversationId)) return true;
    this.sendError('GW_CONVERSATION_NOT_FOUND', `${what}: no conversation ${conversationId} for you`, { conversationId });
    return false;
  }

  /**
   * Relays an ephemeral event (typing, a read receipt) to the conversation. Nothing is lost
   * when Redis fails: typing is momentary and the read receipt was noted for PostgreSQL, so
   * the failure is logged and the socket stays open.
   */
  private async relay(conversationId: number, event: FanoutEvent): Promise<void> {
    try {
      await this.ctx.fanout.publish([{ channels: [this.ctx.keys.conversation(conversationId)], event }]);
    } catch (err) {
      this.ctx.log.warn({ err, session: this.sessionId, conversationId, event: event.e }, 'ephemeral event not relayed');
    }
  }

  private async hello(frame: HelloFrame): Promise<void> {
    this.clearHelloTimer();
    const p = this.principal;
    const personal = p.kind === 'agent' ? [this.ctx.keys.agent(p.agentId), this.ctx.keys.team(p.team)] : [this.ctx.keys.visitor(p.visitorId)];
    await Promise.all(personal.map((ch) => this.conversations.listen(ch)));
    // Disabled (or moved) since the upgrade: its kick went out before this socket listened for one.
    if (!(await this.agentStillValid())) return;
    const open = await openConversationsOf(this.ctx.pool, p);
    const unnamed = open.filter((c) => frame.resume[String(c.id)] === undefined).map((c) => c.id);
    const acked = await ackedSeqs(this.ctx.pool, this.participant, unnamed);
    // A resume point past the conversation's last message (a client's claim) counts as its
    // last: acks and reads are bounded by what the connection was sent from there.
    const resumeAt = (c: ConversationSummary) => Math.min(frame.resume[String(c.id)] ?? acked.get(c.id) ?? 0, c.lastSeq);
    await Promise.all(open.map((c) => this.conversations.attach(c, resumeAt(c))));
    // Read again now that their channels are heard: one handed elsewhere meanwhile is dropped.
    await this.conversations.confirm(open.map((c) => c.id));
    if (this.state !== 'hello') return; // closed meanwhile
    this.send({
      type: 'welcome',
      sessionId: this.sessionId,
      instanceId: this.ctx.instanceId,
      role: p.kind,
      participantId: this.participant,
      conversations: this.conversations.all(),
      heartbeatMs: this.ctx.settings.heartbeat_ms,
      maxPayloadBytes: this.ctx.settings.max_payload_bytes,
      maxTextChars: this.ctx.settings.max_text_chars,
      tokenExpiresAt: new Date(this.tokenExpiresAt).toISOString(),
      tokenExpiresIn: secondsLeft(this.tokenExpiresAt),
    });
    this.state = 'ready';
    this.conversations.catchUpAll();
    const early = this.early ?? [];
    this.early = null;
    for (const event of early) this.onEvent(event);
    await this.conversations.closedSince(frame.resume);
    await this.joinPresence();
  }

  private async message(frame: MsgFrame): Promise<void> {
    const { clientMsgId, text } = frame;
    if (text.length > this.ctx.settings.max_text_chars) {
      return this.violate('GW_BAD_FRAME', CLOSE.BAD_FRAME, `text is longer than ${this.ctx.settings.max_text_chars} characters`);
    }
    let conversationId = frame.conversationId;
    if (conversationId === undefined) {
      if (this.principal.kind !== 'visitor') return this.sendError('GW_FORBIDDEN', 'agents cannot start a conversation', { clientMsgId });
      let c: ConversationSummary;
      try {
        c = await openForVisitor(this.ctx, this.principal, clientMsgId, text, frame.page);
      } catch (err) {
        // Too many conversations opened lately: this message is refused, the socket goes on.
        if (isJunctionError(err) && err.code === 'GW_RATE_LIMITED') return this.sendError(err.code, err.message, { clientMsgId });
        throw isJunctionError(err) ? err : new JunctionError('GW_STORE_UNAVAILABLE', 'the conversation could not be opened; resend', { cause: err, retryable: true });
      }
      if (!this.conversations.has(c.id)) await this.conversations.attach(c, 0, true);
      conversationId = c.id;
    } else if (!this.conversations.has(conversationId) && !(await this.conversations.discover(conversationId))) {
      return this.sendError('GW_CONVERSATION_NOT_FOUND', `no conversation ${conversationId} for you`, { clientMsgId, conversationId });
    }
    if (this.principal.kind === 'visitor' && this.conversations.get(conversationId)?.status === 'closed') {
      // A resend of a message stored before the close (its ack was lost) is answered with the
      // original ack: it must neither reopen the conversation nor be refused as closed.
      let original: Awaited<ReturnType<typeof storedMessage>>;
      let reopened: ConversationSummary | null = null;
      try {
        original = await storedMessage(this.ctx.pool, conversationId, this.participant, clientMsgId);
        // A visitor writing into a recently closed conversation reopens it (see reopenForVisitor).
        if (!original) reopened = await reopenForVisitor(this.ctx, this.principal, conversationId);
      } catch (err) {
        // The store failing here (away, a deadlock) fails this message, retryable, not the socket.
        if (isJunctionError(err)) return this.sendError(err.code, err.message, { clientMsgId, conversationId, retryable: err.retryable });
        this.ctx.log.error({ err, conversationId }, 'message not stored: the closed conversation could not be read or reopened');
        return this.sendError('GW_STORE_UNAVAILABLE', 'the message was not stored; resend it with the same clientMsgId', { clientMsgId, conversationId, retryable: true });
      }
      if (original) return this.send({ type: 'ack', clientMsgId, conversationId, seq: original.seq, at: original.at, duplicate: true });
      if (!reopened) return this.sendError('GW_CONVERSATION_CLOSED', `conversation ${conversationId} is closed; send without conversationId to start a new one`, { clientMsgId, conversationId });
      await this.conversations.reattach(reopened);
    }
    const id = conversationId;
    // Not awaited: the next frame may be queued into the same batch.
    const ticket = this.conversations.expectOwn(id, clientMsgId);
    const done = this.ctx.messages.submit({ conversationId: id, senderId: this.participant, clientMsgId, text }).then(
      ({ message, duplicate }) => this.conversations.stored(ticket, message, () => this.send({ type: 'ack', clientMsgId, conversationId: id, seq: message.seq, at: message.at, duplicate })),
      (err: unknown) => {
        this.conversations.refused(ticket);
        if (isNotYours(err)) this.resync(id);
        // Closed by the agent while this message was on its way: a resend reopens it.
        const reopenable = this.principal.kind === 'visitor' && isJunctionError(err) && err.code === 'GW_CONVERSATION_CLOSED' && this.ctx.settings.reopen_within_s > 0;
        if (isJunctionError(err)) return this.sendError(err.code, err.message, { clientMsgId, conversationId: id, retryable: err.retryable || reopenable });
        this.ctx.log.error({ err, conversationId: id }, 'message not stored');
        this.sendError('GW_STORE_UNAVAILABLE', 'the message was not stored; resend it with the same clientMsgId', { clientMsgId, conversationId: id, retryable: true });
      },
    );
    const submitting = (this.submitting ??= new Map());
    const pending = submitting.get(id) ?? new Set<Promise<void>>();
    submitting.set(id, pending.add(done));
    void done.finally(() => {
      pending.delete(done);
      if (pending.size === 0 && submitting.get(id) === pending) submitting.delete(id);
    });
  }

  // ---- fan-out events ---------------------------------------------------------------------

  /** A fan-out event of a channel this socket listens on. */
  onEvent(event: FanoutEvent): void {
    if (this.state === 'closed') return;
    if (this.state === 'hello') {
      (this.early ??= []).push(event);
      return;
    }
    this.inTurn(() => this.handleEvent(event));
  }

  /** Runs `work` after the events before it (events are handled one at a time, in order). */
  private inTurn(work: () => Promise<void>): void {
    const next = (this.events ?? Promise.resolve()).then(work).catch((err: unknown) => this.ctx.log.error({ err, session: this.sessionId }, 'event handling failed'));
    this.events = next;
    void next.then(() => {
      if (this.events === next) this.events = null;
    });
  }

  /**
   * What this socket sees is read again from PostgreSQL (SessionConversations.resync), in
   * turn with the events: after a Redis reconnect (events were lost), or for `only` when
   * the store answered that a conversation is no longer this client's.
   */
  private resync(only?: number): void {
    if (this.state !== 'ready') return;
    this.inTurn(async () => {
      const changed = await this.conversations.resync(only);
      if (only === undefined || changed || this.principal.kind !== 'agent') return;
      // Refused, yet the conversation is as this agent saw it: the agent itself was
      // disabled or moved to another team, and no kick reached this socket.
      await this.agentStillValid();
    });
  }

  /** Fan-out came back after a Redis reconnect: catch up what was published meanwhile. */
  resubscribed(): void {
    this.resync();
  }

  private async handleEvent(event: FanoutEvent): Promise<void> {
    switch (event.e) {
      case 'msg':
        await this.conversations.offer(event.message);
        return;
      case 'typing':
      case 'read':
        if (event.who === this.participant || !this.conversations.has(event.conversationId)) return;
        if (event.e === 'typing') this.send({ type: 'typing', conversationId: event.conversationId, who: who(event.who), on: event.on });
        else this.send({ type: 'read', conversationId: event.conversationId, who: who(event.who), seq: event.seq });
        return;
      case 'presence':
        if (event.who === this.participant) return;
        this.send({ type: 'presence', who: who(event.who), online: event.online, ...(event.conversationId ? { conversationId: event.conversationId } : {}) });
        return;
      case 'kick':
        if (event.tokenInvalid) this.violate('GW_TOKEN_INVALID', CLOSE.UNAUTHORIZED, event.reason);
        else this.kick(event.reason);
        return;
      case 'conversation':
        return this.conversations.onConversationEvent(event);
      case 'resync':
        await this.conversations.resync(event.conversationId, event);
        return;
    }
  }

  // ---- presence and teardown --------------------------------------------------------------

  /** Channels that hear this participant come and go: its team (agents) and its open conversations. */
  private presenceChannels(): string[] {
    const channels = this.conversations.openIds().map((id) => this.ctx.keys.conversation(id));
    if (this.principal.kind === 'agent') channels.push(this.ctx.keys.team(this.principal.team));
    return channels;
  }

  private async joinPresence(): Promise<void> {
    // Closed during the hello: teardown has run, and found nothing to leave.
    if (this.state !== 'ready') return;
    this.presenceJoined = true;
    const first = await this.ctx.presence.connect(this.presenceEntry);
    if (this.state !== 'ready') {
      // Closed while joining: teardown's leave may have run before this join landed. Leave
      // again (a no-op when it did not); `online` was never published, so no `offline` is owed.
      await this.ctx.presence.disconnect(this.presenceEntry);
      return;
    }
    if (first) {
      await this.ctx.fanout.publish([{ channels: this.presenceChannels(), event: { e: 'presence', who: this.participant, online: true } }]);
      // An agent coming online is capacity: their team's queue may move.
      if (this.principal.kind === 'agent') drainSoon(this.ctx, this.principal.team);
    }
  }

  private clearHelloTimer(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  /** @internal the socket closed (socket listener) */
  async teardown(): Promise<void> {
    this.state = 'closed';
    this.clearHelloTimer();
    const channels = this.presenceChannels();
    this.conversations.close();
    try {
      if (this.presenceJoined && (await this.ctx.presence.disconnect(this.presenceEntry))) {
        await this.ctx.fanout.publish([{ channels, event: { e: 'presence', who: this.participant, online: false } }]);
      }
    } catch (err) {
      this.ctx.log.warn({ err, session: this.sessionId }, 'presence not cleared; it expires with its TTL');
    }
    this.onClosed(this);
    sessionOf.delete(this.ws);
    this.finished = true;
    this.closed?.resolve();
  }
}

const who = (id: string) => ({ kind: participantKind(id), id });

/** A close reason fits in 123 bytes (RFC 6455); `ws` throws on a longer one. */
function closeReason(message: string): string {
  let reason = message.slice(0, 123);
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
