/**
 * What a failed sync attempt means for the job: its stable code, whether trying again can
 * help (BullMQ retries with backoff) or not (`UnrecoverableError`), and whether it is the
 * source's fault (it counts towards the source's circuit, pipelines/circuit.ts).
 *
 * JunctionErrors already carry their code and `retryable` (the connectors classify their
 * drivers' errors). Anything else escaped from the hub's own services (PostgreSQL, Redis,
 * ClickHouse) or is a bug; it is classified here by SQLSTATE, socket code or type.
 */
import { formatWhere, isJunctionError } from '../config/errors.js';
import { isNetworkErrorCode } from '../config/network-codes.js';

export interface ErrorClass {
  code: string;
  message: string;
  retryable: boolean;
  /** The source failed (unreachable, timing out, refusing credentials): counts towards its circuit. */
  sourceFault: boolean;
}

/** Connector codes that describe the hub's request or config, not the source's health. */
const NOT_SOURCE_FAULTS = new Set(['CONN_ABORTED', 'CONN_UNKNOWN_STREAM', 'CONN_UNKNOWN_LOOKUP', 'CONN_SOURCE_DISABLED', 'CONN_CURSOR', 'CONN_UNSAFE_PARAM']);

/** SQLSTATEs of failures that pass on their own: serialization failure, deadlock, lock timeout, too many connections. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '53300', '57014']);

/** ClickHouse server error codes that pass on their own (timeouts, memory, too many parts or queries). */
const TRANSIENT_CLICKHOUSE = new Set(['159', '202', '209', '210', '241', '252']);

/** True when running the same work again later can succeed (lost connection, deadlock, timeout). */
export function isTransient(err: unknown): boolean {
  if (isJunctionError(err)) return err.retryable;
  if (isBug(err)) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (TRANSIENT_SQLSTATES.has(code) || /^(08|57P)/.test(code) || isNetworkErrorCode(code)) return true;
    // Any other SQLSTATE (undefined table, constraint) fails the same way next time.
    if (/^[0-9A-Z]{5}$/.test(code)) return false;
    // A ClickHouse server error (numeric code): a schema problem unless it is load or network.
    if (/^\d{1,4}$/.test(code)) return TRANSIENT_CLICKHOUSE.has(code);
  }
  // Lost connections without a code (pg "Connection terminated", ioredis "Connection is
  // closed", ClickHouse "Timeout error") and anything unknown: retry, bounded by the attempts.
  return true;
}

function isBug(err: unknown): boolean {
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The code, retryability and fault of a failed attempt. */
export function classifyError(err: unknown): ErrorClass {
  if (isJunctionError(err)) {
    const sourceFault = err.code.startsWith('CONN_') && !NOT_SOURCE_FAULTS.has(err.code);
    // Run rows and job failure reasons keep only text: the record key or file:line that
    // blocked the stream goes into it, or nobody could tell which one it was.
    const at = formatWhere(err.where);
    return { code: err.code, message: at ? `${err.message} (at ${at.slice(0, -2)})` : err.message, retryable: err.retryable, sourceFault };
  }
  const message = messageOf(err);
  if (isBug(err)) return { code: 'SYNC_INTERNAL', message: `${(err as Error).name}: ${message}`, retryable: false, sourceFault: false };
  return { code: 'SYNC_HUB_FAILED', message, retryable: isTransient(err), sourceFault: false };
}

/** `CODE: message`, the form a job's failedReason takes so that waiting clients can read the code. */
export function failureText(c: Pick<ErrorClass, 'code' | 'message'>): string {
  return `${c.code}: ${c.message}`;
}

/** The code at the head of a failedReason written by {@link failureText}, if any. */
export function codeOfFailure(reason: string | undefined): string | undefined {
  return /^([A-Z]+_[A-Z0-9_]+): /.exec(reason ?? '')?.[1];
}
