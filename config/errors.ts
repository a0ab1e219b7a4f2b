/**
 * The one catalogue of Junction's error codes. Every `JunctionError` carries one of these;
 * `test/config/errors.test.ts` checks that the README's error table lists exactly these.
 * Codes are stable: rename never, add freely. Prefixes name the area.
 */
export const ERROR_CODES = {
  // configuration files (config/junction.yaml and mappings)
  CFG_YAML_SYNTAX: 'the file is not valid YAML',
  CFG_FILE_NOT_FOUND: 'a config or mapping file does not exist or cannot be read',
  CFG_UNKNOWN_KEY: 'a key that the schema does not define (objects are strict)',
  CFG_INVALID_TYPE: 'a value of the wrong type',
  CFG_INVALID_VALUE: 'a value of the right type that is not allowed (range, pattern, enum)',
  CFG_MISSING_KEY: 'a required key is absent',
  CFG_UNKNOWN_KIND: 'an unknown `type:` in a discriminated union',
  CFG_ENV_MISSING: 'a `${VAR}` reference to an environment variable that is not set',
  CFG_BAD_CRON: 'a schedule whose cron expression or time zone is invalid',
  CFG_DUPLICATE_NAME: 'two entries with the same name (sources, schedules, YAML keys)',
  CFG_UNKNOWN_REF: 'a reference to a source, stream, mapping or schedule that is not declared',
  CFG_VERSION: 'a missing or unsupported `version:`',
  CFG_SCHEMA_STALE: 'config/junction.schema.json does not match the zod schema',
  // the local stack
  STACK_PORT_TAKEN: 'a port the stack needs is already used by another process',
  STACK_MISSING_BINARY: 'a program the stack needs is not installed',
  STACK_START_FAILED: 'a service did not start or did not become ready in time',
  STACK_NOT_RUNNING: 'a command needs a stack service that is not running',
  // migrations
  MIG_FAILED: 'a migration statement failed; nothing after it ran',
  MIG_CHECKSUM: 'an applied migration file was changed after it ran',
  // the demo estate
  DEMO_SEED_FAILED: 'the demo seed generator could not write a source',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where an error came from: a file position, a source and key, a frame type… */
export interface ErrorWhere {
  file?: string;
  line?: number;
  col?: number;
  /** Dotted path inside the document, e.g. `sources.shop_pg.streams.accounts.cursor`. */
  path?: string;
  source?: string;
  key?: string;
}

export interface JunctionErrorOptions {
  cause?: unknown;
  where?: ErrorWhere;
  /** Extra fields kept from the origin (ORA- code, SOAP fault, pg SQLSTATE…). */
  details?: Record<string, unknown>;
}

/** An error with a stable code from {@link ERROR_CODES} and where it came from. */
export class JunctionError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorWhere | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: JunctionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JunctionError';
    this.code = code;
    this.where = options.where;
    this.details = options.details;
  }

  /** `file:line:col path: message [CODE]`, the form every CLI prints. */
  format(): string {
    return `${formatWhere(this.where)}${this.message} [${this.code}]`;
  }
}

/** `file:line:col path: ` or an empty string when nothing is known. */
export function formatWhere(where: ErrorWhere | undefined): string {
  if (!where) return '';
  const pos = where.file
    ? [where.file, where.line, where.col].filter((p) => p !== undefined).join(':')
    : '';
  const subject = where.source ? `${where.source}${where.key ? ` key=${where.key}` : ''}` : '';
  const head = [pos, where.path ?? '', subject].filter(Boolean).join(' ');
  return head ? `${head}: ` : '';
}

export function isJunctionError(err: unknown): err is JunctionError {
  return err instanceof JunctionError;
}
