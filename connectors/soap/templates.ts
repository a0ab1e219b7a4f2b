/**
 * Operation argument templates. String values of `args:` may hold placeholders:
 * `{{cursor}}`, `{{page.token}}`, `{{page.size}}`, `{{window.since}}`, `{{window.until}}`
 * (streams) and `{{params.NAME}}` (lookups).
 *
 * A value that is exactly one placeholder takes the raw value (a page size stays a number)
 * and is left out of the call when that value is absent (the first page has no token, and
 * the WSDL's `minOccurs="0"` means "omit", not "send empty"). A placeholder inside a longer
 * string is replaced by the value's text, or by nothing when absent.
 */
import { JunctionError } from '../../config/errors.js';

export type ArgValue = string | number | boolean;
export type TemplateScope = 'stream' | 'lookup';

/** The values placeholders resolve to for one call. */
export interface TemplateValues {
  cursor?: string | number | null;
  page?: { token?: string | null; size?: number };
  window?: { since?: string; until?: string };
  params?: Record<string, unknown>;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?)\s*\}\}$/;
const STREAM_NAMES = new Set(['cursor', 'page.token', 'page.size', 'window.since', 'window.until']);

/**
 * The placeholder names in `args` that `scope` does not provide (typos, `params.X` not
 * declared in the lookup's `params:`). Used by the config schema and the factory.
 */
export function unknownPlaceholders(args: Record<string, unknown>, scope: TemplateScope, params: readonly string[] = []): string[] {
  const bad: string[] = [];
  for (const value of Object.values(args)) {
    if (typeof value !== 'string') continue;
    for (const match of value.matchAll(PLACEHOLDER)) {
      const name = match[1]!;
      const known =
        scope === 'stream' ? STREAM_NAMES.has(name) : name.startsWith('params.') && params.includes(name.slice('params.'.length));
      if (!known) bad.push(name);
    }
  }
  return bad;
}

function lookupValue(name: string, values: TemplateValues): unknown {
  const [head, tail] = name.split('.') as [string, string | undefined];
  if (head === 'cursor') return values.cursor;
  if (head === 'params' && tail !== undefined) {
    const params = values.params ?? {};
    if (!Object.hasOwn(params, tail) || params[tail] === undefined) {
      throw new JunctionError('CONN_UNKNOWN_LOOKUP', `missing lookup parameter ${tail}`, { details: { param: tail } });
    }
    return params[tail];
  }
  const group = (values as Record<string, Record<string, unknown> | undefined>)[head];
  return tail === undefined || group === undefined ? undefined : group[tail];
}

/**
 * A lookup parameter must be a plain scalar: an object or array would let a caller shape
 * the request beyond the declared arguments.
 */
function scalarParam(name: string, value: unknown): ArgValue | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new JunctionError('CONN_UNSAFE_PARAM', `lookup parameter ${name.slice('params.'.length)} must be a string, number or boolean`, {
    details: { param: name.slice('params.'.length), type: Array.isArray(value) ? 'array' : typeof value },
  });
}

function resolve(name: string, values: TemplateValues): ArgValue | null | undefined {
  const value = lookupValue(name, values);
  if (name.startsWith('params.')) return scalarParam(name, value);
  if (value === undefined || value === null) return value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

/** `args` with every placeholder filled; absent whole-placeholder values are left out. */
export function renderArgs(args: Record<string, ArgValue>, values: TemplateValues): Record<string, ArgValue> {
  const out: Record<string, ArgValue> = {};
  for (const [key, template] of Object.entries(args)) {
    if (typeof template !== 'string') {
      out[key] = template;
      continue;
    }
    const whole = WHOLE.exec(template);
    if (whole) {
      const value = resolve(whole[1]!, values);
      if (value !== undefined && value !== null) out[key] = value;
      continue;
    }
    out[key] = template.replace(PLACEHOLDER, (_m, name: string) => {
      const value = resolve(name, values);
      return value === undefined || value === null ? '' : String(value);
    });
  }
  return out;
}
