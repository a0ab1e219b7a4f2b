/** How gateway errors answer over HTTP: the status per code, and the JSON body `{ error: { code, message } }`. */
import type { NextFunction, Request, Response } from 'express';
import type * as z from 'zod';
import type { ErrorCode } from '../../config/errors.js';
import { JunctionError, isJunctionError } from '../../config/errors.js';
import type { Logger } from '../../config/log.js';
import { clientError } from '../../config/client-error.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  GW_AUTH_REQUIRED: 401,
  GW_TOKEN_INVALID: 401,
  GW_TOKEN_EXPIRED: 401,
  GW_BAD_CREDENTIALS: 401,
  GW_BAD_IDENTITY_SIGNATURE: 401,
  GW_AGENT_DISABLED: 403,
  GW_ORIGIN_REFUSED: 403,
  GW_FORBIDDEN: 403,
  GW_BAD_REQUEST: 400,
  GW_CONVERSATION_NOT_FOUND: 404,
  GW_AGENT_NOT_FOUND: 404,
  GW_TEAM_NOT_FOUND: 404,
  GW_CUSTOMER_NOT_LINKED: 404,
  GW_RATE_LIMITED: 429,
  GW_TOO_MANY_SOCKETS: 429,
  GW_STORE_UNAVAILABLE: 503,
  GW_SHUTTING_DOWN: 503,
  GW_WEB_NOT_BUILT: 503,
};

export function httpStatus(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** The last express middleware: known errors keep their code, anything else is GW_INTERNAL (logged, not shown). */
export function errorHandler(log: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    let body: ErrorBody;
    let status: number;
    const parserError = err as { type?: string };
    const client = clientError(err);
    if (isJunctionError(err)) {
      body = { error: { code: err.code, message: err.message } };
      status = httpStatus(err.code);
    } else if (client) {
      // Malformed, oversized or undecodable bodies (400, 413, 415) and paths that are not valid percent-encoding.
      const message =
        parserError.type === 'entity.too.large' ? 'request body too large' : parserError.type === 'entity.parse.failed' ? 'request body is not valid JSON' : `${client.part}: ${client.message}`;
      body = { error: { code: 'GW_BAD_REQUEST', message } };
      status = client.status;
    } else {
      log.error({ err }, 'request failed');
      body = { error: { code: 'GW_INTERNAL', message: 'internal error' } };
      status = 500;
    }
    res.status(status).setHeader('X-Junction-Error', body.error.code).json(body);
  };
}

/** Validates a body or query; the first issue becomes a GW_BAD_REQUEST naming its path. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new JunctionError('GW_BAD_REQUEST', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
}
