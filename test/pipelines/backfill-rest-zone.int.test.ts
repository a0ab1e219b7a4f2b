/**
 * A backfill of a REST stream whose cursor is a wall-clock time in the source's zone
 * (Shanghai, as the PHP ticket API writes it) ends where `--to` says. `--from` was always
 * read in the source's zone, but the end was compared as if the cursor were UTC: 8 hours
 * later than it is, so a backfill to 00:05Z stopped after its first batch (08:01:30 Shanghai
 * read as 08:01:30Z). A local HTTP server plays the ticket API; the hub is real PostgreSQL.
 */
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { runSync } from '../../pipelines/run-sync.js';
import { tempDir } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

// Ticket i (1..60) was updated at 2025-01-01 08:00:00 Shanghai + 10·(i−1) s.
const TICKETS = Array.from({ length: 60 }, (_, i) => ({
  id: String(i + 1),
  customer_email: `t${i + 1}@example.com`,
  status: '0',
  updated_at: `2025-01-01 08:${String(Math.floor((i * 10) / 60)).padStart(2, '0')}:${String((i * 10) % 60).padStart(2, '0')}`,
}));

let hub: ScratchDb;
let server: Server;
let config: ResolvedConfig;

beforeAll(async () => {
  hub = await scratchDatabase('backfill_rest_zone');
  // The PHP API's list: updated_at >= updated_since, ordered by (updated_at, id), page/size.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const since = url.searchParams.get('updated_since') ?? '';
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = Number(url.searchParams.get('size') ?? 10);
    const rows = TICKETS.filter((t) => t.updated_at >= since);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 0, data: { list: rows.slice((page - 1) * size, page * size), total: String(rows.length) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = tempDir('backfill-rest-zone');
  fs.writeFileSync(
    path.join(dir, 'tickets.yaml'),
    `version: 1
source: tickets
stream: tickets
target: ticket
key: id
identity:
  - { kind: email, value: customer_email }
fields:
  ticket_no: id
  status: { from: status, map: { "0": open } }
  updated_at: { from: updated_at, parse: datetime, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai }
`,
  );
  const file = path.join(dir, 'junction.yaml');
  fs.writeFileSync(
    file,
    `version: 1
sources:
  tickets:
    type: rest
    base_url: http://127.0.0.1:${(server.address() as AddressInfo).port}
    envelope: { list: data.list, total: data.total }
    streams:
      tickets:
        path: /api.php
        cursor: updated_at
        cursor_param: updated_since
        cursor_format: { format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai }
        key: id
        page: { style: page_number, size: 10, size_param: size }
mappings:
  - tickets.yaml
identity:
  default_region: CN
  kinds:
    email: { priority: 50, normalize: email }
pipelines: { batch_size: 10 }
`,
  );
  config = await loadConfig(file);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const loadedTickets = async () =>
  (await hub.pool.query<{ ticket_no: string }>('SELECT ticket_no FROM unified.ticket')).rows.map((r) => Number(r.ticket_no)).sort((a, b) => a - b);

describe('backfill of a REST stream with a wall-clock cursor in the source zone', () => {
  it('an end given in UTC is the same instant in Shanghai: 08:00–08:05 Shanghai read, not one batch', async () => {
    await hub.reset();
    const summary = await runSync({ config, pool: hub.pool, source: 'tickets', stream: 'tickets', mode: 'backfill', from: '2025-01-01T00:00:00Z', to: '2025-01-01T00:05:00Z', log: silentLogger });
    const loaded = await loadedTickets();
    // Tickets 1..31 lie at or before 08:05:00 Shanghai; the batch that crosses the end is read whole.
    expect(loaded.slice(0, 31)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(summary.read).toBeLessThanOrEqual(40);
  });

  it('an end without an offset is read in the source zone, as the start is', async () => {
    await hub.reset();
    const summary = await runSync({ config, pool: hub.pool, source: 'tickets', stream: 'tickets', mode: 'backfill', from: '2025-01-01T08:00:00', to: '2025-01-01T08:02:00', log: silentLogger });
    const loaded = await loadedTickets();
    expect(loaded.slice(0, 13)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(summary.read).toBeLessThanOrEqual(20);
  });
});
