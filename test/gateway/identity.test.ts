/** Signed visitor identities: the canonical string, verification, replay window, normalization. */
import { describe, expect, it } from 'vitest';
import { canonicalIdentity, sameIdentity, signIdentity, verifyIdentity } from '../../gateway/auth/identity.js';

const SECRET = 'shared-identity-secret';
const opts = (now: number) => ({ secret: SECRET, maxSkewSeconds: 300, region: 'CN' as const, now: now * 1000 });
const T = 1_767_225_600;

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('signed identity', () => {
  it('has a documented canonical form (keys in a fixed order, whatever the input order)', () => {
    expect(canonicalIdentity({ phone: '138 0013 8000', email: 'Ann@Example.com' }, T)).toBe(
      'junction-identity-v1\nemail=Ann@Example.com\nphone=138 0013 8000\nts=1767225600',
    );
    // A fixed vector computed with Python's hmac module (also in PROTOCOL.md), so a site's implementation can be checked.
    expect(signIdentity({ email: 'ann@example.com' }, T, SECRET)).toBe('bb04ef83659cead1dac83a4e5c9fceb1981fe3c354b929f4c0a4aaea1a233e31');
  });

  it('verifies and normalizes like identity resolution', () => {
    const identity = { email: ' Ann@Example.com', phone: '138-0013-8000', external_id: ' A-1 ' };
    const claims = verifyIdentity({ identity, timestamp: T, signature: signIdentity(identity, T, SECRET) }, opts(T + 10));
    expect(claims).toEqual({ email: 'ann@example.com', phone: '+8613800138000', external_id: 'A-1' });
  });

  it.each([
    ['a wrong secret', { email: 'a@b.cn' }, T, (i: object) => signIdentity(i, T, 'other'), T],
    ['another claim than signed', { email: 'eve@b.cn' }, T, () => signIdentity({ email: 'a@b.cn' }, T, SECRET), T],
    ['an old timestamp', { email: 'a@b.cn' }, T, (i: object) => signIdentity(i, T, SECRET), T + 301],
    ['a timestamp from the future', { email: 'a@b.cn' }, T + 400, (i: object) => signIdentity(i, T + 400, SECRET), T],
    ['an uppercase-hex signature of another message', { email: 'a@b.cn' }, T, () => 'A'.repeat(64), T],
  ])('refuses %s', (_what, identity, ts, sign, now) => {
    expect(codeOf(() => verifyIdentity({ identity, timestamp: ts, signature: sign(identity) }, opts(now)))).toBe('GW_BAD_IDENTITY_SIGNATURE');
  });

  it('will not sign a value holding a line break, which would verify as two claims', () => {
    for (const email of ['m@x.cn\nexternal_id=C-1001', 'm@x.cn\r']) {
      expect(() => signIdentity({ email }, 1767225600, 'secret')).toThrow(/identity email holds a line break: it must not be signed/);
    }
    expect(() => signIdentity({ external_id: 'C-1\nphone=1' }, 1767225600, 'secret')).toThrow(RangeError);
  });

  it('refuses every claim when no secret is configured', () => {
    const identity = { email: 'a@b.cn' };
    expect(codeOf(() => verifyIdentity({ identity, timestamp: T, signature: signIdentity(identity, T, SECRET) }, { ...opts(T), secret: undefined }))).toBe(
      'GW_BAD_IDENTITY_SIGNATURE',
    );
  });
});

describe('sameIdentity', () => {
  it.each([
    ['no identity on both sides', null, null, true],
    ['the same claims', { email: 'ann@example.com', phone: '+8613800138000' }, { phone: '+8613800138000', email: 'ann@example.com' }, true],
    ['an identity and none', { email: 'ann@example.com' }, null, false],
    ['none and an identity', null, { email: 'ann@example.com' }, false],
    ['another email', { email: 'ann@example.com' }, { email: 'bob@example.com' }, false],
    ['the same claims plus another', { email: 'ann@example.com' }, { email: 'ann@example.com', external_id: 'A-1' }, false],
  ])('%s', (_what, a, b, same) => {
    expect(sameIdentity(a, b)).toBe(same);
  });
});
