/**
 * Mapping expressions: JSONata, except that the simplest shapes are read directly. JSONata
 * 2.x evaluates asynchronously, node by node (~5 µs and several promises for `email`,
 * ~30 µs for an order's lines); a plain path read directly costs well under a microsecond
 * and no promise. Most mapped fields are plain paths (`pipelines/map/bench.ts` measures it).
 *
 * Read directly (shapes recognised on JSONata's own AST, so the syntax is JSONata's):
 * - plain paths: `email`, `address.city`, `` `Order No` ``;
 * - object templates over plain paths: `{'sku': sku}`, `items.{'sku': sku}`,
 *   `[lines.line.{'sku': sku, 'unit_price': unitPrice}]`.
 * Whenever a record's data is not of the plain shape those assume (an array where an object
 * is expected, a scalar where items are expected), that record is evaluated by JSONata
 * instead, so results are always JSONata's (test/pipelines/map/expression.test.ts checks).
 */
import jsonata from 'jsonata';
import type { SourceRecord } from '../../connectors/types.js';
import { directGetter, NEEDS_JSONATA, templateGetter, templateOf, type Template } from './templates.js';

export { NEEDS_JSONATA };

/** How an expression is evaluated. */
export type ExprKind = 'path' | 'template' | 'jsonata';

/** A compiled expression. */
export interface Expr {
  /** The expression as written. */
  readonly text: string;
  readonly kind: ExprKind;
  /**
   * Direct evaluation, for `path` and `template` expressions: the value, or
   * {@link NEEDS_JSONATA} when this record's data needs JSONata's semantics.
   */
  readonly get: ((record: SourceRecord) => unknown) | undefined;
  /** Full JSONata evaluation. */
  evaluate(record: SourceRecord): Promise<unknown>;
}

/** A JSONata syntax error, with the character index inside the expression it points at. */
export class ExprSyntaxError extends Error {
  constructor(
    message: string,
    /** JSONata's error code, e.g. S0203 (`PATH` for a `from:` that is not a path). */
    readonly jsonataCode: string,
    /** 0-based index into the expression text. */
    readonly index: number,
  ) {
    super(message);
    this.name = 'ExprSyntaxError';
  }
}

/** A name in a `from:` path without backticks: letters of any script, digits (not first), `_`. */
const IDENT = /^[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*$/u;

/**
 * The segments of a `from:` path (identifiers or backtick-quoted names joined by dots), or
 * the index of the first segment that is neither. Words JSONata reserves (`true`, `and`)
 * are field names here.
 */
function readPath(text: string): string[] | { at: number } {
  const segments: string[] = [];
  let i = 0;
  while (i <= text.length) {
    const start = i;
    let segment: string;
    if (text[i] === '`') {
      const end = text.indexOf('`', i + 1);
      if (end <= i + 1) return { at: start };
      segment = text.slice(i + 1, end);
      i = end + 1;
    } else {
      const dot = text.indexOf('.', i);
      const end = dot === -1 ? text.length : dot;
      segment = text.slice(i, end);
      if (!IDENT.test(segment)) return { at: start };
      i = end;
    }
    segments.push(segment);
    if (i === text.length) return segments;
    if (text[i] !== '.') return { at: start };
    i += 1;
  }
  return { at: text.length };
}

/** The segments of a `from:` path, or undefined when it is not one ({@link readPath}). */
export function parsePath(text: string): string[] | undefined {
  const path = readPath(text);
  return Array.isArray(path) ? path : undefined;
}

/** The JSONata text of a path given as segments (every name quoted, so any name works). */
export function pathToJsonata(path: readonly string[]): string {
  return path.map((s) => `\`${s}\``).join('.');
}

interface JsonataError {
  code?: string;
  position?: number;
  token?: unknown;
  /** The literal of S0213, which comes without a token. */
  value?: unknown;
  message?: string;
}

/**
 * What one evaluation of one expression on one record may take: a mapping runs in the sync
 * worker, where an expression that never ends (a recursive function without a base case) or
 * allocates without bound (`[1..9999999].[1..1000]`) would block the event loop, stop the job's
 * lock renewals and take the process down. JSONata runs in microtasks, so the time is all
 * the event loop's: mapBatch lets it turn after any record JSONata evaluated once its slice
 * is used up, so a run of such records never holds it for more than one timeout. Past a limit the record fails with
 * MAP_EVAL_FAILED (JSONata D1012 time, D1011 depth, D2015 sequence length) and goes to the
 * dead letters; the batch goes on. Generous for real mappings, which take microseconds.
 */
export const EVAL_LIMITS = { timeout: 200, stack: 500, sequence: 100_000 } as const;

/**
 * Compiles JSONata text, turning its syntax errors into {@link ExprSyntaxError}. JSONata's
 * `position` is the index just after the offending token; the error points at its start.
 */
export function compileJsonata(text: string): jsonata.Expression {
  try {
    return jsonata(text, { ...EVAL_LIMITS });
  } catch (cause) {
    const err = cause as JsonataError;
    const end = Math.min(typeof err.position === 'number' ? err.position : text.length, text.length);
    // S0213 (a literal as a path step: `foo.5`) names no token, only the literal's value.
    const token = err.code === 'S0213' && err.token === undefined ? err.value : err.token;
    throw new ExprSyntaxError(err.message ?? String(cause), err.code ?? 'S0000', Math.max(tokenStart(text, end, token), 0));
  }
}

/**
 * A number as JSONata's tokenizer reads one, at the end: no leading `.` (in `foo.5` the
 * number is `5`), and not the digits that end a name (in `line1.2` it is `2`).
 */
const NUMBER_AT_END = /(?<![\p{L}\p{N}_])(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/u;

/**
 * Where the token JSONata complains about starts, given the index just after it. The token
 * comes as its value, not its text: a number `1.50` as 1.5, a string without its quotes, a
 * variable without its `$`. So the text before `end` is read back instead.
 */
function tokenStart(text: string, end: number, token: unknown): number {
  const before = text.slice(0, end);
  if (typeof token === 'number') return end - (NUMBER_AT_END.exec(before)?.[0].length ?? 0);
  if (typeof token === 'boolean' || token === null) return end - String(token).length;
  if (typeof token !== 'string' || token === '(end)') return end;
  const quote = before.at(-1);
  if (token.length > 0 && (quote === '"' || quote === "'" || quote === '`')) {
    for (let i = end - 2; i >= 0; i--) if (before[i] === quote && before[i - 1] !== '\\') return i;
  }
  const start = end - token.length;
  return before[start - 1] === '$' ? start - 1 : start;
}

export interface CompileOptions {
  /** Read plain paths and templates directly. Off only to measure or test against JSONata. @defaultValue true */
  fastPath?: boolean;
}

/**
 * Compiles an expression.
 * @param asPath the text is a `from:` path rather than an expression (it must be a plain path)
 * @throws {@link ExprSyntaxError} when the text does not parse
 */
export function compileExpression(text: string, options: CompileOptions = {}, asPath = false): Expr {
  let template: Template | undefined;
  let compiled: jsonata.Expression;
  if (asPath) {
    const path = readPath(text);
    if (!Array.isArray(path)) {
      throw new ExprSyntaxError(
        'from takes a field path such as address.city; put a name with other characters in backticks (`order-no`), or use expr: for an expression',
        'PATH',
        path.at,
      );
    }
    compiled = compileJsonata(pathToJsonata(path));
    template = { kind: 'path', path };
  } else {
    compiled = compileJsonata(text);
    template = templateOf(compiled.ast());
  }
  if (options.fastPath === false) template = undefined;
  return {
    text,
    kind: template?.kind ?? 'jsonata',
    get: template === undefined ? undefined : template.kind === 'path' ? directGetter(template.path) : templateGetter(template),
    evaluate: (record) => compiled.evaluate(record) as Promise<unknown>,
  };
}
