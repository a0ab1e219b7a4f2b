/**
 * Small value formats shared by the config schema, the connector specs and the mapping
 * schema: names, cron expressions, time zones, regexes. Each one carries its own message
 * and, where the catalogue has a more precise code than CFG_INVALID_VALUE, that code in
 * `params.code` (read by `config/issues.ts`).
 */
import { IANAZone } from 'luxon';
import { validate as validateCron } from 'node-cron';
import * as z from 'zod';
import type { ErrorCode } from './errors.js';

/** Names of sources, streams, lookups, identity kinds and mapped fields. */
export const NAME_RE = /^[a-z][a-z0-9_]*$/;

/** Error `params` that make `config/issues.ts` report a specific catalogue code. */
export function withCode(code: ErrorCode): { params: { code: ErrorCode } } {
  return { params: { code } };
}

/** A lowercase snake_case name; `what` names the thing in the message. */
export function nameSchema(what = 'name') {
  return z.string().regex(NAME_RE, {
    error: (iss) => `invalid ${what} ${JSON.stringify(iss.input)}: use a-z, 0-9 and _, starting with a letter`,
  });
}

/** An IANA time zone (luxon asks Intl, so this matches what the scheduler can use). */
export function timeZoneSchema(code: ErrorCode = 'CFG_INVALID_VALUE') {
  return z.string().refine((tz) => IANAZone.isValidZone(tz), {
    error: (iss) => `unknown time zone ${JSON.stringify(iss.input)} (use an IANA name such as Asia/Shanghai or UTC)`,
    ...withCode(code),
  });
}

/** A cron expression as node-cron (the scheduler) accepts it: 5 fields, or 6 with seconds. */
export function cronSchema() {
  return z.string().refine((expr) => validateCron(expr), {
    error: (iss) => `invalid cron expression ${JSON.stringify(iss.input)}`,
    ...withCode('CFG_BAD_CRON'),
  });
}

/** A JavaScript regular expression source; compiled here so a typo fails at load, not per message. */
export function regexSchema() {
  return z.string().refine(
    (source) => {
      try {
        new RegExp(source, 'u');
        return true;
      } catch {
        return false;
      }
    },
    { error: (iss) => `invalid regular expression ${JSON.stringify(iss.input)}` },
  );
}

/** A TCP port; also a numeric string, because `${PORT:-8080}` interpolates to a string. */
export function portSchema() {
  return z.union(
    [
      z.number().int().min(1).max(65535),
      z
        .string()
        .regex(/^\d{1,5}$/, { error: 'expected a TCP port (1-65535)' })
        .transform(Number)
        .pipe(z.number().int().min(1).max(65535)),
    ],
    { error: 'expected a TCP port (1-65535)' },
  );
}

/**
 * A boolean that also accepts the strings an interpolation produces: `"true"`, `"false"`
 * and `""` (false), so `enabled: ${ORACLE_URL:+true}` switches a source on only when the
 * variable is set.
 */
export function flagSchema(defaultValue: boolean) {
  return z
    .union([z.boolean(), z.enum(['true', 'false', '']).transform((v) => v === 'true')], {
      error: 'expected true, false or an empty string',
    })
    .default(defaultValue);
}
