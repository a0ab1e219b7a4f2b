/**
 * Announcing a conversation change: on every channel whose subscribers may need to know (the
 * conversation's own, the new agent's, the team queue's, the visitor's other tabs), and to
 * chat analytics.
 */
import { randomUUID } from 'node:crypto';
import type { GatewayContext } from './context.js';
import type { ConversationEventKind } from './events.js';
import type { ConversationSummary } from './protocol.js';

/**
 * Publishes a conversation event; a failure is logged, not thrown: the change is stored, and
 * the fan-out tells the listeners to re-read the conversation once Redis takes it again.
 */
export async function announce(ctx: GatewayContext, event: ConversationEventKind, c: ConversationSummary): Promise<void> {
  ctx.analytics.conversationChanged(c.id);
  const channels = [ctx.keys.conversation(c.id), ctx.keys.visitor(c.visitorId), ctx.keys.team(c.team)];
  if (c.assignedAgentId !== null) channels.push(ctx.keys.agent(c.assignedAgentId));
  try {
    await ctx.fanout.publish([{ channels, event: { e: 'conversation', eventId: randomUUID(), event, conversation: c } }]);
  } catch (err) {
    ctx.log.error({ err, conversationId: c.id, event }, 'conversation event not published; its conversation is announced for a re-read once Redis takes it');
  }
}
