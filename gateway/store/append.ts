/**
 * Appending a batch of messages in one transaction: the group commit's flush. Every
 * message gets its conversation's next seq in arrival order; a message whose
 * (conversation, sender, clientMsgId) is already stored gets the stored seq back instead
 * (`duplicate`), which is what makes a client's resend safe.
 *
 * Locking: the batch's conversation rows are locked in id order first (instances appending
 * to overlapping conversations cannot deadlock), and only then are duplicates looked up, so
 * a resend racing its original on another instance sees the committed original.
 * `FOR NO KEY UPDATE` rather than `FOR UPDATE`: receipts' foreign-key checks (KEY SHARE)
 * must not queue behind message writes. All of it runs in PostgreSQL, in one function call.
 */
import { JunctionError } from '../../config/errors.js';
import { participantKind, type MessageRecord } from '../events.js';
import { notYours } from './conversations.js';
import type { Db } from './db.js';

export interface AppendRequest {
  conversationId: number;
  senderId: string;
  clientMsgId: string;
  text: string;
}

export interface AppendResult {
  message: MessageRecord;
  /** True when this clientMsgId had been stored before: nothing was written. */
  duplicate: boolean;
}

interface AppendRow {
  ord: number;
  outcome: 'new' | 'stored' | 'repeat' | 'not_found' | 'forbidden' | 'closed';
  first_ord: number;
  seq: string | null;
  msg_text: string;
  at: Date;
}

/**
 * Stores `batch` in one transaction, one round trip (`gateway.append_messages`,
 * sql/postgres/011_gateway_append_authority.sql). Per request: its result, or a JunctionError
 * that fails that request alone: GW_CONVERSATION_NOT_FOUND (no such conversation, or the
 * sender may not write into it: `notYours`), GW_CONVERSATION_CLOSED.
 * A database failure throws: the whole batch failed and nothing was stored.
 */
export async function appendBatch(db: Db, batch: readonly AppendRequest[]): Promise<(AppendResult | JunctionError)[]> {
  if (batch.length === 0) return [];
  const { rows } = await db.query<AppendRow>('SELECT ord, outcome, first_ord, seq, msg_text, at FROM gateway.append_messages($1::bigint[], $2::text[], $3::text[], $4::text[])', [
    batch.map((r) => r.conversationId),
    batch.map((r) => r.senderId),
    batch.map((r) => r.clientMsgId),
    batch.map((r) => r.text),
  ]);
  if (rows.length !== batch.length) throw new Error(`gateway.append_messages answered ${rows.length} rows for ${batch.length} messages`);
  const results: (AppendResult | JunctionError)[] = [];
  for (const [i, r] of batch.entries()) {
    const row = rows[i]!;
    switch (row.outcome) {
      case 'not_found':
        results.push(new JunctionError('GW_CONVERSATION_NOT_FOUND', `no conversation ${r.conversationId}`));
        break;
      case 'forbidden':
        results.push(notYours(r.conversationId));
        break;
      case 'closed':
        results.push(new JunctionError('GW_CONVERSATION_CLOSED', `conversation ${r.conversationId} is closed`));
        break;
      case 'repeat':
        // A later copy of a key within the batch is the first copy's duplicate.
        results.push({ message: (results[row.first_ord - 1] as AppendResult).message, duplicate: true });
        break;
      default: {
        const message: MessageRecord = {
          conversationId: r.conversationId,
          seq: Number(row.seq),
          sender: { kind: participantKind(r.senderId), id: r.senderId },
          clientMsgId: r.clientMsgId,
          text: row.msg_text,
          at: row.at.toISOString(),
        };
        results.push({ message, duplicate: row.outcome === 'stored' });
      }
    }
  }
  return results;
}
