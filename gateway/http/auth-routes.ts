/**
 * `POST /api/auth/login` (agents: email + password → a short-lived token),
 * `POST /api/auth/refresh` (agents: a still-valid token → a fresh one, for as long as
 * `gateway.agent_login_max_s` after the password login) and
 * `POST /api/visitor/session` (visitors: a token, optionally linked to a signed identity;
 * with a still-valid visitor token as bearer it renews the same visitor, unless it carried an
 * identity and a different one is signed now).
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import * as z from 'zod';
import { JunctionError } from '../../config/errors.js';
import { sameIdentity, signedIdentitySchema, verifyIdentity, type IdentityClaims } from '../auth/identity.js';
import { hashPassword, needsRehash, verifyDummy, verifyPassword } from '../auth/password.js';
import { loginTime, secondsLeft, signToken, tokenEpoch } from '../auth/token.js';
import type { GatewayContext } from '../context.js';
import { agentEmail, findAgentForLogin, getAgent, replacePasswordHash, revokedLogin } from '../store/agents.js';
import { findCustomerByIdentity } from '../store/customers.js';
import { bearerClaims, bearerPrincipal } from './bearer.js';
import { parseBody } from './errors.js';

// No NUL in the email: PostgreSQL text cannot hold it, the lookup would fail as a 500.
const loginSchema = z.strictObject({ email: z.string().min(3).max(254).refine((s) => !s.includes('\u0000'), { error: 'must not contain U+0000 (NUL)' }), password: z.string().min(1).max(1024) });

/**
 * Failed logins a minute from one address, whatever the email (guessing across accounts).
 * A constant: `gateway:` has no section for login limits yet.
 */
export const LOGIN_FAILURES_PER_ADDRESS = 30;

const visitorSessionSchema = signedIdentitySchema.partial();

/**
 * The client's address for the per-address limits: `req.ip`, which is the connection's
 * address unless `gateway.trust_proxy` says whose `X-Forwarded-For` to believe (behind a load
 * balancer every connection comes from the balancer, and all visitors would share a budget).
 */
const clientAddress = (req: express.Request): string => req.ip ?? '';

export function authRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();
  // Password guessing: 10 tries a minute per address and account (keyed by the email as the
  // lookup normalizes it, so " ann@x" is not a fresh budget for ann@x), and across accounts
  // LOGIN_FAILURES_PER_ADDRESS failed tries a minute per address. Successful logins give their
  // point back there, so an office behind one NAT (or a bench logging in hundreds of agents)
  // is not held up.
  const loginLimiter = new RateLimiterMemory({ points: 10, duration: 60 });
  const addressLimiter = new RateLimiterMemory({ points: LOGIN_FAILURES_PER_ADDRESS, duration: 60 });
  // New visitors a minute per address: each may open a conversation that lands in an agent's
  // queue, so a script minting visitors would flood the agents. Renewals do not count.
  const perMinute = ctx.settings.visitor_sessions_per_minute;
  const visitorLimiter = perMinute > 0 ? new RateLimiterMemory({ points: perMinute, duration: 60 }) : null;

  router.post('/api/auth/login', async (req, res) => {
    const { email, password } = parseBody(loginSchema, req.body);
    const address = clientAddress(req);
    try {
      await addressLimiter.consume(address);
      await loginLimiter.consume(`${address}|${agentEmail(email)}`);
    } catch {
      throw new JunctionError('GW_RATE_LIMITED', 'too many login attempts; wait a minute');
    }
    const agent = await findAgentForLogin(ctx.pool, email);
    const ok = agent ? await verifyPassword(password, agent.passwordHash) : await verifyDummy(password);
    if (!agent || !ok) throw new JunctionError('GW_BAD_CREDENTIALS', 'unknown email or wrong password');
    await addressLimiter.reward(address, 1);
    if (agent.disabled) throw new JunctionError('GW_AGENT_DISABLED', 'this agent is disabled');
    if (needsRehash(agent.passwordHash)) {
      // Legacy scrypt (or weaker argon2) hash: replace it now that the password is known.
      // A failure costs nothing but another try at the next login.
      const verified = agent.passwordHash;
      await hashPassword(password)
        .then((fresh) => replacePasswordHash(ctx.pool, agent.id, verified, fresh))
        .catch((err: unknown) => ctx.log.warn({ err, agentId: agent.id }, 'password hash not upgraded'));
    }
    // Capped like a refresh: with agent_token_ttl_s above agent_login_max_s, the first token
    // would otherwise outlive the login's maximum age.
    const ttl = Math.min(ctx.settings.agent_token_ttl_s, ctx.settings.agent_login_max_s);
    const { token, expiresAt } = signToken({ kind: 'agent', agentId: agent.id, team: agent.team, name: agent.name }, ctx.settings.token_secret, ttl, Date.now(), undefined, agent.tokenEpoch);
    res.json({ token, expiresAt: expiresAt.toISOString(), expiresIn: secondsLeft(expiresAt), agent: { id: agent.id, email: agent.email, name: agent.name, team: agent.team } });
  });

  // A console left open renews its token before it expires, so its socket (which closes at
  // the token's expiry) never drops. The agent is read again: a disabled one gets nothing, a
  // moved one a token for the new team. Refreshes never reach past the login's maximum age.
  router.post('/api/auth/refresh', async (req, res) => {
    const claims = bearerClaims(req, ctx);
    if (!claims) throw new JunctionError('GW_AUTH_REQUIRED', 'send the current token as Authorization: Bearer <token>');
    if (claims.kind !== 'agent') throw new JunctionError('GW_FORBIDDEN', 'visitors renew their token at POST /api/visitor/session');
    const now = Math.floor(Date.now() / 1000);
    const loginAt = loginTime(claims);
    const left = loginAt + ctx.settings.agent_login_max_s - now;
    if (left <= 0) throw new JunctionError('GW_TOKEN_EXPIRED', `this login is older than ${ctx.settings.agent_login_max_s} s; log in again`);
    const agent = await getAgent(ctx.pool, claims.agentId);
    if (!agent) throw new JunctionError('GW_TOKEN_INVALID', `agent ${claims.agentId} does not exist`);
    if (agent.disabled) throw new JunctionError('GW_AGENT_DISABLED', 'this agent is disabled');
    const revoked = revokedLogin(agent, tokenEpoch(claims));
    if (revoked) throw new JunctionError('GW_TOKEN_INVALID', revoked);
    const ttl = Math.min(ctx.settings.agent_token_ttl_s, left);
    const { token, expiresAt } = signToken({ kind: 'agent', agentId: agent.id, team: agent.team, name: agent.name }, ctx.settings.token_secret, ttl, now * 1000, loginAt, agent.tokenEpoch);
    res.json({ token, expiresAt: expiresAt.toISOString(), expiresIn: secondsLeft(expiresAt), agent: { id: agent.id, email: agent.email, name: agent.name, team: agent.team } });
  });

  const consumeVisitor = (address: string) =>
    visitorLimiter!.consume(address).then(
      () => undefined,
      () => {
        throw new JunctionError('GW_RATE_LIMITED', `more than ${perMinute} new visitor sessions a minute from this address; wait a minute`);
      },
    );

  router.post('/api/visitor/session', async (req, res) => {
    const body = parseBody(visitorSessionSchema, req.body);
    const previous = bearerPrincipal(req, ctx);
    if (previous && previous.kind !== 'visitor') throw new JunctionError('GW_FORBIDDEN', 'an agent token cannot renew a visitor session');
    if (!previous && visitorLimiter) await consumeVisitor(clientAddress(req));
    let identity: IdentityClaims | null = previous?.identity ?? null;
    let customerId = previous?.customerId ?? null;
    if (body.identity !== undefined || body.signature !== undefined) {
      if (body.identity === undefined || body.signature === undefined || body.timestamp === undefined) {
        throw new JunctionError('GW_BAD_IDENTITY_SIGNATURE', 'an identity claim needs identity, timestamp and signature; unsigned claims are refused');
      }
      identity = verifyIdentity(
        { identity: body.identity, timestamp: body.timestamp, signature: body.signature },
        { secret: ctx.settings.identity_secret, maxSkewSeconds: ctx.settings.identity_max_skew_s, region: ctx.region },
      );
      customerId = await findCustomerByIdentity(ctx.pool, identity, ctx.settings.external_id_kind);
    }
    // Visibility is by visitorId: a renewal that signs in someone else (a shared device, a
    // logout and login on the retailer's site) starts a new visitor, or B would read A's chats.
    const sameVisitor = previous && (previous.identity === null || sameIdentity(previous.identity, identity));
    // A renewal that starts a new visitor counts as a new session: alternating two signed
    // identities on one token would otherwise mint visitors past the limit.
    if (previous && !sameVisitor && visitorLimiter) await consumeVisitor(clientAddress(req));
    const visitorId = sameVisitor ? previous.visitorId : randomUUID();
    const { token, expiresAt } = signToken({ kind: 'visitor', visitorId, customerId, identity }, ctx.settings.token_secret, ctx.settings.visitor_token_ttl_s);
    res.json({ token, expiresAt: expiresAt.toISOString(), expiresIn: secondsLeft(expiresAt), visitorId, identified: identity !== null, customerLinked: customerId !== null });
  });

  return router;
}
