/**
 * The normal forms of identity values, shared by the mapping helpers (`normalize: email |
 * phone`, fields of type email/phone) and identity resolution, so that a key written by a
 * mapping and a key looked up later (a visitor's signed phone, `customers show <phone>`)
 * always meet in the same form.
 */
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import * as z from 'zod';

export type { CountryCode };

/** True for a region libphonenumber has metadata for (`identity.default_region`). */
export function isPhoneRegion(region: string): region is CountryCode {
  return isSupportedCountry(region);
}

/**
 * An email in its linking form: Unicode NFKC (full-width `＠` typed on a Chinese keyboard
 * becomes `@`), trimmed, lower case. The local part is case-sensitive in theory and never
 * in practice; the estate's systems disagree on case, so linking must not care.
 * @returns null for anything that is not an email address (zod's address pattern).
 */
export function normalizeEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.normalize('NFKC').trim().toLowerCase();
  return z.regexes.email.test(email) ? email : null;
}

/**
 * libphonenumber costs ~15 µs a parse; a record usually carries the same raw phone twice (a
 * field and an identity key) and sources repeat them, so recent results are kept. Cleared
 * when full rather than LRU: simpler, and the hit pattern is mostly within one record.
 */
const phoneCache = new Map<string, string | null>();
const PHONE_CACHE_SIZE = 20_000;

/**
 * A phone in E.164 (`+8613800138000`), from any of the ways systems write it: `+86 138 0013
 * 8000`, `0086-138-0013-8000`, `138-0013-8000`, a number `13800138000`. Numbers without a
 * country code are read in `region` (config `identity.default_region`).
 * @returns null when the text is not a valid number for its country (full metadata, so
 * `12345678901` is refused, not just checked for length).
 */
export function normalizePhone(value: unknown, region: CountryCode): string | null {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) text = String(value);
  else return null;
  const cacheKey = `${region}|${text}`;
  const cached = phoneCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const parsed = parsePhoneNumberFromString(text.normalize('NFKC'), region);
  const result = parsed?.isValid() ? parsed.number : null;
  if (phoneCache.size >= PHONE_CACHE_SIZE) phoneCache.clear();
  phoneCache.set(cacheKey, result);
  return result;
}

