/**
 * Agent and visitor tokens: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`.
 *
 * Why not JWT (jose): these tokens are minted and checked by the gateway alone, with one
 * HMAC key, so none of JWT's interoperability is used, and its header-chosen algorithm is a
 * known foot-gun (alg confusion) that this format cannot have. The whole scheme is the
 * standard library's HMAC plus a constant-time compare, which `test/gateway/token.test.ts`
 * covers (tampering, expiry, wrong key, truncation).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { JunctionError } from '../../config/errors.js';
import { sameIdentity } from './identity.js';

/** Who a token speaks for. */
export type Principal =
  | { kind: 'agent'; agentId: number; team: string; name: string }
  | {
      kind: 'visitor';
      visitorId: string;
      /** The unified customer a signed identity resolved to when the session was made. */
      customerId: number | null;
      /** The signed identity claims, normalized (never an unsigned claim). */
      identity: { email?: string; phone?: string; external_id?: string } | null;
    };

const claimsSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('agent'),
    agentId: z.number().int().positive(),
    team: z.string(),
    name: z.string(),
    iat: z.number(),
    exp: z.number(),
    /** When the agent logged in with their password (epoch s); refreshes keep it. Absent: `iat`. */
    login: z.number().optional(),
    /** The agent's token epoch at login (gateway.agent.token_epoch); refreshes keep it. Absent: 0. */
    epoch: z.number().int().min(0).optional(),
  }),
  z.strictObject({
    kind: z.literal('visitor'),
    visitorId: z.uuid(),
    customerId: z.number().int().nullable(),
    identity: z.strictObject({ email: z.string().optional(), phone: z.string().optional(), external_id: z.string().optional() }).nullable(),
    iat: z.number(),
    exp: z.number(),
  }),
]);

export type TokenClaims = z.output<typeof claimsSchema>;

const VERSION = 'v1';

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(`${VERSION}.${body}`).digest();
}

/**
 * Signs `principal` for `ttlSeconds` from `now` (ms). An agent token also says when its
 * login happened (`loginAt`, epoch s; a login: now), so refreshes cannot extend it forever,
 * and the agent's token epoch then (`epoch`), so that a new password or a disable ends it.
 */
export function signToken(principal: Principal, secret: string, ttlSeconds: number, now = Date.now(), loginAt?: number, epoch = 0): { token: string; expiresAt: Date } {
  const iat = Math.floor(now / 1000);
  const claims = { ...principal, iat, exp: iat + ttlSeconds, ...(principal.kind === 'agent' ? { login: loginAt ?? iat, epoch } : {}) };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return { token: `${VERSION}.${body}.${mac(secret, body).toString('base64url')}`, expiresAt: new Date(claims.exp * 1000) };
}

/**
 * Whole seconds from `now` until `expiresAt` (ms or a Date), rounded down and never negative:
 * a token's remaining life as the answers carry it (`expiresIn`), so that a client counts it
 * on its own clock from the answer's receipt instead of comparing the server's `expiresAt`
 * with a clock that may be minutes off.
 */
export function secondsLeft(expiresAt: Date | number, now = Date.now()): number {
  return Math.max(0, Math.floor((Number(expiresAt) - now) / 1000));
}

/**
 * Checks the signature, then the expiry, then the claims' shape.
 * @throws JunctionError GW_TOKEN_INVALID or GW_TOKEN_EXPIRED
 */
export function verifyToken(token: string, secret: string, now = Date.now()): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION || !parts[1] || !parts[2]) {
    throw new JunctionError('GW_TOKEN_INVALID', 'malformed token');
  }
  const [, body, sig] = parts as [string, string, string];
  const expected = mac(secret, body);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JunctionError('GW_TOKEN_INVALID', 'token signature does not verify');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new JunctionError('GW_TOKEN_INVALID', 'token body is not JSON', { cause });
  }
  const parsed = claimsSchema.safeParse(raw);
  if (!parsed.success) throw new JunctionError('GW_TOKEN_INVALID', 'token claims do not fit', { cause: parsed.error });
  if (parsed.data.exp * 1000 <= now) {
    throw new JunctionError('GW_TOKEN_EXPIRED', `token expired at ${new Date(parsed.data.exp * 1000).toISOString()}`);
  }
  return parsed.data;
}

/** The agent's token epoch `claims` were signed in (tokens from before epochs: 0). */
export function tokenEpoch(claims: Extract<TokenClaims, { kind: 'agent' }>): number {
  return claims.epoch ?? 0;
}

/** When the agent of `claims` logged in with their password (epoch s). */
export function loginTime(claims: Extract<TokenClaims, { kind: 'agent' }>): number {
  return claims.login ?? claims.iat;
}

/**
 * The same principal (a renewed token for a live socket): the same participant, and
 * nothing that a socket's subscriptions or visibility hang on changed (an agent's team, a
 * visitor's linked customer and identity).
 */
export function samePrincipal(a: Principal, b: Principal): boolean {
  if (a.kind === 'agent') return b.kind === 'agent' && a.agentId === b.agentId && a.team === b.team;
  return b.kind === 'visitor' && a.visitorId === b.visitorId && a.customerId === b.customerId && sameIdentity(a.identity, b.identity);
}

/** The principal of verified claims (drops the times). */
export function principalOf(claims: TokenClaims): Principal {
  if (claims.kind === 'agent') return { kind: 'agent', agentId: claims.agentId, team: claims.team, name: claims.name };
  return { kind: 'visitor', visitorId: claims.visitorId, customerId: claims.customerId, identity: claims.identity };
}

/** How a principal appears as a message sender: `agent:<id>` or `visitor:<uuid>`. */
export function participantId(p: Principal): string {
  return p.kind === 'agent' ? `agent:${p.agentId}` : `visitor:${p.visitorId}`;
}
