/**
 * Request authentication: the legacy query signature (appkey + timestamp + a hash of the
 * sorted parameters and the secret, as the estate's PHP ticket system checks it), basic,
 * bearer and a custom header.
 */
import { createHash, createHmac } from 'node:crypto';
import iconv from 'iconv-lite';
import { basicCredentials } from '../basic-auth.js';

/** The `auth:` of a rest source (resolved config). */
export type RestAuth =
  | {
      type: 'signature';
      appkey: string;
      secret: string;
      algorithm: 'md5' | 'sha1' | 'sha256' | 'hmac-sha1' | 'hmac-sha256';
      appkey_param: string;
      timestamp_param: string;
      sign_param: string;
    }
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | { type: 'header'; name: string; value: string };

/**
 * The string the signature covers: every parameter except the signature itself, sorted by
 * key in byte order (PHP's `ksort(SORT_STRING)`), joined as `key=value` with `&`, values
 * not URL-encoded.
 */
export function signatureBase(params: Readonly<Record<string, string>>, signParam: string): string {
  return Object.keys(params)
    .filter((k) => k !== signParam)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

/**
 * The signature of `params`: for plain hashes `hash(base + secret)` in lower-case hex, for
 * HMACs `hmac(secret, base)`. The bytes hashed are the base in the source's `encoding`, the
 * same bytes the server sees after URL-decoding (see {@link encodeQuery}).
 */
export function sign(
  params: Readonly<Record<string, string>>,
  auth: Extract<RestAuth, { type: 'signature' }>,
  encoding = 'utf-8',
): string {
  const base = signatureBase(params, auth.sign_param);
  switch (auth.algorithm) {
    case 'hmac-sha1':
    case 'hmac-sha256':
      return createHmac(auth.algorithm.slice(5), auth.secret).update(iconv.encode(base, encoding)).digest('hex');
    default:
      return createHash(auth.algorithm).update(iconv.encode(base + auth.secret, encoding)).digest('hex');
  }
}

/**
 * Adds the credentials to a request: the signature parameters to `query` (a fresh timestamp
 * for every attempt), or a header to `headers`. `now` is injectable for tests.
 */
export function applyAuth(
  auth: RestAuth | undefined,
  query: Record<string, string>,
  headers: Record<string, string>,
  encoding: string,
  now: () => number = Date.now,
): void {
  if (!auth) return;
  switch (auth.type) {
    case 'signature':
      query[auth.appkey_param] = auth.appkey;
      query[auth.timestamp_param] = String(Math.floor(now() / 1000));
      delete query[auth.sign_param];
      query[auth.sign_param] = sign(query, auth, encoding);
      return;
    case 'basic':
      headers.authorization = `Basic ${basicCredentials(auth.username, auth.password)}`;
      return;
    case 'bearer':
      headers.authorization = `Bearer ${auth.token}`;
      return;
    case 'header':
      headers[auth.name.toLowerCase()] = auth.value;
      return;
  }
}

/** Every secret value of an auth config, for redacting error excerpts. */
export function authSecrets(auth: RestAuth | undefined): string[] {
  switch (auth?.type) {
    case 'signature':
      return [auth.appkey, auth.secret];
    case 'basic':
      return [auth.password, basicCredentials(auth.username, auth.password)];
    case 'bearer':
      return [auth.token];
    case 'header':
      return [auth.value];
    default:
      return [];
  }
}

/**
 * A query string with values percent-encoded from the source's charset: a GBK application
 * URL-decodes `%D6%D0` to the bytes of 中 in GBK, and the signature was computed over those.
 */
export function encodeQuery(query: Readonly<Record<string, string>>, encoding: string): string {
  const enc = (s: string) => {
    if (/^[\x20-\x7e]*$/.test(s) || encoding === 'utf-8') return encodeURIComponent(s);
    return [...iconv.encode(s, encoding)]
      .map((b) => (/[A-Za-z0-9\-_.!~*'()]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
      .join('');
  };
  return Object.entries(query)
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .join('&');
}
