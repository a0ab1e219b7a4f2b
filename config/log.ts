/**
 * The process logger (pino, JSON lines on stderr). Secrets never reach a log line: every
 * message and string field passes through `redact()` with the config's secret values,
 * and URL passwords are always masked.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import { redact } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  /** @defaultValue process.env.JUNCTION_LOG_LEVEL or 'info' */
  level?: string;
  /** Secret values (or a resolved config whose secrets were registered) to mask. */
  secrets?: readonly string[] | object;
  /** Where lines go. @defaultValue stderr */
  destination?: NodeJS.WritableStream;
}

function scrub(value: unknown, secrets: readonly string[] | object, depth = 0): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    // A JunctionError's where (file:line, source, stream, key) is what makes it actionable.
    const { code, where, details } = value as { code?: unknown; where?: unknown; details?: unknown };
    const extra = { ...(where ? { where: scrub(where, secrets, depth + 1) } : {}), ...(details ? { details: scrub(details, secrets, depth + 1) } : {}) };
    return { type: value.name, message: redact(value.message, secrets), code, ...extra };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, secrets, depth + 1)]));
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = options.secrets ?? [];
  return pino(
    {
      level: options.level ?? process.env.JUNCTION_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      hooks: {
        // Applied to the message and to every object argument before serialisation.
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrub(a, secrets)) as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination(2),
  );
}

/** A logger that drops everything (tests, previews). */
export const silentLogger: Logger = pino({ level: 'silent' });
