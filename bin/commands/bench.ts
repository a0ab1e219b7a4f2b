/**
 * `junction bench <name>` (`npm run bench -- <name>`): benchmarks that run the peer they are
 * compared with in the same invocation and print the ratio. With `--json`, the last line of
 * output is one JSON object with the figures and ratios (bin/json-output.ts).
 */
import type { Command } from 'commander';
import { stackSettings } from '../../config/env.js';
import { printJson } from '../json-output.js';
import { loadCliConfig } from '../sources.js';
import { positiveInt } from '../options.js';

/** Human lines on stderr when --json, so stdout's last line stays the JSON object. */
function logger(json: boolean | undefined): (line: string) => void {
  return (line) => (json ? console.error(line) : console.log(line));
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks, each against its peer in the same run (see README: Benchmarks)');

  bench
    .command('read')
    .description('records/s of a full read per connector kind vs the bare driver (pg, mongodb) on the large estate')
    .option('--scale <people>', 'estate scale (seeded once if different)', positiveInt, 200_000)
    .option('--batch-size <n>', 'records per batch for both contenders', positiveInt, 1000)
    .option('--rounds <n>', 'runs per contender; the best is kept', positiveInt, 3)
    .option('--http-limit <n>', 'records to read from the legacy SOAP/REST servers', positiveInt, 20_000)
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'end with one JSON line of figures and ratios')
    .action(async (opts: { scale: number; batchSize: number; rounds: number; httpLimit: number; config?: string; json?: boolean }) => {
      const log = logger(opts.json);
      // Loaded on use: benchmarks pull in every driver, which other commands need not pay for.
      const { benchRead } = await import('../../test/bench/read.js');
      const config = await loadCliConfig(opts.config);
      const figures = await benchRead({ settings: stackSettings(), config, scale: opts.scale, batchSize: opts.batchSize, rounds: opts.rounds, httpLimit: opts.httpLimit, log });
      for (const f of figures) {
        const peer = f.bareRecordsPerSec ? `; bare driver ${f.bareRecordsPerSec.toLocaleString('en')} rec/s; ratio ${f.ratio}` : '';
        log(`${f.kind.padEnd(8)} ${f.stream.padEnd(20)} ${f.records.toLocaleString('en')} records, ${f.recordsPerSec.toLocaleString('en')} rec/s${peer}`);
      }
      if (opts.json) printJson({ bench: 'read', scale: opts.scale, batchSize: opts.batchSize, figures });
    });

  bench
    .command('map')
    .description('records/s of the map stage on the demo mappings: plain paths compiled to direct access vs every expression through JSONata')
    .option('--records <n>', 'records per variant', positiveInt, 50_000)
    .option('--json', 'end with one JSON line of figures and the ratio')
    .action(async (opts: { records: number; json?: boolean }) => {
      const log = logger(opts.json);
      const { benchMap } = await import('../../pipelines/map/bench.js');
      const r = await benchMap({ records: opts.records });
      log(`map: ${r.records.toLocaleString('en')} records; fast path ${Math.round(r.fastPath.recordsPerSecond).toLocaleString('en')} rec/s; JSONata only ${Math.round(r.jsonata.recordsPerSecond).toLocaleString('en')} rec/s; ratio ${r.speedup.toFixed(2)}; failures ${r.failures}`);
      if (opts.json) printJson({ bench: 'map', ...r });
    });

  bench
    .command('resolve')
    .description('records/s of resolve + load into the unified view vs a raw COPY + one INSERT … ON CONFLICT merge of the same rows')
    .option('--scale <records>', 'mapped records to load', positiveInt, 200_000)
    .option('--batch-size <n>', 'records per batch transaction', positiveInt, 5000)
    .option('--json', 'end with one JSON line of figures and the ratio')
    .action(async (opts: { scale: number; batchSize: number; json?: boolean }) => {
      const log = logger(opts.json);
      const { benchResolve } = await import('../../test/bench/resolve.js');
      const f = await benchResolve({ scale: opts.scale, batchSize: opts.batchSize, settings: stackSettings(), log });
      log(`resolve: ${f.records.toLocaleString('en')} records in ${f.seconds.toFixed(1)} s = ${f.recordsPerSec.toLocaleString('en')} rec/s; raw COPY + merge ${f.raw.recordsPerSec.toLocaleString('en')} rec/s; ratio ${f.ratio}; precision ${f.quality.precision.toFixed(4)} recall ${f.quality.recall.toFixed(4)}`);
      if (opts.json) printJson(f);
    });

  bench
    .command('sync')
    .description('end-to-end records/s of queued syncs of every demo stream (source → unified view + ClickHouse) with N worker processes vs a raw COPY + merge into PostgreSQL and a raw ClickHouse insert of the same rows; recovery time after a worker kill -9')
    .option('--scale <people>', 'estate scale (its own estate, seeded once per scale)', positiveInt, 200_000)
    .option('--workers <n>', 'worker processes', positiveInt, 2)
    .option('--streams <list>', 'comma-separated source.stream list (default: every enabled demo stream)')
    .option('--no-recovery', 'skip the kill -9 recovery measurement')
    .option('--json', 'end with one JSON line of figures and ratios')
    .action(async (opts: { scale: number; workers: number; streams?: string; recovery: boolean; json?: boolean }) => {
      const log = logger(opts.json);
      const { benchSync } = await import('../../test/bench/sync.js');
      const f = await benchSync({ scale: opts.scale, workers: opts.workers, streams: opts.streams?.split(',').map((s) => s.trim()), recovery: opts.recovery, log });
      const peers = `raw PostgreSQL COPY + merge ${f.peers.postgres.recordsPerSec.toLocaleString('en')} rec/s (ratio ${f.ratios.postgres}); raw ClickHouse insert ${f.peers.clickhouse.recordsPerSec.toLocaleString('en')} rec/s (ratio ${f.ratios.clickhouse})`;
      log(`sync: ${f.records.toLocaleString('en')} records end to end in ${f.seconds} s = ${f.recordsPerSec.toLocaleString('en')} rec/s with ${f.workers} workers; ${peers}; vs the slower peer ${f.ratios.slowerPeer}`);
      const r = f.recovery;
      log(r ? `recovery after kill -9: rate back to 90% ${r.seconds === null ? 'not within 120 s' : `in ${r.seconds} s`} (pre-kill ${r.preKillRecordsPerSec.toLocaleString('en')} rec/s, ${r.windowSeconds} s window); ` +
        `the killed worker's ${r.killedJobs} jobs committing again ${r.jobsResumedSeconds === null ? 'not measured' : `after ${r.jobsResumedSeconds} s`}` : 'recovery: not measured');
      log(`goals: ${f.goals.recordsPerSec.toLocaleString('en')} rec/s ${f.met.recordsPerSec ? 'met' : 'NOT met'}; ${f.goals.slowerPeerRatio} of the slower peer ${f.met.slowerPeerRatio ? 'met' : 'NOT met'}; recovery ≤ ${f.goals.recoverySeconds} s ${f.met.recoverySeconds ? 'met' : 'NOT met'}`);
      if (opts.json) printJson(f);
    });

  bench
    .command('gateway')
    .description('highest sustained delivered msg/s of one gateway with p99 < 100 ms (every message durable) vs a bare ws relay; p50/p99 at a fixed rate')
    .option('--sockets <n>', 'sockets on loopback (one agent in ten, the rest visitors)', positiveInt, 1000)
    .option('--seconds <n>', 'seconds per offered-rate step', positiveInt, 5)
    .option('--rate <n>', 'the fixed offered msg/s of the latency figures', positiveInt, 5000)
    .option('--json', 'end with one JSON line of figures and ratios')
    .action(async (opts: { sockets: number; seconds: number; rate: number; json?: boolean }) => {
      const log = logger(opts.json);
      const { benchGateway } = await import('../../test/bench/gateway.js');
      const f = await benchGateway({ settings: stackSettings(), sockets: opts.sockets, seconds: opts.seconds, fixedRate: opts.rate, log });
      log(`gateway: ${f.sockets} sockets, ${f.conversations} conversations; max sustained ${f.gateway.maxSustainedMsgPerSec.toLocaleString('en')} msg/s (p99 ${f.gateway.maxStep?.p99 ?? '-'} ms); bare ws relay ${f.relay.maxSustainedMsgPerSec.toLocaleString('en')} msg/s; ratio ${f.ratio} (goal ≥ ${f.goal.ratio}: ${f.met ? 'met' : 'NOT met'}); throughput whatever the latency ${f.gateway.maxKeptUpMsgPerSec.toLocaleString('en')} vs ${f.relay.maxKeptUpMsgPerSec.toLocaleString('en')} msg/s (ratio ${f.keptUpRatio})`);
      log(`at ${opts.rate} msg/s offered: gateway p50 ${f.gateway.fixed.p50} ms p99 ${f.gateway.fixed.p99} ms${f.gateway.fixed.sustained ? '' : ' (not sustained)'}; relay p50 ${f.relay.fixed.p50} ms p99 ${f.relay.fixed.p99} ms${f.relay.fixed.sustained ? '' : ' (not sustained)'}`);
      log(`durability: ${f.gateway.acked} acked, ${f.gateway.storedRows} stored: ${f.gateway.durable ? 'ok' : 'MISSING'}`);
      if (opts.json) printJson(f);
    });

  bench
    .command('connections')
    .description('memory per idle authenticated socket of one gateway vs a plain ws server (child processes; clients from several 127.0.0.x addresses)')
    .option('--sockets <n>', 'sockets per server (capped by ulimit -n)', positiveInt, 20_000)
    .option('--json', 'end with one JSON line of figures and ratios')
    .action(async (opts: { sockets: number; json?: boolean }) => {
      const log = logger(opts.json);
      const { benchConnections } = await import('../../test/bench/connections.js');
      const f = await benchConnections({ settings: stackSettings(), sockets: opts.sockets, log });
      log(`connections: ${f.sockets.toLocaleString('en')} sockets${f.limitedBy ? ` of ${f.requested.toLocaleString('en')} asked (${f.limitedBy})` : ` (ulimit -n ${f.openFileLimit})`}; gateway ${f.gateway.rssPerSocket.toLocaleString('en')} B RSS/socket, plain ws ${f.plain.rssPerSocket.toLocaleString('en')} B (ratio ${f.ratios.rss}); heap + external ${f.gateway.heapPerSocket.toLocaleString('en')} B vs ${f.plain.heapPerSocket.toLocaleString('en')} B (ratio ${f.ratios.heap}); goal ≤ ${f.goal.ratio}: ${f.met ? 'met' : 'NOT met'}`);
      if (opts.json) printJson(f);
    });

  bench
    .command('panel')
    .description('context panel latency (50 orders, 10 tickets) warm and cold vs a primary-key SELECT on the same pool')
    .option('--rounds <n>', 'warm panels measured', positiveInt, 500)
    .option('--cold-rounds <n>', 'cold panels measured (a fresh pool each)', positiveInt, 20)
    .option('--json', 'end with one JSON line of figures and ratios')
    .action(async (opts: { rounds: number; coldRounds: number; json?: boolean }) => {
      const log = logger(opts.json);
      const { benchPanel } = await import('../../test/bench/panel.js');
      const f = await benchPanel({ rounds: opts.rounds, coldRounds: opts.coldRounds, log });
      log(`panel (${f.orders} orders, ${f.tickets} tickets): warm p50 ${f.warm.p50} ms p99 ${f.warm.p99} ms; cold p50 ${f.cold.p50} ms p99 ${f.cold.p99} ms; reused p99 ${f.reused.p99} ms; primary-key SELECT p50 ${f.primaryKeySelect.p50} ms p99 ${f.primaryKeySelect.p99} ms; ratio ${f.ratio}; goal warm p99 ≤ ${f.goal.warmP99Ms} ms: ${f.met ? 'met' : 'NOT met'}`);
      if (opts.json) printJson(f);
    });
}
