/**
 * Chat analytics: messages and conversation changes go to ClickHouse (`chat_messages`,
 * `conversations` in sql/clickhouse/002_analytics.sql, `conversation_reopens` in 005) in
 * batches, off the message path. A reopened conversation's row comes with a row for its
 * latest reopen, so each reopen counts as a contact of its own.
 *
 * The message path only pushes into memory (`messages()`, `conversationChanged()`); a timer
 * flushes every `analytics.flush_ms`, or at once when `batch_rows` are waiting. A flush reads
 * the current state of the touched conversations from PostgreSQL (team, agent, customer,
 * times, message count) and versions every row with the PostgreSQL clock, so the
 * ReplacingMergeTree keeps the latest state whichever instance sent it, and a re-sent row is
 * harmless.
 *
 * Trade-off: ClickHouse being down never blocks or fails chat. Rows wait in memory and are
 * retried with backoff (up to 30 s between tries); beyond `max_buffer_rows` the oldest
 * messages are dropped and counted in the log (code GW_ANALYTICS_FAILED), and what is
 * buffered when the process dies is lost. Chat itself is durable in PostgreSQL
 * (`gateway.message`), which stays the record; analytics is best effort on top of it.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import type { Logger } from '../config/log.js';
import { DateTimeFitter } from '../pipelines/sinks/datetime.js';
import type { GatewaySettings } from './settings.js';
import type { MessageRecord } from './events.js';

export interface ChatAnalyticsOptions {
  pool: pg.Pool;
  /** Null: analytics off (every call is a no-op). */
  client: ClickHouseClient | null;
  settings: GatewaySettings['analytics'];
  log: Logger;
}

const MAX_BACKOFF_MS = 30_000;

interface ConversationState {
  id: string;
  customer_id: string | null;
  channel: string | null;
  page: string | null;
  team: string;
  assigned_agent_id: string | null;
  status: string;
  opened_at: string;
  assigned_at: string | null;
  first_response_at: string | null;
  closed_at: string | null;
  reopened_at: string | null;
  reopen_count: number;
  last_seq: string;
  version: string;
}

export class ChatAnalytics {
  private pending: MessageRecord[] = [];
  private conversations = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  /** Rows sent, dropped (buffer full) and failed flushes, for tests and logs. */
  readonly stats = { messages: 0, conversations: 0, reopens: 0, dropped: 0, failedFlushes: 0 };

  constructor(private readonly o: ChatAnalyticsOptions) {
    if (!this.enabled) return;
    this.schedule(o.settings.flush_ms);
  }

  get enabled(): boolean {
    return this.o.client !== null && this.o.settings.enabled;
  }

  /** Stored messages (each once: duplicates are not passed). Never blocks, never throws. */
  messages(records: readonly MessageRecord[]): void {
    if (!this.enabled || this.closed || records.length === 0) return;
    this.pending.push(...records);
    for (const m of records) this.conversations.add(m.conversationId);
    this.bound();
    if (this.pending.length >= this.o.settings.batch_rows && this.failures === 0) this.schedule(0);
  }

  /** A conversation opened, changed hands, closed or reopened. */
  conversationChanged(id: number): void {
    if (!this.enabled || this.closed) return;
    this.conversations.add(id);
    this.bound();
  }

  private bound(): void {
    const max = this.o.settings.max_buffer_rows;
    const over = this.pending.length + this.conversations.size - max;
    if (over <= 0) return;
    const drop = Math.min(over, this.pending.length);
    this.pending.splice(0, drop);
    this.stats.dropped += drop;
    this.o.log.warn({ code: 'GW_ANALYTICS_FAILED', dropped: drop, totalDropped: this.stats.dropped }, 'chat analytics buffer full: oldest messages dropped');
  }

  private schedule(ms: number): void {
    if (this.closed && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), ms);
    this.timer.unref();
  }

  /** Sends what is buffered now (one batch of messages at most). Resolves when done; failures are kept for the next try. */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => {
      this.flushing = null;
      if (this.closed) return;
      const backoff = this.failures === 0 ? this.o.settings.flush_ms : Math.min(MAX_BACKOFF_MS, this.o.settings.flush_ms * 2 ** this.failures);
      this.schedule(this.failures === 0 && this.pending.length >= this.o.settings.batch_rows ? 0 : backoff);
    });
    return this.flushing;
  }

  private async send(): Promise<void> {
    if (!this.enabled || (this.pending.length === 0 && this.conversations.size === 0)) return;
    const batch = this.pending.splice(0, this.o.settings.batch_rows);
    const ids = [...this.conversations];
    this.conversations = new Set();
    try {
      const { rows } = await this.o.pool.query<ConversationState>(
        `SELECT id, customer_id, meta->>'channel' AS channel, meta->>'url' AS page, team, assigned_agent_id, status,
                floor(extract(epoch FROM created_at))::int8 AS opened_at, floor(extract(epoch FROM assigned_at))::int8 AS assigned_at,
                floor(extract(epoch FROM first_response_at))::int8 AS first_response_at, floor(extract(epoch FROM closed_at))::int8 AS closed_at,
                floor(extract(epoch FROM reopened_at))::int8 AS reopened_at, reopen_count, last_seq, (extract(epoch FROM clock_timestamp()) * 1000000)::int8 AS version
           FROM gateway.conversation WHERE id = ANY($1::bigint[])`,
        [[...new Set([...ids, ...batch.map((m) => m.conversationId)])]],
      );
      const state = new Map(rows.map((r) => [Number(r.id), r]));
      const version = Number(rows[0]?.version ?? Date.now() * 1000);
      // Times a DateTime cannot hold (before 1970, after 2106) would wrap on 18.16 (datetime.ts).
      const fit = new DateTimeFitter();
      const conversationRows = ids.flatMap((id) => {
        const c = state.get(id);
        return c ? [this.conversationRow(c, fit)] : [];
      });
      // The latest reopen only: PostgreSQL keeps no earlier reopen's time (each was sent with
      // the conversation's row when it happened; re-sending one replaces it with itself).
      const reopenRows = ids.flatMap((id) => {
        const c = state.get(id);
        return c && c.reopen_count > 0 && c.reopened_at !== null
          ? [{ conversation_id: c.id, reopen_no: c.reopen_count, reopened_at: fit.clamped('conversation_reopens', Number(c.reopened_at)), version: Number(c.version) }]
          : [];
      });
      const messageRows = batch.map((m) => {
        const c = state.get(m.conversationId);
        return {
          conversation_id: String(m.conversationId),
          seq: m.seq,
          sender_kind: m.sender.kind,
          agent_id: m.sender.kind === 'agent' ? m.sender.id.slice('agent:'.length) : '',
          customer_id: Number(c?.customer_id ?? 0),
          team: c?.team ?? '',
          text_length: [...m.text].length,
          created_at: fit.clamped('chat_messages', Math.floor(Date.parse(m.at) / 1000)),
          version,
        };
      });
      if (conversationRows.length > 0) await this.o.client!.insert({ table: 'conversations', values: conversationRows, format: 'JSONEachRow' });
      if (reopenRows.length > 0) await this.o.client!.insert({ table: 'conversation_reopens', values: reopenRows, format: 'JSONEachRow' });
      if (messageRows.length > 0) await this.o.client!.insert({ table: 'chat_messages', values: messageRows, format: 'JSONEachRow' });
      if (fit.total > 0) this.o.log.warn({ outOfRange: fit.outside }, `chat analytics: ${fit.total} times a DateTime cannot hold sent as NULL or clamped`);
      this.stats.conversations += conversationRows.length;
      this.stats.reopens += reopenRows.length;
      this.stats.messages += messageRows.length;
      if (this.failures > 0) this.o.log.info({ failures: this.failures }, 'chat analytics sending again');
      this.failures = 0;
    } catch (err) {
      // Keep them (in front: the oldest go first), and try again later.
      this.pending.unshift(...batch);
      for (const id of ids) this.conversations.add(id);
      this.bound();
      this.failures++;
      this.stats.failedFlushes++;
      const log = this.failures === 1 || this.failures % 10 === 0 ? this.o.log.warn.bind(this.o.log) : this.o.log.debug.bind(this.o.log);
      log({ err, code: 'GW_ANALYTICS_FAILED', buffered: this.pending.length, failures: this.failures }, 'chat analytics not sent; kept for the next try');
    }
  }

  private conversationRow(c: ConversationState, fit: DateTimeFitter): Record<string, unknown> {
    return {
      conversation_id: c.id,
      customer_id: Number(c.customer_id ?? 0),
      channel: c.channel ?? 'web',
      page: c.page ?? '',
      team: c.team,
      agent_id: c.assigned_agent_id ?? '',
      status: c.status,
      // Not Nullable: clamped (PostgreSQL's clock wrote it, so only a broken clock is outside).
      opened_at: fit.clamped('conversations', Number(c.opened_at)),
      assigned_at: fit.nullable('conversations', c.assigned_at),
      first_response_at: fit.nullable('conversations', c.first_response_at),
      closed_at: fit.nullable('conversations', c.closed_at),
      message_count: Number(c.last_seq),
      version: Number(c.version),
    };
  }

  /** Stops the timer after a last flush attempt; what still fails is dropped (and logged). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.enabled) return;
    await this.flushing;
    for (let i = 0; i < 20 && (this.pending.length > 0 || this.conversations.size > 0); i++) {
      const before = this.failures;
      await this.flush();
      if (this.failures > before) break;
    }
    if (this.pending.length > 0) this.o.log.warn({ code: 'GW_ANALYTICS_FAILED', lost: this.pending.length }, 'chat analytics not sent before shutdown');
  }
}
