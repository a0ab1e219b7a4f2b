/**
 * Fan-out between gateway instances over Redis pub/sub. One subscriber connection per
 * instance; a channel is subscribed while at least one local listener wants it, and
 * `subscribe()` resolves only once Redis confirmed the subscription, so a caller that then
 * reads PostgreSQL cannot miss a message published in between.
 *
 * Listeners are objects (a socket's session is one), not closures: an idle socket listens on
 * its personal channel for hours, and a closure plus its unsubscribe function per socket is
 * memory tens of thousands of sockets pay for.
 *
 * A publish that fails (this instance lost Redis while the others did not) is not lost for
 * the listeners elsewhere: what it was about is sent again once Redis takes it (see
 * {@link retryEvent}), so a socket that only reads still learns of the message or the
 * transfer it would otherwise miss until it wrote or reconnected.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../config/log.js';
import type { FanoutEvent } from './events.js';

export interface FanoutListener {
  onEvent(event: FanoutEvent): void;
  /**
   * The subscriber connection came back after a drop and its channels are subscribed again:
   * whatever was published meanwhile was lost, so read it back from where it is stored.
   */
  resubscribed?(): void;
}

/** At most this many failed (channel, event) pairs wait to be sent again; more are dropped and counted. */
const MAX_UNSENT = 10_000;
/** Delays between attempts to send them again (the last one repeats). */
const RETRY_MS = [250, 500, 1000, 2000, 5000];

/**
 * What a failed publish of `event` leaves to send once Redis takes it. A stateful event is
 * not sent again as it was, since a late "transferred to X" would undo a later change made
 * elsewhere: it becomes a `resync` of its conversation on the same channel, and listeners read
 * the conversation as it is now from PostgreSQL. A kick is sent as it was. Typing, read
 * receipts and presence are of the moment: null, dropped.
 */
export function retryEvent(event: FanoutEvent): FanoutEvent | null {
  switch (event.e) {
    case 'msg':
      return { e: 'resync', conversationId: event.message.conversationId };
    case 'conversation':
      return { e: 'resync', conversationId: event.conversation.id };
    case 'kick':
    case 'resync':
      return event;
    default:
      return null;
  }
}

interface Subscription {
  /** An array, not a Set: most channels (a visitor's, a conversation's) have one or two. */
  listeners: FanoutListener[];
  /** Until Redis confirmed the SUBSCRIBE; null after. */
  ready: Promise<void> | null;
}

export class Fanout {
  private readonly subs = new Map<string, Subscription>();
  /** Set once the subscriber connection was ready: a later `ready` is a reconnect. */
  private connectedBefore: boolean;
  /** Failed publishes to send again, by channel and text (the same hint is kept once), oldest first. */
  private readonly unsent = new Map<string, { channel: string; text: string }>();
  private retryTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private dropped = 0;
  private stopped = false;

  /**
   * @param pub a connection for PUBLISH (shared with other commands)
   * @param sub a dedicated connection: a subscribed Redis connection takes no other commands
   */
  constructor(
    private readonly pub: Redis,
    /** @internal the subscriber connection (tests drop it) */
    readonly sub: Redis,
    private readonly log: Logger,
  ) {
    this.connectedBefore = sub.status === 'ready';
    sub.on('message', (channel: string, text: string) => this.dispatch(channel, text));
    sub.on('ready', () => this.onReady());
    pub.on('ready', () => {
      if (this.unsent.size > 0) this.retrySoon(0);
    });
  }

  private onReady(): void {
    if (!this.connectedBefore) {
      this.connectedBefore = true;
      return;
    }
    // ioredis sends the SUBSCRIBEs of the lost connection right after emitting `ready`; a
    // PING sent after them (next microtask) is answered once they took effect, so the
    // listeners' catch-up reads cannot miss a message published in between.
    queueMicrotask(() => {
      this.sub.ping().then(
        () => this.notifyResubscribed(),
        (err: unknown) => this.log.warn({ err }, 'fan-out not confirmed after reconnect; the next reconnect catches up'),
      );
    });
  }

  private notifyResubscribed(): void {
    const listeners = new Set<FanoutListener>();
    for (const s of this.subs.values()) for (const l of s.listeners) listeners.add(l);
    this.log.info({ channels: this.subs.size, listeners: listeners.size }, 'fan-out resubscribed; catching up');
    for (const l of listeners) {
      try {
        l.resubscribed?.();
      } catch (err) {
        this.log.error({ err }, 'fan-out listener failed to catch up');
      }
    }
  }

  private dispatch(channel: string, text: string): void {
    if (!this.subs.has(channel)) return;
    let event: FanoutEvent;
    try {
      event = JSON.parse(text) as FanoutEvent;
    } catch (err) {
      this.log.error({ err, channel }, 'unparsable fan-out event dropped');
      return;
    }
    this.dispatchLocal(channel, event);
  }

  /** Hands `event` to this instance's listeners of `channel`, as if it came through Redis. */
  dispatchLocal(channel: string, event: FanoutEvent): void {
    const s = this.subs.get(channel);
    if (!s) return;
    for (const listener of s.listeners.slice()) {
      try {
        listener.onEvent(event);
      } catch (err) {
        this.log.error({ err, channel }, 'fan-out listener failed');
      }
    }
  }

  /**
   * Publishes each event on each of its channels in one round trip.
   * @throws the Redis error when a publish failed; what it was about is sent again later
   */
  async publish(items: readonly { channels: readonly string[]; event: FanoutEvent }[]): Promise<void> {
    if (items.length === 0) return;
    const pipeline = this.pub.pipeline();
    for (const { channels, event } of items) {
      const text = JSON.stringify(event);
      for (const channel of channels) pipeline.publish(channel, text);
    }
    let results: [Error | null, unknown][] | null = null;
    let error: unknown;
    try {
      results = await pipeline.exec();
      error = results ? results.find(([err]) => err)?.[0] : new Error('fan-out publish failed');
    } catch (err) {
      error = err;
    }
    if (!error) return;
    // The commands in the order they were queued: those without a success are kept.
    const failed: { channel: string; event: FanoutEvent }[] = [];
    let i = 0;
    for (const { channels, event } of items) {
      for (const channel of channels) {
        const result = results?.[i++];
        if (!result || result[0]) failed.push({ channel, event });
      }
    }
    this.keep(failed);
    throw error;
  }

  /** Keeps what failed publishes were about, to be sent again (see {@link retryEvent}). */
  private keep(failed: readonly { channel: string; event: FanoutEvent }[]): void {
    if (this.stopped) return;
    for (const { channel, event } of failed) {
      const retry = retryEvent(event);
      if (!retry) continue;
      const text = JSON.stringify(retry);
      const key = `${channel}\n${text}`;
      if (this.unsent.has(key)) continue;
      if (this.unsent.size >= MAX_UNSENT) this.dropped++;
      else this.unsent.set(key, { channel, text });
    }
    if (this.unsent.size > 0) this.retrySoon();
  }

  private retrySoon(delay = RETRY_MS[Math.min(this.attempts, RETRY_MS.length - 1)]!): void {
    if (this.stopped) return;
    if (this.retryTimer) {
      if (delay > 0) return;
      clearTimeout(this.retryTimer);
    }
    this.retryTimer = setTimeout(() => void this.sendUnsent(), delay);
    this.retryTimer.unref();
  }

  /** Sends the kept events again; what fails stays for the next attempt. */
  private async sendUnsent(): Promise<void> {
    this.retryTimer = null;
    const batch = [...this.unsent];
    if (batch.length === 0 || this.stopped) return;
    const pipeline = this.pub.pipeline();
    for (const [, { channel, text }] of batch) pipeline.publish(channel, text);
    const results = await pipeline.exec().catch(() => null);
    batch.forEach(([key], i) => {
      if (results && !results[i]?.[0]) this.unsent.delete(key);
    });
    if (this.unsent.size > 0) {
      this.attempts++;
      // Once, then about once a minute (every 12th attempt at the longest delay) while Redis stays away.
      if (this.attempts === 1 || this.attempts % 12 === 0) {
        this.log.warn({ waiting: this.unsent.size, attempts: this.attempts }, 'fan-out events still not published; trying again');
      }
      this.retrySoon();
      return;
    }
    this.log.info({ sent: batch.length, attempts: this.attempts + 1 }, 'fan-out events published after an earlier failure');
    if (this.dropped > 0) {
      this.log.error({ dropped: this.dropped }, 'fan-out events dropped while Redis was away (more than could be kept): those clients catch up at their next message or reconnect');
    }
    this.attempts = 0;
    this.dropped = 0;
  }

  /** Stops sending kept events (the instance shuts down). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.unsent.clear();
  }

  /** Failed events waiting to be sent again (tests and metrics). */
  get unsentCount(): number {
    return this.unsent.size;
  }

  /**
   * Adds a listener (once: adding it again is a no-op that still waits for Redis); resolves
   * once the channel is subscribed. @throws the Redis error when SUBSCRIBE failed
   */
  async subscribe(channel: string, listener: FanoutListener): Promise<void> {
    let s = this.subs.get(channel);
    if (!s) {
      const created: Subscription = { listeners: [], ready: null };
      created.ready = this.sub.subscribe(channel).then(
        () => {
          created.ready = null;
        },
        (err: unknown) => {
          this.log.error({ err, channel }, 'subscribe failed');
          if (this.subs.get(channel) === created) this.subs.delete(channel);
          throw err;
        },
      );
      s = created;
      this.subs.set(channel, s);
    }
    if (!s.listeners.includes(listener)) s.listeners.push(listener);
    if (s.ready) await s.ready;
  }

  /** Removes a listener (a listener that is not there is ignored); the last one out unsubscribes the channel. */
  unsubscribe(channel: string, listener: FanoutListener): void {
    const s = this.subs.get(channel);
    const at = s ? s.listeners.indexOf(listener) : -1;
    if (!s || at < 0) return;
    s.listeners.splice(at, 1);
    if (s.listeners.length > 0) return;
    this.subs.delete(channel);
    // Redis runs commands in order: a SUBSCRIBE sent after this UNSUBSCRIBE wins.
    this.sub.unsubscribe(channel).catch((err: unknown) => this.log.warn({ err, channel }, 'unsubscribe failed'));
  }

  /** Channels subscribed now (tests and metrics). */
  get channelCount(): number {
    return this.subs.size;
  }
}
