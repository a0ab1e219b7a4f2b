/**
 * The HTTP client the `soap` package uses (its `request` option): an axios instance whose
 * response interceptor refuses redirects, decodes the body by its charset and runs the XML
 * guard, before the `soap` client hands the text to its parser. The same instance fetches the
 * WSDL and its imports, so they are guarded too. axios enforces the size cap while
 * streaming, so an oversized body is never buffered.
 */
import type http from 'node:http';
import type https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { JunctionError } from '../../config/errors.js';
import { decodeXml } from './charset.js';
import { httpStatusError } from './errors.js';
import { guardXml } from './xml-guard.js';

export interface GuardedHttpOptions {
  source: string;
  /** Cap on one response body (and request body). */
  maxBytes: number;
  /** Keep-alive agents owned by the connector (destroyed on close). */
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
  /** Credentials to mask in the excerpt of an undecodable body. @defaultValue [] */
  secrets?: readonly string[];
}

/** A fresh axios instance for one connector. */
export function guardedHttp(options: GuardedHttpOptions): AxiosInstance {
  const http = axios.create({
    maxContentLength: options.maxBytes,
    maxBodyLength: options.maxBytes,
    // A redirect would re-send the envelope, WS-Security password included, to whatever host
    // the Location names, and take that host's answer (or WSDL, with its soap:address) as the
    // service's. The 3xx comes back as a response and is refused below.
    maxRedirects: 0,
    // Bytes, not text: axios would decode them as UTF-8 whatever the service's charset.
    responseType: 'arraybuffer',
    httpAgent: options.httpAgent,
    httpsAgent: options.httpsAgent,
  });
  http.interceptors.response.use((response) => {
    const what = describe(response.config.method);
    // The `soap` package sets validateStatus to null: every status arrives here.
    refuseRedirect(response, what, options.source);
    const body: unknown = response.data;
    // A web server's HTML error page (a 503 maintenance page, a 404 for a wrong path) is an
    // HTTP error, retried when it may pass; the guard would call its DOCTYPE an attack. A SOAP
    // fault (500 with an envelope) goes on to the guard and the parser.
    if (response.status >= 400 && htmlPage(body)) throw httpStatusError(response.status, what, { source: options.source });
    if (body instanceof Uint8Array) {
      // The bytes first (size cap, and declarations in a UTF-16 view), then the text the
      // parser will see: a declaration in a charset the byte views cannot read is still caught.
      guardXml(body, options.maxBytes, { source: options.source, what });
      const contentType = response.headers['content-type'];
      const text = decodeXml(body, typeof contentType === 'string' ? contentType : null, { source: options.source, what, secrets: options.secrets ?? [] });
      guardXml(text, Infinity, { source: options.source, what });
      response.data = text;
    } else if (typeof body === 'string') {
      guardXml(body, options.maxBytes, { source: options.source, what });
    }
    return response;
  });
  return http;
}

/**
 * True when a body starts (after a byte-order mark, blanks, an XML declaration and comments:
 * XHTML error pages) with an HTML DOCTYPE or `<html`.
 */
function htmlPage(body: unknown): boolean {
  const head = body instanceof Uint8Array ? Buffer.from(body.subarray(0, 1024)).toString('latin1') : typeof body === 'string' ? body.slice(0, 1024) : '';
  return /^(?:\xEF\xBB\xBF|\uFEFF)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html[\s>])/i.test(head);
}

function refuseRedirect(response: AxiosResponse, what: string, source: string): void {
  const { status } = response;
  if (status < 300 || status >= 400) return;
  const location: unknown = response.headers.location;
  throw new JunctionError('CONN_HTTP_ERROR', `${what}: HTTP ${status} redirect not followed; configure the final URL (wsdl, endpoint)`, {
    where: { source },
    details: { httpStatus: status, location: typeof location === 'string' ? location : undefined },
  });
}

function describe(method: string | undefined): string {
  return method?.toLowerCase() === 'get' ? 'WSDL or schema document' : 'SOAP response';
}
