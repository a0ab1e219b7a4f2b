/**
 * What `--json` prints, for every command: stdout carries exactly one line, one JSON object.
 * Its shape is the same whatever the input or outcome: a list is named inside the object
 * (`{ "agents": [...] }`), as the ops API answers (jobs/ops-api.ts); a command that could not
 * run prints `{ "error": { "code", "message", … } }` instead (bin/cli.ts), like the ops API's
 * errors (jobs/http-errors.ts), while its human message still goes to stderr. No success
 * object has a top-level `error` key, so a script tells the two apart by that key alone.
 */
import type { CommanderError } from 'commander';
import type { ErrorWhere, JunctionError } from '../config/errors.js';
import type { ConfigErrors } from '../config/load.js';
import { redact } from '../config/redact.js';

/** Any object but an array: a bare list cannot grow a field later, nor be told from an error. */
type JsonObject<T> = T extends readonly unknown[] ? never : T;

/** Prints `value` as the command's one line of `--json` output. */
export function printJson<T extends object>(value: JsonObject<T>): void {
  console.log(JSON.stringify(value));
}

/** One problem of a config as `check --json` lists it: code, message and where, flattened. */
export interface ConfigProblem extends ErrorWhere {
  code: string;
  message: string;
}

export function configProblems(err: ConfigErrors): ConfigProblem[] {
  return err.errors.map((e) => ({ code: e.code, message: e.message, ...e.where }));
}

/** The failure of a command under `--json`. */
export interface JsonError {
  error: {
    /** A code of config/errors.ts: CLI_USAGE when commander refused the arguments, CLI_INTERNAL for a bug. */
    code: string;
    message: string;
    where?: ErrorWhere;
    /** Fields kept from the origin (SQLSTATE, SOAP fault, the job id of a failed sync…). */
    details?: Record<string, unknown>;
    /** Every problem of an invalid config (the code and message are the first one's). */
    errors?: ConfigProblem[];
  };
}

/** Strings are redacted one by one: a password is not found inside its JSON-escaped form. */
function redacted(doc: JsonError, secrets: readonly string[]): JsonError {
  return JSON.parse(JSON.stringify(doc, (_key, v: unknown) => (typeof v === 'string' ? redact(v, secrets) : v))) as JsonError;
}

export function junctionErrorJson(err: JunctionError, secrets: readonly string[]): JsonError {
  const { code, message, where, details } = err;
  return redacted({ error: { code, message, ...(where ? { where } : {}), ...(details ? { details } : {}) } }, secrets);
}

export function configErrorsJson(err: ConfigErrors): JsonError {
  const errors = configProblems(err);
  return { error: { code: errors[0]?.code ?? 'CFG_INVALID_VALUE', message: err.message, errors } };
}

/** Commander has printed its own `error: …` line on stderr already. */
export function usageErrorJson(err: CommanderError): JsonError {
  // A command group run without its subcommand prints its help and exits with this marker.
  const message = err.code === 'commander.help' ? 'a subcommand is needed: see --help' : err.message.replace(/^error: /, '');
  return { error: { code: 'CLI_USAGE', message, details: { commander: err.code } } };
}

export function internalErrorJson(err: unknown, secrets: readonly string[]): JsonError {
  const message = err instanceof Error ? err.message : String(err);
  return redacted({ error: { code: 'CLI_INTERNAL', message: `unexpected error (a bug; its stack is on stderr): ${message}` } }, secrets);
}

/**
 * Whether the command line asks for `--json`, for failures before any action ran (commander
 * refusing an option): read from the arguments, up to a `--` that ends the options.
 */
export function argvAsksJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
