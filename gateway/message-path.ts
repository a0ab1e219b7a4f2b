/**
 * The message path of one instance: group commit into PostgreSQL, then one PUBLISH
 * pipeline for the batch, then the acks. Publishing before acking means every acked
 * message was handed to Redis, so a sender's instance dying right after an ack loses
 * nothing for receivers on other instances; a resend of an unacked message republishes it.
 */
import type pg from 'pg';
import { JunctionError } from '../config/errors.js';
import type { Logger } from '../config/log.js';
import type { GatewayKeys, MessageRecord } from './events.js';
import type { Fanout } from './fanout.js';
import { appendBatch, type AppendRequest, type AppendResult } from './store/append.js';
import { GroupCommit } from './store/group-commit.js';

export interface MessagePathOptions {
  pool: pg.Pool;
  fanout: Fanout;
  keys: GatewayKeys;
  log: Logger;
  windowMs: number;
  maxBatch: number;
  lanes: number;
  /** Called with each batch's newly stored messages after they were published (analytics); must not throw or block. */
  onStored?: (messages: MessageRecord[]) => void;
}

/** Deadlock or serialization failure: the batch did nothing and can simply run again. */
const RETRY_SQLSTATES = new Set(['40P01', '40001']);

/** Class 22, data exception (e.g. 22021, a NUL in text): the row, not the store, is at fault. */
function isDataError(err: unknown): err is { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

const notStored = (cause: unknown) => new JunctionError('GW_STORE_UNAVAILABLE', 'the message was not stored; resend it with the same clientMsgId', { cause, retryable: true });
/** Not retryable: the same message would fail again. */
const cannotStore = (cause: { code: string }) =>
  new JunctionError('GW_BAD_FRAME', `the message cannot be stored (SQLSTATE ${cause.code}); resending it will not help`, { cause, details: { sqlstate: cause.code } });

export function createMessagePath(o: MessagePathOptions): GroupCommit<AppendRequest, AppendResult> {
  const append = (batch: AppendRequest[]) =>
    appendBatch(o.pool, batch).catch((err: { code?: string }) => {
      if (err.code && RETRY_SQLSTATES.has(err.code)) return appendBatch(o.pool, batch);
      throw err;
    });
  /** Stores each request in a transaction of its own, in order, so that a bad row fails only its sender. */
  const oneByOne = async (batch: AppendRequest[]): Promise<(AppendResult | JunctionError)[]> => {
    const results: (AppendResult | JunctionError)[] = [];
    for (const req of batch) {
      try {
        results.push((await append([req]))[0]!);
      } catch (cause) {
        o.log.error({ err: cause, conversationId: req.conversationId }, 'message not stored');
        results.push(isDataError(cause) ? cannotStore(cause) : notStored(cause));
      }
    }
    return results;
  };
  const flush = async (batch: AppendRequest[]): Promise<(AppendResult | Error)[]> => {
    let results: (AppendResult | JunctionError)[];
    try {
      results = await append(batch);
    } catch (cause) {
      if (!isDataError(cause)) {
        o.log.error({ err: cause, batch: batch.length }, 'message batch not stored');
        throw notStored(cause);
      }
      // One row the database cannot hold rolled the whole batch back; alone, the others store.
      results = await oneByOne(batch);
    }
    const published = new Set<string>();
    const items = [];
    const stored: MessageRecord[] = [];
    for (const r of results) {
      if (r instanceof Error) continue;
      const key = `${r.message.conversationId}:${r.message.seq}`;
      if (published.has(key)) continue;
      published.add(key);
      if (!r.duplicate) stored.push(r.message);
      items.push({ channels: [o.keys.conversation(r.message.conversationId)], event: { e: 'msg' as const, message: r.message } });
    }
    try {
      await o.fanout.publish(items);
    } catch (err) {
      // Stored is what counts: the fan-out has their conversations re-read once Redis takes it.
      o.log.error({ err, messages: items.length }, 'stored messages not published; their conversations are announced for a re-read once Redis takes it');
    }
    o.onStored?.(stored);
    return results;
  };
  return new GroupCommit<AppendRequest, AppendResult>({ flush, laneKey: (r) => r.conversationId, windowMs: o.windowMs, maxBatch: o.maxBatch, lanes: o.lanes });
}
