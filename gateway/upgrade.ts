/**
 * Authentication at the WebSocket upgrade, before `handleUpgrade`: a refused client never
 * gets a socket. The token travels in `Sec-WebSocket-Protocol` (`junction.v1, bearer.<token>`):
 * browsers cannot set headers on a WebSocket, and a `?token=` query string would end up in
 * proxy and access logs. The server selects `junction.v1`, never echoing the token.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { JunctionError } from '../config/errors.js';
import { principalOf, tokenEpoch, verifyToken, type Principal } from './auth/token.js';
import type { GatewayContext } from './context.js';
import { httpStatus } from './http/errors.js';
import { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from './protocol.js';
import { checkAgentToken } from './http/bearer.js';

/** The offered subprotocols of an upgrade request. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return header ? header.split(',').map((p) => p.trim()).filter(Boolean) : [];
}

/**
 * A page this gateway served itself (the agent console, the demo shop) connects from its own
 * origin: the browser sets both Origin and Host, and a page of another site cannot make them
 * agree, so this needs no entry in `gateway.allowed_origins`.
 */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** Who a socket speaks for, and until when (epoch ms: its token's expiry; an `auth` frame extends it). */
export interface Authenticated {
  principal: Principal;
  expiresAt: number;
  /** Agents: the token epoch the token was signed in, to refuse it once revoked. */
  tokenEpoch?: number;
}

/** Checks Origin and token; for an agent, that they are still enabled. @throws JunctionError */
export async function authenticateUpgrade(req: IncomingMessage, ctx: GatewayContext): Promise<Authenticated> {
  const origin = req.headers.origin;
  if (origin === undefined ? ctx.settings.require_origin : !ctx.settings.allowed_origins.includes(origin) && !sameOrigin(origin, req.headers.host)) {
    throw new JunctionError('GW_ORIGIN_REFUSED', `origin ${origin ?? '(none)'} is not allowed`);
  }
  const offered = offeredProtocols(req);
  const bearer = offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  if (!bearer) throw new JunctionError('GW_AUTH_REQUIRED', `offer subprotocols "${SUBPROTOCOL}" and "${TOKEN_SUBPROTOCOL_PREFIX}<token>"`);
  if (!offered.includes(SUBPROTOCOL)) throw new JunctionError('GW_BAD_REQUEST', `offer the "${SUBPROTOCOL}" subprotocol`);
  const claims = verifyToken(bearer.slice(TOKEN_SUBPROTOCOL_PREFIX.length), ctx.settings.token_secret);
  const principal = principalOf(claims);
  await checkAgentToken(ctx, claims);
  return { principal, expiresAt: claims.exp * 1000, ...(claims.kind === 'agent' ? { tokenEpoch: tokenEpoch(claims) } : {}) };
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Answers a refused upgrade with a plain HTTP response carrying the code, then drops the socket. */
export function refuseUpgrade(socket: Duplex, err: JunctionError): void {
  const status = httpStatus(err.code);
  const body = JSON.stringify({ error: { code: err.code, message: err.message } });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Junction-Error: ${err.code}\r\nConnection: close\r\n\r\n${body}`,
  );
}
