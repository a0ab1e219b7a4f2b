/** `junction stack up | down | status`. */
import type { Command } from 'commander';
import { stackSettings } from '../../config/env.js';
import type { ServiceName } from '../../config/env.js';
import type { ServiceStatus } from '../../demo/stack/stack.js';
import { stackDown, stackStatus, stackUp } from '../../demo/stack/stack.js';
import { hubDown } from '../../demo/hub.js';

const NAMES: ServiceName[] = ['postgres', 'redis', 'clickhouse', 'mongo', 'orders_soap', 'tickets_php'];

function parseOnly(list: string | undefined): ServiceName[] | undefined {
  if (!list) return undefined;
  const names = list.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !NAMES.includes(n as ServiceName));
  if (unknown.length) throw new Error(`unknown service ${unknown.join(', ')} (known: ${NAMES.join(', ')})`);
  return names as ServiceName[];
}

/** A plain table: service, state, pid, health, URL. */
export function formatStatus(rows: ServiceStatus[]): string {
  const lines = rows.map((r) => [
    r.name,
    r.state,
    r.pid ? String(r.pid) : '-',
    r.latencyMs !== undefined ? `ok ${r.latencyMs}ms` : (r.reason ?? '-'),
    r.url,
  ]);
  const head = ['SERVICE', 'STATE', 'PID', 'HEALTH', 'URL'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => Math.min(l[i]!.length, 60))));
  return [head, ...lines].map((cols) => cols.map((c, i) => (i === cols.length - 1 ? c : c.slice(0, 60).padEnd(widths[i]!))).join('  ')).join('\n');
}

const log = (line: string) => console.error(`stack: ${line}`);

export function registerStack(program: Command): void {
  const stack = program.command('stack').description('start, stop and inspect the local services (PostgreSQL, Redis, ClickHouse, FerretDB, PHP legacy apps)');
  stack
    .command('up')
    .description('start every service not running yet (idempotent) and wait until all are ready')
    .option('--only <services>', `comma-separated subset of: ${NAMES.join(', ')}`)
    .option('--json', 'print the status as JSON')
    .action(async (opts: { only?: string; json?: boolean }) => {
      const rows = await stackUp({ settings: stackSettings(), only: parseOnly(opts.only), log });
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatStatus(rows));
    });
  stack
    .command('down')
    .description('stop the services this stack started (by pid file) and the demo hub; external servers are left alone')
    .option('--only <services>', `comma-separated subset of: ${NAMES.join(', ')}`)
    .action(async (opts: { only?: string }) => {
      // The demo's hub uses every service: it goes first, so its batches commit cleanly.
      if (!opts.only) await hubDown(stackSettings(), log);
      const rows = await stackDown({ settings: stackSettings(), only: parseOnly(opts.only), log });
      console.log(formatStatus(rows));
    });
  stack
    .command('status')
    .description('list every service with its URL, pid and health; exit 1 when one is not healthy')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await stackStatus({ settings: stackSettings() });
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatStatus(rows));
      if (rows.some((r) => r.state !== 'running' && r.state !== 'external')) process.exitCode = 1;
    });
}
