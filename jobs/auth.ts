/**
 * The admin token check of the ops server (`ops.admin_token`), for `/api/ops`, `/ops/queues`
 * and `/metrics`. Accepted as `Authorization: Bearer <token>` (API clients, Prometheus'
 * `authorization` / `bearer_token_file`) or as HTTP Basic with the token as the password and
 * any user name (browsers: the queue board asks once per session and the browser resends it
 * to the board's own API calls). No cookie and no token in a URL, so the token never lands in
 * access logs, browser history or Referer headers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sendError } from './http-errors.js';

export interface AdminAuthOptions {
  /** The configured token; without one every protected route answers 503 OPS_NO_TOKEN. */
  token: string | undefined;
  /**
   * Which scheme a 401 asks for: `Basic` makes a browser show its login prompt (the queue
   * board), `Bearer` does not (API clients).
   * @defaultValue 'Bearer'
   */
  challenge?: 'Bearer' | 'Basic';
}

const REALM = 'junction ops';

/** The credential a request presents, from a Bearer or a Basic header (its password). */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value || undefined;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1) || undefined;
}

/** Constant-time comparison; hashing first gives equal lengths, so length leaks nothing either. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Middleware: passes requests that carry the admin token; 401 / 503 JSON errors otherwise. */
export function requireAdmin(options: AdminAuthOptions): RequestHandler {
  const challenge = options.challenge ?? 'Bearer';
  return (req, res, next) => {
    if (!options.token) {
      sendError(res, 503, 'OPS_NO_TOKEN', 'no ops.admin_token is configured: the ops API, queue board and /metrics are disabled');
      return;
    }
    const presented = presentedToken(req.get('authorization'));
    if (presented !== undefined && tokenMatches(presented, options.token)) {
      next();
      return;
    }
    res.set('WWW-Authenticate', `${challenge} realm="${REALM}"${challenge === 'Basic' ? ', charset="UTF-8"' : ''}`);
    sendError(res, 401, 'OPS_UNAUTHORIZED', presented === undefined ? 'admin token required (Authorization: Bearer <token>)' : 'wrong admin token');
  };
}
