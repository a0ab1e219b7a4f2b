/** The check shared by the `--json` contract tests (json-output.test.ts, json-output.int.test.ts). */
import { expect } from 'vitest';
import type { CliResult } from '../helpers/cli.js';

/** One command line and what its `--json` output must be. */
export interface JsonCase {
  args: string[];
  env?: NodeJS.ProcessEnv;
  exit: number;
  /** A success: exactly these top-level keys (the documented shape). */
  keys?: string[];
  /** A failure: `{"error":{"code": error, "message": …}}`, and the code on stderr too. */
  error?: string;
  /** The human message on stderr (default for a failure: `[CODE]`). */
  stderr?: RegExp;
  check?: (doc: Record<string, unknown> & { error?: Record<string, unknown> }) => void;
}

/** Asserts the contract: stdout is one line, one JSON object, of the case's shape. */
export function expectJsonCase(c: JsonCase, res: CliResult): void {
  const where = `junction ${c.args.join(' ')}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`;
  expect(res.code, where).toBe(c.exit);
  const lines = res.stdout.split('\n').filter((l) => l !== '');
  expect(lines, where).toHaveLength(1);
  expect(res.stdout.endsWith('\n'), where).toBe(true);
  const doc: unknown = JSON.parse(lines[0]!);
  expect(doc !== null && typeof doc === 'object' && !Array.isArray(doc), `${where}\nnot a JSON object`).toBe(true);
  const obj = doc as Record<string, unknown> & { error?: Record<string, unknown> };
  if (c.error) {
    expect(Object.keys(obj), where).toEqual(['error']);
    expect(obj.error, where).toMatchObject({ code: c.error, message: expect.any(String) });
    expect(res.stderr, where).toMatch(c.stderr ?? `[${c.error}]`);
  } else {
    expect(Object.keys(obj).sort(), where).toEqual([...(c.keys ?? [])].sort());
    if (c.stderr) expect(res.stderr, where).toMatch(c.stderr);
  }
  c.check?.(obj);
}
