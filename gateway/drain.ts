/**
 * Draining a team's queue: whenever capacity may have appeared (an agent comes online,
 * closes or hands over a conversation, every reassignment sweep), the oldest queued
 * conversations go to the team's online agents with free slots, least loaded first.
 */
import { announce } from './announce.js';
import type { GatewayContext } from './context.js';
import type { ConversationSummary } from './protocol.js';
import { assignQueued, lockAgentLoads, lockQueued, pickAgent } from './store/assignment.js';
import { inTransaction } from './store/db.js';

/**
 * Assigns the team's queued conversations, oldest first, to its online agents with free
 * slots (least loaded first). Announces each assignment. Safe to call from any instance at
 * any time: agents' row locks serialize drains that could pick the same agent.
 */
export async function drainQueue(ctx: GatewayContext, team: string): Promise<ConversationSummary[]> {
  const online = await ctx.presence.onlineAgents(team);
  if (online.length === 0) return [];
  const assigned = await inTransaction(ctx.pool, async (tx) => {
    const loads = await lockAgentLoads(tx, online, team, ctx.settings.agent_capacity);
    const free = loads.reduce((n, l) => n + Math.max(0, l.capacity - l.open), 0);
    if (free === 0) return [];
    const out: ConversationSummary[] = [];
    for (const id of await lockQueued(tx, team, free)) {
      const agent = pickAgent(loads);
      if (!agent) break;
      const c = await assignQueued(tx, id, agent.agentId);
      if (!c) continue;
      agent.open++;
      out.push(c);
    }
    return out;
  });
  for (const c of assigned) await announce(ctx, 'assigned', c);
  return assigned;
}

/** {@link drainQueue} for work that must not fail its caller (the change that freed capacity is done): errors are logged. */
export function drainSoon(ctx: GatewayContext, team: string): void {
  drainQueue(ctx, team).catch((err: unknown) => ctx.log.warn({ err, team }, 'queue not drained; the next sweep retries'));
}
