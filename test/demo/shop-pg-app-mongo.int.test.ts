/**
 * shop_pg through `pg` and app_mongo through `mongodb` on FerretDB: what was loaded is
 * exactly what the generator produced, with the types a connector will meet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, ObjectId } from 'mongodb';
import { generateEstate } from '../../demo/seed/generate.js';
import type { EstateBatch } from '../../demo/seed/rows.js';
import { userDocument } from '../../demo/seed/write-mongo.js';
import { FIXTURE, seedFixture, type SeededEstate } from './estate-fixture.js';

let estate: SeededEstate;
let mongo: MongoClient;
const generated: EstateBatch[] = [];

beforeAll(async () => {
  estate = await seedFixture();
  mongo = new MongoClient(estate.settings.services.mongo.url);
  await mongo.connect();
  generated.push(...generateEstate(FIXTURE));
});

afterAll(async () => {
  await estate?.db.end();
  await mongo?.close();
});

describe('shop_pg', () => {
  it('holds the generated accounts, messy keys included, with bigint ids and timestamptz', async () => {
    const { rows } = await estate.db.query('SELECT id, email, phone, full_name, crm_id, created_at, updated_at FROM shop.accounts ORDER BY id');
    const expected = generated.flatMap((b) => b.shopAccounts);
    expect(rows).toHaveLength(estate.summary.counts['shop_pg.accounts'] as number);
    expect(rows.map((r) => [r.id, r.email, r.phone, r.full_name, r.crm_id, r.created_at.getTime(), r.updated_at.getTime()])).toEqual(
      // node-postgres returns int8 as a string: ids never lose precision
      expected.map((a) => [String(a.id), a.email, a.phone, a.fullName, a.crmId, a.createdAt, a.updatedAt]),
    );
    expect(rows[0].updated_at).toBeInstanceOf(Date);
    // the mess the mappings must normalise is really there
    expect(rows.some((r) => r.email && r.email !== r.email.trim().toLowerCase())).toBe(true);
    expect(rows.some((r) => r.phone && /^\+86/.test(r.phone))).toBe(true);
    expect(rows.some((r) => r.crm_id !== null)).toBe(true);
  });

  it('holds every address under an existing account, and the (updated_at, id) cursor indexes', async () => {
    const { rows } = await estate.db.query(
      'SELECT count(*)::int AS n, count(a.id)::int AS linked FROM shop.addresses ad LEFT JOIN shop.accounts a ON a.id = ad.account_id',
    );
    expect(rows[0]).toEqual({ n: estate.summary.counts['shop_pg.addresses'], linked: estate.summary.counts['shop_pg.addresses'] });
    const idx = await estate.db.query("SELECT indexdef FROM pg_indexes WHERE schemaname = 'shop' AND indexdef LIKE '%(updated_at, id)'");
    expect(idx.rows).toHaveLength(2);
  });
});

describe('app_mongo', () => {
  it('holds the generated users with ObjectId and Date types', async () => {
    const users = mongo.db().collection('users');
    const docs = await users.find({}).sort({ _id: 1 }).toArray();
    const expected = generated.flatMap((b) => b.appUsers).map(userDocument);
    expected.sort((a, b) => String(a._id).localeCompare(String(b._id)));
    expect(docs).toHaveLength(estate.summary.counts['app_mongo.users'] as number);
    expect(docs[0]?._id).toBeInstanceOf(ObjectId);
    expect(docs[0]?.updatedAt).toBeInstanceOf(Date);
    expect(docs.map((d) => JSON.stringify(d))).toEqual(expected.map((d) => JSON.stringify(d)));
    // optional fields are absent, not null, as in the app
    expect(docs.some((d) => !('email' in d))).toBe(true);
    expect(docs.some((d) => typeof d.unionid === 'string')).toBe(true);
  });

  it('has the {updatedAt: 1, _id: 1} cursor index', async () => {
    const indexes = await mongo.db().collection('users').indexes();
    expect(indexes.map((i) => i.key)).toContainEqual({ updatedAt: 1, _id: 1 });
  });
});
