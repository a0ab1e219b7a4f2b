/** `junction mapping preview` refusals that need no service: they stop before connecting. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { writeFiles } from '../config/yaml-fixtures.js';
import { runCli } from '../helpers/cli.js';

describe('junction mapping preview', () => {
  it('refuses a file the config does not list', async () => {
    const result = await runCli(['mapping', 'preview', 'mappings/nope.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^junction: mappings\/nope\.yaml is not listed under mappings: in config\/junction\.yaml .*\[CFG_UNKNOWN_REF\]\n$/);
  });

  it('prints every config error with its position and exits 2', async () => {
    const dir = writeFiles({
      'junction.yaml': 'version: 1\nsources:\n  shop:\n    type: postgres\n    url: postgres://127.0.0.1/db\n    streams:\n      accounts: { table: shop.accounts, key: id }\nmappings: [m.yaml]\n',
      'm.yaml': 'version: 1\nsource: shop\nstream: accounts\ntarget: customer\nkey: id\nfields:\n  colour: c\n  email: { from: e, parse: datetime }\n',
    });
    const shown = path.relative(PROJECT_ROOT, path.join(dir, 'm.yaml'));
    const result = await runCli(['mapping', 'preview', path.join(dir, 'm.yaml'), '--config', path.join(dir, 'junction.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${shown.replaceAll('.', '\\.')}:7:3 fields\\.colour: customer has no field "colour" .*\\[MAP_UNKNOWN_FIELD\\]$`)),
      `${shown}:8:28 fields.email.parse: parse: datetime does not fit: email is of type email (it feeds datetime or date) [MAP_TYPE_MISMATCH]`,
    ]);
  });
});
