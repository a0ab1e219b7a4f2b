/**
 * Fan-out between gateway instances over Redis pub/sub. One subscriber connection per
 * instance; a channel is subscribed while at least one local listener wants it, and
 * `subscribe()` resolves only once Redis confirmed the subscription, so a caller that then
 * reads PostgreSQL cannot miss a message published in between.
 *
 * Listeners are objects (a socket's session is one), not closures: an idle socket listens on
 * its personal channel for hours, and a closure plus its unsubscribe function per socket is
 * memory tens of thousands of sockets pay for.
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
    const s = this.subs.get(channel);
    if (!s) return;
    let event: FanoutEvent;
    try {
      event = JSON.parse(text) as FanoutEvent;
    } catch (err) {
      this.log.error({ err, channel }, 'unparsable fan-out event dropped');
      return;
    }
    for (const listener of s.listeners.slice()) {
      try {
        listener.onEvent(event);
      } catch (err) {
        this.log.error({ err, channel }, 'fan-out listener failed');
      }
    }
  }

  /** Publishes each event on each of its channels in one round trip. */
  async publish(items: readonly { channels: readonly string[]; event: FanoutEvent }[]): Promise<void> {
    if (items.length === 0) return;
    const pipeline = this.pub.pipeline();
    for (const { channels, event } of items) {
      const text = JSON.stringify(event);
      for (const channel of channels) pipeline.publish(channel, text);
    }
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
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
