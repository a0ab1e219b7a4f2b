/**
 * `line:col` of a character inside a YAML string scalar, so that a JSONata syntax error
 * points at the token in the file rather than at the start of the expression.
 *
 * Quoted scalars are decoded here with the source offset of each character they yield, so
 * that escapes (`\t`, `\u0041`, `\U0001F600`, `''`) and folded lines map exactly: a decoded
 * character points at its escape's backslash (or at the first `'` of `''`). The result is
 * checked against the value `yaml` read; should they differ, and for plain and block scalars
 * (which have no escapes), the value's characters are found in the source text one by one,
 * which sees through block indentation and line folding without re-implementing those rules.
 */
import { isScalar, Scalar } from 'yaml';
import type { IssueSource } from '../../config/issues.js';
import { positionAt, type DocPath, type Position } from '../../config/positions.js';

/** The one-character escapes of a double-quoted scalar (YAML 1.2 §5.7), by the letter after `\`. */
const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_DIGITS: Record<string, number> = { x: 2, u: 4, U: 8 };

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';
const breakLength = (text: string, at: number) => (text[at] === '\n' ? 1 : text[at] === '\r' ? (text[at + 1] === '\n' ? 2 : 1) : 0);

interface Decoded {
  value: string;
  /** Source offset of each UTF-16 unit of `value`. */
  offsets: number[];
  /** Where the content ends: the closing quote. */
  end: number;
}

/**
 * Decodes the quoted scalar whose opening quote is at `start` and closing quote at `close`:
 * escapes, `''`, and line folding (a line break between content is a space, n + 1 of them
 * n newlines; blanks around them go, as does an escaped line break with the next line's indent).
 */
function decodeQuoted(text: string, start: number, close: number, double: boolean): Decoded | null {
  let value = '';
  const offsets: number[] = [];
  const push = (chars: string, at: number) => {
    value += chars;
    for (let k = 0; k < chars.length; k++) offsets.push(at);
  };
  let p = start + 1;
  while (p < close) {
    const c = text[p]!;
    if (double && c === '\\') {
      const next = text[p + 1];
      const lineBreak = breakLength(text, p + 1);
      if (lineBreak > 0) {
        p += 1 + lineBreak;
        while (p < close && isBlank(text[p])) p++;
      } else if (next !== undefined && next in HEX_DIGITS) {
        const hex = text.slice(p + 2, p + 2 + HEX_DIGITS[next]!);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== HEX_DIGITS[next]) return null;
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) return null;
        push(String.fromCodePoint(code), p);
        p += 2 + hex.length;
      } else if (next !== undefined && Object.hasOwn(ESCAPES, next)) {
        push(ESCAPES[next]!, p);
        p += 2;
      } else {
        return null;
      }
    } else if (!double && c === "'" && text[p + 1] === "'") {
      push("'", p);
      p += 2;
    } else if (isBlank(c) || breakLength(text, p) > 0) {
      // Blanks kept unless a line break follows them; then the break(s) fold.
      let q = p;
      while (q < close && isBlank(text[q])) q++;
      if (q >= close || breakLength(text, q) === 0) {
        for (; p < q; p++) push(text[p]!, p);
        continue;
      }
      const at = q;
      let breaks = 0;
      while (q < close && breakLength(text, q) > 0) {
        q += breakLength(text, q);
        breaks++;
        while (q < close && isBlank(text[q])) q++;
      }
      push(breaks === 1 ? ' ' : '\n'.repeat(breaks - 1), at);
      p = q;
    } else {
      push(c, p);
      p++;
    }
  }
  return { value, offsets, end: close };
}

/** Finds the value's characters in the source one by one; one not found as such (an escape) is skipped. */
function searchOffset(text: string, value: string, index: number, from: number, end: number): number {
  let at = from;
  for (let i = 0; i <= Math.min(index, value.length - 1); i++) {
    const found = text.indexOf(value[i]!, at);
    if (found === -1 || found >= end) continue;
    if (i === index) return found;
    at = found + 1;
  }
  // Past the last character (an unexpected end of expression), or at one not found: just after the last found.
  return Math.min(at, end);
}

function sourceOffset(text: string, node: Scalar, index: number): number {
  const [start, end] = node.range ?? [0, 0];
  const value = String(node.value);
  if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) {
    const close = end - 1;
    const quote = node.type === Scalar.QUOTE_DOUBLE ? '"' : "'";
    const decoded = text[start] === quote && text[close] === quote ? decodeQuoted(text, start, close, quote === '"') : null;
    if (decoded && decoded.value === value) return index < decoded.offsets.length ? decoded.offsets[index]! : decoded.end;
    return searchOffset(text, value, index, start + 1, end);
  }
  const from = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED ? text.indexOf('\n', start) + 1 : start;
  return searchOffset(text, value, index, from, end);
}

/** The position of character `index` of the string at `path`, or of the node when unknown. */
export function positionInScalar(src: IssueSource, path: DocPath, index: number): Position {
  const node = src.doc.getIn(path as unknown[], true);
  if (src.text === undefined || !isScalar(node) || !node.range) return positionAt(src.doc, src.lineCounter, path);
  return src.lineCounter.linePos(sourceOffset(src.text, node, index));
}
