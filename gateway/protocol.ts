/**
 * The chat WebSocket protocol: every frame is one JSON object whose `type` selects its shape
 * (a zod discriminated union, validated at the socket edge), plus the close codes and the
 * error codes the server answers with. `gateway/PROTOCOL.md` documents it for client authors
 * and `test/gateway/protocol.test.ts` keeps both in step.
 */
import * as z from 'zod';
import type { ErrorCode } from '../config/errors.js';

/** The subprotocol the server selects; the client offers it beside its `bearer.<token>`. */
export const SUBPROTOCOL = 'junction.v1';
/** Prefix of the offered subprotocol that carries the token (never echoed back). */
export const TOKEN_SUBPROTOCOL_PREFIX = 'bearer.';

/**
 * Close codes. 1009/1011/1012 are the RFC 6455 registry's; 44xx mirror the HTTP status
 * a REST call would get, so a client maps both the same way.
 */
export const CLOSE = {
  /** Normal close (the client or the server is done). */
  NORMAL: 1000,
  /** A frame over `gateway.max_payload_bytes` (sent by `ws` itself). */
  TOO_BIG: 1009,
  /** An unexpected server failure. */
  INTERNAL: 1011,
  /** The instance is shutting down: reconnect, to another instance if there is one. */
  RECONNECT: 1012,
  /** Not JSON, a frame that does not fit its type, or no `hello` first. */
  BAD_FRAME: 4400,
  /** The socket's token expired (renew it with an `auth` frame before then, or reconnect with a fresh one). */
  UNAUTHORIZED: 4401,
  /** The agent was disabled while connected. */
  FORBIDDEN: 4403,
  /** A `type` the protocol does not define. */
  UNKNOWN_TYPE: 4404,
  /** Frames faster than `gateway.rate_limit`. */
  RATE_LIMITED: 4408,
} as const;

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** Conversation ids are PostgreSQL bigserials; they stay far below 2^53 so JSON numbers carry them. */
const conversationId = z.number().int().positive();
const seq = z.number().int().min(0);
/**
 * A client string that is stored. PostgreSQL `text` and `jsonb` cannot hold U+0000: one such
 * string would fail its whole group-commit batch, so it is a bad frame here, at the edge.
 */
const storedText = () => z.string().refine((s) => !s.includes('\u0000'), { error: 'must not contain U+0000 (NUL)' });
/** Client-chosen id of a message, unique per sender and conversation (a UUID is fine). */
const clientMsgId = z.string().min(1).max(64).regex(/^[\x21-\x7e]+$/, { error: 'printable ASCII without spaces' });

// ---- client → server -------------------------------------------------------------------

/** First frame of every connection. `resume`: last seq the client holds, per conversation id. */
export const helloFrame = z.strictObject({
  type: z.literal('hello'),
  resume: z.record(z.string().regex(/^[1-9]\d{0,15}$/), seq).default({}),
});

/** Where a visitor is (routing rules and analytics read it); only a message that opens a conversation uses it. */
export const pageInfo = z.strictObject({
  url: storedText().max(2048).optional(),
  language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$/).optional(),
  channel: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/).optional(),
});

/** A chat message. A visitor's first message has no `conversationId`: it opens one (or reuses the open one). */
export const msgFrame = z.strictObject({
  type: z.literal('msg'),
  conversationId: conversationId.optional(),
  clientMsgId,
  // The length limit is config (`gateway.max_text_chars`), checked by the session.
  text: storedText().min(1),
  page: pageInfo.optional(),
});

/** Received up to `seq` (cumulative). */
export const ackFrame = z.strictObject({ type: z.literal('ack'), conversationId, seq });

export const typingFrame = z.strictObject({ type: z.literal('typing'), conversationId, on: z.boolean().default(true) });

/** Read up to `seq` (cumulative); relayed to the other side as a read receipt. */
export const readFrame = z.strictObject({ type: z.literal('read'), conversationId, seq });

/** Agents only: hand the conversation to an agent (by id, themselves included) or to a team's queue. */
export const transferFrame = z
  .strictObject({
    type: z.literal('transfer'),
    conversationId,
    toAgentId: z.number().int().positive().optional(),
    toTeam: z.string().regex(/^[a-z][a-z0-9_]*$/).optional(),
  })
  .refine((f) => (f.toAgentId === undefined) !== (f.toTeam === undefined), { error: 'give exactly one of toAgentId and toTeam' });

export const closeFrame = z.strictObject({ type: z.literal('close'), conversationId });

/** A renewed token for this socket (same principal): the socket lives until its expiry instead. */
export const authFrame = z.strictObject({ type: z.literal('auth'), token: z.string().min(1).max(4096) });

export const CLIENT_FRAME_TYPES = ['hello', 'msg', 'ack', 'typing', 'read', 'transfer', 'close', 'auth'] as const;

export const clientFrameSchema = z.discriminatedUnion('type', [helloFrame, msgFrame, ackFrame, typingFrame, readFrame, transferFrame, closeFrame, authFrame]);

export type ClientFrame = z.output<typeof clientFrameSchema>;
export type HelloFrame = z.output<typeof helloFrame>;
export type MsgFrame = z.output<typeof msgFrame>;
export type TransferFrame = z.output<typeof transferFrame>;

// ---- server → client -------------------------------------------------------------------

export const participantSchema = z.strictObject({
  kind: z.enum(['visitor', 'agent', 'system']),
  /** `visitor:<uuid>` or `agent:<id>`. */
  id: z.string(),
});

export const conversationSummarySchema = z.strictObject({
  id: conversationId,
  status: z.enum(['open', 'closed']),
  team: z.string(),
  /** Null while queued for the team. */
  assignedAgentId: z.number().int().nullable(),
  visitorId: z.string(),
  customerId: z.number().int().nullable(),
  lastSeq: seq,
  createdAt: z.string(),
  /**
   * Raised by every change of status, team, agent or customer: of two summaries of one
   * conversation, the higher version is the newer (events may arrive out of order).
   */
  version: z.number().int().positive(),
});

export type ConversationSummary = z.output<typeof conversationSummarySchema>;

/**
 * One part of a context panel. `asOf`: when its data was read from where it lives (the last
 * sync for unified data, the answer's time for a live lookup). `stale`: a live source did not
 * answer (timeout, failure, open circuit); the data shown is the last known, `staleSince` says
 * since when the source has been failing and `error` its code.
 */
export const contextPartSchema = z.strictObject({
  asOf: z.string().nullable(),
  stale: z.boolean(),
  staleSince: z.string().optional(),
  error: z.string().optional(),
  data: z.unknown(),
});

export type ContextPart = z.output<typeof contextPartSchema>;

const serverFrames = [
  z.strictObject({
    type: z.literal('welcome'),
    sessionId: z.string(),
    instanceId: z.string(),
    role: z.enum(['visitor', 'agent']),
    /** `visitor:<uuid>` or `agent:<id>`: how this client appears as a sender. */
    participantId: z.string(),
    conversations: z.array(conversationSummarySchema),
    heartbeatMs: z.number().int(),
    maxPayloadBytes: z.number().int(),
    maxTextChars: z.number().int(),
    /** When the socket's token expires (ISO, the server's clock); send an `auth` frame with a renewed token before then. */
    tokenExpiresAt: z.string(),
    /** The same as whole seconds from this frame: a client counts it on its own clock, which may be off. */
    tokenExpiresIn: z.number().int().min(0),
  }),
  z.strictObject({
    type: z.literal('msg'),
    conversationId,
    seq: seq.min(1),
    sender: participantSchema,
    clientMsgId,
    text: z.string(),
    at: z.string(),
  }),
  /** The sender's message is stored as `seq`. `duplicate`: it had been stored before (a resend). */
  z.strictObject({ type: z.literal('ack'), clientMsgId, conversationId, seq: seq.min(1), at: z.string(), duplicate: z.boolean() }),
  /** The merged customer beside a conversation (enrichment; sent to agents only). */
  z.strictObject({
    type: z.literal('context'),
    conversationId,
    customerId: z.number().int(),
    /** Why it was (re)sent: the conversation became yours, a sync changed the customer, or it was re-linked to a merge's survivor. */
    reason: z.enum(['linked', 'updated', 'relinked']),
    parts: z.record(z.string(), contextPartSchema),
  }),
  /** A conversation appeared (assigned to you or queued for your team), changed hands, or closed. */
  z.strictObject({
    type: z.literal('conversation'),
    event: z.enum(['assigned', 'queued', 'transferred', 'closed', 'reopened', 'relinked']),
    conversation: conversationSummarySchema,
  }),
  z.strictObject({ type: z.literal('presence'), who: participantSchema, online: z.boolean(), conversationId: conversationId.optional() }),
  z.strictObject({ type: z.literal('typing'), conversationId, who: participantSchema, on: z.boolean() }),
  z.strictObject({ type: z.literal('read'), conversationId, who: participantSchema, seq }),
  z.strictObject({
    type: z.literal('error'),
    code: z.string(),
    message: z.string(),
    retryable: z.boolean(),
    clientMsgId: clientMsgId.optional(),
    conversationId: conversationId.optional(),
  }),
  /** The `auth` frame's token was accepted: the socket now lives until `expiresAt`, `expiresIn` seconds from this frame. */
  z.strictObject({ type: z.literal('auth'), expiresAt: z.string(), expiresIn: z.number().int().min(0) }),
  /** Sent before close 1012: this instance is going away. */
  z.strictObject({ type: z.literal('reconnect'), reason: z.string() }),
] as const;

export const serverFrameSchema = z.discriminatedUnion('type', [...serverFrames]);

export type ServerFrame = z.output<typeof serverFrameSchema>;
export type ServerFrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** A protocol violation: what to tell the client and how to close. */
export interface FrameViolation {
  code: Extract<ErrorCode, 'GW_BAD_FRAME' | 'GW_UNKNOWN_TYPE'>;
  close: CloseCode;
  message: string;
}

/**
 * Parses one inbound text frame. Malformed JSON and shape errors are `GW_BAD_FRAME` (4400);
 * a well-formed object with a `type` the protocol does not define is `GW_UNKNOWN_TYPE` (4404).
 */
export function parseClientFrame(data: string): { ok: true; frame: ClientFrame } | { ok: false; violation: FrameViolation } {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, violation: { code: 'GW_BAD_FRAME', close: CLOSE.BAD_FRAME, message: 'frame is not valid JSON' } };
  }
  const type = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
    return { ok: false, violation: { code: 'GW_UNKNOWN_TYPE', close: CLOSE.UNKNOWN_TYPE, message: `unknown frame type ${JSON.stringify(type.slice(0, 40))}` } };
  }
  const parsed = clientFrameSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return { ok: false, violation: { code: 'GW_BAD_FRAME', close: CLOSE.BAD_FRAME, message: `${where}${issue?.message ?? 'invalid frame'}` } };
  }
  return { ok: true, frame: parsed.data };
}
