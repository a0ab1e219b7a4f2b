/**
 * `junction demo seed` end to end: reseeding is idempotent and deterministic through the
 * real writers and the real CLI, and the ground-truth file matches its announced hash.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackSettings } from '../../config/env.js';
import { digestEstate } from '../../demo/seed/generate.js';
import { seedEstate } from '../../demo/seed/seed-estate.js';
import { runCli } from '../helpers/cli.js';

const settings = stackSettings();
// Output folders inside the stack's git-ignored data folder, reused by every run.
const tmp = (name: string) => path.join(settings.dataDir, 'test-seed', name);

describe('seedEstate', () => {
  it('gives the same counts and ground-truth hash for the same seed, another hash for another seed', async () => {
    const first = await seedEstate({ scale: 200, seed: 'same', settings, outDir: tmp('first') });
    const again = await seedEstate({ scale: 200, seed: 'same', settings, outDir: tmp('again') });
    const other = await seedEstate({ scale: 200, seed: 'other', settings, outDir: tmp('other') });
    expect(again.counts).toEqual(first.counts);
    expect(again.groundTruthSha256).toBe(first.groundTruthSha256);
    expect(other.groundTruthSha256).not.toBe(first.groundTruthSha256);
    // what was written is what the pure generator predicts
    expect(digestEstate({ scale: 200, seed: 'same' })).toEqual({ counts: first.counts, groundTruthSha256: first.groundTruthSha256 });
    const file = await readFile(first.groundTruthPath);
    expect(createHash('sha256').update(file).digest('hex')).toBe(first.groundTruthSha256);
    expect(file.toString('utf8').split('\n')[0]).toBe('source,stream,source_key,person_id');
  });

  it('writes the Oracle seed script for CRM.CUSTOMERS', async () => {
    const summary = await seedEstate({ scale: 50, seed: 'oracle', settings, outDir: tmp('oracle') });
    const sql = await readFile(summary.oracleSeedPath, 'utf8');
    const inserts = sql.match(/^INSERT INTO CRM\.CUSTOMERS /gm) ?? [];
    expect(inserts).toHaveLength(summary.counts['crm_oracle.customers'] as number);
    expect(sql).toMatch(/TO_TIMESTAMP_TZ\('\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [+-]\d{2}:\d{2}', 'YYYY-MM-DD HH24:MI:SS\.FF3 TZH:TZM'\)/);
    expect(sql.trimEnd().endsWith('COMMIT;')).toBe(true);
  });

  it('runs from the CLI and prints the counts and the hash', async () => {
    const out = tmp('cli');
    const res = await runCli(['demo', 'seed', '--scale', '120', '--seed', 'cli', '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    const expected = digestEstate({ scale: 120, seed: 'cli' });
    expect(res.stdout).toContain(`ground truth sha256: ${expected.groundTruthSha256}`);
    for (const [stream, n] of Object.entries(expected.counts)) expect(res.stdout).toMatch(new RegExp(`${stream}\\s+${n}\\n`));
  });

  it('rejects a bad scale with a message naming it', async () => {
    await expect(seedEstate({ scale: 0, settings })).rejects.toThrow(/scale/);
  });
});
