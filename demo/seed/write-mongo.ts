/**
 * Loads `app_mongo`: the mobile app's `users` collection on the MongoDB wire server
 * (FerretDB in the local stack). The collection is dropped and refilled, so reseeding is
 * idempotent; there is no transaction, but nothing reads it during a seed.
 */
import { MongoClient, ObjectId, type Collection, type Db, type Document } from 'mongodb';
import type { AppUserRow } from './rows.js';

/** Default database when the URL names none. */
export const APP_DATABASE = 'app';
export const USERS_COLLECTION = 'users';

/** The document the app stores; optional fields are absent rather than null, as in the app. */
export function userDocument(row: AppUserRow): Document {
  return {
    _id: new ObjectId(row.id),
    openid: row.openid,
    ...(row.unionid === undefined ? {} : { unionid: row.unionid }),
    ...(row.phone === undefined ? {} : { phone: row.phone }),
    nickname: row.nickname,
    ...(row.email === undefined ? {} : { email: row.email }),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

/** The app's database: the URL's, or `app` for a URL without a path (it has no default database). */
export function appDatabase(client: MongoClient, url: string): Db {
  return client.db(new URL(url).pathname.length > 1 ? undefined : APP_DATABASE);
}

export class EstateMongoWriter {
  private constructor(
    private readonly client: MongoClient,
    private readonly users: Collection,
  ) {}

  /** Connects and empties `users` (drop, so stale indexes go too). */
  static async open(url: string): Promise<EstateMongoWriter> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    try {
      const db = appDatabase(client, url);
      const existing = await db.listCollections({ name: USERS_COLLECTION }, { nameOnly: true }).toArray();
      if (existing.length > 0) await db.dropCollection(USERS_COLLECTION);
      return new EstateMongoWriter(client, db.collection(USERS_COLLECTION));
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
  }

  async write(rows: readonly AppUserRow[]): Promise<void> {
    if (rows.length === 0) return;
    // Unordered: the server may apply the batch in any order, which FerretDB does faster.
    await this.users.insertMany(rows.map(userDocument), { ordered: false });
  }

  /** Builds the cursor index after the load (cheaper than maintaining it per insert). */
  async finish(): Promise<void> {
    try {
      await this.users.createIndex({ updatedAt: 1, _id: 1 }, { name: 'updatedAt_1__id_1' });
    } finally {
      await this.client.close();
    }
  }

  async abort(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }
}
