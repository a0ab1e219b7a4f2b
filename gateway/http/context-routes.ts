/**
 * Agents' REST views of a conversation's customer, under the socket's visibility rule (an
 * agent's own conversations and their team's queue; anything else is 404 like a missing one):
 *
 * - `GET /api/conversations/:id/context`: the context panel (`{ conversationId, customerId, parts }`);
 * - `GET /api/canned`: the canned replies as configured;
 * - `GET /api/conversations/:id/canned`: every canned reply rendered for that conversation's customer.
 */
import express from 'express';
import { JunctionError } from '../../config/errors.js';
import type { Principal } from '../auth/token.js';
import { renderReplies } from '../canned.js';
import type { GatewayContext } from '../context.js';
import { principalOfResponse, requireAuth } from './bearer.js';
import { visibleConversation } from './visible.js';

type AgentPrincipal = Extract<Principal, { kind: 'agent' }>;

function agentOnly(p: Principal): AgentPrincipal {
  if (p.kind !== 'agent') throw new JunctionError('GW_FORBIDDEN', 'customer context and canned replies are for agents');
  return p;
}

export function contextRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();
  const auth = requireAuth(ctx);

  router.get('/api/conversations/:id/context', auth, async (req, res) => {
    agentOnly(principalOfResponse(res));
    const c = await visibleConversation(ctx, res, String(req.params.id));
    if (c.customerId === null) throw new JunctionError('GW_CUSTOMER_NOT_LINKED', `conversation ${c.id} is not linked to a customer`);
    const panel = await ctx.context.panel(c.customerId);
    res.json({ conversationId: c.id, customerId: panel.customerId, parts: panel.parts });
  });

  router.get('/api/canned', auth, (_req, res) => {
    agentOnly(principalOfResponse(res));
    res.json({ replies: ctx.settings.canned_replies });
  });

  router.get('/api/conversations/:id/canned', auth, async (req, res) => {
    const agent = agentOnly(principalOfResponse(res));
    const c = await visibleConversation(ctx, res, String(req.params.id));
    const panel = c.customerId === null ? null : await ctx.context.panel(c.customerId);
    const replies = renderReplies(ctx.settings.canned_replies, {
      parts: panel?.parts ?? null,
      customerId: panel?.customerId ?? null,
      agent: { name: agent.name, team: agent.team },
      conversation: { id: c.id, team: c.team },
    });
    const unknown = [...new Set(replies.flatMap((r) => r.unknown))];
    if (unknown.length > 0) ctx.log.warn({ unknown, conversationId: c.id }, 'canned replies use unknown variables (rendered empty)');
    res.json({ conversationId: c.id, customerId: panel?.customerId ?? null, replies });
  });

  return router;
}
