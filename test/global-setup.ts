/**
 * Runs once before the test files: the stack is already up (`npm test` starts it), so this
 * applies pending migrations, which every integration test relies on, and readies what the
 * browser tests (test/web) need: Debian's Chromium and CJK fonts (installed with apt as
 * root, else STACK_MISSING_BINARY naming the command) and the built web UI. Idempotent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, stackSettings } from '../config/env.js';
import { ensurePackages } from '../demo/stack/packages.js';
import { migrateAll } from '../sql/migrate.js';

/** Debian packages of the browser tests: the browser itself and fonts that draw Chinese. */
export const BROWSER_PACKAGES = ['chromium', 'fonts-noto-cjk'];

/** Throws when gateway/web/dist lacks a page or the widget (npm test builds it through bin/bootstrap.sh). */
function checkWebBuilt(): void {
  const dist = path.join(PROJECT_ROOT, 'gateway', 'web', 'dist');
  const missing = ['agent/index.html', 'ops/index.html', 'widget.js'].filter((f) => !fs.existsSync(path.join(dist, f)));
  if (missing.length > 0) {
    throw new Error(`the web UI is not built (gateway/web/dist lacks ${missing.join(', ')}): run npm run web:build`);
  }
}

export default async function setup(): Promise<void> {
  // `npm run test:unit` runs without services.
  if (process.env.JUNCTION_UNIT_ONLY) return;
  ensurePackages(BROWSER_PACKAGES, (line) => console.log(`global setup: ${line}`));
  checkWebBuilt();
  await migrateAll(stackSettings());
}
