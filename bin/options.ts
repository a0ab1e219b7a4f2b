/** Option parsers shared by the commands. */
import { InvalidArgumentError } from 'commander';

/** `--limit 20`: digits only, a safe integer of at least 1 (`1e3`, `2.5`, `-1` are refused). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** A {@link positiveInt} of at most `max` (`--batch-size`: one batch is one transaction). */
export function positiveIntUpTo(max: number): (value: string) => number {
  return (value) => {
    const n = positiveInt(value);
    if (n > max) throw new InvalidArgumentError(`expected at most ${max}`);
    return n;
  };
}

/** The largest batch a command may ask for: pipelines.batch_size's own maximum. */
export const MAX_BATCH_SIZE = 50_000;

