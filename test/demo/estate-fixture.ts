/**
 * Shared by the demo estate's integration tests: seeds a small estate into the stack's real
 * services, and knows the ticket API's signature (independently of the PHP code, so a
 * divergence between the README's algorithm and the server fails a test).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { stackSettings, withDatabase, type StackSettings } from '../../config/env.js';
import { seedEstate, type SeedSummary } from '../../demo/seed/seed-estate.js';

/** Small, fixed estate: every integration test of the estate sees the same data. */
export const FIXTURE = { scale: 300, seed: 'estate-int-test' } as const;

export interface SeededEstate {
  settings: StackSettings;
  summary: SeedSummary;
  /** A client on the estate database (close it in afterAll). */
  db: pg.Client;
}

/** Seeds the fixture estate and connects to its database. */
export async function seedFixture(): Promise<SeededEstate> {
  const settings = stackSettings();
  // Inside the stack's (git-ignored) data folder, reused run after run: nothing piles up.
  const outDir = path.join(settings.dataDir, 'test-estate');
  const summary = await seedEstate({ ...FIXTURE, settings, outDir });
  const db = new pg.Client({ connectionString: withDatabase(settings.services.postgres.url, settings.estateDatabase) });
  await db.connect();
  return { settings, summary, db };
}

/** The ticket API's `sign`: md5 of the sorted `k=v` pairs joined by `&`, then the secret. */
export function ticketsSign(params: Record<string, string>, secret: string): string {
  const base = Object.keys(params)
    .filter((k) => k !== 'sign')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return createHash('md5').update(base + secret).digest('hex');
}

/** A signed ticket API URL for `params` (appkey and ts are added unless given). */
export function ticketsUrl(settings: StackSettings, params: Record<string, string>, sign?: string): string {
  const all: Record<string, string> = { appkey: settings.ticketsAppKey, ts: String(Math.floor(Date.now() / 1000)), ...params };
  all.sign = sign ?? ticketsSign(all, settings.ticketsSecret);
  return `${settings.services.tickets_php.url.replace(/\/$/, '')}/api.php?${new URLSearchParams(all)}`;
}
