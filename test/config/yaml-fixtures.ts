/** Helpers for config tests: inline YAML written to a fresh temp folder. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isConfigErrors, loadConfig, type LoadOptions, type ResolvedConfig } from '../../config/load.js';

/** Strips the common indentation of an inline YAML block (and its first empty line). */
export function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '\n').split('\n');
  const indents = lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const indent = Math.min(...indents);
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** Writes `files` (name → content) into a new temp folder and returns it. */
export function writeFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-config-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** The outcome of loading `junction.yaml` from `files`: the config, or the formatted errors. */
export async function load(
  files: Record<string, string>,
  options: LoadOptions = {},
): Promise<{ config?: ResolvedConfig; errors: string[]; codes: string[]; dir: string }> {
  const dir = writeFiles(files);
  try {
    const config = await loadConfig(path.join(dir, 'junction.yaml'), { env: {}, relativeTo: dir, ...options });
    return { config, errors: [], codes: [], dir };
  } catch (err) {
    if (!isConfigErrors(err)) throw err;
    return {
      errors: err.errors.map((e) => e.format()),
      codes: err.errors.map((e) => `${e.where?.file}:${e.where?.line}:${e.where?.col} ${e.code}`),
      dir,
    };
  }
}

/** A valid config the cases extend: lines 1-7. */
export const BASE = yaml(`
  version: 1
  sources:
    shop:
      type: postgres
      url: postgres://127.0.0.1/db
      streams:
        accounts: { table: shop.accounts, cursor: [updated_at, id], key: id }
`);

/** A valid mapping of `shop.accounts`: lines 1-7. */
export const MAPPING = yaml(`
  version: 1
  source: shop
  stream: accounts
  target: customer
  key: $string(id)
  fields:
    email: { from: email, normalize: email }
`);
