/**
 * tickets_php over plain HTTP: GBK bodies, the md5 query signature, legacy error codes and
 * the PHP fatal-error page, against the PHP built-in server the stack runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { seedFixture, ticketsSign, ticketsUrl, type SeededEstate } from './estate-fixture.js';

let estate: SeededEstate;

beforeAll(async () => {
  estate = await seedFixture();
});

afterAll(async () => {
  await estate?.db.end();
});

interface Envelope<T> {
  code: number;
  msg: string;
  data: T;
}
type Ticket = Record<string, string | null>;

async function call<T>(url: string): Promise<{ status: number; type: string | null; raw: Buffer; body: Envelope<T> }> {
  const res = await fetch(url);
  const raw = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type'), raw, body: JSON.parse(iconv.decode(raw, 'gbk')) as Envelope<T> };
}

describe('tickets_php', () => {
  it('returns a ticket in GBK that decodes to the Chinese text stored in the database', async () => {
    const { rows } = await estate.db.query(
      "SELECT id::text, subject, body, status::text, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') AS updated_at FROM tickets_legacy.tickets WHERE subject ~ '[一-龥]' ORDER BY id LIMIT 1",
    );
    const row = rows[0];
    expect(row).toBeDefined();
    const res = await call<Ticket>(ticketsUrl(estate.settings, { m: 'ticket', a: 'get', id: row.id }));
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json; charset=GBK');
    // Really GBK on the wire: the UTF-8 bytes of the subject are absent, its GBK bytes present.
    expect(res.raw.includes(Buffer.from(row.subject, 'utf8'))).toBe(false);
    expect(res.raw.includes(iconv.encode(row.subject, 'gbk'))).toBe(true);
    expect(res.body.code).toBe(0);
    expect(res.body.data).toMatchObject({ id: row.id, subject: row.subject, body: row.body, status: row.status, updated_at: row.updated_at });
  });

  it('pages the list by (updated_at, id), every subject and body intact', async () => {
    const { rows } = await estate.db.query('SELECT id::text, subject, body FROM tickets_legacy.tickets ORDER BY updated_at, id');
    const listed: Ticket[] = [];
    let total = '';
    for (let page = 1; page < 100; page += 1) {
      const res = await call<{ list: Ticket[]; total: string }>(
        ticketsUrl(estate.settings, { m: 'ticket', a: 'list', page: String(page), size: '50', updated_since: '2000-01-01 00:00:00' }),
      );
      expect(res.body.code).toBe(0);
      total = res.body.data.total;
      listed.push(...res.body.data.list);
      if (res.body.data.list.length < 50) break;
    }
    expect(total).toBe(String(rows.length));
    // PHP 5 drivers returned every column as a string; the API still does
    expect(listed.every((t) => typeof t.id === 'string' && typeof t.status === 'string' && typeof t.priority === 'string')).toBe(true);
    expect(listed.map((t) => [t.id, t.subject, t.body])).toEqual(rows.map((r) => [r.id, r.subject, r.body]));
  });

  it('filters updated_since inclusively (Shanghai wall-clock time)', async () => {
    const { rows } = await estate.db.query(
      "SELECT to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') AS since, (SELECT count(*) FROM tickets_legacy.tickets t2 WHERE t2.updated_at >= t.updated_at)::text AS n FROM tickets_legacy.tickets t ORDER BY updated_at DESC OFFSET 3 LIMIT 1",
    );
    const res = await call<{ list: Ticket[]; total: string }>(
      ticketsUrl(estate.settings, { m: 'ticket', a: 'list', size: '500', updated_since: rows[0].since }),
    );
    expect(res.body.data.total).toBe(rows[0].n);
    expect(res.body.data.list.every((t) => (t.updated_at ?? '') >= rows[0].since)).toBe(true);
  });

  it('rejects a wrong signature with code 1001 and HTTP 200', async () => {
    const params = { m: 'ticket', a: 'list', page: '1', size: '5' };
    const good = ticketsSign({ ...params, appkey: estate.settings.ticketsAppKey, ts: '1767196800' }, estate.settings.ticketsSecret);
    const res = await call<null>(ticketsUrl(estate.settings, { ...params, ts: '1767196800' }, good.replace(/^./, (c) => (c === '0' ? '1' : '0'))));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: 1001, msg: '签名错误', data: null });
    const accepted = await call<unknown>(ticketsUrl(estate.settings, { ...params, ts: '1767196800' }, good));
    expect(accepted.body.code).toBe(0);
  });

  it('answers 1002 for an unknown appkey, 1003 for bad parameters, 1004 for an unknown id', async () => {
    expect((await call(ticketsUrl(estate.settings, { m: 'ticket', a: 'list', appkey: 'nobody' }))).body.code).toBe(1002);
    expect((await call(ticketsUrl(estate.settings, { m: 'ticket', a: 'list', updated_since: '2025-13-01' }))).body.code).toBe(1003);
    expect((await call(ticketsUrl(estate.settings, { m: 'ticket', a: 'delete' }))).body.code).toBe(1003);
    expect((await call(ticketsUrl(estate.settings, { m: 'ticket', a: 'list', size: '501' }))).body.code).toBe(1003);
    expect((await call(ticketsUrl(estate.settings, { m: 'ticket', a: 'get', id: '1' }))).body.code).toBe(1004);
  });

  it.each([['size', 'abc'], ['page', '-1'], ['page', '0'], ['size', '-5']])(
    '%s=%s ends in the PHP Fatal error page with HTTP 500',
    async (name, value) => {
      const res = await fetch(ticketsUrl(estate.settings, { m: 'ticket', a: 'list', [name]: value }));
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('<b>Fatal error</b>');
    },
  );
});
