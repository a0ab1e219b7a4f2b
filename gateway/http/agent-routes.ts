/**
 * For agents:
 *
 * - `GET /api/agents`: who a conversation can be transferred to. The enabled agents with
 *   their team and whether they are connected (presence in Redis, shared by every instance),
 *   and the teams a conversation can be queued for: every enabled agent's team, every routing
 *   rule's team and `gateway.default_team`.
 * - `GET /api/team/conversations`: the open conversations teammates hold (summaries with the
 *   holder's name; their messages and customer stay visible to the holder only).
 */
import express from 'express';
import { JunctionError } from '../../config/errors.js';
import type { GatewayContext } from '../context.js';
import { knownTeams } from '../conversations.js';
import { listAgents } from '../store/agents.js';
import { teamConversationsOf } from '../store/conversations.js';
import { principalOfResponse, requireAuth } from './bearer.js';

export function agentRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();

  router.get('/api/agents', requireAuth(ctx), async (_req, res) => {
    if (principalOfResponse(res).kind !== 'agent') throw new JunctionError('GW_FORBIDDEN', 'the agent list is for agents');
    const agents = (await listAgents(ctx.pool)).filter((a) => !a.disabled);
    const agentTeams = [...new Set(agents.map((a) => a.team))];
    // One presence read per team rather than one per agent.
    const online = new Set((await Promise.all(agentTeams.map((t) => ctx.presence.onlineAgents(t)))).flat());
    const teams = await knownTeams(ctx);
    res.json({
      agents: agents.map((a) => ({ id: a.id, name: a.name, team: a.team, online: online.has(a.id) })),
      teams,
    });
  });

  router.get('/api/team/conversations', requireAuth(ctx), async (_req, res) => {
    const p = principalOfResponse(res);
    if (p.kind !== 'agent') throw new JunctionError('GW_FORBIDDEN', "the team's conversations are for agents");
    const [conversations, agents] = await Promise.all([teamConversationsOf(ctx.pool, p.team, p.agentId), listAgents(ctx.pool)]);
    const names = new Map(agents.map((a) => [a.id, a.name]));
    res.json({
      team: p.team,
      conversations: conversations.map((c) => ({ ...c, assignedAgentName: names.get(c.assignedAgentId!) ?? null })),
    });
  });

  return router;
}
