/** `Authorization: Bearer <token>` for the REST API: the same tokens as the WebSocket upgrade. */
import type { NextFunction, Request, Response } from 'express';
import { JunctionError } from '../../config/errors.js';
import { principalOf, tokenEpoch, verifyToken, type Principal, type TokenClaims } from '../auth/token.js';
import type { GatewayContext } from '../context.js';
import { getAgent, revokedLogin } from '../store/agents.js';

/** The verified claims of a request's bearer token, or undefined when it has no Authorization header. @throws JunctionError */
export function bearerClaims(req: Request, ctx: GatewayContext): TokenClaims | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer ([A-Za-z0-9._-]+)$/.exec(header);
  if (!m) throw new JunctionError('GW_TOKEN_INVALID', 'expected Authorization: Bearer <token>');
  return verifyToken(m[1]!, ctx.settings.token_secret);
}

/** The principal of a request's bearer token, or undefined when it has no Authorization header. @throws JunctionError */
export function bearerPrincipal(req: Request, ctx: GatewayContext): Principal | undefined {
  const claims = bearerClaims(req, ctx);
  return claims && principalOf(claims);
}

/**
 * Refuses an agent's token that no longer fits the agent: gone, disabled, revoked (a login
 * before the password changed or the agent was disabled), or moved to another team since it
 * was signed (the team decides which queue and teammates it sees; a moved agent renews at
 * POST /api/auth/refresh, which signs the new team). @throws JunctionError
 */
export async function checkAgentToken(ctx: GatewayContext, claims: TokenClaims): Promise<void> {
  if (claims.kind !== 'agent') return;
  const principal = principalOf(claims) as Extract<Principal, { kind: 'agent' }>;
  const agent = await getAgent(ctx.pool, principal.agentId);
  if (!agent) throw new JunctionError('GW_TOKEN_INVALID', `agent ${principal.agentId} does not exist`);
  if (agent.disabled) throw new JunctionError('GW_AGENT_DISABLED', `agent ${principal.agentId} is disabled`);
  const revoked = revokedLogin(agent, tokenEpoch(claims));
  if (revoked) throw new JunctionError('GW_TOKEN_INVALID', revoked);
  if (agent.team !== principal.team) {
    throw new JunctionError('GW_TOKEN_INVALID', `agent ${principal.agentId} moved from team ${principal.team} to ${agent.team}: renew the token at POST /api/auth/refresh`);
  }
}

/** Middleware: requires a valid token (and an enabled agent of the token's team); puts the principal in `res.locals.principal`. */
export function requireAuth(ctx: GatewayContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const claims = bearerClaims(req, ctx);
    if (!claims) throw new JunctionError('GW_AUTH_REQUIRED', 'this endpoint needs Authorization: Bearer <token>');
    await checkAgentToken(ctx, claims);
    res.locals.principal = principalOf(claims);
    next();
  };
}

export function principalOfResponse(res: Response): Principal {
  return res.locals.principal as Principal;
}
