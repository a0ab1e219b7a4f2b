/**
 * The ClickHouse feed of committed batches, sent after COMMIT (a transactional outbox). A
 * batch stores what it must send (its {@link RowSelection}: keys and customer ids, not rows)
 * in hub.clickhouse_outbox inside its own transaction; once it has committed, the rows are
 * read from the unified view as it then is and inserted, and the outbox row goes. Reading
 * and inserting them is no longer part of the batch's transaction, which holds resolution
 * locks that every concurrent batch of the same people waits for.
 *
 * Versions: every ClickHouse row of a batch carries the PostgreSQL clock read just before its
 * rows are read. Builds take turns ({@link buildRowsInTurn}), so a build that starts later
 * reads both a later clock and a later state: the latest state wins in the ReplacingMergeTree
 * views, whichever process sends last. A row is sent at least once: a crash between COMMIT and
 * the send leaves the outbox row, which the stream's next run (or the retry of this one) sends
 * first ({@link sendPending}); sending it twice is harmless.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import pLimit from 'p-limit';
import type pg from 'pg';
import { buildRowsInTurn, insertClickhouseRows, type BuildOptions, type RowSelection } from './clickhouse.js';

/** Writes `selection` to the outbox in `tx` (the batch's transaction); null when there is nothing to send. */
export async function enqueueRows(tx: pg.ClientBase, source: string, stream: string, runId: number | null, selection: RowSelection): Promise<number | null> {
  const { orders, tickets, ownersOf, customerIds } = selection;
  if (orders.key.length === 0 && tickets.key.length === 0 && ownersOf.length === 0 && customerIds.length === 0) return null;
  const { rows } = await tx.query<{ id: string }>(
    'INSERT INTO hub.clickhouse_outbox (source, stream, run_id, selection) VALUES ($1, $2, $3, $4) RETURNING id',
    [source, stream, runId, JSON.stringify(selection)],
  );
  return Number(rows[0]!.id);
}

/**
 * Reads and inserts the rows of outbox entry `id`, then deletes it. False when the entry is
 * gone (another process sent it). A failure leaves the entry for a later send. The process
 * that wrote the entry passes its `selection` and skips reading it back.
 */
export async function sendEntry(pool: pg.Pool, client: ClickHouseClient, id: number, selection?: RowSelection, options: BuildOptions = {}): Promise<boolean> {
  const db = await pool.connect();
  let broken: Error | undefined;
  try {
    // Statements on their own (no transaction): nothing is held while ClickHouse answers.
    let wanted = selection;
    if (!wanted) {
      const { rows } = await db.query<{ selection: RowSelection }>('SELECT selection FROM hub.clickhouse_outbox WHERE id = $1', [id]);
      if (rows.length === 0) return false;
      wanted = rows[0]!.selection;
    }
    const built = await buildRowsInTurn(db, wanted, options).catch((err: unknown) => {
      broken = err as Error;
      throw err;
    });
    await insertClickhouseRows(client, built);
    await db.query('DELETE FROM hub.clickhouse_outbox WHERE id = $1', [id]);
    return true;
  } finally {
    // A connection whose turn could not be given back is closed, which gives it back.
    db.release(broken);
  }
}

/** Sends every entry `source.stream` left behind, oldest first; returns how many were sent. */
export async function sendPending(pool: pg.Pool, client: ClickHouseClient, source: string, stream: string, options: BuildOptions = {}): Promise<number> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM hub.clickhouse_outbox WHERE source = $1 AND stream = $2 ORDER BY id', [source, stream]);
  let sent = 0;
  for (const r of rows) if (await sendEntry(pool, client, Number(r.id), undefined, options)) sent++;
  return sent;
}

/** Options of {@link OutboxSender}. */
export interface OutboxSenderOptions extends BuildOptions {
  /** Sends queued at most before {@link OutboxSender.send} waits. @defaultValue 2 */
  depth?: number;
}

/**
 * Sends a run's entries in the background, one at a time in commit order (`p-limit` of 1),
 * so that a batch's send overlaps the next batch. When `depth` sends are queued,
 * {@link send} waits for them. The first failure is kept and later sends are skipped, their
 * entries staying in the outbox, while the sync goes on: analytics being down must not stop
 * the unified view agents read. {@link flush} throws the failure at the end of the run
 * (`SYNC_CLICKHOUSE_FAILED`, retryable), and the retry sends what is owed.
 */
export class OutboxSender {
  private readonly queue = pLimit(1);
  private last: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly depth: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly client: ClickHouseClient,
    private readonly options: OutboxSenderOptions = {},
  ) {
    this.depth = options.depth ?? 2;
  }

  /** Queues entry `id` (its `selection` as written); after a failure, leaves it in the outbox. */
  async send(id: number, selection: RowSelection): Promise<void> {
    if (this.failure !== undefined) return;
    if (this.queue.activeCount + this.queue.pendingCount >= this.depth) await this.last;
    if (this.failure !== undefined) return;
    this.last = this.queue(async () => {
      if (this.failure !== undefined) return;
      await sendEntry(this.pool, this.client, id, selection, this.options).catch((err: unknown) => {
        this.failure ??= err;
      });
    });
  }

  /** Waits for every queued send; throws the first failure. */
  async flush(): Promise<void> {
    await this.last;
    this.throwFailure();
  }

  /** Waits for every queued send, whatever their outcome (on the way out of a failed run). */
  async settle(): Promise<void> {
    await this.last;
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
