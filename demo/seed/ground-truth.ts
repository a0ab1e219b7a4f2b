/**
 * The ground truth: which hidden person every source record belongs to, as CSV
 * (`source,stream,source_key,person_id`). Identity-resolution tests and benchmarks score the
 * unified view against it. Its SHA-256 fingerprints a generator run: same seed and scale,
 * same hash.
 */
import { createHash, type Hash } from 'node:crypto';
import type { TruthRow } from './rows.js';

export const GROUND_TRUTH_HEADER = 'source,stream,source_key,person_id\n';

/** RFC 4180 quoting, only where needed (keys here are plain, but the format must not depend on that). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** CSV lines for some rows, each ending in `\n`. */
export function groundTruthLines(rows: readonly TruthRow[]): string {
  let out = '';
  for (const r of rows) out += `${r.source},${r.stream},${csvField(r.sourceKey)},${r.personId}\n`;
  return out;
}

/** Hashes the ground-truth CSV as it is produced, header included, without keeping it. */
export class GroundTruthDigest {
  private readonly hash: Hash = createHash('sha256');

  constructor() {
    this.hash.update(GROUND_TRUTH_HEADER);
  }

  /** Adds already formatted CSV text (so the hash covers exactly the bytes written). */
  update(csv: string): void {
    this.hash.update(csv);
  }

  /** Hex digest; call once, at the end. */
  hex(): string {
    return this.hash.digest('hex');
  }
}
