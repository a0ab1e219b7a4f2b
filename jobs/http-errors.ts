/**
 * Errors as the ops server answers them: `{ "error": { "code", "message", "where"? } }` with
 * an HTTP status chosen by code. Messages are redacted with the config's secrets; anything
 * that is not a JunctionError is an OPS_INTERNAL 500 whose details stay in the server log.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type * as z from 'zod';
import { isJunctionError, JunctionError, type ErrorCode } from '../config/errors.js';
import type { Logger } from '../config/log.js';
import { redact } from '../config/redact.js';
import { clientError } from '../config/client-error.js';

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  OPS_BAD_REQUEST: 400,
  OPS_UNSUPPORTED_MEDIA_TYPE: 415,
  OPS_UNAUTHORIZED: 401,
  OPS_NOT_FOUND: 404,
  JOB_UNKNOWN_SCHEDULE: 404,
  CFG_UNKNOWN_REF: 404,
  CONN_UNKNOWN_STREAM: 404,
  SYNC_NO_MAPPING: 422,
  CONN_SOURCE_DISABLED: 422,
  OPS_NO_TOKEN: 503,
  OPS_NOT_READY: 503,
  JOB_SCHEMA_MISSING: 503,
  GW_WEB_NOT_BUILT: 503,
};

/** The HTTP status of a JunctionError: by code, else 503 when retrying can help, else 500. */
export function httpStatus(err: JunctionError): number {
  return STATUS_BY_CODE[err.code] ?? (err.retryable ? 503 : 500);
}

export function sendError(res: Response, status: number, code: ErrorCode, message: string, where?: object): void {
  res.status(status).json({ error: { code, message, ...(where ? { where } : {}) } });
}

/** `body.mode: Invalid option…; query.limit: …` — every zod issue with its path. */
export function badRequest(error: z.ZodError, part: 'body' | 'query' | 'params'): JunctionError {
  const message = error.issues.map((i) => `${[part, ...i.path].join('.')}: ${i.message}`).join('; ');
  return new JunctionError('OPS_BAD_REQUEST', message, { where: { path: [part, ...(error.issues[0]?.path ?? [])].join('.') } });
}

/** The express error handler of the ops server (last middleware). */
export function errorHandler(log: Logger, secrets: object): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const client = clientError(err);
    if (client) {
      const code = client.status === 415 ? 'OPS_UNSUPPORTED_MEDIA_TYPE' : 'OPS_BAD_REQUEST';
      sendError(res, client.status, code, `${client.part}: ${redact(client.message, secrets)}`, { path: client.part });
      return;
    }
    if (isJunctionError(err)) {
      const status = httpStatus(err);
      if (status >= 500) log.warn({ err, path: req.path }, 'ops request failed');
      sendError(res, status, err.code, redact(err.message, secrets), err.where);
      return;
    }
    log.error({ err, path: req.path }, 'ops request failed');
    sendError(res, 500, 'OPS_INTERNAL', `internal error: ${redact((err as Error)?.message ?? String(err), secrets)}`);
  };
}
