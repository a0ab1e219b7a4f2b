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

export function createMessagePath(o: MessagePathOptions): GroupCommit<AppendRequest, AppendResult> {
  const flush = async (batch: AppendRequest[]): Promise<(AppendResult | Error)[]> => {
    let results: (AppendResult | JunctionError)[];
    try {
      results = await appendBatch(o.pool, batch).catch((err: { code?: string }) => {
        if (err.code && RETRY_SQLSTATES.has(err.code)) return appendBatch(o.pool, batch);
        throw err;
      });
    } catch (cause) {
      o.log.error({ err: cause, batch: batch.length }, 'message batch not stored');
      throw new JunctionError('GW_STORE_UNAVAILABLE', 'the message was not stored; resend it with the same clientMsgId', { cause, retryable: true });
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
      // Stored is what counts: receivers get it on their next gap fill or resume.
      o.log.error({ err, messages: items.length }, 'stored messages not published');
    }
    o.onStored?.(stored);
    return results;
  };
  return new GroupCommit<AppendRequest, AppendResult>({ flush, laneKey: (r) => r.conversationId, windowMs: o.windowMs, maxBatch: o.maxBatch, lanes: o.lanes });
}
