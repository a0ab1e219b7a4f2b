/**
 * PostgreSQL migration 018 on tombstones written before it: a customer absorbed by a merge
 * loses the golden values, lineage and anchors it kept; live customers are left alone. The
 * migration's column list covers every golden field of the model.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { TARGETS } from '../../pipelines/model.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const SQL = fs.readFileSync(path.join(PROJECT_ROOT, 'sql/postgres/018_tombstones_forget_golden.sql'), 'utf8');
let db: ScratchDb;

beforeAll(async () => {
  db = await scratchDatabase('pg018');
});
afterAll(async () => {
  await db?.close();
});

describe('migration 018', () => {
  it('clears what tombstones kept of the person, and nothing of live customers', async () => {
    // As the hub held them before: the survivor, and a tombstone still carrying values.
    await db.pool.query(`INSERT INTO unified.customer (id, name, phone, city, lineage, anchors, anchor_kinds) VALUES
      (1, 'Ann', '+8613911112222', 'Hangzhou', '{"name": {"source": "shop_pg"}}', 1, '{shop_account}'),
      (2, 'Ann L', '+8613911112222', 'Hangzhou', '{"name": {"source": "app_mongo"}}', 1, '{email}')`);
    await db.pool.query('UPDATE unified.customer SET merged_into = 1 WHERE id = 2');
    await db.pool.query(SQL);
    const { rows } = await db.pool.query('SELECT id, name, phone, city, lineage, anchors, anchor_kinds, merged_into FROM unified.customer ORDER BY id');
    expect(rows).toEqual([
      { id: '1', name: 'Ann', phone: '+8613911112222', city: 'Hangzhou', lineage: { name: { source: 'shop_pg' } }, anchors: 1, anchor_kinds: ['shop_account'], merged_into: null },
      { id: '2', name: null, phone: null, city: null, lineage: {}, anchors: 0, anchor_kinds: [], merged_into: '1' },
    ]);
  });

  it('names every golden field of the model', () => {
    for (const field of Object.keys(TARGETS.customer.fields)) expect(SQL, field).toMatch(new RegExp(`\\b${field}\\b`));
  });
});
