/** Option parsers shared by the commands. */
import { InvalidArgumentError } from 'commander';

/** `--limit 20`: digits only, a safe integer of at least 1 (`1e3`, `2.5`, `-1` are refused). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
