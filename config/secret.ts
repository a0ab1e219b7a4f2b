/**
 * Secret fields are marked in the schema (like Benthos' `.Secret()`), so redaction finds them
 * by walking the schema next to the data instead of guessing from key names.
 */
import * as z from 'zod';
import { QUERY_SECRET } from './redact.js';

/** `value`: the whole value is secret; `url`: only the password inside the URL is. */
export type SecretKind = 'value' | 'url';

/** The registry of secret schemas. Kept apart from zod's global registry so the JSON Schema stays clean. */
export const secretFields = z.registry<{ secret: SecretKind }>();

/**
 * Marks a string schema as a secret. Copies made afterwards (`.describe()`) keep the mark
 * (zod registries follow `_zod.parent`), and {@link collectSecrets} unwraps `.optional()`
 * and `.default()`.
 */
export function secret<T extends z.ZodType>(schema: T): T {
  secretFields.add(schema, { secret: 'value' });
  return schema;
}

/** Marks a URL schema whose password part (`scheme://user:password@host`) is secret. */
export function secretUrl<T extends z.ZodType>(schema: T): T {
  secretFields.add(schema, { secret: 'url' });
  return schema;
}

// To the authority's last `@`, as drivers read it (see URL_USERINFO in redact.ts).
const URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^:/?#\s]*:([^/?#\s]*)@/gi;

/** The passwords embedded in URLs in `text`, as userinfo or query parameters (raw and percent-decoded). */
export function urlPasswords(text: string): string[] {
  const out: string[] = [];
  const found = [...text.matchAll(URL_PASSWORD)].map((m) => m[1]);
  if (text.includes('://')) found.push(...[...text.matchAll(QUERY_SECRET)].map((m) => m[2]));
  for (const raw of found) {
    if (!raw) continue;
    out.push(raw);
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      // A malformed escape is still redacted in its raw form.
    }
  }
  return out;
}

type AnyDef = { type: string } & Record<string, unknown>;

const defOf = (schema: unknown): AnyDef => (schema as { _zod: { def: AnyDef } })._zod.def;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Adds to `out` every secret value found in `value` by walking `schema` beside it. Works on
 * data that failed validation too (it only follows shapes that match), so error messages of
 * a broken config are redacted as well. Union branches are all followed: redacting too much
 * is the safe mistake.
 */
export function collectSecrets(schema: z.ZodType, value: unknown, out: Set<string>): void {
  if (value === undefined || value === null) return;
  const mark = secretFields.get(schema);
  if (mark) {
    if (mark.secret === 'url' && typeof value === 'string') urlPasswords(value).forEach((s) => out.add(s));
    else if (typeof value === 'string' || typeof value === 'number') out.add(String(value));
  }
  const def = defOf(schema);
  const walk = (s: unknown, v: unknown) => collectSecrets(s as z.ZodType, v, out);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      walk(def.innerType, value);
      break;
    case 'pipe':
      walk(def.in, value);
      break;
    case 'object':
      if (isPlainObject(value)) {
        for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) walk(child, value[key]);
      }
      break;
    case 'record':
      if (isPlainObject(value)) for (const v of Object.values(value)) walk(def.valueType, v);
      break;
    case 'array':
      if (Array.isArray(value)) for (const v of value) walk(def.element, v);
      break;
    case 'tuple':
      if (Array.isArray(value)) (def.items as unknown[]).forEach((s, i) => walk(s, value[i]));
      break;
    case 'union':
      for (const option of def.options as unknown[]) walk(option, value);
      break;
    case 'intersection':
      walk(def.left, value);
      walk(def.right, value);
      break;
  }
}
