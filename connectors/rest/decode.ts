/**
 * From raw response bytes to JSON, refusing what legacy servers send instead of data: HTML
 * error pages (PHP "Fatal error" with HTTP 500, or a warning printed before the JSON with
 * HTTP 200), bodies that are not valid in the declared charset, truncated JSON.
 *
 * Charset decision: the source's configured `encoding` wins over the response's `charset=`
 * (legacy servers often declare one thing and send another, and the data engineer has looked
 * at the real bytes). What is detectable is bytes that are *invalid* in that charset: the
 * decoder turns them into U+FFFD, which we count against the U+FFFDs the bytes really encode.
 * Bytes that are valid in both charsets (UTF-8 Chinese read as GBK is often valid GBK
 * mojibake; anything read as latin1) cannot be told apart from real text and pass through.
 */
import iconv from 'iconv-lite';
import { JunctionError } from '../../config/errors.js';
import { REDACTED, redact } from '../../config/redact.js';
// Response bodies get the limit every record has: JSON.parse takes any depth, but the
// lossless parser recurses and serialising a record throws a bare RangeError past a few
// thousand levels.
import { MAX_JSON_DEPTH, parseExactJson } from '../json.js';

const REPLACEMENT = '\uFFFD';

/** Statuses worth retrying: the server or a proxy is temporarily unable to answer. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 502, 503, 504]);

/** What the HTTP layer hands to {@link parseResponse}. */
export interface RawResponse {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

/** Context for error messages: which source, which request path, which secrets to mask. */
export interface DecodeContext {
  source: string;
  path: string;
  encoding: string;
  secrets: readonly string[];
}

/** The `charset=` of a Content-Type header, lower-cased. */
export function responseCharset(contentType: string | null): string | undefined {
  const m = /;\s*charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? '');
  return m?.[1]?.toLowerCase();
}

function countOf(haystack: Buffer | string, needle: Buffer | string): number {
  let n = 0;
  if (needle.length === 0) return 0;
  for (let i = haystack.indexOf(needle as never); i !== -1; i = haystack.indexOf(needle as never, i + needle.length)) n += 1;
  return n;
}

/** Decodes `bytes` in `encoding`; CONN_CHARSET when they are not valid text in it. */
export function decodeText(bytes: Buffer, ctx: DecodeContext): string {
  const text = iconv.decode(bytes, ctx.encoding);
  const produced = countOf(text, REPLACEMENT);
  if (produced === 0) return text;
  // U+FFFD is real text only where the charset can encode it (UTF-8, GB18030) and the bytes do.
  const encoded = iconv.encode(REPLACEMENT, ctx.encoding);
  const genuine = iconv.decode(encoded, ctx.encoding) === REPLACEMENT ? countOf(bytes, encoded) : 0;
  if (produced > genuine) {
    const at = text.indexOf(REPLACEMENT);
    throw new JunctionError('CONN_CHARSET', `${ctx.path}: response is not valid ${ctx.encoding} (${produced - genuine} invalid byte sequence(s), first near character ${at})`, {
      where: { source: ctx.source },
      details: { encoding: ctx.encoding, invalidSequences: produced - genuine, excerpt: excerpt(text.slice(Math.max(0, at - 40), at + 40), ctx.secrets) },
    });
  }
  return text;
}

/** A short, single-line, tag-free excerpt of a body for error details (secrets masked). */
export function excerpt(text: string, secrets: readonly string[], max = 200): string {
  const plain = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h\d)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
  // Masked before the cut, so a secret across it is whole when redacted.
  const whole = redact(plain, secrets);
  const cut = maskCutSecrets(whole.length > max ? whole.slice(0, max) : whole, secrets);
  return whole.length > max ? `${cut}…` : cut;
}

/**
 * A secret cut by a window's edge (the caller's slice of a body, or the excerpt's own cut)
 * leaves its start at the window's end or its end at the window's start, where `redact`
 * cannot see it whole: such a piece of 3 or more characters is masked too.
 */
function maskCutSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (let k = Math.min(secret.length - 1, out.length); k >= 3; k--) {
      if (out.endsWith(secret.slice(0, k))) {
        out = `${out.slice(0, out.length - k)}${REDACTED}`;
        break;
      }
    }
    for (let k = Math.min(secret.length - 1, out.length); k >= 3; k--) {
      if (out.startsWith(secret.slice(secret.length - k))) {
        out = `${REDACTED}${out.slice(k)}`;
        break;
      }
    }
  }
  return out;
}

/** Whether arrays and objects in JSON `text` nest deeper than `max` (brackets in strings do not count). */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return false;
}

/**
 * JSON to plain values. Numbers that a JS number cannot hold exactly (long ids, decimals
 * with many digits, exponents) stay strings, as the record contract asks ({@link
 * parseExactJson}, shared with the SQL connectors' json columns). Nesting is checked before
 * parsing, in one pass over the text, so neither parser nor a later stringify meets a hostile
 * depth.
 */
export function parseJson(text: string, ctx: DecodeContext): unknown {
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new JunctionError('CONN_BAD_RESPONSE', `${ctx.path}: response JSON is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      where: { source: ctx.source },
      details: { length: text.length, maxDepth: MAX_JSON_DEPTH },
    });
  }
  try {
    return parseExactJson(text);
  } catch (err) {
    const trimmed = text.trimEnd();
    throw new JunctionError('CONN_BAD_RESPONSE', `${ctx.path}: response is not valid JSON${trimmed === '' ? ' (empty body)' : ''}: ${(err as Error).message}`, {
      cause: err,
      where: { source: ctx.source },
      details: { length: text.length, tail: excerpt(trimmed.slice(-80), ctx.secrets, 80) },
    });
  }
}

/**
 * An HTML page by its first non-blank byte (PHP prints errors and warnings before the JSON)
 * or by its type. A successful body that starts like JSON is data whatever its type: PHP
 * sends `text/html` (its default_mimetype) unless the script sets a header, so legacy APIs
 * send valid JSON as HTML.
 */
function looksLikeHtml(res: RawResponse): boolean {
  const first = firstCharacter(res.bytes);
  if (first === '<') return true;
  if (res.status < 400 && (first === '{' || first === '[')) return false;
  return /\bhtml\b/i.test(res.headers.get('content-type') ?? '');
}

/** The first non-blank byte after a UTF-8 byte-order mark, as a character ('' for a blank body). */
function firstCharacter(bytes: Buffer): string {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i += 1;
  return i < bytes.length ? String.fromCharCode(bytes[i]!) : '';
}

/** The body as text for an error excerpt: the declared charset if known, replacement chars allowed. */
function lenientText(res: RawResponse, ctx: DecodeContext): string {
  const declared = responseCharset(res.headers.get('content-type'));
  return iconv.decode(res.bytes, declared && iconv.encodingExists(declared) ? declared : ctx.encoding);
}

/** Milliseconds from a `Retry-After` header (seconds or an HTTP date), if any. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Classifies a response and returns its JSON body. Errors keep the HTTP status and a short
 * excerpt in `details`; only rate limits and transient statuses are retryable.
 */
export function parseResponse(res: RawResponse, ctx: DecodeContext): unknown {
  const where = { source: ctx.source };
  if (res.status === 429) {
    const wait = retryAfterMs(res.headers.get('retry-after'));
    throw new JunctionError('CONN_RATE_LIMITED', `${ctx.path}: HTTP 429 Too Many Requests${wait === undefined ? '' : ` (Retry-After ${wait} ms)`}`, {
      where,
      retryable: true,
      details: { status: 429, retryAfterMs: wait },
    });
  }
  if (res.status === 401 || res.status === 403) {
    throw new JunctionError(res.status === 401 ? 'CONN_AUTH_FAILED' : 'CONN_PERMISSION', `${ctx.path}: HTTP ${res.status}`, {
      where,
      details: { status: res.status, excerpt: excerpt(lenientText(res, ctx), ctx.secrets) },
    });
  }
  if (res.status >= 300 && res.status < 400) {
    // Redirects are not followed: a signed or authorised request must not be replayed elsewhere.
    throw new JunctionError('CONN_HTTP_ERROR', `${ctx.path}: HTTP ${res.status} redirect (configure the final base_url)`, {
      where,
      details: { status: res.status, location: res.headers.get('location') },
    });
  }
  const html = looksLikeHtml(res);
  if (res.status >= 400 || html) {
    const text = excerpt(lenientText(res, ctx), ctx.secrets);
    throw new JunctionError('CONN_HTTP_ERROR', `${ctx.path}: HTTP ${res.status} with ${html ? 'an HTML page' : 'an error body'} instead of data: ${text.slice(0, 120)}`, {
      where,
      retryable: TRANSIENT_STATUSES.has(res.status),
      details: { status: res.status, contentType: res.headers.get('content-type'), excerpt: text, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) },
    });
  }
  return parseJson(decodeText(withoutUtf8Bom(res.bytes), ctx), ctx);
}

/**
 * The body without a leading UTF-8 byte-order mark, whatever the configured encoding: a PHP
 * include saved as "UTF-8 with BOM" prints one before a GBK body, and decoded as GBK its
 * three bytes would swallow the `{` after them. (Read as UTF-8, iconv drops it anyway.)
 */
function withoutUtf8Bom(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}
