/** Agent and visitor tokens: what verifies, and everything that must not. */
import { describe, expect, it } from 'vitest';
import { participantId, principalOf, signToken, verifyToken, type Principal } from '../../gateway/auth/token.js';

const SECRET = 'a-token-secret-of-at-least-32-characters';
const agent: Principal = { kind: 'agent', agentId: 7, team: 'support', name: 'Ann' };
const visitor: Principal = { kind: 'visitor', visitorId: '0b7e2c1a-2f5e-4c8e-9a51-9d4f3b1e6c20', customerId: 42, identity: { email: 'a@b.cn' } };

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('tokens', () => {
  it.each([agent, visitor])('round-trips a %s principal', (p) => {
    const { token, expiresAt } = signToken(p, SECRET, 60);
    expect(principalOf(verifyToken(token, SECRET))).toEqual(p);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('expires', () => {
    const { token } = signToken(agent, SECRET, 60, Date.now() - 61_000);
    expect(codeOf(() => verifyToken(token, SECRET))).toBe('GW_TOKEN_EXPIRED');
  });

  it('refuses a wrong key, a changed body, a truncated signature and garbage', () => {
    const { token } = signToken(agent, SECRET, 60);
    const [v, body, sig] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), agentId: 8 })).toString('base64url');
    expect(codeOf(() => verifyToken(token, `${SECRET}x`))).toBe('GW_TOKEN_INVALID');
    expect(codeOf(() => verifyToken(`${v}.${forged}.${sig}`, SECRET))).toBe('GW_TOKEN_INVALID');
    expect(codeOf(() => verifyToken(`${v}.${body}.${sig.slice(0, -2)}`, SECRET))).toBe('GW_TOKEN_INVALID');
    expect(codeOf(() => verifyToken('v2.abc.def', SECRET))).toBe('GW_TOKEN_INVALID');
    expect(codeOf(() => verifyToken('', SECRET))).toBe('GW_TOKEN_INVALID');
  });

  it('names participants', () => {
    expect(participantId(agent)).toBe('agent:7');
    expect(participantId(visitor)).toBe('visitor:0b7e2c1a-2f5e-4c8e-9a51-9d4f3b1e6c20');
  });
});
