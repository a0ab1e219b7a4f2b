/** Password hashes: argon2id PHC strings that verify only the right password; legacy scrypt hashes still verify and ask for a rehash. */
import { describe, expect, it } from 'vitest';
import { hashPassword, hashScryptLegacy, needsRehash, verifyPassword } from '../../gateway/auth/password.js';

// Cheap parameters keep the unit test quick; production uses DEFAULT_PARAMS.
const cheap = { memoryCost: 1024, timeCost: 2, parallelism: 1 };

describe('password hashing (argon2id)', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const [h1, h2] = await Promise.all([hashPassword('correct horse', cheap), hashPassword('correct horse', cheap)]);
    expect(h1).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword('correct horse', h1)).toBe(true);
    expect(await verifyPassword('correct horse!', h1)).toBe(false);
    expect(await verifyPassword('correct horse', '$2b$10$notanargon2hash')).toBe(false);
    expect(await verifyPassword('correct horse', '$argon2id$v=19$m=1024,t=2,p=1$broken')).toBe(false);
  });

  it('uses the default (OWASP) parameters and asks to rehash weaker ones', async () => {
    const strong = await hashPassword('x');
    expect(strong).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(needsRehash(strong)).toBe(false);
    expect(needsRehash(await hashPassword('x', cheap))).toBe(true);
  });

  it('still verifies legacy scrypt hashes, and asks to rehash them', async () => {
    const legacy = await hashScryptLegacy('correct horse', { ln: 10, r: 8, p: 1 });
    expect(legacy).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect(await verifyPassword('correct horse', legacy)).toBe(true);
    expect(await verifyPassword('wrong', legacy)).toBe(false);
    expect(needsRehash(legacy)).toBe(true);
  });
});
