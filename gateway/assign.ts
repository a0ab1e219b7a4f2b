/**
 * Where a new conversation goes: the seam that routing rules, capacity limits and
 * reassignment after `reconnect_grace_ms` plug into (next round). Today: the configured
 * default team, and its online agent with the fewest open conversations; queued for the
 * team when none is online.
 */
import type pg from 'pg';
import type { Presence } from './presence.js';
import { openCountsByAgent, type NewConversation } from './store/conversations.js';

/** What routing may look at: the first message and what the site said about the page. */
export interface RoutingInput {
  firstText: string;
  meta: Record<string, unknown>;
}

export interface Router {
  /** Team and agent for a new conversation; runs inside the transaction that creates it. */
  plan(tx: pg.PoolClient, input: RoutingInput): Promise<NewConversation>;
}

export interface DefaultRouterOptions {
  defaultTeam: string;
  presence: Presence;
}

/** Least-loaded online agent of the default team; ties go to the lowest id (stable, testable). */
export function defaultRouter({ defaultTeam, presence }: DefaultRouterOptions): Router {
  return {
    async plan(tx, input) {
      const team = defaultTeam;
      const online = await presence.onlineAgents(team);
      const counts = await openCountsByAgent(tx, online);
      let best: number | null = null;
      for (const [agent, n] of [...counts].sort((a, b) => a[0] - b[0])) {
        if (best === null || n < counts.get(best)!) best = agent;
      }
      return { team, assignedAgentId: best, meta: input.meta };
    },
  };
}
