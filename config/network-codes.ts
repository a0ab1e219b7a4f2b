/**
 * Socket error codes of a peer that cannot be reached or a connection that dropped, as Node,
 * undici (fetch) and axios (under `soap`) report them before any server answered. One list,
 * so that the connectors, the pipeline's retry policy and the CLI classify them alike.
 * Timeouts are in it: callers that name a timeout apart (`CONN_TIMEOUT`) test for it first.
 */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  // undici: the socket failed or closed, or connecting, headers or body timed out.
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** True when `code` (an error's `code`) says the network, not the server's answer, failed. */
export function isNetworkErrorCode(code: unknown): code is string {
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
}
