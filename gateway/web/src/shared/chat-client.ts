/**
 * The browser side of the chat protocol (gateway/PROTOCOL.md), shared by the agent console
 * and the customer widget. It owns the delivery rules so no page has to:
 *
 * - every message the user writes gets a `clientMsgId` and stays `pending` until its `ack`;
 *   after a reconnect every pending one is resent with the same id (the server answers a
 *   stored one with its original seq), so nothing is lost and nothing is doubled;
 * - messages are kept per conversation by `seq`; a seq already held is ignored, so a resume
 *   that overlaps what REST history paging loaded shows each message once;
 * - `hello.resume` and receipt acks (debounced) name the end of the unbroken run of seqs held
 *   per conversation: a REST page merged above a hole must not make the server skip the hole;
 * - `welcome` lists every open conversation this client sees: the open ones it does not list
 *   were lost while away and are dropped, with their customer context; so is the context of a
 *   conversation a `conversation` frame shows has left this client (transferred);
 * - a dropped socket reconnects by itself with jittered backoff (at once when the browser
 *   says it is back online); the state says `reconnecting` meanwhile so pages show a banner;
 * - the server closes a socket when its token expires (4401), so before then the client asks
 *   `getToken` again and hands a renewed token to the live socket (`auth`); should that fail,
 *   it reconnects at once after the close, with whatever `getToken` gives then. The deadline
 *   is the token's remaining life as the server states it, counted from the frame's arrival
 *   (token-lifetime.ts): the browser's clock may be off by any amount.
 *
 * The state is an immutable snapshot replaced on every change, so React can read it with
 * `useSyncExternalStore` and anything else with `subscribe`.
 */
import type { ConversationSummary, ServerFrame } from '../../../protocol.js';
import { localExpiry, RENEW_LEAD_MS } from './token-lifetime.js';

export type { ConversationSummary, ServerFrame };
export { RENEW_LEAD_MS };
export type ContextFrame = Extract<ServerFrame, { type: 'context' }>;
export type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;
export type Participant = Extract<ServerFrame, { type: 'msg' }>['sender'];

export type ChatStatus = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'unauthorized' | 'stopped';

export interface ChatMessage {
  conversationId: number | null;
  /** Null while pending (not stored yet). */
  seq: number | null;
  clientMsgId: string;
  sender: Participant;
  text: string;
  /** Server time once stored; the local time it was written while pending. */
  at: string;
  state: 'pending' | 'stored' | 'failed';
  /** Written by this client's participant (also on another tab or device). */
  mine: boolean;
  /** Why a failed message was refused. */
  error?: { code: string; message: string };
}

export interface ChatState {
  status: ChatStatus;
  /** How many connection attempts failed in a row (0 while online). */
  attempts: number;
  role: 'visitor' | 'agent' | null;
  participantId: string | null;
  maxTextChars: number;
  conversations: Readonly<Record<number, ConversationSummary>>;
  /** Stored messages by seq, then this client's pending ones, per conversation. */
  messages: Readonly<Record<number, readonly ChatMessage[]>>;
  /** A visitor's messages written before the server named their conversation. */
  unassigned: readonly ChatMessage[];
  /** Who is typing, per conversation (participant id → since). */
  typing: Readonly<Record<number, Readonly<Record<string, number>>>>;
  /** The highest seq each other participant has read, per conversation. */
  readBy: Readonly<Record<number, Readonly<Record<string, number>>>>;
  /** The latest context frame per conversation (agents only). */
  contexts: Readonly<Record<number, ContextFrame>>;
  /** The last error frame or connection problem, for a toast. */
  lastError: { code: string; message: string; at: number } | null;
}

/** The subset of the DOM WebSocket this client uses (`ws` in Node.js has it too). */
export interface SocketLike {
  readonly readyState: number;
  readonly protocol: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export interface ChatClientOptions {
  /** `ws://host/ws` or `wss://host/ws`. */
  url: string;
  /**
   * The token for the next connection, and before the socket's token expires, a renewed one
   * for it: renew here when the token is near its expiry (the client asks
   * {@link RENEW_LEAD_MS} before, or halfway through a shorter life; `renewalDue` of
   * token-lifetime.ts says when, on this browser's clock). `rejected`: the server closed the
   * last connection because its token no longer holds (4401: expired, or the agent was moved
   * to another team), so the stored one must be renewed whatever its expiry says.
   */
  getToken(hint?: { rejected: boolean }): Promise<string>;
  /**
   * Called after a connection failed before it opened (browsers cannot see why): answers
   * false when the token is no longer accepted, which stops the client as `unauthorized`.
   * @defaultValue always true
   */
  checkAuth?(): Promise<boolean>;
  /** @defaultValue the global WebSocket */
  socket?: SocketFactory;
  /** First reconnect delay; doubles up to `maxDelayMs`, with ±30 % jitter. @defaultValue 500 */
  minDelayMs?: number;
  /** @defaultValue 8000 */
  maxDelayMs?: number;
  /** How long receipt acks are gathered before one is sent. @defaultValue 150 */
  ackDelayMs?: number;
  /** A typing indicator not renewed for this long goes away. @defaultValue 6000 */
  typingTtlMs?: number;
  /** Generates clientMsgIds. @defaultValue crypto.randomUUID */
  newId?(): string;
  /**
   * Whether this client's participant sees a conversation (gets its frames): the server's
   * rule, gateway/PROTOCOL.md. Its customer context and typing are dropped once it does not.
   * @defaultValue a visitor sees theirs; an agent, those assigned to them or unassigned (the
   * team is not known here: the agent console passes the whole rule)
   */
  sees?(conversation: ConversationSummary): boolean;
}

const SUBPROTOCOL = 'junction.v1';
const OPEN = 1;
/** Close codes after which reconnecting cannot help. */
const FATAL_CLOSES = new Set([4403]);
/** Close codes after which reconnecting at once is right: the instance went away (1012), the token expired (4401). */
const RECONNECT_AT_ONCE = new Set([1012, 4401]);

type Listener = () => void;

const initialState: ChatState = {
  status: 'idle',
  attempts: 0,
  role: null,
  participantId: null,
  maxTextChars: 4000,
  conversations: {},
  messages: {},
  unassigned: [],
  typing: {},
  readBy: {},
  contexts: {},
  lastError: null,
};

function bySeq(a: ChatMessage, b: ChatMessage): number {
  if (a.seq === null) return b.seq === null ? 0 : 1;
  if (b.seq === null) return -1;
  return a.seq - b.seq;
}

export class ChatClient {
  private state: ChatState = initialState;
  private readonly listeners = new Set<Listener>();
  private socket: SocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private renewTimer: ReturnType<typeof setTimeout> | null = null;
  /** The token the current socket holds (the upgrade's, or the last one renewed). */
  private socketToken: string | null = null;
  private readonly acked = new Map<number, number>();
  /** Outgoing frames not yet acknowledged, in the order written (resent in that order). */
  private readonly outbox = new Map<string, { conversationId?: number; text: string; page?: Record<string, string> }>();
  private wanted = false;
  /**
   * Numbers connection attempts. An attempt waits for its token before it has a socket; when a
   * newer one started meanwhile (or {@link stop}) it gives up, else both would open a socket
   * and the older one would be orphaned, never closed and keeping the agent present.
   */
  private attempt = 0;
  /** An attempt is waiting for its token (no socket yet): retries wait for it. */
  private connecting = false;
  /** The last connection was closed with 4401: the next getToken must renew. */
  private tokenRejected = false;
  /** The resume points the current socket's `hello` named. */
  private resumed: Readonly<Record<string, number>> = {};
  /**
   * Contexts of conversations the last `welcome` dropped although `hello` named them: one
   * that closed meanwhile comes back in its `closed` frame (gateway/PROTOCOL.md, `hello`), and
   * the server sends no context for a closed conversation.
   */
  private readonly parked = new Map<number, ContextFrame>();
  private readonly opts: Required<Omit<ChatClientOptions, 'checkAuth' | 'socket' | 'sees'>> &
    Pick<ChatClientOptions, 'checkAuth' | 'sees'> & { socket: SocketFactory };

  constructor(options: ChatClientOptions) {
    const socket: SocketFactory =
      options.socket ?? ((url, protocols) => new (globalThis as unknown as { WebSocket: new (u: string, p: string[]) => SocketLike }).WebSocket(url, protocols));
    this.opts = {
      minDelayMs: 500,
      maxDelayMs: 8000,
      ackDelayMs: 150,
      typingTtlMs: 6000,
      newId: () => crypto.randomUUID(),
      ...options,
      socket,
    };
  }

  // ---- state ---------------------------------------------------------------------------

  getState = (): ChatState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  /** Messages of a conversation in display order (stored by seq, then pending). */
  messagesOf(conversationId: number): readonly ChatMessage[] {
    return this.state.messages[conversationId] ?? [];
  }

  /** The highest seq held for a conversation (0 when none), holes or not. */
  lastSeq(conversationId: number): number {
    const list = this.state.messages[conversationId] ?? [];
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.seq !== null) return list[i]!.seq!;
    return 0;
  }

  /**
   * The end of the unbroken run of seqs held from the lowest one (0 when none): what was
   * received without a hole. Seqs of a conversation have no gaps, so one missing from what is
   * held was never received (a REST page merged above it); resuming or acking past it would
   * lose it. Below the lowest is history, paged in by REST on request.
   */
  heldThrough(conversationId: number): number {
    let through = 0;
    for (const m of this.state.messages[conversationId] ?? []) {
      if (m.seq === null) continue;
      if (through !== 0 && m.seq !== through + 1) break;
      through = m.seq;
    }
    return through;
  }

  // ---- connection ----------------------------------------------------------------------

  /** Connects, and keeps reconnecting after drops until {@link stop}. */
  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.connect();
  }

  /** Closes the socket and stops reconnecting (logout, page hidden for good). */
  stop(): void {
    this.wanted = false;
    this.attempt++;
    this.connecting = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.clearRenewal();
    const s = this.socket;
    this.socket = null;
    s?.close(1000, 'bye');
    this.set({ status: 'stopped' });
  }

  /** Reconnects now instead of waiting for the backoff (the browser came back online). */
  retryNow(): void {
    if (!this.wanted || this.socket || this.connecting) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  }

  private async connect(): Promise<void> {
    const attempt = ++this.attempt;
    this.connecting = true;
    this.set({ status: this.state.attempts === 0 && this.state.status !== 'reconnecting' ? 'connecting' : 'reconnecting' });
    let token: string;
    try {
      token = await this.opts.getToken({ rejected: this.tokenRejected });
    } catch (err) {
      if (attempt !== this.attempt) return;
      this.connecting = false;
      this.failed({ code: 'TOKEN', message: (err as Error).message }, false);
      return;
    }
    if (attempt !== this.attempt || !this.wanted) return;
    this.connecting = false;
    let opened = false;
    const ws = this.opts.socket(this.opts.url, [SUBPROTOCOL, `bearer.${token}`]);
    this.socket = ws;
    this.socketToken = token;
    ws.onopen = () => {
      // Replaced or stopped before it opened: a hello would make it a second live connection.
      if (this.socket !== ws) {
        ws.close(1000, 'replaced');
        return;
      }
      opened = true;
      const resume: Record<string, number> = {};
      for (const id of Object.keys(this.state.messages)) {
        const seq = this.heldThrough(Number(id));
        if (seq > 0) resume[id] = seq;
      }
      this.resumed = resume;
      ws.send(JSON.stringify({ type: 'hello', resume }));
    };
    ws.onmessage = (ev) => {
      if (this.socket !== ws || typeof ev.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(ev.data) as ServerFrame;
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    ws.onerror = () => {
      /* a close follows */
    };
    ws.onclose = (ev) => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.clearRenewal();
      if (!this.wanted) return;
      this.tokenRejected = ev.code === 4401;
      if (FATAL_CLOSES.has(ev.code)) {
        this.wanted = false;
        this.set({ status: 'unauthorized', lastError: { code: 'GW_AGENT_DISABLED', message: ev.reason || 'this account was disabled', at: Date.now() } });
        return;
      }
      this.failed({ code: opened ? 'DISCONNECTED' : 'CONNECT_FAILED', message: opened ? 'the connection dropped' : 'the chat server cannot be reached' }, !opened, RECONNECT_AT_ONCE.has(ev.code));
    };
  }

  private async failed(error: { code: string; message: string }, beforeOpen: boolean, immediate = false): Promise<void> {
    const attempts = this.state.attempts + 1;
    const attempt = this.attempt;
    this.set({ status: 'reconnecting', attempts, typing: {}, lastError: { ...error, at: Date.now() } });
    if (beforeOpen && this.opts.checkAuth) {
      const ok = await this.opts.checkAuth().catch(() => true);
      // A newer attempt started meanwhile (retryNow, stop and start): this failure is its past.
      if (attempt !== this.attempt) return;
      if (!ok) {
        this.wanted = false;
        this.set({ status: 'unauthorized' });
        return;
      }
    }
    if (!this.wanted) return;
    const base = Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** Math.min(attempts - 1, 10));
    const delay = immediate ? 0 : base * (0.7 + Math.random() * 0.6);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.wanted && !this.socket && !this.connecting) this.connect();
    }, delay);
  }

  // ---- token renewal -------------------------------------------------------------------

  private clearRenewal(): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = null;
  }

  /** Asks for a renewed token ahead of `deadline` (this clock, epoch ms: from `welcome` or `auth`). */
  private scheduleRenewal(deadline: number): void {
    this.clearRenewal();
    const left = deadline - Date.now();
    if (!Number.isFinite(left)) return;
    const delay = Math.max(0, left - Math.min(RENEW_LEAD_MS, left / 2));
    this.renewTimer = setTimeout(() => void this.renew(), delay);
  }

  /**
   * Hands the live socket a renewed token. The same token again (nothing to renew) or a
   * failure is left alone: the server closes the socket at the expiry, and the reconnect
   * that follows asks `getToken` once more.
   */
  private async renew(): Promise<void> {
    this.renewTimer = null;
    const ws = this.socket;
    let token: string;
    try {
      token = await this.opts.getToken();
    } catch {
      return;
    }
    if (this.socket !== ws || token === this.socketToken) return;
    if (this.sendFrame({ type: 'auth', token })) this.socketToken = token;
  }

  private sendFrame(frame: Record<string, unknown>): boolean {
    const ws = this.socket;
    if (!ws || ws.readyState !== OPEN || this.state.status !== 'online') return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  // ---- frames --------------------------------------------------------------------------

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'welcome': {
        this.set({ status: 'online', attempts: 0, role: f.role, participantId: f.participantId, maxTextChars: f.maxTextChars, ...this.welcomed(f) });
        this.scheduleRenewal(localExpiry(f.tokenExpiresAt, f.tokenExpiresIn));
        // Resend what was never acknowledged, oldest first, with the same clientMsgIds.
        for (const [clientMsgId, m] of this.outbox) this.sendFrame({ type: 'msg', clientMsgId, ...m });
        return;
      }
      case 'msg':
        this.onMessage(f);
        return;
      case 'ack':
        this.onAck(f);
        return;
      case 'conversation':
        this.onConversation(f.conversation);
        return;
      case 'context':
        this.set({ contexts: { ...this.state.contexts, [f.conversationId]: f } });
        return;
      case 'typing': {
        const now = { ...(this.state.typing[f.conversationId] ?? {}) };
        if (f.on) now[f.who.id] = Date.now();
        else delete now[f.who.id];
        this.set({ typing: { ...this.state.typing, [f.conversationId]: now } });
        if (f.on) setTimeout(() => this.expireTyping(f.conversationId, f.who.id), this.opts.typingTtlMs + 50);
        return;
      }
      case 'read': {
        const now = { ...(this.state.readBy[f.conversationId] ?? {}) };
        if (f.seq > (now[f.who.id] ?? 0)) now[f.who.id] = f.seq;
        this.set({ readBy: { ...this.state.readBy, [f.conversationId]: now } });
        return;
      }
      case 'error':
        this.onError(f);
        return;
      case 'auth':
        this.scheduleRenewal(localExpiry(f.expiresAt, f.expiresIn));
        return;
      case 'reconnect':
      case 'presence':
        return;
    }
  }

  /**
   * The conversations after a `welcome`, which lists every open one this client sees. An open
   * one it does not list was lost while away (reassigned after the grace period, a queued one
   * a teammate claimed, closed): dropped with its context and typing. Closed ones are kept
   * (the welcome never lists them; their history stays readable).
   */
  private welcomed(f: Extract<ServerFrame, { type: 'welcome' }>): Pick<ChatState, 'conversations' | 'contexts' | 'typing'> {
    const conversations: Record<number, ConversationSummary> = {};
    for (const c of f.conversations) conversations[c.id] = c;
    const contexts = { ...this.state.contexts };
    const typing = { ...this.state.typing };
    this.parked.clear();
    for (const c of Object.values(this.state.conversations)) {
      if (conversations[c.id]) continue;
      if (c.status === 'closed' && this.sees(c, f)) {
        conversations[c.id] = c;
        continue;
      }
      const context = contexts[c.id];
      if (context && this.resumed[c.id] !== undefined) this.parked.set(c.id, context);
      delete contexts[c.id];
      delete typing[c.id];
    }
    return { conversations, contexts, typing };
  }

  /** A conversation changed; one that left this client takes its context and typing along. */
  private onConversation(c: ConversationSummary): void {
    const parked = this.parked.get(c.id);
    this.parked.delete(c.id);
    const conversations = { ...this.state.conversations, [c.id]: c };
    if (!this.sees(c)) {
      const contexts = { ...this.state.contexts };
      const typing = { ...this.state.typing };
      delete contexts[c.id];
      delete typing[c.id];
      this.set({ conversations, contexts, typing });
    } else if (parked && c.status === 'closed' && !this.state.contexts[c.id]) {
      this.set({ conversations, contexts: { ...this.state.contexts, [c.id]: parked } });
    } else this.set({ conversations });
  }

  /** `who`: the participant, as the state or a welcome on its way in names it. */
  private sees(c: ConversationSummary, who: Pick<ChatState, 'role' | 'participantId'> = this.state): boolean {
    if (this.opts.sees) return this.opts.sees(c);
    if (who.role !== 'agent') return true;
    return c.assignedAgentId === null || `agent:${c.assignedAgentId}` === who.participantId;
  }

  private expireTyping(conversationId: number, who: string): void {
    const since = this.state.typing[conversationId]?.[who];
    if (since === undefined || Date.now() - since < this.opts.typingTtlMs) return;
    const now = { ...this.state.typing[conversationId] };
    delete now[who];
    this.set({ typing: { ...this.state.typing, [conversationId]: now } });
  }

  private onMessage(f: Extract<ServerFrame, { type: 'msg' }>): void {
    const mine = f.sender.id === this.state.participantId;
    this.merge(f.conversationId, [{ conversationId: f.conversationId, seq: f.seq, clientMsgId: f.clientMsgId, sender: f.sender, text: f.text, at: f.at, state: 'stored', mine }]);
    if (mine) this.outbox.delete(f.clientMsgId);
    // Whoever wrote a message stopped typing it.
    const typing = this.state.typing[f.conversationId];
    if (typing?.[f.sender.id] !== undefined) {
      const now = { ...typing };
      delete now[f.sender.id];
      this.set({ typing: { ...this.state.typing, [f.conversationId]: now } });
    }
    this.scheduleAck(f.conversationId);
  }

  private onAck(f: Extract<ServerFrame, { type: 'ack' }>): void {
    const pending = this.findPending(f.clientMsgId);
    this.outbox.delete(f.clientMsgId);
    const sender = pending?.sender ?? { kind: this.state.role ?? 'visitor', id: this.state.participantId ?? '' };
    this.merge(f.conversationId, [{ conversationId: f.conversationId, seq: f.seq, clientMsgId: f.clientMsgId, sender, text: pending?.text ?? '', at: f.at, state: 'stored', mine: true }], true);
  }

  private onError(f: ErrorFrame): void {
    this.set({ lastError: { code: f.code, message: f.message, at: Date.now() } });
    if (!f.clientMsgId || !this.outbox.has(f.clientMsgId)) return;
    if (f.retryable) {
      // Not stored: keep it pending and try again shortly (also resent on reconnect).
      const id = f.clientMsgId;
      setTimeout(() => {
        const m = this.outbox.get(id);
        if (m) this.sendFrame({ type: 'msg', clientMsgId: id, ...m });
      }, 1000);
      return;
    }
    this.outbox.delete(f.clientMsgId);
    this.updatePending(f.clientMsgId, (m) => ({ ...m, state: 'failed', error: { code: f.code, message: f.message } }));
  }

  /**
   * Adds stored messages (from frames or REST history) in seq order. A seq already held is
   * skipped; a stored copy replaces this client's pending message with the same clientMsgId.
   * `keepText`: an ack carries no text, so an existing copy's text wins.
   */
  merge(conversationId: number, incoming: ChatMessage[], keepText = false): void {
    const list = [...(this.state.messages[conversationId] ?? [])];
    let unassigned = this.state.unassigned;
    let changed = false;
    for (const m of incoming) {
      if (m.seq !== null && list.some((x) => x.seq === m.seq)) continue;
      const pendingAt = list.findIndex((x) => x.seq === null && x.clientMsgId === m.clientMsgId && x.mine === m.mine);
      if (pendingAt >= 0) {
        const old = list[pendingAt]!;
        list.splice(pendingAt, 1);
        list.push(keepText ? { ...m, text: old.text, sender: old.sender } : m);
      } else {
        const loose = unassigned.find((x) => x.clientMsgId === m.clientMsgId && m.mine);
        if (loose) unassigned = unassigned.filter((x) => x !== loose);
        list.push(keepText && loose ? { ...m, text: loose.text, sender: loose.sender } : m);
      }
      changed = true;
    }
    if (!changed) return;
    list.sort(bySeq);
    this.set({ messages: { ...this.state.messages, [conversationId]: list }, unassigned });
  }

  private findPending(clientMsgId: string): ChatMessage | undefined {
    const loose = this.state.unassigned.find((m) => m.clientMsgId === clientMsgId);
    if (loose) return loose;
    for (const list of Object.values(this.state.messages)) {
      const m = list.find((x) => x.seq === null && x.clientMsgId === clientMsgId);
      if (m) return m;
    }
    return undefined;
  }

  private updatePending(clientMsgId: string, fn: (m: ChatMessage) => ChatMessage): void {
    const unassigned = this.state.unassigned.map((m) => (m.clientMsgId === clientMsgId ? fn(m) : m));
    const messages: Record<number, readonly ChatMessage[]> = {};
    for (const [id, list] of Object.entries(this.state.messages)) messages[Number(id)] = list.map((m) => (m.seq === null && m.clientMsgId === clientMsgId ? fn(m) : m));
    this.set({ unassigned, messages });
  }

  private scheduleAck(conversationId: number): void {
    // Receipt of everything up to here: never past a hole.
    this.acked.set(conversationId, this.heldThrough(conversationId));
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      for (const [id, seq] of this.acked) this.sendFrame({ type: 'ack', conversationId: id, seq });
      this.acked.clear();
    }, this.opts.ackDelayMs);
  }

  // ---- actions -------------------------------------------------------------------------

  /**
   * Writes a message: shown at once as pending, sent now if online, else when the socket is
   * back. A visitor may leave `conversationId` out (their open conversation, or a new one).
   * @returns its clientMsgId
   */
  send(text: string, options: { conversationId?: number; page?: { url?: string; language?: string; channel?: string } } = {}): string {
    const clientMsgId = this.opts.newId();
    const frame = { text, ...(options.conversationId === undefined ? {} : { conversationId: options.conversationId }), ...(options.page ? { page: options.page } : {}) };
    this.outbox.set(clientMsgId, frame);
    const sender: Participant = { kind: this.state.role ?? 'visitor', id: this.state.participantId ?? '' };
    const m: ChatMessage = { conversationId: options.conversationId ?? null, seq: null, clientMsgId, sender, text, at: new Date().toISOString(), state: 'pending', mine: true };
    if (options.conversationId === undefined) this.set({ unassigned: [...this.state.unassigned, m] });
    else this.set({ messages: { ...this.state.messages, [options.conversationId]: [...this.messagesOf(options.conversationId), m] } });
    this.sendFrame({ type: 'msg', clientMsgId, ...frame });
    return clientMsgId;
  }

  /** Tells the others this participant read up to `seq` (skipped when already said). */
  markRead(conversationId: number, seq: number): void {
    const me = this.state.participantId;
    if (!me || seq <= 0 || (this.state.readBy[conversationId]?.[me] ?? 0) >= seq) return;
    if (!this.sendFrame({ type: 'read', conversationId, seq })) return;
    this.set({ readBy: { ...this.state.readBy, [conversationId]: { ...(this.state.readBy[conversationId] ?? {}), [me]: seq } } });
  }

  typing(conversationId: number, on: boolean): void {
    this.sendFrame({ type: 'typing', conversationId, on });
  }

  /** Agents: to an agent (oneself: claim from the queue) or to a team's queue. */
  transfer(conversationId: number, to: { toAgentId: number } | { toTeam: string }): boolean {
    return this.sendFrame({ type: 'transfer', conversationId, ...to });
  }

  closeConversation(conversationId: number): boolean {
    return this.sendFrame({ type: 'close', conversationId });
  }
}
