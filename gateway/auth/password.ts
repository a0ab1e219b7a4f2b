/**
 * Agent password hashing: argon2id through `@node-rs/argon2` (a maintained binding of the
 * reference implementation), OWASP's first argon2id profile (19 MiB, 2 passes, 1 lane).
 *
 * Hashes written before argon2 are scrypt PHC strings (`$scrypt$ln=15,r=8,p=3$…`, from
 * `node:crypto`); they still verify, and `needsRehash` tells the login to replace one (or an
 * argon2 hash with weaker parameters than today's) with a fresh argon2id hash, so old hashes
 * disappear as agents log in without a migration.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { hash, parseOptions, verify } from '@node-rs/argon2';

/** argon2id cost (`memoryCost` in KiB). */
export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** @defaultValue OWASP's argon2id m=19 MiB, t=2, p=1 */
export const DEFAULT_PARAMS: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Hashes a password into an argon2id PHC string `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. */
export async function hashPassword(password: string, params: Argon2Params = DEFAULT_PARAMS): Promise<string> {
  // argon2id is the binding's default algorithm (its const enum cannot be imported under isolatedModules).
  return hash(password.normalize('NFKC'), params);
}

/** True when `password` matches `stored` (argon2 or legacy scrypt); false for a wrong password or a hash this module cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const normalized = password.normalize('NFKC');
  if (stored.startsWith('$scrypt$')) return verifyScrypt(normalized, stored);
  if (!stored.startsWith('$argon2')) return false;
  try {
    return await verify(stored, normalized);
  } catch {
    return false; // a malformed stored hash verifies nothing
  }
}

/** Whether a hash that just verified should be replaced: not argon2id, or weaker than `params`. */
export function needsRehash(stored: string, params: Argon2Params = DEFAULT_PARAMS): boolean {
  if (!stored.startsWith('$argon2id$')) return true;
  try {
    const o = parseOptions(stored);
    return o.memoryCost < params.memoryCost || o.timeCost < params.timeCost || o.parallelism < params.parallelism;
  } catch {
    return true;
  }
}

let dummy: Promise<string> | undefined;

/**
 * Burns the time of one verification. Called for an unknown email so that a login's
 * duration does not tell which addresses have an agent.
 */
export async function verifyDummy(password: string): Promise<false> {
  dummy ??= hashPassword('not-a-password');
  await verifyPassword(password, await dummy);
  return false;
}

// ---- legacy scrypt hashes (round 1), verify only ------------------------------------------

/** scrypt cost parameters of a legacy hash; `ln` is log2(N). */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

const SCRYPT_PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

function scryptOptions({ ln, r, p }: ScryptParams): ScryptOptions {
  // Node refuses above 32 MiB by default; allow what the parameters need plus headroom.
  return { N: 2 ** ln, r, p, maxmem: 2 * 128 * r * 2 ** ln + 1024 * 1024 };
}

async function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const m = SCRYPT_PHC.exec(stored);
  if (!m) return false;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await scrypt(password, Buffer.from(m[4]!, 'base64'), expected.length, scryptOptions(params));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A legacy scrypt PHC hash, as round 1 wrote them: only for tests that check old hashes
 * still log in (and get rehashed).
 */
export async function hashScryptLegacy(password: string, params: ScryptParams = { ln: 15, r: 8, p: 3 }): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFKC'), salt, 32, scryptOptions(params));
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}
