/**
 * `npm run bench -- panel`: latency of the gateway's context panel (ContextService.panel →
 * readPanelParts, the code that builds a `context` frame, with the config's default limits)
 * for one customer with 50 orders and 10 tickets, loaded through the real resolver
 * (applyBatch) into a scratch hub database.
 * - warm: a service with `reuse_ms: 0`, so every call reads PostgreSQL (the panel a sync just
 *   invalidated), on a pool whose connections and the server's buffers are warm;
 * - cold: the first panel of a fresh service on a fresh pool (connection set-up included);
 * - reused: the panel kept for `reuse_ms` (what a second agent of the customer gets);
 * - peer: one primary-key SELECT of the customer row on the same warm pool.
 * Goal: warm p99 ≤ 10 ms.
 */
import pg from 'pg';
import { silentLogger } from '../../config/log.js';
import { ContextService } from '../../gateway/enrich/context-service.js';
import type { Fanout } from '../../gateway/fanout.js';
import { applyBatch } from '../../pipelines/load/apply-batch.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { testSettings } from '../gateway/helpers.js';
import { inTx, mapped, scratchDatabase, testRules } from '../helpers/unified.js';
import { msSince, p50p99 } from './latency.js';

export interface PanelBenchOptions {
  /** Warm panels measured (after as many warm-up ones). @defaultValue 500 */
  rounds?: number;
  /** Cold panels measured (one fresh pool each). @defaultValue 20 */
  coldRounds?: number;
  orders?: number;
  tickets?: number;
  log: (line: string) => void;
}

export interface PanelBenchFigures {
  bench: 'panel';
  orders: number;
  tickets: number;
  warm: { p50: number; p99: number; rounds: number };
  cold: { p50: number; p99: number; rounds: number };
  /** A panel reused within `gateway.context.reuse_ms` (another agent, same customer). */
  reused: { p50: number; p99: number };
  primaryKeySelect: { p50: number; p99: number };
  /** warm p99 / primary-key SELECT p99. */
  ratio: number;
  goal: { warmP99Ms: number };
  met: boolean;
}

function customerRecords(orders: number, tickets: number): MappedRecord[] {
  const keys: [string, string][] = [['email', 'panel@example.com']];
  const out = [mapped('shop_pg/accounts/P1', { fields: { name: 'Pan El', email: 'panel@example.com', city: 'Hangzhou' }, keys: [['shop_account', 'P1'], ...keys] })];
  out.push(mapped('crm_oracle/customers/CP1', { target: 'crm_profile', fields: { crm_id: 'CP1', name: 'Pan El', vip_level: '2', email: 'panel@example.com' }, keys: [['crm_id', 'CP1'], ...keys] }));
  for (let i = 0; i < orders; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    const no = `SO-P-${String(i).padStart(3, '0')}`;
    out.push(mapped(`orders_soap/orders/${no}`, {
      target: 'order',
      fields: { order_no: no, status: ['paid', 'shipped', 'delivered'][i % 3]!, total_amount: '99.00', currency: 'CNY', ordered_at: `2025-${String(1 + (i % 12)).padStart(2, '0')}-${day}T10:00:00+08:00`, lines: [{ sku: `SKU-${i}`, name: 'item', qty: 1, unit_price: '99.00' }] },
      keys,
    }));
  }
  for (let i = 0; i < tickets; i++) {
    out.push(mapped(`tickets_php/tickets/TP${i}`, { target: 'ticket', fields: { ticket_no: `TP${i}`, subject: `ticket ${i}`, status: i % 2 ? 'open' : 'pending', created_at: '2026-01-03T10:00:00+08:00' }, keys }));
  }
  return out;
}

/** A context service with the config's default panel limits; `reuse_ms: 0` unless told. */
function service(pool: pg.Pool, reuseMs = 0): ContextService {
  const context = { ...testSettings().context, reuse_ms: reuseMs };
  // start() is never called, so no subscription: the fanout is not used.
  return new ContextService({ pool, fanout: {} as Fanout, settings: { context }, rules: testRules(), lookups: null, channel: 'unused', log: silentLogger });
}

/** Runs the panel benchmark in a scratch database `junction_test_bench_panel`. */
export async function benchPanel(o: PanelBenchOptions): Promise<PanelBenchFigures> {
  const orders = o.orders ?? 50;
  const tickets = o.tickets ?? 10;
  const rounds = o.rounds ?? 500;
  const coldRounds = o.coldRounds ?? 20;
  const db = await scratchDatabase('bench_panel');
  // An idle connection the server ends (a restart by other work) must not crash the run.
  db.pool.on('error', (err) => o.log(`panel: idle connection lost: ${err.message}`));
  try {
    const rules = testRules();
    const result = await inTx(db.pool, (tx) => applyBatch(tx, customerRecords(orders, tickets), rules));
    const customerId = result.customerIds[0]!;
    await db.pool.query('ANALYZE');
    o.log(`panel: customer ${customerId} with ${orders} orders, ${tickets} tickets loaded`);

    const cold: number[] = [];
    for (let i = 0; i < coldRounds; i++) {
      const pool = new pg.Pool({ connectionString: db.url, max: 10 });
      pool.on('error', () => undefined);
      const t = process.hrtime.bigint();
      const panel = await service(pool).panel(customerId);
      cold.push(msSince(t));
      if (i === 0) o.log(`panel parts: ${Object.keys(panel.parts).join(', ')}; orders shown ${(panel.parts.orders?.data as unknown[] | null)?.length ?? 0}`);
      await pool.end();
    }

    const svc = service(db.pool);
    for (let i = 0; i < rounds; i++) await svc.panel(customerId);
    const warm: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = process.hrtime.bigint();
      await svc.panel(customerId);
      warm.push(msSince(t));
    }
    const reusing = service(db.pool, 60_000);
    await reusing.panel(customerId);
    const reused: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = process.hrtime.bigint();
      await reusing.panel(customerId);
      reused.push(msSince(t));
    }
    const pk: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = process.hrtime.bigint();
      await db.pool.query('SELECT * FROM unified.customer WHERE id = $1', [customerId]);
      pk.push(msSince(t));
    }
    const w = p50p99(warm);
    const p = p50p99(pk);
    return {
      bench: 'panel',
      orders,
      tickets,
      warm: { ...w, rounds },
      cold: { ...p50p99(cold), rounds: coldRounds },
      reused: p50p99(reused),
      primaryKeySelect: p,
      ratio: Math.round((w.p99 / Math.max(p.p99, 0.01)) * 100) / 100,
      goal: { warmP99Ms: 10 },
      met: w.p99 <= 10,
    };
  } finally {
    await db.close();
  }
}
