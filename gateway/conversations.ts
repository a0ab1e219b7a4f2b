/**
 * Conversation changes as the sockets make them: each one is written to PostgreSQL, then
 * announced on every channel whose subscribers may need to know (the conversation's own,
 * the new agent's, the team queue's, the visitor's other tabs).
 */
import { randomUUID } from 'node:crypto';
import { JunctionError } from '../config/errors.js';
import type { Principal } from './auth/token.js';
import type { GatewayContext } from './context.js';
import type { ConversationEventKind } from './events.js';
import type { ConversationSummary } from './protocol.js';
import { getAgent } from './store/agents.js';
import { closeConversation, openConversationFor, transferConversation } from './store/conversations.js';

/** Publishes a conversation event; a failure is logged, not thrown (the change is stored; resumes catch up). */
export async function announce(ctx: GatewayContext, event: ConversationEventKind, c: ConversationSummary): Promise<void> {
  const channels = [ctx.keys.conversation(c.id), ctx.keys.visitor(c.visitorId), ctx.keys.team(c.team)];
  if (c.assignedAgentId !== null) channels.push(ctx.keys.agent(c.assignedAgentId));
  try {
    await ctx.fanout.publish([{ channels, event: { e: 'conversation', eventId: randomUUID(), event, conversation: c } }]);
  } catch (err) {
    ctx.log.error({ err, conversationId: c.id, event }, 'conversation event not published');
  }
}

/** The conversation a visitor's first message opens (or the one it reopens on a resend). */
export async function openForVisitor(
  ctx: GatewayContext,
  visitor: Extract<Principal, { kind: 'visitor' }>,
  clientMsgId: string,
  firstText: string,
): Promise<ConversationSummary> {
  const { conversation, created } = await openConversationFor(ctx.pool, visitor, clientMsgId, (tx) => ctx.router.plan(tx, { firstText, meta: {} }));
  if (created) await announce(ctx, conversation.assignedAgentId === null ? 'queued' : 'assigned', conversation);
  return conversation;
}

/** Transfers to an agent (any team; their team follows) or to a team's queue. */
export async function transfer(
  ctx: GatewayContext,
  conversationId: number,
  to: { toAgentId: number } | { toTeam: string },
): Promise<ConversationSummary> {
  let target: { agentId: number; team: string } | { team: string };
  if ('toAgentId' in to) {
    const agent = await getAgent(ctx.pool, to.toAgentId);
    if (!agent) throw new JunctionError('GW_AGENT_NOT_FOUND', `no agent ${to.toAgentId}`);
    if (agent.disabled) throw new JunctionError('GW_AGENT_DISABLED', `agent ${to.toAgentId} is disabled`);
    target = { agentId: agent.id, team: agent.team };
  } else {
    target = { team: to.toTeam };
  }
  const c = await transferConversation(ctx.pool, conversationId, target);
  if (!c) throw new JunctionError('GW_CONVERSATION_CLOSED', `conversation ${conversationId} is closed`);
  await announce(ctx, c.assignedAgentId === null ? 'queued' : 'transferred', c);
  return c;
}

export async function close(ctx: GatewayContext, conversationId: number, by: string): Promise<ConversationSummary> {
  const c = await closeConversation(ctx.pool, conversationId, by);
  if (!c) throw new JunctionError('GW_CONVERSATION_CLOSED', `conversation ${conversationId} is already closed`);
  await announce(ctx, 'closed', c);
  return c;
}
