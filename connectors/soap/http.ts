/**
 * The HTTP client the `soap` package uses (its `request` option): an axios instance whose
 * response interceptor runs the XML guard on the raw body, before the `soap` client hands
 * it to its parser. The same instance fetches the WSDL and its imports, so they are guarded
 * too. axios enforces the size cap while streaming, so an oversized body is never buffered.
 */
import type http from 'node:http';
import type https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { guardXml } from './xml-guard.js';

export interface GuardedHttpOptions {
  source: string;
  /** Cap on one response body (and request body). */
  maxBytes: number;
  /** Keep-alive agents owned by the connector (destroyed on close). */
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
}

/** A fresh axios instance for one connector. */
export function guardedHttp(options: GuardedHttpOptions): AxiosInstance {
  const http = axios.create({
    maxContentLength: options.maxBytes,
    maxBodyLength: options.maxBytes,
    httpAgent: options.httpAgent,
    httpsAgent: options.httpsAgent,
  });
  http.interceptors.response.use((response) => {
    const body: unknown = response.data;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      guardXml(body, options.maxBytes, { source: options.source, what: describe(response.config.method) });
    }
    return response;
  });
  return http;
}

function describe(method: string | undefined): string {
  return method?.toLowerCase() === 'get' ? 'WSDL or schema document' : 'SOAP response';
}
