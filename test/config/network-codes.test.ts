import { describe, expect, it } from 'vitest';
import { isNetworkErrorCode } from '../../config/network-codes.js';
import { classifyFailure } from '../../connectors/rest/http.js';
import { classifySoapError } from '../../connectors/soap/errors.js';
import { pgErrorClass } from '../../connectors/sql/pg-errors.js';
import { isTransient } from '../../pipelines/classify-error.js';

/** A Node socket error as the drivers pass it on. */
function socketError(code: string): Error & { code: string } {
  return Object.assign(new Error(`connect ${code} 10.0.0.9:5432`), { code });
}

describe('one list of network error codes for every classifier', () => {
  it.each(['ECONNREFUSED', 'ENETDOWN', 'EHOSTDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'])('%s is a network failure', (code) => {
    expect(isNetworkErrorCode(code)).toBe(true);
  });

  it.each([undefined, 42, 'UND_ERR_INVALID_ARG', '08006', 'ERR_BAD_RESPONSE'])('%s is not', (code) => {
    expect(isNetworkErrorCode(code)).toBe(false);
  });

  it.each(['ENETDOWN', 'EHOSTDOWN', 'ECONNREFUSED'])('a PostgreSQL source failing with %s is unreachable and retried', (code) => {
    expect(pgErrorClass(socketError(code))).toEqual({ code: 'CONN_UNREACHABLE', retryable: true });
  });

  it('a REST source failing with an undici connect timeout is unreachable; an invalid argument is not a network failure', () => {
    const fetchFailed = (code: string) => Object.assign(new Error('request failed'), { cause: { code, message: code } });
    expect(classifyFailure(fetchFailed('UND_ERR_CONNECT_TIMEOUT'), 'tickets', '/tickets', undefined).code).toBe('CONN_UNREACHABLE');
    expect(classifyFailure(fetchFailed('UND_ERR_INVALID_ARG'), 'tickets', '/tickets', undefined).code).toBe('CONN_BAD_RESPONSE');
  });

  it('a SOAP source keeps its timeout apart from the rest', () => {
    expect(classifySoapError(socketError('ETIMEDOUT'), 'getOrders', { source: 'orders' }).code).toBe('CONN_TIMEOUT');
    expect(classifySoapError(socketError('ENETUNREACH'), 'getOrders', { source: 'orders' }).code).toBe('CONN_UNREACHABLE');
    expect(classifySoapError(socketError('ECONNRESET'), 'getOrders', { source: 'orders' }).retryable).toBe(true);
  });

  it('the pipeline retries every one of them', () => {
    for (const code of ['ENETDOWN', 'UND_ERR_SOCKET', 'ERR_SOCKET_CONNECTION_TIMEOUT']) expect(isTransient(socketError(code))).toBe(true);
  });
});
