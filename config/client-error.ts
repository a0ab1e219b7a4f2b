/** Requests an HTTP server could not read, told apart from its own failures (the ops server and the gateway share it). */
import { isJunctionError } from './errors.js';

/**
 * A request the server could not read, as body-parser and express's router report it: an
 * error with a 4xx `status` that http-errors marked `expose` (malformed or oversized JSON, an
 * unsupported charset or content encoding: 415, a body that does not inflate, an aborted
 * upload), or the router's URIError for a path parameter that is not valid percent-encoding.
 * Anything else thrown with a `status` (a client library's error, say) is not the request's
 * fault and stays a 500.
 */
export function clientError(err: unknown): { status: number; message: string; part: 'path' | 'body' } | null {
  if (typeof err !== 'object' || err === null || isJunctionError(err)) return null;
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown; code?: unknown };
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return null;
  const decoding = err instanceof URIError;
  if (e.expose !== true && !decoding) return null;
  let message = typeof e.message === 'string' && e.message ? e.message : 'unreadable';
  // zlib's own words ("incorrect header check") do not say what was being read.
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) message = `does not decompress as its Content-Encoding says: ${message}`;
  return { status, message, part: decoding ? 'path' : 'body' };
}
