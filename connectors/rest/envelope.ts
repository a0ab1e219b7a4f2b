/**
 * The `{code, msg, data}` wrapper legacy APIs put around every answer, HTTP 200 included:
 * success is a declared value of `code`; anything else is an error whose code and message
 * are kept. Declared code lists turn some of them into auth failures (a wrong signature is
 * not worth retrying), rate limits (retryable) or, for lookups, "not found".
 */
import { JunctionError } from '../../config/errors.js';
import type { JsonValue, SourceRecord } from '../types.js';

/** The `envelope:` of a rest source (resolved config). */
export interface EnvelopeConfig {
  code: string;
  success: string | number | boolean;
  msg: string;
  list: string;
  total?: string | undefined;
  auth_codes: readonly (string | number | boolean)[];
  rate_limit_codes: readonly (string | number | boolean)[];
  not_found_codes: readonly (string | number | boolean)[];
}

/** The value at a dotted path (`data.list`); undefined when any step is missing. */
export function getPath(value: unknown, path: string): unknown {
  let cur = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

// Codes arrive as 0 or "0" depending on the PHP version that wrote the API.
const same = (a: unknown, b: unknown) => a !== undefined && a !== null && String(a) === String(b);
const listed = (list: readonly unknown[], code: unknown) => list.some((c) => same(code, c));

/** A declared not-found code: lookups answer null, a stream read fails with CONN_API_ERROR. */
export class NotFound extends JunctionError {}

/**
 * Checks the envelope of a parsed body: returns when `code` is the success value, else
 * throws the classified error with `code` and `msg` in `details`.
 */
export function checkEnvelope(body: unknown, env: EnvelopeConfig | undefined, where: { source: string; path: string }): void {
  if (!env) return;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new JunctionError('CONN_BAD_RESPONSE', `${where.path}: expected an object with ${env.code}, got ${Array.isArray(body) ? 'an array' : typeof body}`, {
      where: { source: where.source },
    });
  }
  const code = getPath(body, env.code);
  if (same(code, env.success)) return;
  const msg = getPath(body, env.msg);
  const details = { code: code ?? null, msg: msg ?? null };
  const text = `${where.path}: the API answered code ${JSON.stringify(code ?? null)}${typeof msg === 'string' ? ` (${msg})` : ''}`;
  if (code === undefined) {
    throw new JunctionError('CONN_BAD_RESPONSE', `${where.path}: the response has no ${env.code} field`, { where: { source: where.source }, details });
  }
  if (listed(env.not_found_codes, code)) throw new NotFound('CONN_API_ERROR', text, { where: { source: where.source }, details });
  if (listed(env.auth_codes, code)) throw new JunctionError('CONN_AUTH_FAILED', text, { where: { source: where.source }, details });
  if (listed(env.rate_limit_codes, code)) {
    throw new JunctionError('CONN_RATE_LIMITED', text, { where: { source: where.source }, details, retryable: true });
  }
  throw new JunctionError('CONN_API_ERROR', text, { where: { source: where.source }, details });
}

/**
 * The records at `path` of a body: an array of objects. A null list is an empty page (legacy
 * APIs answer `"list": null` past the end); a missing one is CONN_BAD_RESPONSE, as a wrong
 * `record_path` must not read as an empty source.
 */
export function recordsAt(body: unknown, path: string | undefined, where: { source: string; path: string }): SourceRecord[] {
  const list = path === undefined ? body : getPath(body, path);
  if (list === null) return [];
  if (list === undefined) {
    throw new JunctionError('CONN_BAD_RESPONSE', `${where.path}: the response has no ${path ?? 'records'}`, { where: { source: where.source } });
  }
  if (!Array.isArray(list)) {
    throw new JunctionError('CONN_BAD_RESPONSE', `${where.path}: expected a list at ${path ?? 'the top level'}, got ${typeof list}`, {
      where: { source: where.source },
    });
  }
  for (const item of list) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new JunctionError('CONN_BAD_RESPONSE', `${where.path}: expected records (objects) at ${path ?? 'the top level'}, got ${JSON.stringify(item)}`, {
        where: { source: where.source },
      });
    }
  }
  return list as SourceRecord[];
}

/** A lookup's answer at `path`: one record, a list of records, or null (a null there). */
export function lookupResultAt(body: unknown, path: string | undefined, where: { source: string; path: string }): SourceRecord | SourceRecord[] | null {
  const value = (path === undefined ? body : getPath(body, path)) as JsonValue | undefined;
  if (value === null) return null;
  if (value === undefined) {
    throw new JunctionError('CONN_BAD_RESPONSE', `${where.path}: the response has no ${path ?? 'body'} (check the lookup's record_path)`, { where: { source: where.source } });
  }
  if (Array.isArray(value)) return recordsAt(value, undefined, where);
  if (typeof value === 'object') return value;
  throw new JunctionError('CONN_BAD_RESPONSE', `${where.path}: expected a record at ${path ?? 'the top level'}, got ${typeof value}`, {
    where: { source: where.source },
  });
}
