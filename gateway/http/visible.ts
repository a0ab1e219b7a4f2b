/** The conversation a REST call names, if its caller may see it (the socket's rule, `canSee`). */
import type { Response } from 'express';
import { JunctionError } from '../../config/errors.js';
import type { GatewayContext } from '../context.js';
import type { ConversationSummary } from '../protocol.js';
import { canSee, getConversation } from '../store/conversations.js';
import { principalOfResponse } from './bearer.js';

/** @throws JunctionError GW_CONVERSATION_NOT_FOUND, alike for one that does not exist and one the caller may not see */
export async function visibleConversation(ctx: GatewayContext, res: Response, rawId: string): Promise<ConversationSummary> {
  const id = /^[1-9]\d{0,15}$/.test(rawId) ? Number(rawId) : NaN;
  const conversation = Number.isSafeInteger(id) ? await getConversation(ctx.pool, id) : null;
  if (!conversation || !canSee(conversation, principalOfResponse(res))) {
    throw new JunctionError('GW_CONVERSATION_NOT_FOUND', `no conversation ${rawId} for you`);
  }
  return conversation;
}
