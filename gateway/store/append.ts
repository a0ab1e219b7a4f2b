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
 * must not queue behind message writes.
 */
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import { participantKind, type MessageRecord } from '../events.js';
import { inTransaction } from './db.js';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './messages.js';

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

const keyOf = (conversationId: number | string, senderId: string, clientMsgId: string) => `${conversationId}\u0000${senderId}\u0000${clientMsgId}`;

/**
 * Stores `batch` in one transaction. Per request: its result, or a JunctionError
 * (GW_CONVERSATION_NOT_FOUND, GW_CONVERSATION_CLOSED) that fails that request alone.
 * A database failure throws: the whole batch failed and nothing was stored.
 */
export async function appendBatch(pool: pg.Pool, batch: readonly AppendRequest[]): Promise<(AppendResult | JunctionError)[]> {
  return inTransaction(pool, async (tx) => {
    const ids = [...new Set(batch.map((r) => r.conversationId))].sort((a, b) => a - b);
    const { rows: convs } = await tx.query<{ id: string; status: string }>(
      'SELECT id, status FROM gateway.conversation WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE',
      [ids],
    );
    const status = new Map(convs.map((c) => [Number(c.id), c.status]));

    const { rows: stored } = await tx.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')} FROM gateway.message m
       JOIN unnest($1::bigint[], $2::text[], $3::text[]) AS k(c, s, cm)
         ON m.conversation_id = k.c AND m.sender_id = k.s AND m.client_msg_id = k.cm`,
      [batch.map((r) => r.conversationId), batch.map((r) => r.senderId), batch.map((r) => r.clientMsgId)],
    );
    const known = new Map(stored.map((r) => [keyOf(r.conversation_id, r.sender_id, r.client_msg_id), toMessage(r)]));

    // Decide each request: duplicate of a stored row, duplicate of an earlier request of
    // this batch, refused, or new (counted per conversation, in arrival order).
    const results: (AppendResult | JunctionError | { pending: number })[] = [];
    const firstInBatch = new Map<string, number>();
    const newCount = new Map<number, number>();
    const agentWrote = new Set<number>();
    for (const [i, r] of batch.entries()) {
      const key = keyOf(r.conversationId, r.senderId, r.clientMsgId);
      const original = known.get(key);
      if (original) results.push({ message: original, duplicate: true });
      else if (firstInBatch.has(key)) results.push({ pending: firstInBatch.get(key)! });
      else if (!status.has(r.conversationId)) results.push(new JunctionError('GW_CONVERSATION_NOT_FOUND', `no conversation ${r.conversationId}`));
      else if (status.get(r.conversationId) !== 'open') results.push(new JunctionError('GW_CONVERSATION_CLOSED', `conversation ${r.conversationId} is closed`));
      else {
        firstInBatch.set(key, i);
        newCount.set(r.conversationId, (newCount.get(r.conversationId) ?? 0) + 1);
        if (participantKind(r.senderId) === 'agent') agentWrote.add(r.conversationId);
        results.push({ pending: i });
      }
    }
    if (newCount.size === 0) return results as (AppendResult | JunctionError)[];

    // The first agent message of a conversation is its first response (analytics).
    const { rows: seqs } = await tx.query<{ id: string; last_seq: string; at: Date }>(
      `UPDATE gateway.conversation c SET last_seq = c.last_seq + v.n, updated_at = now(),
              first_response_at = CASE WHEN v.agent AND c.first_response_at IS NULL THEN now() ELSE c.first_response_at END
       FROM unnest($1::bigint[], $2::int[], $3::boolean[]) AS v(id, n, agent) WHERE c.id = v.id RETURNING c.id, c.last_seq, now() AS at`,
      [[...newCount.keys()], [...newCount.values()], [...newCount.keys()].map((id) => agentWrote.has(id))],
    );
    const next = new Map(seqs.map((s) => [Number(s.id), Number(s.last_seq) - newCount.get(Number(s.id))! + 1]));
    const at = seqs[0]!.at.toISOString();

    const rows = { c: [] as number[], s: [] as number[], sid: [] as string[], cm: [] as string[], t: [] as string[] };
    for (const [i, r] of batch.entries()) {
      const res = results[i]!;
      if (!('pending' in res) || res.pending !== i) continue;
      const seq = next.get(r.conversationId)!;
      next.set(r.conversationId, seq + 1);
      rows.c.push(r.conversationId);
      rows.s.push(seq);
      rows.sid.push(r.senderId);
      rows.cm.push(r.clientMsgId);
      rows.t.push(r.text);
      const message: MessageRecord = {
        conversationId: r.conversationId,
        seq,
        sender: { kind: participantKind(r.senderId), id: r.senderId },
        clientMsgId: r.clientMsgId,
        text: r.text,
        at,
      };
      results[i] = { message, duplicate: false };
    }
    await tx.query(
      `INSERT INTO gateway.message (conversation_id, seq, sender_id, client_msg_id, text, sender_kind, created_at)
       SELECT c, s, sid, cm, t, split_part(sid, ':', 1), now()
       FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS v(c, s, sid, cm, t)`,
      [rows.c, rows.s, rows.sid, rows.cm, rows.t],
    );
    // A later copy of a key within the batch is the first copy's duplicate.
    return results.map((r) => ('pending' in r ? { message: (results[r.pending] as AppendResult).message, duplicate: true } : r));
  });
}
