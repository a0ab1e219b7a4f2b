/** Password hashes: PHC strings that verify only the right password. */
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../gateway/auth/password.js';

describe('password hashing (scrypt)', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    // Cheap parameters keep the unit test quick; production uses DEFAULT_PARAMS.
    const params = { ln: 10, r: 8, p: 1 };
    const [h1, h2] = await Promise.all([hashPassword('correct horse', params), hashPassword('correct horse', params)]);
    expect(h1).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword('correct horse', h1)).toBe(true);
    expect(await verifyPassword('correct horse!', h1)).toBe(false);
    expect(await verifyPassword('correct horse', '$2b$10$notascrypthash')).toBe(false);
  });

  it('uses the default (OWASP) parameters', async () => {
    expect(await hashPassword('x')).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$/);
  });
});
