/**
 * node-postgres errors to classified `CONN_*` errors. The SQLSTATE (pg's `DatabaseError.code`)
 * stays in `details.sqlstate`; `retryable` is set only for failures that can pass on their own
 * (connection lost, server restarting, timeouts, deadlocks).
 */
import { JunctionError, isJunctionError, type ErrorCode } from '../../config/errors.js';
import { isNetworkErrorCode } from '../../config/network-codes.js';

interface Class {
  code: ErrorCode;
  retryable: boolean;
}

/** SQLSTATEs with their own class; the rest of class 08 and 57P is connection loss. */
const BY_SQLSTATE: Record<string, Class> = {
  '28P01': { code: 'CONN_AUTH_FAILED', retryable: false }, // invalid_password
  '28000': { code: 'CONN_AUTH_FAILED', retryable: false }, // invalid_authorization_specification
  '42501': { code: 'CONN_PERMISSION', retryable: false }, // insufficient_privilege
  '3D000': { code: 'CONN_UNREACHABLE', retryable: false }, // invalid_catalog_name: no such database
  '57014': { code: 'CONN_TIMEOUT', retryable: true }, // query_canceled: statement_timeout
  '53300': { code: 'CONN_UNREACHABLE', retryable: true }, // too_many_connections
  '40001': { code: 'CONN_QUERY_FAILED', retryable: true }, // serialization_failure
  '40P01': { code: 'CONN_QUERY_FAILED', retryable: true }, // deadlock_detected
  '55P03': { code: 'CONN_QUERY_FAILED', retryable: true }, // lock_not_available
};

/** The classification of a pg error by SQLSTATE, Node error code or message. */
export function pgErrorClass(err: unknown): Class {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const known = BY_SQLSTATE[code];
    if (known) return known;
    if (code.startsWith('08') || code.startsWith('57P')) return { code: 'CONN_UNREACHABLE', retryable: true };
    if (isNetworkErrorCode(code)) return { code: 'CONN_UNREACHABLE', retryable: true };
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/timeout exceeded when trying to connect|Query read timeout/i.test(message)) return { code: 'CONN_TIMEOUT', retryable: true };
  if (/Connection terminated|connection error|Client has encountered a connection error|not queryable/i.test(message)) {
    return { code: 'CONN_UNREACHABLE', retryable: true };
  }
  return { code: 'CONN_QUERY_FAILED', retryable: false };
}

/** The pg fields worth keeping: the SQLSTATE and where in the schema it happened. */
function pgDetails(err: unknown): Record<string, unknown> | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as Record<string, unknown>;
  const details: Record<string, unknown> = {};
  if (typeof e.code === 'string') details[/^[0-9A-Z]{5}$/.test(e.code) ? 'sqlstate' : 'errno'] = e.code;
  for (const key of ['severity', 'schema', 'table', 'column', 'routine'] as const) {
    if (typeof e[key] === 'string') details[key] = e[key];
  }
  return Object.keys(details).length ? details : undefined;
}

/**
 * A classified error for `err`, raised while working for `source`. When `aborted`, a
 * cancelled statement is CONN_ABORTED (it was us, not a timeout).
 */
export function pgError(err: unknown, source: string, aborted = false): JunctionError {
  if (isJunctionError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (aborted) return new JunctionError('CONN_ABORTED', `${source}: statement cancelled`, { cause: err, where: { source }, details: pgDetails(err) });
  const { code, retryable } = pgErrorClass(err);
  const fallback = typeof (err as { code?: unknown } | null)?.code === 'string' ? String((err as { code: string }).code) : 'connection failed';
  return new JunctionError(code, `${source}: ${message || fallback}`, { cause: err, where: { source }, details: pgDetails(err), retryable });
}
