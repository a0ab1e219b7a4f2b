/** Reading messages back (`gateway.message`): history pages, catch-up after a resume, gap fill. */
import type { MessageRecord } from '../events.js';
import { participantKind } from '../events.js';
import type { Db } from './db.js';

export interface MessageRow {
  conversation_id: string;
  seq: string;
  sender_id: string;
  client_msg_id: string;
  text: string;
  created_at: Date;
}

export const MESSAGE_COLUMNS = 'conversation_id, seq, sender_id, client_msg_id, text, created_at';

export function toMessage(r: MessageRow): MessageRecord {
  return {
    conversationId: Number(r.conversation_id),
    seq: Number(r.seq),
    sender: { kind: participantKind(r.sender_id), id: r.sender_id },
    clientMsgId: r.client_msg_id,
    text: r.text,
    at: r.created_at.toISOString(),
  };
}

/** Messages with `afterSeq < seq <= untilSeq` (no upper bound when omitted), in seq order, at most `limit`. */
export async function messagesAfter(db: Db, conversationId: number, afterSeq: number, limit: number, untilSeq?: number): Promise<MessageRecord[]> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM gateway.message
     WHERE conversation_id = $1 AND seq > $2 AND ($4::bigint IS NULL OR seq <= $4)
     ORDER BY seq LIMIT $3`,
    [conversationId, afterSeq, limit, untilSeq ?? null],
  );
  return rows.map(toMessage);
}

/**
 * The message `senderId` stored as `clientMsgId` in the conversation, if any: a resend's
 * original. Read only where the append cannot answer the resend itself (see
 * `SocketSession.message`: before reopening a closed conversation).
 */
export async function storedMessage(db: Db, conversationId: number, senderId: string, clientMsgId: string): Promise<MessageRecord | null> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM gateway.message WHERE conversation_id = $1 AND sender_id = $2 AND client_msg_id = $3`,
    [conversationId, senderId, clientMsgId],
  );
  return rows[0] ? toMessage(rows[0]) : null;
}

/**
 * The `limit` messages just before `beforeSeq` (history paging backwards), returned in seq
 * order, and whether older ones exist. One row more than asked tells the latter without a
 * count (the primary key `(conversation_id, seq)` serves the descending scan).
 */
export async function messagesBefore(db: Db, conversationId: number, beforeSeq: number, limit: number): Promise<{ messages: MessageRecord[]; more: boolean }> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM gateway.message
     WHERE conversation_id = $1 AND seq < $2
     ORDER BY seq DESC LIMIT $3`,
    [conversationId, beforeSeq, limit + 1],
  );
  const more = rows.length > limit;
  return { messages: rows.slice(0, limit).reverse().map(toMessage), more };
}

/**
 * How far each participant has read a conversation (`gateway.receipt.read_seq`, those above
 * 0): a console opened afresh shows read marks and unread counts without waiting for the
 * next `read` frame. Receipts are written in batches, so this may trail the frames slightly.
 */
export async function readMarks(db: Db, conversationId: number): Promise<Record<string, number>> {
  const { rows } = await db.query<{ reader_id: string; read_seq: string }>(
    'SELECT reader_id, read_seq FROM gateway.receipt WHERE conversation_id = $1 AND read_seq > 0',
    [conversationId],
  );
  return Object.fromEntries(rows.map((r) => [r.reader_id, Number(r.read_seq)]));
}
