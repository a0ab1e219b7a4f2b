/**
 * orders_soap through the `soap` npm client, as the hub's connector will use it, against the
 * PHP SoapServer the stack runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import soap from 'soap';
import { seedFixture, type SeededEstate } from './estate-fixture.js';

let estate: SeededEstate;
let client: soap.Client;

beforeAll(async () => {
  estate = await seedFixture();
  client = await soap.createClientAsync(estate.settings.services.orders_soap.url);
});

afterAll(async () => {
  await estate?.db.end();
});

interface SoapLine {
  lineNo: number;
  sku: string;
  name: string;
  qty: number;
  unitPrice: number;
}
interface SoapOrder {
  orderNo: string;
  customerNo?: string;
  contactPhone?: string;
  status: string;
  totalAmount: number;
  updatedAt: Date;
  lines: { line?: SoapLine[] };
}

/** The fault a rejected call carries, as the soap client parsed it. */
async function faultOf(call: Promise<unknown>): Promise<{ faultcode: string; faultstring: string }> {
  const err = await call.then(
    () => {
      throw new Error('expected a SOAP fault');
    },
    (e: { root?: { Envelope?: { Body?: { Fault?: { faultcode: string; faultstring: string } } } } }) => e,
  );
  const fault = err.root?.Envelope?.Body?.Fault;
  expect(fault).toBeDefined();
  return fault as { faultcode: string; faultstring: string };
}

describe('orders_soap', () => {
  it('getOrder returns the order with its lines, customerNo and contactPhone as stored', async () => {
    const { rows } = await estate.db.query(`
      SELECT o.order_no, o.customer_no, o.contact_phone, o.total_amount::text, o.updated_at
      FROM orders_legacy.orders o
      WHERE o.customer_no IS NOT NULL AND o.contact_phone IS NOT NULL
        AND (SELECT count(*) FROM orders_legacy.order_lines l WHERE l.order_no = o.order_no) >= 2
      ORDER BY o.order_no LIMIT 1`);
    const row = rows[0];
    expect(row).toBeDefined();
    const lines = await estate.db.query(
      'SELECT line_no, sku, name, qty, unit_price::float8 AS unit_price FROM orders_legacy.order_lines WHERE order_no = $1 ORDER BY line_no',
      [row.order_no],
    );

    const [result] = (await client.getOrderAsync({ orderNo: row.order_no })) as [{ order: SoapOrder }];
    const order = result.order;
    expect(order.orderNo).toBe(row.order_no);
    expect(order.customerNo).toBe(row.customer_no);
    expect(order.contactPhone).toBe(row.contact_phone);
    expect(Number(order.totalAmount).toFixed(2)).toBe(row.total_amount);
    expect(new Date(order.updatedAt).getTime()).toBe((row.updated_at as Date).getTime());
    expect(order.lines.line?.map((l) => [l.lineNo, l.sku, l.name, l.qty, Number(l.unitPrice)])).toEqual(
      lines.rows.map((l) => [l.line_no, l.sku, l.name, l.qty, l.unit_price]),
    );
  });

  it('getOrderStatus answers status and updatedAt', async () => {
    const { rows } = await estate.db.query('SELECT order_no, status, updated_at FROM orders_legacy.orders ORDER BY order_no DESC LIMIT 1');
    const [result] = (await client.getOrderStatusAsync({ orderNo: rows[0].order_no })) as [{ status: string; updatedAt: Date }];
    expect(result.status).toBe(rows[0].status);
    expect(new Date(result.updatedAt).getTime()).toBe((rows[0].updated_at as Date).getTime());
  });

  it('listOrdersUpdatedSince pages by token over ties, returning every order exactly once in order', async () => {
    const pageSize = 7;
    // The test only proves tie-safety if some updated_at is shared by more than a page.
    const ties = await estate.db.query('SELECT count(*)::int AS n FROM orders_legacy.orders GROUP BY updated_at ORDER BY 1 DESC LIMIT 1');
    expect(ties.rows[0].n).toBeGreaterThan(pageSize);
    const expected = await estate.db.query('SELECT order_no FROM orders_legacy.orders ORDER BY updated_at, order_no');

    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const [page] = (await client.listOrdersUpdatedSinceAsync({ since: '2000-01-01T00:00:00+08:00', pageToken, pageSize })) as [
        { orders?: { order?: SoapOrder[] }; nextPageToken?: string },
      ];
      const orders = page.orders?.order ?? [];
      expect(orders.length).toBeLessThanOrEqual(pageSize);
      seen.push(...orders.map((o) => o.orderNo));
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken && pages < 10_000);

    expect(pageToken).toBeUndefined();
    expect(seen).toEqual(expected.rows.map((r) => r.order_no));
    expect(new Set(seen).size).toBe(estate.summary.counts['orders_soap.orders']);
  });

  it('filters by since (inclusive)', async () => {
    const { rows } = await estate.db.query(
      "SELECT updated_at, (SELECT count(*)::int FROM orders_legacy.orders o2 WHERE o2.updated_at >= o.updated_at) AS n FROM orders_legacy.orders o ORDER BY updated_at DESC OFFSET 5 LIMIT 1",
    );
    const since = (rows[0].updated_at as Date).toISOString();
    const [page] = (await client.listOrdersUpdatedSinceAsync({ since, pageSize: 1000 })) as [{ orders?: { order?: SoapOrder[] } }];
    expect(page.orders?.order?.length).toBe(rows[0].n);
  });

  it.each([
    ['an unknown orderNo', () => client.getOrderAsync({ orderNo: 'SO-NO-SUCH-ORDER' }), /order not found/],
    ['pageSize 0', () => client.listOrdersUpdatedSinceAsync({ since: '2025-01-01T00:00:00Z', pageSize: 0 }), /pageSize/],
    ['pageSize 1001', () => client.listOrdersUpdatedSinceAsync({ since: '2025-01-01T00:00:00Z', pageSize: 1001 }), /pageSize/],
    ['a malformed since', () => client.listOrdersUpdatedSinceAsync({ since: 'yesterday', pageSize: 5 }), /since/],
    ['a malformed pageToken', () => client.listOrdersUpdatedSinceAsync({ since: '2025-01-01T00:00:00Z', pageToken: 'bm9wZQ==' }), /pageToken/],
  ])('%s is a Client fault', async (_name, call, message) => {
    const fault = await faultOf(call());
    expect(fault.faultcode).toMatch(/:Client$/);
    expect(fault.faultstring).toMatch(message);
  });

  it('serves the WSDL with soap:address pointing at the requested host', async () => {
    const url = new URL(estate.settings.services.orders_soap.url);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`<soap:address location="http://${url.host}/orders.php"/>`);
    const other = await fetch(new URL('/orders.wsdl', url));
    expect(other.status).toBe(404);
  });
});
