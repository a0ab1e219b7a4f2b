/**
 * Signed visitor identities. The retailer's site knows who is logged in; it signs the
 * visitor's email, phone or external id with the shared `gateway.identity_secret`, and the
 * gateway links the conversation to the unified customer only when the signature holds.
 * An unsigned or badly signed claim is refused outright (never trusted, never ignored
 * silently), and the signed timestamp bounds how long a captured signature can be replayed.
 *
 * The canonical string (UTF-8), one `key=value` line per present claim in this key order,
 * then the timestamp; the signature is the lowercase hex HMAC-SHA256 of it:
 *
 * ```
 * junction-identity-v1
 * email=ann@example.com
 * external_id=A-1001
 * phone=+86 138 0013 8000
 * ts=1767225600
 * ```
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { JunctionError } from '../../config/errors.js';
import { normalizeEmail, normalizePhone, type CountryCode } from '../../pipelines/normalize.js';

export const IDENTITY_KEYS = ['email', 'external_id', 'phone'] as const;
export type IdentityKey = (typeof IDENTITY_KEYS)[number];
export type IdentityClaims = Partial<Record<IdentityKey, string>>;

/**
 * The same normalized claims, key by key (a token's identity and a freshly verified one, or
 * two tokens'). No identity on either side matches only no identity on the other.
 */
export function sameIdentity(a: IdentityClaims | null, b: IdentityClaims | null): boolean {
  if (a === null || b === null) return a === b;
  return IDENTITY_KEYS.every((k) => a[k] === b[k]);
}

const claimValue = z.string().min(1).max(256).regex(/^[^\r\n]*$/, { error: 'line breaks are not allowed' });

/** The `identity` part of `POST /api/visitor/session`. */
export const signedIdentitySchema = z.strictObject({
  identity: z
    .strictObject({ email: claimValue.optional(), phone: claimValue.optional(), external_id: claimValue.optional() })
    .refine((c) => IDENTITY_KEYS.some((k) => c[k] !== undefined), { error: 'claim at least one of email, phone, external_id' }),
  /** Unix seconds when the site signed it. */
  timestamp: z.number().int().positive(),
  signature: z.string(),
});

export type SignedIdentity = z.output<typeof signedIdentitySchema>;

/** The string the site signs (see the module comment). */
export function canonicalIdentity(claims: IdentityClaims, timestamp: number): string {
  const lines = ['junction-identity-v1'];
  for (const key of IDENTITY_KEYS) if (claims[key] !== undefined) lines.push(`${key}=${claims[key]}`);
  lines.push(`ts=${timestamp}`);
  return lines.join('\n');
}

/**
 * What the retailer's site computes (exported for tests, the demo site and client docs).
 * @throws RangeError for a value with a line break: signed, `email=a\nexternal_id=C-1` would
 * verify as two claims (the verifier refuses such values, so they never verify anyway)
 */
export function signIdentity(claims: IdentityClaims, timestamp: number, secret: string): string {
  for (const key of IDENTITY_KEYS) {
    if (/[\r\n]/.test(claims[key] ?? '')) throw new RangeError(`identity ${key} holds a line break: it must not be signed`);
  }
  return createHmac('sha256', secret).update(canonicalIdentity(claims, timestamp), 'utf8').digest('hex');
}

export interface VerifyIdentityOptions {
  /** `gateway.identity_secret`; without it every claim is refused. */
  secret: string | undefined;
  /** `gateway.identity_max_skew_s`. */
  maxSkewSeconds: number;
  /** `identity.default_region`, for phones written without a country code. */
  region: CountryCode;
  now?: number;
}

/**
 * Verifies the signature and the timestamp, then normalizes the claims the way identity
 * resolution keys them (so they meet `unified.customer_identity` values).
 * @throws JunctionError GW_BAD_IDENTITY_SIGNATURE
 */
export function verifyIdentity(signed: SignedIdentity, options: VerifyIdentityOptions): IdentityClaims {
  const refuse = (why: string) => new JunctionError('GW_BAD_IDENTITY_SIGNATURE', `identity claim refused: ${why}`);
  if (!options.secret) throw refuse('this gateway has no identity_secret configured');
  const nowSec = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSec - signed.timestamp) > options.maxSkewSeconds) {
    throw refuse(`timestamp ${signed.timestamp} is more than ${options.maxSkewSeconds}s from the server time ${nowSec}`);
  }
  const expected = Buffer.from(signIdentity(signed.identity, signed.timestamp, options.secret), 'hex');
  const given = /^[0-9a-fA-F]{64}$/.test(signed.signature) ? Buffer.from(signed.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse('signature does not verify');
  const out: IdentityClaims = {};
  if (signed.identity.email !== undefined) {
    const email = normalizeEmail(signed.identity.email);
    if (!email) throw new JunctionError('GW_BAD_REQUEST', 'the signed email is not an email address');
    out.email = email;
  }
  if (signed.identity.phone !== undefined) {
    const phone = normalizePhone(signed.identity.phone, options.region);
    if (!phone) throw new JunctionError('GW_BAD_REQUEST', 'the signed phone is not a valid number');
    out.phone = phone;
  }
  if (signed.identity.external_id !== undefined) out.external_id = signed.identity.external_id.trim();
  return out;
}
