/** `junction mapping preview` refusals that need no service: they stop before connecting. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { previewRow } from '../../bin/commands/mapping.js';
import type { JsonValue } from '../../connectors/types.js';
import { PROJECT_ROOT } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { compileMapping } from '../../pipelines/map/compile.js';
import { mapRecord } from '../../pipelines/map/map-batch.js';
import { resolveRules } from '../../pipelines/resolve/rules.js';
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

  it('shows what the load gate would dead-letter beside the mapped row (a NUL in a field, a key too long to index)', async () => {
    const config = await loadConfig(path.join(PROJECT_ROOT, 'config', 'junction.yaml'), { relativeTo: PROJECT_ROOT, env: {} });
    const compiled = compileMapping(config.mappings.find((m) => m.mapping.source === 'shop_pg' && m.mapping.stream === 'accounts')!, config);
    const rules = resolveRules(config);
    const account = { id: '7', email: 'ann@example.com', phone: '13911112222', full_name: 'Ann', updated_at: '2026-01-01T00:00:00Z', created_at: '2025-01-01T00:00:00Z' };
    const ok = previewRow(account, await mapRecord(compiled, account), rules);
    expect(ok).toMatchObject({ sourceKey: '7', error: null });
    const nul = { ...account, full_name: 'A\u0000nn' };
    expect(previewRow(nul, await mapRecord(compiled, nul), rules)).toMatchObject({
      mapped: expect.objectContaining({ name: 'A\u0000nn' }),
      error: { code: 'ID_INVALID_VALUE', message: expect.stringMatching(/^name holds a NUL character/) },
    });
    const longKey = { ...account, id: '9'.repeat(2500) };
    expect(previewRow(longKey, await mapRecord(compiled, longKey), rules).error).toEqual({
      code: 'ID_INVALID_VALUE',
      message:
        'key is 2500 bytes long, over the 2000 a key or identity value may have (it is indexed); identity shop_account is 2500 bytes long, over the 2000 a key or identity value may have (it is indexed)',
    });
    // Nested too deep to print whole (JSON.stringify throws at a few thousand levels): shown cut.
    let deep: JsonValue = 'x';
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    const tooDeep = { ...account, extra: deep };
    const row = previewRow(tooDeep, await mapRecord(compiled, tooDeep), rules);
    expect(row).toMatchObject({ sourceKey: '7', error: { code: 'MAP_RECORD_TOO_DEEP' } });
    expect(JSON.stringify(row.source)).toContain('"$junction_cut"');
  });
});
