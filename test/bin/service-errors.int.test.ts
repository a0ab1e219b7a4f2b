/**
 * Commands against a hub database that `junction migrate` never ran on: one MIG_PENDING line
 * that says to run it, not a pg stack trace (bin/cli.ts through bin/service-errors.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/scratch-pool.js';

let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase('junction_cli_unmigrated', 1);
});

afterAll(async () => {
  await db?.close();
});

describe('a hub database that is not migrated', () => {
  it.each([
    { command: 'dlq list', table: 'hub.dead_letter' },
    { command: 'customers show 1', table: 'unified.customer' },
    { command: 'agents list', table: 'gateway.agent' },
    { command: 'sync tickets_php.tickets --inline', table: 'hub.sync_run' },
  ])('junction $command says to run junction migrate', async ({ command, table }) => {
    const res = await runCli(command.split(' '), { JUNCTION_PG_URL: db.url });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(
      `junction: the hub database lacks what a migration creates: relation "${table}" does not exist (SQLSTATE 42P01); run junction migrate [MIG_PENDING]`,
    );
  });
});
