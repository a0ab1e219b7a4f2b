/**
 * Live lookups against the real SOAP service behind a TCP proxy: answers are cached in Redis
 * with their TTL (a later panel gets them even with the source gone), and a source that keeps
 * failing opens its circuit, after which it is not called at all until the reset time.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import type { Connector } from '../../connectors/types.js';
import { LiveLookups } from '../../gateway/enrich/lookups.js';
import { GatewayKeys } from '../../gateway/events.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { testSettings } from './helpers.js';

let redis: Redis;
let proxy: TcpProxy;
let connector: Connector;
let orderNo: string;
const keys = new GatewayKeys(`{jtest-gw-lookups-${randomBytes(3).toString('hex')}}:gw:`);
const calls = { n: 0 };

beforeAll(async () => {
  redis = new Redis(stackSettings().services.redis.url);
  proxy = await startTcpProxy('127.0.0.1', stackSettings().services.orders_soap.port);
  const config = await loadConfig(`${PROJECT_ROOT}/config/junction.yaml`);
  const soap = { ...config.sources.orders_soap!, wsdl: `http://127.0.0.1:${proxy.port}/orders.php?wsdl` };
  const real = createConnector('orders_soap', soap, { log: silentLogger });
  // Counts the calls that reach the connector (a cache hit or an open circuit makes none).
  connector = { ...real, source: real.source, type: real.type, lookup: (...args) => (calls.n++, real.lookup(...args)), close: () => real.close() } as Connector;
  for await (const batch of real.read('orders', null, { limit: 20 })) orderNo = String(batch.records[0]!.orderNo);
});

afterAll(async () => {
  await connector?.close();
  await proxy?.destroy();
  const left = await redis.keys(`${keys.prefix}*`);
  if (left.length) await redis.del(...left);
  redis.disconnect();
});

const part = () => ({ asOf: '2026-01-01T00:00:00.000Z', stale: false, data: [{ order_no: orderNo, status: 'paid', syncedAt: '2026-01-01T00:00:00.000Z' }] });

function lookups(overrides: Record<string, unknown>, source: Connector = connector) {
  const settings = testSettings({
    lookups: [{ part: 'orders', source: 'orders_soap', lookup: 'order_status', params: { orderNo: 'order_no' }, timeout_ms: 2000, ...overrides }],
    lookup_circuit: { error_percent: 50, volume: 2, reset_ms: 60_000 },
  });
  return new LiveLookups({ settings, sources: new Map([['orders_soap', { connector: source }]]), redis, keys, log: silentLogger });
}

/**
 * The orders_soap connector against a local service that answers every call with a SOAP
 * fault of class `faultClass`; `posts()` counts the calls that reached it.
 */
async function faultingSource(faultClass: 'Client' | 'Server'): Promise<{ connector: Connector; posts: () => number; close: () => Promise<void> }> {
  const wsdl = await readFile(`${PROJECT_ROOT}/demo/php/orders/orders.wsdl`, 'utf8');
  const fault =
    '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>' +
    `<SOAP-ENV:Fault><faultcode>SOAP-ENV:${faultClass}</faultcode><faultstring>${faultClass === 'Server' ? 'database error: 08006' : 'order not found'}</faultstring></SOAP-ENV:Fault>` +
    '</SOAP-ENV:Body></SOAP-ENV:Envelope>';
  let posts = 0;
  let base = '';
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') posts += 1;
      res.writeHead(req.method === 'GET' ? 200 : 500, { 'Content-Type': 'text/xml; charset=utf-8' });
      res.end(req.method === 'GET' ? wsdl.replaceAll('http://localhost/orders.php', `${base}/orders.php`) : fault);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = await loadConfig(`${PROJECT_ROOT}/config/junction.yaml`);
  const soap = { ...config.sources.orders_soap!, wsdl: `${base}/orders.php?wsdl` };
  const conn = createConnector('orders_soap', soap, { log: silentLogger });
  const close = async () => {
    await conn.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { connector: conn, posts: () => posts, close };
}

describe('live lookups', () => {
  it('caches answers in Redis for cache_ttl_s, so a later panel has them with the source gone', async () => {
    const l = lookups({ cache_ttl_s: 60 });
    const first = await l.refresh(part(), 'orders');
    expect(first.stale).toBe(false);
    const live = (first.data as { live: { orderNo: string; asOf: string } }[])[0]!.live;
    expect(live.orderNo).toBe(orderNo);
    const cached = await redis.keys(`${keys.prefix}lookup:orders_soap:order_status:*`);
    expect(cached).toHaveLength(1);
    expect(await redis.ttl(cached[0]!)).toBeGreaterThan(0);

    const before = calls.n;
    const again = await l.refresh(part(), 'orders');
    expect(calls.n).toBe(before); // answered from the cache
    expect((again.data as { live: { asOf: string } }[])[0]!.live.asOf).toBe(live.asOf);
    // The part is as of its oldest row: here the one row's live answer.
    expect(again.asOf).toBe(live.asOf);
    l.shutdown();
  });

  it('opens the circuit of a failing source: later panels are stale without calling it', async () => {
    const l = lookups({ cache_ttl_s: 0 });
    await proxy.destroy();
    const failures = [await l.refresh(part(), 'orders'), await l.refresh(part(), 'orders')];
    for (const f of failures) expect(f).toMatchObject({ stale: true, error: expect.stringMatching(/^CONN_/), staleSince: expect.any(String) });
    const before = calls.n;
    const open = await l.refresh(part(), 'orders');
    expect(open).toMatchObject({ stale: true, error: 'GW_LOOKUP_CIRCUIT_OPEN' });
    expect(calls.n).toBe(before);
    // Stale since the first failure, not since this panel.
    expect(open.staleSince).toBe(failures[0]!.staleSince);
    l.shutdown();
  });

  it('a source answering Server faults (its database down) opens the circuit: they are failures, not answers', async () => {
    const svc = await faultingSource('Server');
    try {
      const l = lookups({ cache_ttl_s: 0 }, svc.connector);
      const failures = [await l.refresh(part(), 'orders'), await l.refresh(part(), 'orders')];
      for (const f of failures) expect(f).toMatchObject({ stale: true, error: 'CONN_SOAP_FAULT' });
      expect(svc.posts()).toBe(2);
      expect(await l.refresh(part(), 'orders')).toMatchObject({ stale: true, error: 'GW_LOOKUP_CIRCUIT_OPEN' });
      expect(svc.posts()).toBe(2);
      l.shutdown();
    } finally {
      await svc.close();
    }
  });

  it('Client faults ("order not found") are answers: the row carries the fault, the part is not stale and the circuit stays closed', async () => {
    const svc = await faultingSource('Client');
    try {
      const l = lookups({ cache_ttl_s: 0 }, svc.connector);
      for (let i = 0; i < 3; i++) {
        const answered = await l.refresh(part(), 'orders');
        expect(answered.stale).toBe(false);
        expect((answered.data as { live: { error: string } }[])[0]!.live.error).toBe('CONN_SOAP_FAULT');
      }
      expect(svc.posts()).toBe(3);
      l.shutdown();
    } finally {
      await svc.close();
    }
  });
});
