/**
 * Redaction of secrets in text (error messages, log lines, UI strings). The loader registers
 * each resolved config's secret values here; the logger and the UI ask with `redact(text, config)`
 * or take the list from `redactionList(config)`.
 */
/** What every redacted secret is replaced with. */
export const REDACTED = '***';

/**
 * Environment variables whose names look secret: their values are redacted wherever they
 * were interpolated, even into fields the schema does not mark.
 */
export const SECRET_ENV_NAME = /PASS(WORD|WD)?|SECRET|TOKEN|KEY|CREDENTIAL|AUTH/i;

/**
 * Values shorter than this are not redacted by value: replacing `1` or `on` everywhere would
 * mangle line numbers and words while protecting nothing. URL passwords are always redacted.
 */
const MIN_SECRET_LENGTH = 4;

const bySource = new WeakMap<object, readonly string[]>();

/** Remembers the secret values of a resolved config (called by the loader). */
export function registerSecrets(config: object, secrets: Iterable<string>): void {
  bySource.set(config, normalise(secrets));
}

/** The secret values of a resolved config, longest first (what a log redactor needs). */
export function redactionList(config: object): readonly string[] {
  return bySource.get(config) ?? [];
}

function normalise(secrets: Iterable<string>): string[] {
  const unique = new Set([...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH));
  // Longest first, so a secret containing another is replaced whole.
  return [...unique].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

// The user runs to the first `:` and may hold `@` (Azure's `user@server`); the password runs
// to the authority's last `@` (drivers split there, so `p@ss` is one password), never past
// its end (`/`, `?`, `#`, whitespace).
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^:/?#\s]*):[^/?#\s]*@/gi;

/**
 * Credentials given as URL query parameters: pg-connection-string reads `?password=` as the
 * password, ioredis merges the query into its options. Shared with secret.ts.
 */
export const QUERY_SECRET = /([?&](?:password|passwd|pass|sslpassword|sslkey_password|token|access_token|api_key|apikey|secret)=)([^&#\s]*)/gi;

/**
 * Replaces secrets in `text` with `***`. `secrets` is a resolved config (its registered
 * secrets) or a list of values. Passwords inside URLs are always replaced.
 */
export function redact(text: string, secrets: readonly string[] | object = []): string {
  const list = Array.isArray(secrets) ? normalise(secrets as readonly string[]) : redactionList(secrets);
  let out = text;
  for (const value of list) out = out.split(value).join(REDACTED);
  return out.replace(URL_USERINFO, `$1:${REDACTED}@`).replace(QUERY_SECRET, (_m, name: string, value: string) => (value ? `${name}${REDACTED}` : name));
}
