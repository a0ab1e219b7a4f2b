/**
 * Turns zod issues into positioned JunctionErrors: the code from the catalogue, `file:line:col`
 * from the YAML AST, and a message written for someone editing the file.
 */
import type { Document, LineCounter } from 'yaml';
import type * as z from 'zod';
import { JunctionError, type ErrorCode } from './errors.js';
import { formatPath, positionAt, valueAt, type Anchor, type DocPath } from './positions.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const EXPECTED: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  set: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  null: 'null',
};

/** A short rendering of a received value (strings quoted and cut at 60 characters). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

const expectedName = (e: unknown) => EXPECTED[String(e)] ?? String(e);

function bound(iss: RawIssue & { origin?: string; inclusive?: boolean }, limit: unknown, small: boolean): string {
  const origin = iss.origin;
  if (origin === 'string') {
    if (small && limit === 1) return 'must not be empty';
    return `must be ${small ? 'at least' : 'at most'} ${String(limit)} characters`;
  }
  if (origin === 'array' || origin === 'set') return `must have ${small ? 'at least' : 'at most'} ${String(limit)} items`;
  const op = small ? (iss.inclusive ? '>=' : '>') : iss.inclusive ? '<=' : '<';
  return `must be ${op} ${String(limit)}, received ${describeValue(iss.input)}`;
}

/**
 * The per-parse error map: messages for issues whose schema has no message of its own
 * (schema-level messages take precedence in zod 4).
 */
export const issueMessages: z.core.$ZodErrorMap = (iss) => {
  const i = iss as RawIssue & Record<string, unknown>;
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined
        ? 'missing required key'
        : `expected ${expectedName(i.expected)}, received ${describeValue(iss.input)}`;
    case 'invalid_value':
      return `expected ${(i.values as unknown[]).map((v) => JSON.stringify(v)).join(' | ')}, received ${describeValue(iss.input)}`;
    case 'too_small':
      return bound(i, i.minimum, true);
    case 'too_big':
      return bound(i, i.maximum, false);
    case 'invalid_format':
      return i.format === 'regex'
        ? `${describeValue(iss.input)} does not match ${String(i.pattern)}`
        : `expected ${String(i.format)}, received ${describeValue(iss.input)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(i.divisor)}`;
    case 'invalid_union': {
      if (typeof i.discriminator === 'string') {
        const input = iss.input as Record<string, unknown> | undefined;
        const value = typeof input === 'object' && input !== null ? input[i.discriminator] : input;
        const options = (i.options as unknown[] | undefined)?.map(String).join(' | ') ?? '';
        return `unknown ${i.discriminator} ${describeValue(value)}; expected one of ${options}`;
      }
      const names = ((i.errors as Issue[][] | undefined) ?? [])
        .flatMap((branch) => branch.filter((b) => b.path.length === 0 && b.code === 'invalid_type'))
        .map((b) => expectedName((b as { expected?: unknown }).expected));
      return `expected ${[...new Set(names)].join(' or ') || 'another value'}, received ${describeValue(iss.input)}`;
    }
    case 'unrecognized_keys':
      return 'unknown key';
    case 'invalid_key':
      return 'invalid key';
    default:
      return 'invalid value';
  }
};

/** What the converter needs to know about the file the issues came from. */
export interface IssueSource {
  /** The file name as printed (relative to the cwd or the caller's root). */
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** The data that was validated (after interpolation). */
  data: unknown;
  /** Paths already reported (an unset env var): issues at or under them are noise. */
  ignore?: readonly DocPath[];
  /** The file's text, to point inside a scalar (a JSONata syntax error in a mapping). */
  text?: string;
}

/** A positioned error in `src`. */
export function errorAt(
  src: IssueSource,
  code: ErrorCode,
  message: string,
  path: DocPath,
  anchor: Anchor = 'value',
): JunctionError {
  const { line, col } = positionAt(src.doc, src.lineCounter, path, anchor);
  return new JunctionError(code, message, { where: { file: src.file, line, col, path: formatPath(path) } });
}

const startsWith = (path: DocPath, prefix: DocPath) =>
  prefix.length <= path.length && prefix.every((p, i) => path[i] === p);

/** A branch of a union that failed only because the value has another type altogether. */
const isTypeMismatch = (branch: readonly Issue[]) =>
  branch.every((b) => b.path.length === 0 && (b.code === 'invalid_type' || b.code === 'invalid_value'));

/** Converts every issue (recursing into the closest union branch) to a JunctionError. */
export function issuesToErrors(issues: readonly Issue[], src: IssueSource, prefix: DocPath = []): JunctionError[] {
  const out: JunctionError[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (src.ignore?.some((p) => startsWith(path, p))) continue;
    const { found, value } = valueAt(src.data, path);
    const isVersion = path.length === 1 && path[0] === 'version';
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push(errorAt(src, 'CFG_UNKNOWN_KEY', `unknown key ${JSON.stringify(key)}`, [...path, key], 'key'));
        }
        break;
      case 'invalid_union': {
        if (issue.discriminator !== undefined) {
          if (!found) {
            out.push(errorAt(src, 'CFG_MISSING_KEY', `missing required key ${JSON.stringify(issue.discriminator)}`, path));
          } else {
            out.push(errorAt(src, 'CFG_UNKNOWN_KIND', issue.message, path));
          }
          break;
        }
        const candidates = issue.errors.filter((b) => !isTypeMismatch(b));
        if (candidates.length === 0) {
          out.push(errorAt(src, 'CFG_INVALID_TYPE', issue.message, path));
          break;
        }
        // The branch with the fewest complaints is the one the author most likely meant.
        const best = candidates.reduce((a, b) => (b.length < a.length ? b : a));
        out.push(...issuesToErrors(best, src, path));
        break;
      }
      case 'invalid_key': {
        const inner = issue.issues[0]?.message ?? issue.message;
        out.push(errorAt(src, 'CFG_INVALID_VALUE', inner, path, 'key'));
        break;
      }
      case 'invalid_type':
      case 'invalid_value':
        if (isVersion) {
          const message = !found
            ? 'missing version: 1'
            : issue.code === 'invalid_value'
              ? `unsupported version ${describeValue(value)}; this Junction reads version 1`
              : `expected version: 1, received ${describeValue(value)}`;
          out.push(errorAt(src, 'CFG_VERSION', message, path));
        } else if (!found && path.length > 0) {
          out.push(errorAt(src, 'CFG_MISSING_KEY', `missing required key ${JSON.stringify(String(path.at(-1)))}`, path));
        } else {
          out.push(errorAt(src, issue.code === 'invalid_type' ? 'CFG_INVALID_TYPE' : 'CFG_INVALID_VALUE', issue.message, path));
        }
        break;
      case 'custom': {
        const code = (issue.params as { code?: ErrorCode } | undefined)?.code ?? 'CFG_INVALID_VALUE';
        out.push(errorAt(src, code, issue.message, path));
        break;
      }
      default:
        out.push(errorAt(src, 'CFG_INVALID_VALUE', issue.message, path));
    }
  }
  return out;
}
