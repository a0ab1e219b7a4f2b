/**
 * Live lookups: a declared path and query whose values are templates with
 * `{{params.NAME}}`, filled with the caller's parameters. Only plain scalars are accepted
 * (an object or array could smuggle operators or extra parameters), and substituted values
 * are URL-encoded (path segments here, query values by the client).
 */
import { JunctionError } from '../../config/errors.js';

/** `lookups.<name>` of a rest source (resolved config). */
export interface RestLookup {
  path: string;
  query: Readonly<Record<string, string | number | boolean>>;
  params: readonly string[];
  timeout_ms: number;
  record_path?: string | undefined;
}

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

type Scalar = string | number | boolean;

/** Checks the caller's parameters: every declared one present, each a finite scalar. */
export function checkParams(source: string, name: string, lookup: RestLookup, params: Record<string, unknown>): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const p of lookup.params) {
    const v = Object.hasOwn(params, p) ? params[p] : undefined;
    if (v === undefined || v === null) {
      throw new JunctionError('CONN_UNKNOWN_LOOKUP', `lookup ${name} needs parameter ${p}`, { where: { source } });
    }
    const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) {
      throw new JunctionError('CONN_UNSAFE_PARAM', `lookup ${name}: parameter ${p} must be a string, number or boolean, got ${Array.isArray(v) ? 'an array' : typeof v}`, {
        where: { source },
      });
    }
    out[p] = v;
  }
  return out;
}

/** Fills `{{params.NAME}}` in `template`; `encode` is applied to each substituted value. */
export function fill(template: string, params: Readonly<Record<string, Scalar>>, encode: (s: string) => string, where: { source: string; name: string }): string {
  return template.replace(PLACEHOLDER, (_m, expr: string) => {
    const m = /^params\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr);
    const value = m ? params[m[1]!] : undefined;
    if (value === undefined) {
      throw new JunctionError('CONN_UNKNOWN_LOOKUP', `lookup ${where.name}: placeholder {{${expr}}} is not one of its params`, { where: { source: where.source } });
    }
    return encode(String(value));
  });
}

/**
 * Segments that URL resolution drops or climbs out of: `.` and `..`, percent-encoded dots
 * included (WHATWG URL treats `%2e` as a dot), so encoding the dots would not help.
 */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Fills the path segment by segment: encodeURIComponent keeps a value inside its segment
 * (it encodes `/`), but leaves `.` alone, so a value making a segment `..` would move the
 * request elsewhere on the source (with its credentials). Such a segment is refused, and so
 * is one a value leaves empty: `/{{params.region}}/{{params.id}}` with an empty region is
 * `//evil.example`, a URL naming another host.
 */
function fillPath(template: string, values: Readonly<Record<string, Scalar>>, where: { source: string; name: string }): string {
  const cut = template.search(/[?#]/);
  const pathPart = cut < 0 ? template : template.slice(0, cut);
  const segments = pathPart.split('/').map((segment) => {
    const filled = fill(segment, values, encodeURIComponent, where);
    if (filled !== segment && (filled === '' || DOT_SEGMENT.test(filled))) {
      throw new JunctionError('CONN_UNSAFE_PARAM', `lookup ${where.name}: a path parameter may not make the path segment "${filled}"`, { where: { source: where.source } });
    }
    return filled;
  });
  return segments.join('/') + (cut < 0 ? '' : fill(template.slice(cut), values, encodeURIComponent, where));
}

/** The lookup's request: path with encoded segments, query values filled (the client encodes them). */
export function lookupRequest(
  source: string,
  name: string,
  lookup: RestLookup,
  params: Record<string, unknown>,
): { path: string; query: Record<string, string> } {
  const values = checkParams(source, name, lookup, params);
  const where = { source, name };
  const path = fillPath(lookup.path, values, where);
  const query = Object.fromEntries(Object.entries(lookup.query).map(([k, v]) => [k, fill(String(v), values, (s) => s, where)]));
  return { path, query };
}
