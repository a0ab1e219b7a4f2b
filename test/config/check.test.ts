/** `junction check` through the real CLI: exit 0 and a summary, or exit 2 and every error. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { runCli } from '../helpers/cli.js';
import { writeFiles } from './yaml-fixtures.js';

// The child must see the demo defaults, not whatever the developer's shell exports.
const cleanEnv = { ORDERS_WSDL_URL: '', TICKETS_URL: '', SHOP_PG_URL: '', APP_MONGO_URL: '', ORACLE_URL: '' };

describe('junction check', () => {
  it('exits 0 on the demo config (files only)', async () => {
    const result = await runCli(['check', '--no-connect'], cleanEnv);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('ok: 5 sources, 6 mappings, 2 schedules');
    expect(result.code).toBe(0);
  });

  it('exits 2 and prints every error of a broken config, relative to the cwd', async () => {
    const dir = writeFiles({
      'junction.yaml': 'version: 1\ncolour: red\nsources:\n  shop:\n    type: mysql\n',
    });
    const file = path.join(dir, 'junction.yaml');
    const shown = path.relative(PROJECT_ROOT, file);
    const result = await runCli(['check', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${shown}:2:1 colour: unknown key "colour" [CFG_UNKNOWN_KEY]`,
      `${shown}:5:11 sources.shop.type: unknown type "mysql"; expected one of soap | rest | postgres | mongo | oracle [CFG_UNKNOWN_KIND]`,
    ]);
  });

  it('prints one JSON object {errors, sources} with --json', async () => {
    const dir = writeFiles({ 'junction.yaml': 'version: 3\nsources: {}\n' });
    const result = await runCli(['check', '--json', '--config', path.join(dir, 'junction.yaml')]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      errors: [expect.objectContaining({ code: 'CFG_VERSION', line: 1, col: 10, path: 'version' })],
      sources: [],
    });
  });
});
