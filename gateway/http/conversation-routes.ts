/** `GET /api/conversations` and `GET /api/conversations/:id/messages`: the same visibility rule as the socket. */
import express from 'express';
import * as z from 'zod';
import type { GatewayContext } from '../context.js';
import { openConversationsOf } from '../store/conversations.js';
import { messagesAfter } from '../store/messages.js';
import { principalOfResponse, requireAuth } from './bearer.js';
import { parseBody } from './errors.js';
import { visibleConversation } from './visible.js';

const pageSchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function conversationRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();
  const auth = requireAuth(ctx);

  router.get('/api/conversations', auth, async (_req, res) => {
    res.json({ conversations: await openConversationsOf(ctx.pool, principalOfResponse(res)) });
  });

  router.get('/api/conversations/:id/messages', auth, async (req, res) => {
    const { after, limit } = parseBody(pageSchema, req.query);
    // Not yours and not there answer alike: existence is not revealed.
    const conversation = await visibleConversation(ctx, res, String(req.params.id));
    const messages = await messagesAfter(ctx.pool, conversation.id, after, limit);
    res.json({ conversation, messages, nextAfter: messages.length === limit ? messages[messages.length - 1]!.seq : null });
  });

  return router;
}
