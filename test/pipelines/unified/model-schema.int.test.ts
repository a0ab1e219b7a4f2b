/**
 * pipelines/model.ts and the migrated `unified` schema agree: every model field has a
 * column of the matching type, and no table has a column the model and the bookkeeping do
 * not explain. Changing one without the other fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGETS, type TargetName } from '../../../pipelines/model.js';
import { CUSTOMER_COLUMNS, ENTITY_COLUMNS, PG_TYPE } from '../../../pipelines/unified/columns.js';
import { scratchDatabase, type ScratchDb } from '../../helpers/unified.js';

let db: ScratchDb;

beforeAll(async () => {
  db = await scratchDatabase('model_schema');
});
afterAll(async () => {
  await db?.close();
});

async function columns(table: string): Promise<Record<string, string>> {
  const { rows } = await db.pool.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'unified' AND table_name = $1`,
    [table],
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

describe('model ↔ unified schema', () => {
  it.each(Object.keys(TARGETS) as TargetName[])('%s: a column per model field, typed as the model says', async (target) => {
    const actual = await columns(target);
    const fields = Object.entries(TARGETS[target].fields).map(([name, spec]) => [name, PG_TYPE[spec.type]] as const);
    expect(Object.keys(actual).length, `unified.${target} exists`).toBeGreaterThan(0);
    for (const [name, type] of fields) expect([name, actual[name]]).toEqual([name, type]);
    const bookkeeping: readonly string[] = target === 'customer' ? CUSTOMER_COLUMNS : ENTITY_COLUMNS;
    const extra = Object.keys(actual).filter((c) => !bookkeeping.includes(c) && !Object.hasOwn(TARGETS[target].fields, c));
    expect(extra, `columns of unified.${target} that the model does not have`).toEqual([]);
  });
});
