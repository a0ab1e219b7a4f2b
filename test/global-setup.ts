/**
 * Runs once before the test files: the stack is already up (`npm test` starts it), so this
 * applies pending migrations, which every integration test relies on. Idempotent.
 */
import { stackSettings } from '../config/env.js';
import { migrateAll } from '../sql/migrate.js';

export default async function setup(): Promise<void> {
  // `npm run test:unit` runs without services.
  if (process.env.JUNCTION_UNIT_ONLY) return;
  await migrateAll(stackSettings());
}
