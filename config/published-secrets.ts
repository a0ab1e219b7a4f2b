/**
 * The demo's secrets are published: config/junction.yaml gives every secret of the hub's own
 * surfaces a `${VAR:-default}` default so that the demo runs with nothing set, and anyone
 * who has read the repository knows those defaults. A hub serving them would let anyone sign
 * agent tokens (no password needed), sign any shopper's identity, or call the ops API; the
 * demo shop page signs identities for whoever asks. `junction start` refuses all of that
 * unless it is told it runs the demo (`--demo`).
 *
 * The published values are read from the committed file itself (loaded with an empty
 * environment), so there is no second copy of them to fall out of step.
 */
import path from 'node:path';
import { PROJECT_ROOT } from './env.js';
import { loadConfig, type ResolvedConfig } from './load.js';

/** Config paths of the secrets that guard what the hub serves (gateway tokens and identities, the ops API). */
const SURFACE_SECRETS = ['gateway.token_secret', 'gateway.identity_secret', 'ops.admin_token'] as const;

function valueAt(config: object, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), config);
}

/**
 * What in `config` only the demo may run with: surface secrets equal to the values the
 * committed config/junction.yaml publishes, and `gateway.demo_shop`. Paths, never values.
 */
export async function demoOnlySettings(config: ResolvedConfig, committed = path.join(PROJECT_ROOT, 'config/junction.yaml')): Promise<string[]> {
  const published = await loadConfig(committed, { env: {} });
  const out: string[] = SURFACE_SECRETS.filter((p) => {
    const value = valueAt(config, p);
    return typeof value === 'string' && value !== '' && value === valueAt(published, p);
  });
  if (config.gateway.demo_shop) out.push('gateway.demo_shop');
  return out;
}
