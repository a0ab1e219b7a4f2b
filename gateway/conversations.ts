/**
 * Conversation changes as the sockets make them: each one is written to PostgreSQL, then
 * announced (`announce.ts`); a change that may have freed an agent's slot drains the queue
 * of that agent's team.
 */
import { JunctionError } from '../config/errors.js';
import { announce } from './announce.js';
import { drainSoon } from './drain.js';
import { participantId, type Principal } from './auth/token.js';
import type { GatewayContext } from './context.js';
import type { ConversationSummary } from './protocol.js';
import type { PageInfo } from './routing.js';
import { agentTeams, getAgent } from './store/agents.js';
import { canSee, closeConversation, getConversation, notYours, openConversationFor, transferConversation } from './store/conversations.js';
import { inTransaction } from './store/db.js';
import { lockReopenable, reopenLocked } from './store/reopen.js';

/** The conversation a visitor's first message opens (or the one it reopens on a resend). */
export async function openForVisitor(
  ctx: GatewayContext,
  visitor: Extract<Principal, { kind: 'visitor' }>,
  clientMsgId: string,
  firstText: string,
  page: PageInfo = {},
): Promise<ConversationSummary> {
  const { conversation, created } = await openConversationFor(
    ctx.pool,
    visitor,
    clientMsgId,
    (tx) => ctx.router.plan(tx, { firstText, page }),
    ctx.settings.visitor_conversations_per_hour,
  );
  if (created) {
    await announce(ctx, conversation.assignedAgentId === null ? 'queued' : 'assigned', conversation);
    // Queued behind older ones while a slot may be free: let the queue move.
    if (conversation.assignedAgentId === null) drainSoon(ctx, conversation.team);
  }
  return conversation;
}

/**
 * Reopens the visitor's recently closed conversation for a new message (or finds it open: see
 * lockReopenable). Null when it cannot be reopened (closed too long ago, or the visitor has
 * another open conversation): the message is then refused with GW_CONVERSATION_CLOSED.
 */
export async function reopenForVisitor(
  ctx: GatewayContext,
  visitor: Extract<Principal, { kind: 'visitor' }>,
  conversationId: number,
): Promise<ConversationSummary | null> {
  const within = ctx.settings.reopen_within_s;
  if (within === 0) return null;
  const result = await inTransaction(ctx.pool, async (tx) => {
    const locked = await lockReopenable(tx, conversationId, visitor.visitorId, within);
    if (typeof locked === 'string') return null;
    // Reopened by another socket of the visitor, which announced it: the message just goes in.
    if ('alreadyOpen' in locked) return { c: locked.alreadyOpen, reopened: false };
    return { c: await reopenLocked(tx, conversationId, await ctx.router.planReopen(tx, locked.team, locked.previousAgentId)), reopened: true };
  });
  if (result?.reopened) await announce(ctx, 'reopened', result.c);
  return result?.c ?? null;
}

/**
 * Why a change `by` asked for did not happen: it is closed, or the conversation is gone or
 * no longer theirs (GW_CONVERSATION_NOT_FOUND, as if they had never seen it).
 */
async function refusal(ctx: GatewayContext, conversationId: number, by: Principal, closedMessage: string): Promise<JunctionError> {
  const c = await getConversation(ctx.pool, conversationId);
  if (c?.status === 'closed' && canSee(c, by)) return new JunctionError('GW_CONVERSATION_CLOSED', closedMessage);
  // Gone, someone else's, or `by` is an agent who was disabled meanwhile: not theirs to act on.
  return notYours(conversationId);
}

/** Transfers a conversation `by` holds (or sees queued) to an agent (any team; their team follows) or to a team's queue. */
export async function transfer(
  ctx: GatewayContext,
  conversationId: number,
  to: { toAgentId: number } | { toTeam: string },
  by: Principal,
): Promise<ConversationSummary> {
  let target: { agentId: number; team: string } | { team: string };
  if ('toAgentId' in to) {
    const agent = await getAgent(ctx.pool, to.toAgentId);
    if (!agent) throw new JunctionError('GW_AGENT_NOT_FOUND', `no agent ${to.toAgentId}`);
    if (agent.disabled) throw new JunctionError('GW_AGENT_DISABLED', `agent ${to.toAgentId} is disabled`);
    target = { agentId: agent.id, team: agent.team };
  } else {
    const teams = await knownTeams(ctx);
    if (!teams.includes(to.toTeam)) throw new JunctionError('GW_TEAM_NOT_FOUND', `no team ${JSON.stringify(to.toTeam)}: the teams are ${teams.join(', ')}`);
    target = { team: to.toTeam };
  }
  const moved = await transferConversation(ctx.pool, conversationId, target, by);
  if (!moved) throw await refusal(ctx, conversationId, by, `conversation ${conversationId} is closed`);
  const c = moved.conversation;
  await announce(ctx, c.assignedAgentId === null ? 'queued' : 'transferred', c);
  if (c.assignedAgentId === null) drainSoon(ctx, c.team);
  if (moved.previousAgentId !== null && moved.previousAgentId !== c.assignedAgentId) await drainForAgent(ctx, moved.previousAgentId);
  return c;
}

/** Closes a conversation `by` sees. */
export async function close(ctx: GatewayContext, conversationId: number, by: Principal): Promise<ConversationSummary> {
  const c = await closeConversation(ctx.pool, conversationId, by, participantId(by));
  if (!c) throw await refusal(ctx, conversationId, by, `conversation ${conversationId} is already closed`);
  await announce(ctx, 'closed', c);
  if (c.assignedAgentId !== null) await drainForAgent(ctx, c.assignedAgentId);
  return c;
}

/** An agent freed a slot: their team's queue may move. */
async function drainForAgent(ctx: GatewayContext, agentId: number): Promise<void> {
  const agent = await getAgent(ctx.pool, agentId).catch(() => null);
  if (agent) drainSoon(ctx, agent.team);
}

/**
 * The teams a conversation may be queued for: every enabled agent's, every routing rule's and
 * gateway.default_team (what GET /api/agents offers as transfer targets). A queue outside them
 * would never be served.
 */
export async function knownTeams(ctx: Pick<GatewayContext, 'pool' | 'settings'>): Promise<string[]> {
  const teams = new Set([...(await agentTeams(ctx.pool)), ...ctx.settings.routing.map((r) => r.team), ctx.settings.default_team]);
  return [...teams].sort();
}
