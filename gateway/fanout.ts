/**
 * Fan-out between gateway instances over Redis pub/sub. One subscriber connection per
 * instance; a channel is subscribed while at least one local listener wants it, and
 * `subscribe()` resolves only once Redis confirmed the subscription, so a caller that then
 * reads PostgreSQL cannot miss a message published in between.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../config/log.js';
import type { FanoutEvent } from './events.js';

type Listener = (event: FanoutEvent) => void;

interface Subscription {
  listeners: Set<Listener>;
  ready: Promise<void>;
}

export class Fanout {
  private readonly subs = new Map<string, Subscription>();

  /**
   * @param pub a connection for PUBLISH (shared with other commands)
   * @param sub a dedicated connection: a subscribed Redis connection takes no other commands
   */
  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly log: Logger,
  ) {
    sub.on('message', (channel: string, text: string) => this.dispatch(channel, text));
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
    for (const listener of [...s.listeners]) {
      try {
        listener(event);
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

  /** Adds a listener; resolves once the channel is subscribed. Returns the unsubscribe function. */
  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    let s = this.subs.get(channel);
    if (!s) {
      const ready = this.sub.subscribe(channel).then(() => undefined);
      s = { listeners: new Set(), ready };
      this.subs.set(channel, s);
      ready.catch((err: unknown) => {
        this.log.error({ err, channel }, 'subscribe failed');
        if (this.subs.get(channel) === s) this.subs.delete(channel);
      });
    }
    s.listeners.add(listener);
    const current = s;
    await current.ready;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.subs.get(channel) === current) {
        this.subs.delete(channel);
        // Redis runs commands in order: a SUBSCRIBE sent after this UNSUBSCRIBE wins.
        this.sub.unsubscribe(channel).catch((err: unknown) => this.log.warn({ err, channel }, 'unsubscribe failed'));
      }
    };
  }

  /** Channels subscribed now (tests and metrics). */
  get channelCount(): number {
    return this.subs.size;
  }
}
