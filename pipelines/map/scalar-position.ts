/**
 * `line:col` of a character inside a YAML string scalar, so that a JSONata syntax error
 * points at the token in the file rather than at the start of the expression. The value's
 * characters are found in the source text one by one: that sees through quotes, block
 * scalar indentation and line folding without re-implementing YAML's scalar rules (escapes
 * in double quotes are approximate, which is fine for pointing).
 */
import { isScalar, Scalar } from 'yaml';
import type { IssueSource } from '../../config/issues.js';
import { positionAt, type DocPath, type Position } from '../../config/positions.js';

function sourceOffset(text: string, node: Scalar, index: number): number {
  const [start, end] = node.range ?? [0, 0];
  let at = start;
  if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) at += 1;
  else if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) at = text.indexOf('\n', start) + 1;
  const value = String(node.value);
  for (let i = 0; i <= Math.min(index, value.length - 1); i++) {
    const found = text.indexOf(value[i] as string, at);
    if (found === -1 || found >= end) return Math.min(at, end);
    if (i === index) return found;
    at = found + 1;
  }
  // Past the last character (an unexpected end of expression): just after it.
  return Math.min(at, end);
}

/** The position of character `index` of the string at `path`, or of the node when unknown. */
export function positionInScalar(src: IssueSource, path: DocPath, index: number): Position {
  const node = src.doc.getIn(path as unknown[], true);
  if (src.text === undefined || !isScalar(node) || !node.range) return positionAt(src.doc, src.lineCounter, path);
  return src.lineCounter.linePos(sourceOffset(src.text, node, index));
}
