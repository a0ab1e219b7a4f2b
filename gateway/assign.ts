/**
 * Assignment: a new conversation goes to the team its routing rules pick (`routing.ts`), to
 * the online agent of that team with the fewest open conversations below their capacity
 * (ties: lowest id), or into the team's queue when none has a free slot, or when older
 * conversations are already waiting (first come, first served); `drain.ts` empties queues
 * as capacity appears. Race safety across instances comes from the agent row locks in
 * `store/assignment.ts`.
 */
import type pg from 'pg';
import type { GatewaySettings } from './settings.js';
import type { Presence } from './presence.js';
import { compileRouting, type RoutingInput } from './routing.js';
import { hasQueued, lockAgentLoads, pickAgent } from './store/assignment.js';
import type { NewConversation } from './store/conversations.js';

export interface Router {
  /** Team and agent for a new conversation; runs inside the transaction that creates it. */
  plan(tx: pg.PoolClient, input: RoutingInput): Promise<NewConversation>;
  /** The agent a reopened conversation goes to: its last agent if online, still in its team and with a free slot, else like a new one (null: queued). */
  planReopen(tx: pg.PoolClient, team: string, previousAgentId: number | null): Promise<number | null>;
}

export interface RouterOptions {
  settings: Pick<GatewaySettings, 'routing' | 'default_team' | 'agent_capacity'>;
  presence: Presence;
}

export function createRouter({ settings, presence }: RouterOptions): Router {
  const route = compileRouting(settings);
  const capacity = settings.agent_capacity;
  const leastLoaded = async (tx: pg.PoolClient, team: string): Promise<number | null> => {
    if (await hasQueued(tx, team)) return null;
    const loads = await lockAgentLoads(tx, await presence.onlineAgents(team), team, capacity);
    return pickAgent(loads)?.agentId ?? null;
  };
  return {
    async plan(tx, input) {
      const { team, rule } = route(input);
      const assignedAgentId = await leastLoaded(tx, team);
      return { team, assignedAgentId, meta: { ...input.page, ...(rule !== null ? { routingRule: rule } : {}) } };
    },
    async planReopen(tx, team, previousAgentId) {
      if (previousAgentId === null || !(await presence.isOnline(`agent:${previousAgentId}`))) return leastLoaded(tx, team);
      // The last agent and the team's online agents are locked by one statement, in id order
      // as every assigner locks: the last agent first and the team after could deadlock with a
      // queue drain holding a lower id. The last agent must still be in the conversation's
      // team (one moved since serves their new team's queues); the team stays what it was.
      const loads = await lockAgentLoads(tx, [previousAgentId, ...(await presence.onlineAgents(team))], team, capacity);
      const previous = loads.find((l) => l.agentId === previousAgentId);
      if (previous && previous.open < previous.capacity) return previousAgentId;
      if (await hasQueued(tx, team)) return null;
      return pickAgent(loads)?.agentId ?? null;
    },
  };
}
