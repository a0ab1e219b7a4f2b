/** `junction stack up | down | status`. */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { stackSettings } from '../../config/env.js';
import type { ServiceName } from '../../config/env.js';
import type { ServiceStatus } from '../../demo/stack/stack.js';
import { stackDown, stackStatus, stackUp } from '../../demo/stack/stack.js';
import { hubDown } from '../../demo/hub.js';
import { printJson } from '../json-output.js';

const NAMES: ServiceName[] = ['postgres', 'redis', 'clickhouse', 'mongo', 'orders_soap', 'tickets_php'];

/** `--only a,b`: a usage error (commander's) for a name that is not a service. */
function parseOnly(list: string): ServiceName[] {
  const names = list.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !NAMES.includes(n as ServiceName));
  if (unknown.length) throw new InvalidArgumentError(`unknown service ${unknown.join(', ')} (known: ${NAMES.join(', ')})`);
  return names as ServiceName[];
}

/** `--only`, shared by up, down and status. */
function onlyOption(): Option {
  return new Option('--only <services>', `comma-separated subset of: ${NAMES.join(', ')}`).argParser(parseOnly);
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
    .addOption(onlyOption())
    .option('--json', 'print the status as one JSON object {services}')
    .action(async (opts: { only?: ServiceName[]; json?: boolean }) => {
      const rows = await stackUp({ settings: stackSettings(), only: opts.only, log });
      if (opts.json) printJson({ services: rows });
      else console.log(formatStatus(rows));
    });
  stack
    .command('down')
    .description('stop the services this stack started (by pid file) and the demo hub; external servers are left alone')
    .addOption(onlyOption())
    .action(async (opts: { only?: ServiceName[] }) => {
      // The demo's hub uses every service: it goes first, so its batches commit cleanly.
      if (!opts.only) await hubDown(stackSettings(), log);
      const rows = await stackDown({ settings: stackSettings(), only: opts.only, log });
      console.log(formatStatus(rows));
    });
  stack
    .command('status')
    .description('list every service with its URL, pid and health; exit 1 when one is not healthy')
    .addOption(onlyOption())
    .option('--json', 'print one JSON object {services}')
    .action(async (opts: { only?: ServiceName[]; json?: boolean }) => {
      const rows = await stackStatus({ settings: stackSettings(), only: opts.only });
      if (opts.json) printJson({ services: rows });
      else console.log(formatStatus(rows));
      if (rows.some((r) => r.state !== 'running' && r.state !== 'external')) process.exitCode = 1;
    });
}
