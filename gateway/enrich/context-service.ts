/**
 * Context panels of one gateway instance. A socket that sees a linked conversation (an
 * agent's own, or their team's queued one: the visibility rule of `canSee`) watches it and
 * receives its `context` frame; the watch ends when the conversation leaves the socket, so
 * nothing is sent for a conversation the agent may no longer see, even mid-build.
 *
 * Every instance listens to `customer.updated` (published by the sync workers after each
 * batch): conversations of an absorbed customer are re-linked to the survivor (an idempotent
 * UPDATE, whichever instance runs it first; that instance announces them: a `relinked`
 * conversation event with the new summary and version, and chat analytics, so ClickHouse
 * counts them under the survivor), and every local watch of a changed customer gets
 * a fresh panel. Panels are built once per customer for concurrent watchers and reused for
 * `gateway.context.reuse_ms`; a change of the customer drops the reused one.
 */
import type pg from 'pg';
import type { Logger } from '../../config/log.js';
import type { CustomerUpdatedEvent } from '../../pipelines/queue.js';
import type { ResolveRules } from '../../pipelines/resolve/rules.js';
import type { GatewaySettings } from '../settings.js';
import type { Fanout } from '../fanout.js';
import type { FanoutEvent } from '../events.js';
import type { ContextPart, ConversationSummary, ServerFrameOf } from '../protocol.js';
import { relinkCustomers } from '../store/conversations.js';
import { survivorOf } from '../store/customers.js';
import type { LiveLookups } from './lookups.js';
import { readPanelParts } from './panel.js';

export interface Panel {
  customerId: number;
  parts: Record<string, ContextPart>;
}

export type ContextFrame = ServerFrameOf<'context'>;

/** Where a watch's frames go (a socket session). */
export interface ContextSink {
  send(frame: ContextFrame): void;
}

interface Watch {
  conversationId: number;
  customerId: number;
  sink: ContextSink;
}

export interface ContextServiceOptions {
  pool: pg.Pool;
  fanout: Fanout;
  settings: Pick<GatewaySettings, 'context'>;
  /** Identity rules, to explain merges; null: the merge log only. */
  rules: ResolveRules | null;
  lookups: LiveLookups | null;
  /** The `customer.updated` pub/sub channel. */
  channel: string;
  /**
   * Told of every conversation this instance re-links, as it is now: the gateway announces it
   * (a `relinked` conversation event to the sockets that see it, and chat analytics, so that
   * ClickHouse's `conversations_current` and the messages, which follow their conversation,
   * move to the survivor). @defaultValue none: re-links are not announced
   */
  onRelinked?: (c: ConversationSummary) => Promise<void>;
  log: Logger;
}

export class ContextService {
  private readonly watches = new Set<Watch>();
  private readonly built = new Map<number, { at: number; panel: Promise<Panel> }>();
  private readonly listener = {
    onEvent: (event: FanoutEvent) => {
      const e = event as unknown as CustomerUpdatedEvent;
      if (!Array.isArray(e.customerIds)) return;
      this.events = this.events.then(() => this.onCustomerUpdated(e)).catch((err: unknown) => this.o.log.error({ err }, 'customer.updated not handled'));
    },
  };
  private subscribed = false;
  /** Events handled one after another, in arrival order (a merge then an update of the survivor). */
  private events: Promise<void> = Promise.resolve();

  constructor(private readonly o: ContextServiceOptions) {}

  /** Subscribes to `customer.updated`; resolves once Redis confirmed. */
  async start(): Promise<void> {
    this.subscribed = true;
    await this.o.fanout.subscribe(this.o.channel, this.listener);
  }

  /** The panel of a customer (following merges to the survivor), reused for a moment. */
  panel(customerId: number): Promise<Panel> {
    const hit = this.built.get(customerId);
    // A build in flight is always shared; a finished one for reuse_ms.
    if (hit && (hit.at === 0 || Date.now() - hit.at < this.o.settings.context.reuse_ms)) return hit.panel;
    this.prune();
    const entry = { at: 0, panel: this.build(customerId) };
    this.built.set(customerId, entry);
    entry.panel.then(
      () => (entry.at = Date.now()),
      () => this.built.get(customerId) === entry && this.built.delete(customerId),
    );
    return entry.panel;
  }

  /**
   * Drops finished panels older than reuse_ms. Run at each build, so the map holds no more
   * than the panels built within reuse_ms (plus builds in flight), not every customer ever shown.
   */
  private prune(): void {
    const now = Date.now();
    for (const [id, e] of this.built) if (e.at !== 0 && now - e.at >= this.o.settings.context.reuse_ms) this.built.delete(id);
  }

  /** Panels held for reuse or being built (for tests and ops: it must stay bounded). */
  get cachedPanels(): number {
    return this.built.size;
  }

  private async build(customerId: number): Promise<Panel> {
    const id = (await survivorOf(this.o.pool, customerId)) ?? customerId;
    const parts = await readPanelParts(this.o.pool, id, this.o.settings.context, this.o.rules);
    if (this.o.lookups) {
      const [orders, tickets] = await Promise.all([this.o.lookups.refresh(parts.orders, 'orders'), this.o.lookups.refresh(parts.tickets, 'tickets')]);
      parts.orders = orders;
      parts.tickets = tickets;
    }
    return { customerId: id, parts };
  }

  /**
   * Starts sending `conversationId`'s context to `sink` (now, then on every change of its
   * customer). The caller must have checked that the sink's principal sees the conversation.
   * @returns the function that ends the watch
   */
  watch(conversationId: number, customerId: number, sink: ContextSink): () => void {
    const w: Watch = { conversationId, customerId, sink };
    this.watches.add(w);
    void this.push([w], 'linked');
    return () => this.watches.delete(w);
  }

  /** Builds each watched customer's panel once and sends it to the watches still active. */
  private async push(watches: Watch[], reason: ContextFrame['reason']): Promise<void> {
    const byCustomer = new Map<number, Watch[]>();
    for (const w of watches) byCustomer.set(w.customerId, [...(byCustomer.get(w.customerId) ?? []), w]);
    await Promise.all(
      [...byCustomer].map(async ([customerId, list]) => {
        let panel: Panel;
        try {
          panel = await this.panel(customerId);
        } catch (err) {
          this.o.log.warn({ err, customerId }, 'context panel not built');
          return;
        }
        for (const w of list) {
          // Ended meanwhile (transferred away, socket closed): the panel is not theirs to see.
          if (!this.watches.has(w)) continue;
          if (panel.customerId !== w.customerId) this.relinkWatch(w, panel.customerId);
          w.sink.send({ type: 'context', conversationId: w.conversationId, customerId: panel.customerId, reason, parts: panel.parts });
        }
      }),
    );
  }

  private relinkWatch(w: Watch, customerId: number): void {
    w.customerId = customerId;
  }

  /** A sync changed customers: re-link absorbed ones' conversations, then refresh every local panel of a changed customer. */
  async onCustomerUpdated(e: Pick<CustomerUpdatedEvent, 'customerIds' | 'absorbed'>): Promise<void> {
    const absorbed = e.absorbed ?? [];
    if (absorbed.length > 0) {
      // Only the instance whose UPDATE moved them gets them back: each is sent once.
      const moved = await relinkCustomers(this.o.pool, absorbed);
      if (this.o.onRelinked) await Promise.all(moved.map((c) => this.o.onRelinked!(c)));
    }
    const into = new Map(absorbed.map((a) => [a.id, a.into]));
    for (const id of [...e.customerIds, ...into.keys(), ...into.values()]) this.built.delete(id);
    const changed = new Set(e.customerIds);
    const relinked: Watch[] = [];
    const updated: Watch[] = [];
    for (const w of this.watches) {
      if (into.has(w.customerId)) {
        let to = w.customerId;
        for (let hops = 0; into.has(to) && hops < 64; hops++) to = into.get(to)!;
        this.relinkWatch(w, to);
        relinked.push(w);
      } else if (changed.has(w.customerId)) {
        updated.push(w);
      }
    }
    await Promise.all([this.push(relinked, 'relinked'), this.push(updated, 'updated')]);
  }

  close(): void {
    if (this.subscribed) this.o.fanout.unsubscribe(this.o.channel, this.listener);
    this.subscribed = false;
    this.watches.clear();
    this.built.clear();
  }
}
