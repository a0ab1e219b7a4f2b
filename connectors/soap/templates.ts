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
import { JunctionError, type ErrorWhere } from '../../config/errors.js';

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
    return Object.hasOwn(params, tail) ? params[tail] : undefined;
  }
  const group = (values as Record<string, Record<string, unknown> | undefined>)[head];
  return tail === undefined || group === undefined ? undefined : group[tail];
}

/**
 * The `soap` package sends a string that starts with `<![CDATA[` and ends with `]]>` as it
 * is, unescaped (its utils.js `xmlEscape`), so such a value could close the argument's
 * element and add others. A value holding either marker anywhere is refused: `]]>` alone
 * would also close a CDATA section that an `args:` template opens around the placeholder,
 * and no key, order number or email has one.
 */
const CDATA_MARKER = /<!\[CDATA\[|\]\]>/;

/** Names the lookup and its source in parameter errors. */
export interface ParamWhere {
  lookup?: string | undefined;
  where?: ErrorWhere | undefined;
}

/**
 * A lookup parameter as it may be sent: a plain scalar, as in the REST connector. An object
 * or array would let a caller shape the request beyond the declared arguments; a missing or
 * null one would silently drop a required argument (a whole placeholder with no value is
 * left out of the call), so it is refused like a missing one (CONN_UNKNOWN_LOOKUP).
 */
export function lookupParam(param: string, value: unknown, at: ParamWhere = {}): ArgValue {
  const lookup = at.lookup === undefined ? 'lookup' : `lookup ${at.lookup}`;
  if (value === undefined || value === null) {
    throw new JunctionError('CONN_UNKNOWN_LOOKUP', `${lookup} needs parameter ${param}`, { where: at.where, details: { param } });
  }
  if (typeof value === 'string') {
    if (CDATA_MARKER.test(value)) {
      throw new JunctionError('CONN_UNSAFE_PARAM', `${lookup}: parameter ${param} may not contain <![CDATA[ or ]]> (the SOAP client would send it unescaped)`, {
        where: at.where,
        details: { param },
      });
    }
    return value;
  }
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  const type = Array.isArray(value) ? 'array' : typeof value;
  throw new JunctionError('CONN_UNSAFE_PARAM', `${lookup}: parameter ${param} must be a string, number or boolean, got ${type === 'array' ? 'an array' : type}`, {
    where: at.where,
    details: { param, type },
  });
}

function resolve(name: string, values: TemplateValues): ArgValue | null | undefined {
  const value = lookupValue(name, values);
  // Checked again here, whoever calls: the declared params are checked with their source first.
  if (name.startsWith('params.')) return lookupParam(name.slice('params.'.length), value);
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
