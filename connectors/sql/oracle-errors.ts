/**
 * Oracle errors (`ORA-nnnnn` from the database, `NJS-nnn` from node-oracledb's Thin driver)
 * to classified `CONN_*` errors, keeping the code in `details.oraCode`. Retryable: the
 * connection was lost or refused, the instance is starting or stopping, a call timed out, a
 * deadlock or a snapshot too old. Not retryable: credentials, privileges, SQL errors.
 */
import { JunctionError, isJunctionError, type ErrorCode } from '../../config/errors.js';

export interface OracleErrorClass {
  code: ErrorCode;
  retryable: boolean;
}

const unreachable = { code: 'CONN_UNREACHABLE', retryable: true } as const;
const timeout = { code: 'CONN_TIMEOUT', retryable: true } as const;

/** The classification table (exported for its test). Unlisted codes: CONN_QUERY_FAILED, not retryable. */
export const ORACLE_ERRORS: Readonly<Record<string, OracleErrorClass>> = {
  // connection lost, refused or the instance going away
  'ORA-00028': unreachable, // your session has been killed
  'ORA-01033': unreachable, // initialization or shutdown in progress
  'ORA-01034': unreachable, // Oracle not available
  'ORA-01089': unreachable, // immediate shutdown in progress
  'ORA-03113': unreachable, // end-of-file on communication channel
  'ORA-03114': unreachable, // not connected to Oracle
  'ORA-03135': unreachable, // connection lost contact
  'ORA-12514': unreachable, // listener does not know the service: also seen while a restarting instance re-registers
  'ORA-12528': unreachable, // listener: all instances are blocking new connections
  'ORA-12537': unreachable, // TNS: connection closed
  'ORA-12541': unreachable, // TNS: no listener
  'ORA-12543': unreachable, // TNS: destination host unreachable
  'ORA-12547': unreachable, // TNS: lost contact
  'ORA-12571': unreachable, // TNS: packet writer failure
  'NJS-500': unreachable, // connection to Oracle Database was closed or broken
  'NJS-501': unreachable, // connection terminated unexpectedly
  'NJS-503': unreachable, // connection could not be established
  'NJS-511': unreachable, // connection to listener refused
  'NJS-518': unreachable, // service not registered with the listener (Thin's ORA-12514)
  'NJS-521': unreachable, // end-of-file on communication channel
  // time limits
  'ORA-01013': timeout, // user requested cancel: what a callTimeout break produces
  'ORA-12170': timeout, // TNS: connect timeout
  'NJS-123': timeout, // call timeout exceeded
  'NJS-510': timeout, // connect timed out
  // transient conflicts
  'ORA-00060': { code: 'CONN_QUERY_FAILED', retryable: true }, // deadlock detected
  'ORA-08177': { code: 'CONN_QUERY_FAILED', retryable: true }, // cannot serialize access
  'ORA-01555': { code: 'CONN_QUERY_FAILED', retryable: true }, // snapshot too old
  // credentials and privileges
  'ORA-01017': { code: 'CONN_AUTH_FAILED', retryable: false }, // invalid username/password
  'ORA-28000': { code: 'CONN_AUTH_FAILED', retryable: false }, // account locked
  'ORA-28001': { code: 'CONN_AUTH_FAILED', retryable: false }, // password expired
  'ORA-01045': { code: 'CONN_PERMISSION', retryable: false }, // lacks CREATE SESSION
  'ORA-00942': { code: 'CONN_PERMISSION', retryable: false }, // table or view does not exist (also: no SELECT grant)
  'ORA-01031': { code: 'CONN_PERMISSION', retryable: false }, // insufficient privileges
  // the statement itself
  'ORA-00904': { code: 'CONN_QUERY_FAILED', retryable: false }, // invalid identifier
};

/** `ORA-00942` / `NJS-500` from an oracledb error (its `code`, else the message's prefix). */
export function oracleCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^(ORA|NJS|DPI|TNS)-\d+$/.test(code)) return code;
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return /^(ORA|NJS|DPI|TNS)-\d+/.exec(message)?.[0];
}

/** The class of an Oracle error; Node socket errors count as unreachable. */
export function oracleErrorClass(err: unknown): OracleErrorClass {
  const code = oracleCode(err);
  if (code && ORACLE_ERRORS[code]) return ORACLE_ERRORS[code];
  const errno = (err as { code?: unknown } | null)?.code;
  if (typeof errno === 'string' && /^E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|TIMEDOUT|PIPE|NOTFOUND|AI_AGAIN)$/.test(errno)) return unreachable;
  return { code: 'CONN_QUERY_FAILED', retryable: false };
}

/**
 * A classified error for `err`, raised while working for `source`. When `aborted`, a
 * broken call is CONN_ABORTED (we asked for it).
 */
export function oracleError(err: unknown, source: string, aborted = false): JunctionError {
  if (isJunctionError(err)) return err;
  const oraCode = oracleCode(err);
  const errorNum = (err as { errorNum?: unknown } | null)?.errorNum;
  const details = { ...(oraCode ? { oraCode } : {}), ...(typeof errorNum === 'number' ? { errorNum } : {}) };
  // The first line carries the code and text; later lines repeat connection descriptors.
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  if (aborted) return new JunctionError('CONN_ABORTED', `${source}: call cancelled`, { cause: err, where: { source }, details });
  const { code, retryable } = oracleErrorClass(err);
  return new JunctionError(code, `${source}: ${message}`, { cause: err, where: { source }, details, retryable });
}
