/**
 * `junction customers show | explain | unmerge | evaluate`: look into the unified view,
 * understand why records are one customer, undo a wrong merge (in PostgreSQL and ClickHouse),
 * and score the view against a ground truth.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type pg from 'pg';
import { stackSettings } from '../../config/env.js';
import { JunctionError } from '../../config/errors.js';
import type { ResolvedConfig } from '../../config/load.js';
import { resolveRules, type ResolveRules } from '../../pipelines/resolve/rules.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { evaluate, readTruth, type Evaluation } from '../../pipelines/unified/evaluate.js';
import { explainCustomer, type Explanation } from '../../pipelines/unified/explain.js';
import { findCustomers, parseCustomerId, survivorOf, type CustomerId } from '../../pipelines/unified/find.js';
import { showCustomer, type CustomerView } from '../../pipelines/unified/show.js';
import { unmergeAndSend } from '../../pipelines/unified/unmerge.js';
import { printJson } from '../json-output.js';
import { loadCliConfig } from '../sources.js';
import { hubPool, hubClient } from '../../sql/hub-connection.js';

interface Common {
  config?: string;
  json?: boolean;
}

async function withDb<T>(fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = hubClient(stackSettings().services.postgres.url);
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

async function rulesFrom(file: string | undefined): Promise<{ config: ResolvedConfig; rules: ResolveRules }> {
  const config = await loadCliConfig(file);
  return { config, rules: resolveRules(config) };
}

/**
 * Identity resolution holds customer ids as JavaScript numbers, exact up to 2^53 - 1 (a
 * bigserial reaches that after 9·10^15 customers); past it, unmerge refuses rather than
 * split a customer whose id it would round.
 */
function unmergeId(id: CustomerId): number {
  if (typeof id === 'number') return id;
  throw new JunctionError('ID_BAD_ID', `customer id ${id} is past ${Number.MAX_SAFE_INTEGER}, the largest id unmerge handles exactly`);
}

const step = (s: { key: string }) => s.key.replace(':', ' ');

function printView(v: CustomerView): void {
  console.log(`customer ${v.id}${v.absorbed.length ? ` (absorbed ${v.absorbed.join(', ')})` : ''}`);
  const width = Math.max(...Object.keys(v.fields).map((f) => f.length), ...v.attributes.map((a) => a.name.length));
  const line = (name: string, value: unknown, lineage: unknown) => {
    const l = lineage as { source: string; stream: string; source_key: string; mapping: string | null; synced_at: string; rule: string } | undefined;
    const from = l ? `  ← ${l.source}/${l.stream}/${l.source_key}${l.mapping ? ` ${l.mapping}` : ''}, synced ${l.synced_at} (${l.rule})` : '';
    console.log(`  ${name.padEnd(width)}  ${value === null ? '—' : typeof value === 'string' ? value : JSON.stringify(value)}${from}`);
  };
  for (const [f, value] of Object.entries(v.fields)) line(f, value, v.lineage[f]);
  for (const a of v.attributes) line(a.name, a.value, a.lineage);
  console.log('identities');
  for (const i of v.identities) console.log(`  ${i.kind.padEnd(14)} ${i.value.padEnd(32)} ${i.state}`);
  console.log(`source records (${v.records.length})`);
  for (const r of v.records) console.log(`  ${`${r.source}/${r.stream}/${r.sourceKey}`.padEnd(40)} ${r.target.padEnd(12)} synced ${r.syncedAt}${r.pinned ? '  pinned' : ''}`);
  printHistory(v.history);
}

function printHistory(history: CustomerView['history']): void {
  if (history.length === 0) return;
  console.log('history');
  for (const h of history) {
    const e = h.evidence as { records: string[]; path: { from: string; to: string; key: string }[]; capped?: string[]; requested?: string };
    const how =
      h.action === 'merge'
        ? `customer ${h.absorbedId} merged into ${h.customerId}: ${e.path.map((s) => `${s.from} —${step(s)}— ${s.to}`).join(', ') || e.records.join(', ')}`
        : h.action === 'split'
          ? `${e.records.join(', ')} split from ${h.absorbedId} into ${h.customerId}${e.capped?.length ? ` (over the cap: ${e.capped.join(', ')})` : ''}`
          : `unmerge of ${e.requested ?? '?'} from ${h.absorbedId}: ${e.records.join(', ')} → customer ${h.customerId} (pinned)`;
    console.log(`  ${h.at}  ${how}`);
  }
}

function printExplanation(x: Explanation): void {
  const count = x.chain.length + x.unexplained.length;
  console.log(`customer ${x.id}: ${count} record${count === 1 ? '' : 's'}; each joined through a key it shares with the one after "from"`);
  const width = Math.max(...x.chain.map((c) => c.record.length));
  for (const c of x.chain) console.log(`  ${c.record.padEnd(width)}${c.via ? `  ← ${step(c.via).padEnd(36)} from ${c.via.from}` : ''}`);
  for (const u of x.unexplained) console.log(`  ${u.record.padEnd(width)}  ← ${u.pinned ? 'pinned here by an unmerge' : 'no shared key under the current rules'}`);
  if (x.shared.length) console.log('shared identities');
  for (const s of x.shared) console.log(`  ${s.key.replace(':', ' ').padEnd(40)} ${s.state.padEnd(7)} ${s.records.join(', ')}`);
  printHistory(x.history);
}

function printEvaluation(e: Evaluation, file: string): void {
  const f = (x: number) => x.toFixed(5);
  console.log(`scored ${e.records} source records found both in the unified view and in ${file}`);
  console.log(`  (${e.onlyInView} only in the view and ${e.onlyInTruth} only in the truth file are left out)`);
  console.log(`  ${e.customers} customers, ${e.persons} persons`);
  console.log(`pairs of records: ${e.pairs.predicted} in one customer (predicted), ${e.pairs.true} of one person (true), ${e.pairs.correct} both (correct)`);
  console.log(`precision = correct / predicted = ${f(e.precision)}`);
  console.log(`recall    = correct / true      = ${f(e.recall)}`);
  console.log('pairs are counted per cluster as n·(n−1)/2, never listed one by one');
}

export function registerCustomers(program: Command): void {
  const customers = program.command('customers').description('the unified customer view: show, explain, unmerge, evaluate');

  customers
    .command('show')
    .argument('<query>', 'a customer id, an email, a phone (any format) or source/stream/key')
    .description('golden record with the lineage of each field, identities, source records and merge history')
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print one JSON object {customers}: every customer the query names')
    .action(async (query: string, opts: Common) => {
      if (!query.trim()) throw new JunctionError('CLI_USAGE', 'the query is empty: give a customer id, an email, a phone or source/stream/key');
      const { config } = await rulesFrom(opts.config);
      const views = await withDb(async (db) => {
        const ids = await findCustomers(db, query, config.identity.default_region);
        const views = [];
        for (const id of ids) views.push(await showCustomer(db, id)); // one client: one query at a time
        return views;
      });
      // A list even for one: an email or phone can name several customers.
      if (opts.json) return printJson({ customers: views });
      if (views.length > 1) console.log(`${views.length} customers hold ${query}\n`);
      views.forEach((v, i) => {
        if (i > 0) console.log('');
        printView(v);
      });
    });

  customers
    .command('explain')
    .argument('<id>', 'customer id (an absorbed one leads to its survivor)')
    .description('why these records are one customer: the chain of shared keys, and the merge history')
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print JSON')
    .action(async (text: string, opts: Common) => {
      // Kept as text (ids past 2^53 are not rounded) and range-checked before any query.
      const id = parseCustomerId(text);
      const { rules } = await rulesFrom(opts.config);
      // The id alone: findCustomers would also read the digits as a phone and could explain its holder instead.
      const x = await withDb(async (db) => {
        const survivor = await survivorOf(db, id);
        if (survivor === null) throw new JunctionError('ID_NOT_FOUND', `no customer ${id}`);
        return explainCustomer(db, survivor, rules);
      });
      if (opts.json) printJson(x);
      else printExplanation(x);
    });

  customers
    .command('unmerge')
    .argument('<id>', 'customer id')
    .requiredOption('--source-record <source/stream/key>', 'the record to take out of the customer', (value: string) => {
      if (!/^[^/\s]+\/[^/\s]+\/.+$/.test(value)) throw new InvalidArgumentError('expected source/stream/key, e.g. crm_oracle/customers/C-1001');
      return value;
    })
    .description('move a record (and what only it links) to a new customer, pinned so that syncs do not merge it back; ClickHouse follows')
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print JSON')
    .action(async (text: string, opts: Common & { sourceRecord: string }) => {
      const id = unmergeId(parseCustomerId(text));
      const { rules } = await rulesFrom(opts.config);
      const settings = stackSettings();
      // Two connections: the unmerge's transaction, then the send of its ClickHouse rows.
      const pool = hubPool(settings.services.postgres.url, { max: 2 });
      const clickhouse = createClickhouseClient(settings);
      let result: Awaited<ReturnType<typeof unmergeAndSend>>;
      try {
        result = await unmergeAndSend(pool, clickhouse, id, opts.sourceRecord, rules);
      } finally {
        await clickhouse.close();
        await pool.end();
      }
      const { analytics } = result;
      // The unmerge has committed whatever ClickHouse did: a warning, not a failure (running it again would split again).
      if (!analytics.sent) {
        console.error(`warning: ClickHouse not updated yet (${analytics.error?.message} [${analytics.error?.code}]); the next sync of ${analytics.pending} sends it`);
      }
      if (opts.json) return printJson(result);
      console.log(`moved ${result.moved.join(', ')} from customer ${result.from} to new customer ${result.to}; both sides are pinned`);
    });

  customers
    .command('evaluate')
    .requiredOption('--truth <file>', 'ground truth CSV: source,stream,source_key,person_id (demo: .junction/estate/ground_truth.csv)')
    .description('pairwise precision and recall of the unified view against a ground truth')
    .option('--json', 'print one JSON object')
    .action(async (opts: { truth: string; json?: boolean }) => {
      const truth = readTruth(path.resolve(opts.truth));
      const e = await withDb((db) => evaluate(db, truth));
      if (opts.json) printJson(e);
      else printEvaluation(e, opts.truth);
    });
}
