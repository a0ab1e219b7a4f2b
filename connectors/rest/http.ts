/**
 * One source's HTTP client: builds and authenticates each request, sends it through the
 * source's gate (rate limit + concurrency), reads the raw bytes with a timeout and a size
 * cap, classifies the answer (decode.ts, envelope.ts) and retries transient failures with
 * exponential backoff (p-retry, driven by `err.retryable`; `Retry-After` honoured).
 */
import pRetry from 'p-retry';
import { JunctionError } from '../../config/errors.js';
import type { Logger } from '../../config/log.js';
import { isNetworkErrorCode } from '../../config/network-codes.js';
import { parseResponse, type DecodeContext, type RawResponse } from './decode.js';
import { checkEnvelope, type EnvelopeConfig } from './envelope.js';
import type { RequestGate } from './limiter.js';
import { applyAuth, authSecrets, encodeQuery, type RestAuth } from './signature.js';

/** Larger bodies are refused: a page of records is never this big, a runaway response may be. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Retry policy (`retry:` of a rest source). */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff; doubles per retry. */
  min_delay_ms: number;
  /** Longest backoff, and the longest `Retry-After` honoured (longer: give up, retryable). */
  max_delay_ms: number;
}

/** What the client needs from the source's config. */
export interface ClientConfig {
  source: string;
  baseUrl: string;
  encoding: string;
  headers: Readonly<Record<string, string>>;
  auth: RestAuth | undefined;
  envelope: EnvelopeConfig | undefined;
  timeoutMs: number;
  retry: RetryPolicy;
  gate: RequestGate;
  log: Logger;
}

/** One request: a configured path, or a link from a previous response, and its parameters. */
export interface RequestSpec {
  /** Relative to base_url's path (`/api.php`, may carry a query). */
  path: string;
  /** A next-page link (absolute, or relative to base_url); replaces `path` when set. */
  link?: string;
  query: Readonly<Record<string, string>>;
  method?: 'GET' | 'POST';
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Per attempt. @defaultValue the source's timeout_ms */
  timeoutMs?: number;
  /** @defaultValue the source's retry.retries */
  retries?: number;
}

/** A classified, decoded answer. */
export interface RestResponse {
  body: unknown;
  headers: Headers;
  status: number;
}

/** Maps a fetch/abort failure to a stable code; JunctionErrors pass through. */
export function classifyFailure(err: unknown, source: string, path: string, signal: AbortSignal | undefined): JunctionError {
  if (err instanceof JunctionError) return err;
  const where = { source };
  const name = (err as { name?: string } | null)?.name;
  if (signal?.aborted && (signal.reason as { name?: string } | undefined)?.name !== 'TimeoutError') {
    return new JunctionError('CONN_ABORTED', `${path}: cancelled`, { cause: err, where });
  }
  if (name === 'TimeoutError') {
    return new JunctionError('CONN_TIMEOUT', `${path}: no answer within the timeout`, { cause: err, where, retryable: true });
  }
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  const code = cause?.code;
  const message = cause?.message ?? (err as Error | null)?.message ?? String(err);
  // undici reports network failures as TypeError('fetch failed') or ('terminated') mid-body;
  // other TypeErrors are bugs, not worth retrying.
  if ((err instanceof TypeError && /^(fetch failed|terminated)$/.test(err.message)) || isNetworkErrorCode(code)) {
    return new JunctionError('CONN_UNREACHABLE', `${path}: ${message}`, { cause: err, where, retryable: true, details: { errno: code ?? null } });
  }
  return new JunctionError('CONN_BAD_RESPONSE', `${path}: ${message}`, { cause: err, where });
}

async function readBody(res: Response, path: string, source: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > MAX_BODY_BYTES) {
    await res.body?.cancel();
    throw new JunctionError('CONN_BAD_RESPONSE', `${path}: response of ${declared} bytes exceeds ${MAX_BODY_BYTES}`, { where: { source } });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    // Throwing out of for-await cancels the stream.
    if (size > MAX_BODY_BYTES) {
      throw new JunctionError('CONN_BAD_RESPONSE', `${path}: response exceeds ${MAX_BODY_BYTES} bytes`, { where: { source } });
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Sends requests of one source. */
export class RestClient {
  private readonly base: URL;
  private readonly secrets: string[];

  constructor(private readonly cfg: ClientConfig) {
    this.base = new URL(cfg.baseUrl);
    this.secrets = authSecrets(cfg.auth);
  }

  /**
   * The request URL, which must stay on the base URL's origin (credentials go with it): a
   * next link may name another, and so may a path that starts with `//`.
   */
  private target(spec: RequestSpec): URL {
    const url = spec.link === undefined ? new URL(this.base.pathname.replace(/\/$/, '') + spec.path, this.base.origin) : new URL(spec.link, this.base);
    if (url.origin !== this.base.origin) {
      const what = spec.link === undefined ? 'a request path leading' : 'a next link';
      throw new JunctionError('CONN_BAD_RESPONSE', `refusing to follow ${what} to another origin (${url.origin})`, { where: { source: this.cfg.source } });
    }
    return url;
  }

  /** One attempt, inside the gate. */
  private async once(spec: RequestSpec, signal: AbortSignal | undefined, timeoutMs: number): Promise<RestResponse> {
    const url = this.target(spec);
    const path = url.pathname;
    const query: Record<string, string> = Object.fromEntries(url.searchParams);
    Object.assign(query, spec.query);
    const headers: Record<string, string> = { accept: 'application/json', ...lower(this.cfg.headers) };
    applyAuth(this.cfg.auth, query, headers, this.cfg.encoding);
    const encoded = encodeQuery(query, this.cfg.encoding);
    const post = spec.method === 'POST';
    if (post) headers['content-type'] = `application/x-www-form-urlencoded; charset=${this.cfg.encoding}`;
    url.search = post ? '' : encoded;
    const attempt = signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const ctx: DecodeContext = { source: this.cfg.source, path, encoding: this.cfg.encoding, secrets: this.secrets };
    let raw: RawResponse;
    try {
      const res = await fetch(url, { method: spec.method ?? 'GET', headers, body: post ? encoded : undefined, redirect: 'manual', signal: attempt });
      raw = { status: res.status, headers: res.headers, bytes: await readBody(res, path, this.cfg.source) };
    } catch (err) {
      throw classifyFailure(err, this.cfg.source, path, signal);
    }
    const body = parseResponse(raw, ctx);
    checkEnvelope(body, this.cfg.envelope, { source: this.cfg.source, path });
    return { body, headers: raw.headers, status: raw.status };
  }

  /**
   * Sends a request, retrying retryable failures: backoff `min_delay_ms · 2^n` up to
   * `max_delay_ms`, or the server's `Retry-After` when longer. Aborting `signal` ends it
   * with CONN_ABORTED.
   */
  async request(spec: RequestSpec, options: RequestOptions = {}): Promise<RestResponse> {
    const { retry, log } = this.cfg;
    const timeoutMs = options.timeoutMs ?? this.cfg.timeoutMs;
    const signal = options.signal;
    try {
      return await pRetry(() => this.cfg.gate.run(() => this.once(spec, signal, timeoutMs), signal), {
        retries: options.retries ?? retry.retries,
        // The wait is ours (shouldRetry), so Retry-After and backoff are one decision.
        minTimeout: 0,
        signal,
        shouldRetry: async ({ error, retriesConsumed }) => {
          if (!(error instanceof JunctionError) || !error.retryable) return false;
          const backoff = Math.min(retry.max_delay_ms, retry.min_delay_ms * 2 ** retriesConsumed);
          const asked = error.details?.retryAfterMs;
          if (typeof asked === 'number' && asked > retry.max_delay_ms) return false;
          const waitMs = Math.max(backoff, typeof asked === 'number' ? asked : 0);
          log.warn({ code: error.code, path: spec.path, waitMs, retryAfter: typeof asked === 'number', attempt: retriesConsumed + 1 }, 'retrying after a transient failure');
          await sleep(waitMs, signal);
          return true;
        },
      });
    } catch (err) {
      throw classifyFailure(err, this.cfg.source, spec.path, signal);
    }
  }
}

function lower(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
