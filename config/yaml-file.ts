/**
 * Reads one YAML file for validation: parse with positions, report syntax errors and
 * duplicate keys, interpolate `${VAR}` in scalars, and produce the plain data.
 *
 * Keys are kept as written: YAML would read the key `01` as the number 1 (and `1.50` as 1.5,
 * `0x1F` as 31), so an enum `map: { 01: open }` would silently expect "1". Every key in
 * Junction's files is a name or a value to match, never a number.
 */
import { isUtf8 } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { JunctionError, type ErrorWhere } from './errors.js';
import { interpolateDocument, type Env } from './interpolate.js';
import { formatPath, keyAtOffset, type DocPath } from './positions.js';
import type { IssueSource } from './issues.js';

/** A parsed YAML file: `source` is set when its data can be validated. */
export interface YamlFile {
  errors: JunctionError[];
  source?: IssueSource;
  /** Env variables whose values were interpolated. */
  used: { name: string; value: string }[];
}

/**
 * Reads `abs`, printed as `file` in errors. When the file is missing the error points at
 * `referencedFrom` (the entry that names it) when given.
 */
export async function readYamlFile(
  abs: string,
  file: string,
  env: Env,
  referencedFrom?: ErrorWhere,
): Promise<YamlFile> {
  let bytes: Buffer;
  try {
    const info = await stat(abs);
    const tooLarge = (size: number) => ({
      errors: [new JunctionError('CFG_FILE_TOO_LARGE', `${file} is ${size} bytes; config and mapping files may hold at most ${MAX_FILE_BYTES}`, { where: referencedFrom ?? { file } })],
      used: [],
    });
    if (info.size > MAX_FILE_BYTES) return tooLarge(info.size);
    bytes = await readFile(abs);
    // A pipe or device reports no size: judged by what it gave.
    if (bytes.length > MAX_FILE_BYTES) return tooLarge(bytes.length);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    const where = referencedFrom ?? { file };
    return { errors: [new JunctionError('CFG_FILE_NOT_FOUND', `${file} ${reason}`, { cause, where })], used: [] };
  }
  const text = bytes.toString('utf8');
  const encoding = encodingError(bytes, text, file);
  if (encoding) return { errors: [encoding], used: [] };
  const lineCounter = new LineCounter();
  // prettyErrors off: messages stay one line (the excerpt it adds could show a secret).
  // Keys compare as written: `1:` and `"1":` are the same key once keysAsWritten has run.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: sameKey });
  const errors = doc.errors.map((err) => {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    if (err.code !== 'DUPLICATE_KEY') {
      return new JunctionError('CFG_YAML_SYNTAX', err.message, { cause: err, where: { file, line, col } });
    }
    const dup = keyAtOffset(doc, err.pos[0]);
    const message = `duplicate key ${JSON.stringify(dup?.key ?? '')}: names must be unique`;
    return new JunctionError('CFG_DUPLICATE_NAME', message, { cause: err, where: { file, line, col, path: dup ? formatPath(dup.path) : undefined } });
  });
  // Duplicate keys leave a usable document, so its other errors are still worth reporting.
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) return { errors, used: [] };

  keysAsWritten(doc);
  const { problems, used } = interpolateDocument(doc, env);
  const ignore: DocPath[] = [];
  for (const problem of problems) {
    const { line, col } = lineCounter.linePos(problem.offset);
    const where = { file, line, col, path: formatPath(problem.path) };
    ignore.push(problem.path);
    errors.push(
      problem.kind === 'missing'
        ? new JunctionError(
            'CFG_ENV_MISSING',
            `environment variable ${problem.name} is not set (write \${${problem.name}:-default} to give a default)`,
            { where },
          )
        : new JunctionError('CFG_INVALID_VALUE', `malformed reference ${problem.name}: expected \${NAME}, \${NAME:-default} or \${NAME:+word}`, { where }),
    );
  }
  const data = toData(doc, file, lineCounter, errors);
  if (data === failed) return { errors, used };
  return { errors, used, source: { file, doc, lineCounter, data, ignore, text } };
}

/** The largest config or mapping file read (a mapping is a few KB; this stops a runaway file from taking the process's memory). */
export const MAX_FILE_BYTES = 1024 * 1024;

/** Keys as written: the text of a scalar (quoted or not), else the node itself. */
function sameKey(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const text = (n: unknown) => (isScalar(n) ? String((n as Node & { source?: string }).source ?? n.value) : undefined);
  const ta = text(a);
  return ta !== undefined && ta === text(b);
}

/**
 * A file that is not UTF-8: UTF-16 (named by its byte-order mark) or bytes that do not decode,
 * at the first of them. Read as UTF-8 anyway, a Latin-1 `é` would become U+FFFD and a key
 * holding it would never match.
 */
function encodingError(bytes: Buffer, text: string, file: string): JunctionError | null {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return new JunctionError('CFG_ENCODING', `${file} is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8`, { where: { file, line: 1, col: 1 } });
  }
  const where = (at: number) => {
    const before = text.slice(0, at);
    return { file, line: before.split('\n').length, col: before.length - before.lastIndexOf('\n') };
  };
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return new JunctionError('CFG_ENCODING', 'a NUL byte (UTF-16 without a byte-order mark?): save the file as UTF-8', { where: where(nul) });
  if (isUtf8(bytes)) return null;
  // The first U+FFFD that the file does not spell as such (EF BF BD) is where decoding failed;
  // every character before it decoded, so its byte offset is the UTF-8 length of the text before.
  for (let at = text.indexOf('\uFFFD'); at >= 0; at = text.indexOf('\uFFFD', at + 1)) {
    const offset = Buffer.byteLength(text.slice(0, at));
    if (bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) continue;
    return new JunctionError('CFG_ENCODING', 'not valid UTF-8 here (a Latin-1 or other legacy encoding?): save the file as UTF-8', { where: where(at) });
  }
  return new JunctionError('CFG_ENCODING', 'not valid UTF-8: save the file as UTF-8', { where: { file } });
}

/** Plain keys that YAML read as numbers, booleans or null become their text (`01` stays "01"). */
function keysAsWritten(doc: Document): void {
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      if (isScalar(key) && typeof key.value !== 'string' && typeof key.source === 'string') key.value = key.source;
    },
  });
}

const failed = Symbol('failed');

/** The alias whose resolution threw, on the error (set by the innermost alias: the one resolving when it threw). */
const atAlias = Symbol('atAlias');

/**
 * Each alias of `doc` notes itself on an error thrown while it resolves (an alias bomb's
 * `maxAliasCount`), so the error can point at it. Own properties of this document's nodes:
 * the `yaml` library itself is left alone.
 */
function markAliases(doc: Document): void {
  visit(doc, {
    Alias(_, alias) {
      const resolve = alias.toJSON.bind(alias);
      alias.toJSON = (arg?: unknown, ctx?: unknown) => {
        try {
          return resolve(arg, ctx as never);
        } catch (err) {
          if (err instanceof Error && !(atAlias in err)) Object.assign(err, { [atAlias]: alias.range?.[0] });
          throw err;
        }
      };
    },
  });
}

function toData(doc: Document, file: string, lineCounter: LineCounter, errors: JunctionError[]): unknown {
  markAliases(doc);
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    // Alias bombs surface here rather than in doc.errors.
    const offset = (cause as { [atAlias]?: number })[atAlias];
    const { line, col } = offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
    const message = /excessive alias count/i.test((cause as Error).message)
      ? 'aliases expand too far here (more than 100 copies: an alias bomb?): write the values out or nest fewer aliases'
      : (cause as Error).message;
    errors.push(new JunctionError('CFG_YAML_SYNTAX', message, { cause, where: { file, line, col } }));
    return failed;
  }
}
