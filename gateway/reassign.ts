/**
 * The reassignment sweep, run by every instance every `gateway.reassign_sweep_ms`: the open
 * conversations of agents gone longer than `gateway.reconnect_grace_ms` (and of disabled
 * agents, at once) go back to their team's queue, and every team's queue drains to agents
 * with free slots.
 *
 * Why a sweep and not a timer per disconnect: the instance that saw the agent leave may die
 * too, and two instances' timers would both reassign. "Gone since" lives in Redis (presence's
 * last-seen time, written on connect, heartbeat and disconnect), so any instance can judge.
 * Only one instance requeues at a time (a transaction-scoped advisory lock; the others skip
 * that round), and it checks presence again under the lock. Drains are safe anywhere (agent
 * row locks, `store/assignment.ts`).
 *
 * The sweeper also re-points, now and then, conversations still linked to a customer a merge
 * absorbed ({@link relinkMerged}): live merges are handled as their `customer.updated` event
 * comes (enrich/context-service.ts), but an event no instance heard is not sent again.
 */
import { announce } from './announce.js';
import { drainQueue } from './drain.js';
import type { GatewayContext } from './context.js';
import { runEvery } from './every.js';
import type { ConversationSummary } from './protocol.js';
import { agentsHoldingOpen, requeueOf, teamsWithQueue } from './store/assignment.js';
import { relinkAbsorbedCustomers } from './store/conversations.js';
import { inTransaction } from './store/db.js';

/**
 * How often an instance runs {@link relinkMerged} (first at its first sweep). Not at every
 * sweep: it goes over every absorbed customer (about 0.2 s with 1M customers, a third of them
 * absorbed, and 300k conversations), and it only backs up the events.
 */
const RELINK_EVERY_MS = 10 * 60_000;

export interface SweepResult {
  /** Conversations taken from agents gone past the grace period. */
  requeued: ConversationSummary[];
  /** Conversations assigned from queues. */
  assigned: ConversationSummary[];
  /** False when another instance held the sweep lock (nothing was requeued by this one). */
  ran: boolean;
}

/**
 * Agents holding open conversations who have been offline longer than the grace period, and
 * disabled ones at once: they can no longer write, whatever sockets they still have.
 */
async function agentsGone(ctx: GatewayContext, now: number): Promise<{ gone: number[]; disabled: Set<number> }> {
  const all = await agentsHoldingOpen(ctx.pool);
  const disabled = new Set(all.filter((h) => h.disabled).map((h) => h.id));
  const holders = all.filter((h) => !h.disabled).map((h) => h.id);
  const online = await Promise.all(holders.map((id) => ctx.presence.isOnline(`agent:${id}`)));
  const offline = holders.filter((_, i) => !online[i]);
  const seen = await ctx.presence.lastSeen(offline);
  return { gone: [...disabled, ...offline.filter((id) => now - (seen.get(id) ?? now) >= ctx.settings.reconnect_grace_ms)], disabled };
}

/**
 * One sweep: requeue what gone agents hold, then drain every queue.
 * @param now the time absences are measured against (tests pass a later one to skip the wait); presence uses the clock
 */
export async function sweep(ctx: GatewayContext, now = Date.now()): Promise<SweepResult> {
  const { gone, disabled } = await agentsGone(ctx, now);
  let ran = true;
  let requeued: ConversationSummary[] = [];
  if (gone.length > 0) {
    requeued = await inTransaction(ctx.pool, async (tx) => {
      const { rows } = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('junction.gateway.reassign')) AS locked`);
      if (!rows[0]?.locked) {
        ran = false;
        return [];
      }
      // Checked again under the lock: an agent who came back meanwhile keeps their conversations.
      const still = await Promise.all(gone.map((id) => !disabled.has(id) && ctx.presence.isOnline(`agent:${id}`)));
      return requeueOf(tx, gone.filter((_, i) => !still[i]));
    });
    for (const c of requeued) await announce(ctx, 'queued', c);
    // A disabled agent's sockets were told to close when it was disabled; should that kick
    // have been lost (Redis away), they hear it again now.
    if (disabled.size > 0) await ctx.fanout.publish([...disabled].map((id) => ({ channels: [ctx.keys.agent(id)], event: { e: 'kick' as const, reason: 'agent disabled' } })));
    if (requeued.length > 0) ctx.log.info({ agents: gone, conversations: requeued.map((c) => c.id) }, 'conversations of agents gone past the grace period, or disabled, requeued');
  }
  const assigned: ConversationSummary[] = [];
  for (const team of await teamsWithQueue(ctx.pool)) assigned.push(...(await drainQueue(ctx, team)));
  return { requeued, assigned, ran };
}

/**
 * Points conversations still linked to an absorbed customer at its survivor (merges that no
 * instance heard of: none was running, or Redis lost the event), and announces them
 * (`relinked`, and chat analytics), as a handled event does. Returns the conversations re-linked.
 */
export async function relinkMerged(ctx: GatewayContext): Promise<number[]> {
  const moved = await relinkAbsorbedCustomers(ctx.pool);
  await Promise.all(moved.map((c) => announce(ctx, 'relinked', c)));
  if (moved.length > 0) ctx.log.info({ conversations: moved.length }, 'conversations of merged customers re-linked to the survivor');
  return moved.map((c) => c.id);
}

/** Runs {@link sweep} every `reassign_sweep_ms`, and {@link relinkMerged} with the first and then every 10 minutes, until the returned function is called. */
export function startSweeper(ctx: GatewayContext): () => Promise<void> {
  let relinkedAt = -Infinity;
  return runEvery(
    ctx.settings.reassign_sweep_ms,
    async () => {
      // Before the sweep, which needs Redis: a Redis outage does not hold re-links back.
      if (Date.now() - relinkedAt >= RELINK_EVERY_MS) {
        relinkedAt = Date.now();
        await relinkMerged(ctx);
      }
      await sweep(ctx);
    },
    (err) => ctx.log.warn({ err }, 'reassignment sweep failed; the next one retries'),
  );
}
