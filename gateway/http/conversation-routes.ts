/** `GET /api/conversations` and `GET /api/conversations/:id/messages`: the same visibility rule as the socket. */
import express from 'express';
import * as z from 'zod';
import type { GatewayContext } from '../context.js';
import { openConversationsOf } from '../store/conversations.js';
import { messagesAfter, messagesBefore, readMarks } from '../store/messages.js';
import { principalOfResponse, requireAuth } from './bearer.js';
import { parseBody } from './errors.js';
import { visibleConversation } from './visible.js';

/**
 * A page forwards (`after`, from the start by default) or backwards (`before`: the newest
 * `limit` messages below it; `before=<lastSeq + 1>` is the latest page). Never both.
 */
const pageSchema = z
  .object({
    after: z.coerce.number().int().min(0).optional(),
    before: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .refine((q) => q.after === undefined || q.before === undefined, { error: 'give after or before, not both', path: ['before'] });

export function conversationRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();
  const auth = requireAuth(ctx);

  router.get('/api/conversations', auth, async (_req, res) => {
    res.json({ conversations: await openConversationsOf(ctx.pool, principalOfResponse(res)) });
  });

  router.get('/api/conversations/:id/messages', auth, async (req, res) => {
    const { after, before, limit } = parseBody(pageSchema, req.query);
    // Not yours and not there answer alike: existence is not revealed.
    const conversation = await visibleConversation(ctx, res, String(req.params.id));
    const reads = await readMarks(ctx.pool, conversation.id);
    if (before !== undefined) {
      const page = await messagesBefore(ctx.pool, conversation.id, before, limit);
      res.json({ conversation, messages: page.messages, nextAfter: null, nextBefore: page.more ? page.messages[0]!.seq : null, reads });
      return;
    }
    const messages = await messagesAfter(ctx.pool, conversation.id, after ?? 0, limit);
    res.json({ conversation, messages, nextAfter: messages.length === limit ? messages[messages.length - 1]!.seq : null, nextBefore: null, reads });
  });

  return router;
}
