/**
 * Delivery and read receipts (`gateway.receipt`). Acks arrive once per message per
 * receiver; writing each would cost more than the message itself, and only the highest
 * seq matters, so they are coalesced in memory and written every `intervalMs` in one
 * upsert. Losing the last interval on a crash is harmless: the client's own resume points
 * are authoritative, receipts are the fallback when it names none.
 */
import type pg from 'pg';
import type { Logger } from '../../config/log.js';
import type { Db } from './db.js';

interface Receipt {
  conversationId: number;
  readerId: string;
  acked: number;
  read: number;
}

export class ReceiptWriter {
  private pending = new Map<string, Receipt>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Records that `readerId` received (and maybe read) `conversationId` up to a seq. */
  note(conversationId: number, readerId: string, seqs: { acked?: number; read?: number }): void {
    const key = `${conversationId}|${readerId}`;
    const r = this.pending.get(key) ?? { conversationId, readerId, acked: 0, read: 0 };
    // Reading implies receiving.
    r.acked = Math.max(r.acked, seqs.acked ?? 0, seqs.read ?? 0);
    r.read = Math.max(r.read, seqs.read ?? 0);
    this.pending.set(key, r);
  }

  /** Writes what is pending; sorted so that concurrent writers lock rows in one order. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()].sort((a, b) => a.conversationId - b.conversationId || (a.readerId < b.readerId ? -1 : 1));
      this.pending = new Map();
      try {
        await this.pool.query(
          `INSERT INTO gateway.receipt AS r (conversation_id, reader_id, acked_seq, read_seq)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])
           ON CONFLICT (conversation_id, reader_id) DO UPDATE SET
             acked_seq = GREATEST(r.acked_seq, EXCLUDED.acked_seq), read_seq = GREATEST(r.read_seq, EXCLUDED.read_seq), updated_at = now()`,
          [batch.map((b) => b.conversationId), batch.map((b) => b.readerId), batch.map((b) => b.acked), batch.map((b) => b.read)],
        );
      } catch (err) {
        // Put them back (merged with newer notes) for the next interval.
        for (const b of batch) this.note(b.conversationId, b.readerId, { acked: b.acked, read: b.read });
        this.log.warn({ err, receipts: batch.length }, 'receipts not written; retrying next interval');
      }
    });
    return this.flushing;
  }

  /** Stops the timer after a last flush. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** The acked seq `readerId` has stored per conversation (0 when none). */
export async function ackedSeqs(db: Db, readerId: string, conversationIds: readonly number[]): Promise<Map<number, number>> {
  const out = new Map(conversationIds.map((id) => [id, 0]));
  if (conversationIds.length === 0) return out;
  const { rows } = await db.query<{ conversation_id: string; acked_seq: string }>(
    'SELECT conversation_id, acked_seq FROM gateway.receipt WHERE reader_id = $1 AND conversation_id = ANY($2::bigint[])',
    [readerId, conversationIds],
  );
  for (const r of rows) out.set(Number(r.conversation_id), Number(r.acked_seq));
  return out;
}
