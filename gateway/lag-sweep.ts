/**
 * The last word against a lost fan-out event. Every message is published after its commit;
 * should the publishing instance die between the two (kill -9, a crash), the other
 * instances' sockets never hear of it. A later message of the conversation would pull the
 * gap from PostgreSQL, but the last message before the crash would wait for a reconnect.
 *
 * So each instance compares, every `reassign_sweep_ms`, the stored `last_seq` of the open
 * conversations its sockets deliver with the lowest seq they delivered, in one query. A
 * conversation behind at two sweeps in a row with the same `last_seq` (a live event had a
 * whole interval to arrive) gets a local `resync`: its sockets read what they missed.
 */
import type { GatewayContext } from './context.js';
import { runEvery } from './every.js';
import type { SocketSession } from './socket-session.js';

/** The lowest seq delivered per conversation over `sessions`. */
function deliveredLows(sessions: Iterable<SocketSession>): Map<number, number> {
  const low = new Map<number, number>();
  for (const s of sessions) s.deliveredSeqs((id, seq) => low.set(id, Math.min(low.get(id) ?? seq, seq)));
  return low;
}

/**
 * One sweep: conversations stored past what this instance delivered, and behind already at
 * the previous sweep with the same `last_seq` (`suspects`), are resynced.
 * @returns the suspects for the next sweep
 */
export async function lagSweep(ctx: GatewayContext, sessions: Iterable<SocketSession>, suspects: Map<number, number>): Promise<Map<number, number>> {
  const low = deliveredLows(sessions);
  const next = new Map<number, number>();
  if (low.size === 0) return next;
  const { rows } = await ctx.pool.query<{ id: string; last_seq: string }>(
    `SELECT id, last_seq FROM gateway.conversation WHERE id = ANY($1::bigint[]) AND status = 'open'`,
    [[...low.keys()]],
  );
  const late: number[] = [];
  for (const r of rows) {
    const id = Number(r.id);
    const last = Number(r.last_seq);
    if (last <= low.get(id)!) continue;
    if (suspects.get(id) === last) late.push(id);
    else next.set(id, last);
  }
  for (const id of late) ctx.fanout.dispatchLocal(ctx.keys.conversation(id), { e: 'resync', conversationId: id });
  if (late.length > 0) ctx.log.info({ conversations: late }, 'messages stored but never announced (their instance died before publishing?): resynced');
  return next;
}

/** Runs {@link lagSweep} every `reassign_sweep_ms` until the returned function is called. */
export function startLagSweep(ctx: GatewayContext, sessions: Set<SocketSession>): () => Promise<void> {
  let suspects = new Map<number, number>();
  return runEvery(
    ctx.settings.reassign_sweep_ms,
    async () => void (suspects = await lagSweep(ctx, sessions, suspects)),
    (err) => ctx.log.warn({ err }, 'lag sweep failed; the next one retries'),
  );
}
