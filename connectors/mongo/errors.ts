/**
 * Classifies `mongodb` driver errors into catalogue codes, keeping the server's `code` and
 * `codeName` in `details`. Network and server-selection failures, timeouts and the server
 * codes the driver itself treats as retryable for reads are retryable; bad credentials,
 * permissions and rejected queries are not.
 */
import {
  MongoError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoOperationTimeoutError,
} from 'mongodb';
import { JunctionError, type ErrorWhere } from '../../config/errors.js';

/** Server error codes after which a read may succeed again (the driver's retryable read codes). */
const RETRYABLE_CODES = new Set([6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
const AUTH_CODES = new Set([18]);
const PERMISSION_CODES = new Set([13]);
const TIMEOUT_CODES = new Set([50, 262]);

function authLike(err: MongoError): boolean {
  return err.name === 'MongoAuthError' || /auth(entication)? failed|SCRAM|not authorized to authenticate/i.test(err.message);
}

/** The catalogue error for a driver failure during `what`. */
export function classifyMongoError(err: unknown, what: string, where: ErrorWhere): JunctionError {
  if (err instanceof JunctionError) return err;
  if (!(err instanceof MongoError)) {
    return new JunctionError('CONN_QUERY_FAILED', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, where });
  }
  if (err instanceof MongoNetworkTimeoutError || err instanceof MongoOperationTimeoutError) {
    return new JunctionError('CONN_TIMEOUT', `${what}: MongoDB did not answer in time`, { cause: err, where, retryable: true });
  }
  if (err instanceof MongoServerSelectionError || err instanceof MongoNetworkError) {
    // The cause of a server-selection failure is often an authentication failure at handshake.
    if (authLike(err)) return new JunctionError('CONN_AUTH_FAILED', `${what}: MongoDB refused the credentials`, { cause: err, where });
    return new JunctionError('CONN_UNREACHABLE', `${what}: MongoDB is unreachable (${err.name})`, { cause: err, where, retryable: true });
  }
  const code = typeof err.code === 'number' ? err.code : undefined;
  const details = { code: err.code, codeName: err instanceof MongoServerError ? err.codeName : undefined };
  if ((code !== undefined && AUTH_CODES.has(code)) || authLike(err)) {
    return new JunctionError('CONN_AUTH_FAILED', `${what}: MongoDB refused the credentials`, { cause: err, where, details });
  }
  if (code !== undefined && PERMISSION_CODES.has(code)) {
    return new JunctionError('CONN_PERMISSION', `${what}: not authorised`, { cause: err, where, details });
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new JunctionError('CONN_TIMEOUT', `${what}: the server stopped the operation at its time limit`, { cause: err, where, details, retryable: true });
  }
  return new JunctionError('CONN_QUERY_FAILED', `${what}: ${err.message}`, {
    cause: err,
    where,
    details,
    retryable: (code !== undefined && RETRYABLE_CODES.has(code)) || err.hasErrorLabel('RetryableError'),
  });
}
