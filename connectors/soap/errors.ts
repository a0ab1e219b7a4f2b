/**
 * Classifies what the `soap` client and axios throw into catalogue codes, keeping the SOAP
 * fault's own fields and the HTTP status in `details`.
 *
 * Retry policy: network failures, timeouts and HTTP 5xx without a SOAP envelope are
 * transient. SOAP faults follow their code: `Client` (SOAP 1.2 `Sender`) means the request
 * was wrong and will stay wrong, so it is not retryable; `Server` (`Receiver`) means the
 * service failed while processing it (the demo raises it when its database is down), which
 * is usually transient, so it is retryable, with the bounded back-off of the reader.
 */
import { JunctionError, type ErrorWhere } from '../../config/errors.js';
import { isNetworkErrorCode } from '../../config/network-codes.js';

interface FaultFields {
  faultcode?: unknown;
  faultstring?: unknown;
  detail?: unknown;
  Code?: { Value?: unknown };
  Reason?: { Text?: unknown };
}

interface SoapLibError {
  code?: string;
  message?: string;
  root?: { Envelope?: { Body?: { Fault?: FaultFields } } };
  Fault?: FaultFields & { statusCode?: number };
  response?: { status?: number };
  isAxiosError?: boolean;
}

/**
 * axios errors and the `soap` client's errors carry the request config and response, whose
 * headers hold credentials (basic auth, WS-Security in the body): the kept cause is a plain
 * copy with the message and code only.
 */
function safeCause(err: unknown): unknown {
  if (err === null || typeof err !== 'object') return err;
  const e = err as SoapLibError & { config?: unknown };
  if (e.config === undefined && e.response === undefined) return err;
  return Object.assign(new Error(e.message ?? 'SOAP call failed'), e.code === undefined ? {} : { code: e.code });
}

/** Why a call ended early when its signal fired. */
export type AbortReason = 'timeout' | 'aborted';

/** The local part of a fault code: `SOAP-ENV:Server.Database` → `Server`. */
export function faultClass(code: string): string {
  const local = code.includes(':') ? code.slice(code.lastIndexOf(':') + 1) : code;
  return local.split('.')[0] ?? local;
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && '$value' in (value as object)) return String((value as { $value: unknown }).$value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function soapFault(fault: FaultFields, status: number | undefined, what: string, where: ErrorWhere, cause: unknown): JunctionError {
  const faultcode = text(fault.faultcode) ?? text(fault.Code?.Value) ?? 'unknown';
  const faultstring = text(fault.faultstring) ?? text(fault.Reason?.Text) ?? '';
  const cls = faultClass(faultcode);
  const details: Record<string, unknown> = { faultcode, faultstring };
  if (fault.detail !== undefined) details.detail = fault.detail;
  if (status !== undefined) details.httpStatus = status;
  return new JunctionError('CONN_SOAP_FAULT', `${what}: SOAP fault ${faultcode}: ${faultstring}`, {
    cause,
    where,
    details,
    retryable: cls === 'Server' || cls === 'Receiver',
  });
}

/**
 * The error for an HTTP error status whose body is no SOAP envelope (an HTML error page, an
 * empty body: the web server, not the service). 5xx, 408 and 429 are retryable.
 */
export function httpStatusError(status: number, what: string, where: ErrorWhere, cause?: unknown): JunctionError {
  const details = { httpStatus: status };
  if (status === 401 || status === 403) {
    return new JunctionError(status === 401 ? 'CONN_AUTH_FAILED' : 'CONN_PERMISSION', `${what}: HTTP ${status}`, { cause, where, details });
  }
  if (status === 429) return new JunctionError('CONN_RATE_LIMITED', `${what}: HTTP 429`, { cause, where, details, retryable: true });
  return new JunctionError('CONN_HTTP_ERROR', `${what}: HTTP ${status} without a SOAP envelope`, {
    cause,
    where,
    details,
    retryable: status >= 500 || status === 408,
  });
}

/**
 * The catalogue error for a failed call. `abortReason` says whether the call's own signal
 * fired, and why (its deadline or the caller's cancellation); `timeoutMs` is that deadline,
 * for the message.
 */
export function classifySoapError(raw: unknown, what: string, where: ErrorWhere, abortReason?: AbortReason, timeoutMs?: number): JunctionError {
  if (raw instanceof JunctionError) return raw;
  const err = safeCause(raw);
  if (abortReason === 'aborted') return new JunctionError('CONN_ABORTED', `${what}: cancelled`, { cause: err, where });
  const e = (raw ?? {}) as SoapLibError;
  const status = e.response?.status;
  const fault = e.root?.Envelope?.Body?.Fault;
  if (fault) return soapFault(fault, status, what, where, err);
  if (abortReason === 'timeout' || e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') {
    const within = abortReason === 'timeout' && timeoutMs !== undefined ? `not read within ${timeoutMs} ms` : 'no answer within the timeout';
    return new JunctionError('CONN_TIMEOUT', `${what}: ${within}`, { cause: err, where, retryable: true });
  }
  if (isNetworkErrorCode(e.code)) {
    return new JunctionError('CONN_UNREACHABLE', `${what}: ${e.code}`, { cause: err, where, details: { errno: e.code }, retryable: true });
  }
  if (e.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(e.message ?? '')) {
    return new JunctionError('CONN_BAD_RESPONSE', `${what}: response over the size cap`, { cause: err, where });
  }
  // The `soap` package throws a plain { Fault: { faultstring: 'Invalid XML' } } when sax fails.
  const unparsable = e.Fault?.faultstring === 'Invalid XML' || /Cannot parse response/.test(e.message ?? '');
  if (status !== undefined && status >= 400) return httpStatusError(status, what, where, err);
  if (unparsable) {
    return new JunctionError('CONN_BAD_RESPONSE', `${what}: the response is not well-formed XML`, {
      cause: err,
      where,
      details: { reason: text(e.Fault?.detail) ?? e.message },
    });
  }
  const wsdlStatus = /^Invalid WSDL URL: [\s\S]*?Code: (\d{3})/.exec(e.message ?? '');
  if (wsdlStatus) {
    const code = Number(wsdlStatus[1]);
    return new JunctionError(code === 401 ? 'CONN_AUTH_FAILED' : 'CONN_HTTP_ERROR', `${what}: HTTP ${code}`, {
      cause: err,
      where,
      details: { httpStatus: code },
      retryable: code >= 500,
    });
  }
  if (e.isAxiosError && e.code) {
    return new JunctionError('CONN_UNREACHABLE', `${what}: ${e.code}`, { cause: err, where, details: { errno: e.code }, retryable: true });
  }
  return new JunctionError('CONN_BAD_RESPONSE', `${what}: ${e.message ?? String(err)}`, { cause: err, where });
}
