/**
 * Agent password hashing with scrypt from `node:crypto`.
 *
 * Why scrypt and not an argon2/bcrypt package: scrypt is a memory-hard KDF (RFC 7914) that
 * OWASP's password storage guidance lists beside argon2id, and Node ships it maintained in
 * core (OpenSSL), so there is no native addon to build and no extra supply chain on a
 * gateway host. Parameters follow OWASP's scrypt table (N=2^15, r=8, p=3: 32 MiB, run on
 * libuv's thread pool). Hashes are PHC strings that name their algorithm and parameters,
 * so stronger parameters, or `@node-rs/argon2` later, can verify old hashes and rehash new
 * ones on login without a migration.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** Cost parameters; `ln` is log2(N). */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/** @defaultValue OWASP's N=2^15, r=8, p=3 */
export const DEFAULT_PARAMS: ScryptParams = { ln: 15, r: 8, p: 3 };

const KEY_LENGTH = 32;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function options({ ln, r, p }: ScryptParams): ScryptOptions {
  // Node refuses above 32 MiB by default; allow what the parameters need plus headroom.
  return { N: 2 ** ln, r, p, maxmem: 2 * 128 * r * 2 ** ln + 1024 * 1024 };
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** Hashes a password into a PHC string `$scrypt$ln=15,r=8,p=3$<salt>$<hash>`. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options(params));
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/** True when `password` matches `stored`; false for a wrong password or a hash this module cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = PHC.exec(stored);
  if (!m) return false;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await scrypt(password.normalize('NFKC'), Buffer.from(m[4]!, 'base64'), expected.length, options(params));
  return key.length === expected.length && timingSafeEqual(key, expected);
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
