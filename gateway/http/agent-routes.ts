/**
 * `GET /api/agents`, for agents: who a conversation can be transferred to. The enabled
 * agents with their team and whether they are connected (presence in Redis, shared by every
 * instance), and the teams a conversation can be queued for: every enabled agent's team,
 * every routing rule's team and `gateway.default_team`.
 */
import express from 'express';
import { JunctionError } from '../../config/errors.js';
import type { GatewayContext } from '../context.js';
import { listAgents } from '../store/agents.js';
import { principalOfResponse, requireAuth } from './bearer.js';

export function agentRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();

  router.get('/api/agents', requireAuth(ctx), async (_req, res) => {
    if (principalOfResponse(res).kind !== 'agent') throw new JunctionError('GW_FORBIDDEN', 'the agent list is for agents');
    const agents = (await listAgents(ctx.pool)).filter((a) => !a.disabled);
    const agentTeams = [...new Set(agents.map((a) => a.team))];
    // One presence read per team rather than one per agent.
    const online = new Set((await Promise.all(agentTeams.map((t) => ctx.presence.onlineAgents(t)))).flat());
    const teams = [...new Set([...agentTeams, ...ctx.settings.routing.map((r) => r.team), ctx.settings.default_team])].sort();
    res.json({
      agents: agents.map((a) => ({ id: a.id, name: a.name, team: a.team, online: online.has(a.id) })),
      teams,
    });
  });

  return router;
}
