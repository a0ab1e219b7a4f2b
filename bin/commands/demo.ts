/**
 * `junction demo …`: the sample legacy estate of a fictional retailer (see demo/README.md).
 */
import type { Command } from 'commander';
import { demoTeams, ensureDemoAgents, DEMO_AGENT_PASSWORD } from '../../demo/agents.js';
import { seedEstate } from '../../demo/seed/seed-estate.js';
import { describeDemo, runDemo } from '../../demo/run.js';
import { hubLogFile, hubUp } from '../../demo/hub.js';
import { stackSettings } from '../../config/env.js';
import { syncDemoStreams } from '../demo-sync.js';
import { loadCliConfig } from '../sources.js';
import { positiveInt } from '../options.js';
import { hubClient } from '../../sql/hub-connection.js';

/** Adds the `demo` command group (and its `seed` subcommand) to the CLI. */
export function registerDemo(program: Command): Command {
  const demo = program
    .command('demo')
    .description('bring up the demo: the stack, migrations, the seeded legacy estate, the hub (worker, scheduler, ops API, gateway) and a first sync of every stream; print what runs where')
    // No --scale here: commander would take it from `demo seed --scale N` as well.
    .option('--reseed', 'refill the estate (default scale) even when it is already seeded')
    .action(async (opts: { reseed?: boolean }) => {
      const settings = stackSettings();
      const log = (line: string) => console.error(`demo: ${line}`);
      const summary = await runDemo({ settings, reseed: opts.reseed, log });
      const config = await loadCliConfig(undefined);
      const db = hubClient(settings.services.postgres.url);
      await db.connect();
      try {
        const agents = await ensureDemoAgents(db, demoTeams(config.gateway));
        log(agents.created.length > 0 ? `agents: added ${agents.created.map((a) => a.email).join(', ')} (password ${DEMO_AGENT_PASSWORD})` : 'agents: the demo agents are already there');
      } finally {
        await db.end();
      }
      const hub = await hubUp({ settings, opsPort: config.ops.port, gatewayPort: config.gateway.port, log });
      log(hub.state === 'running' ? `hub: already running (pid ${hub.pid})` : `hub: ready (pid ${hub.pid}, log ${hubLogFile(settings)})`);
      log('syncing every demo stream through the queue…');
      const synced = await syncDemoStreams(config, settings.services.redis.url, log);
      if (synced.failed.length > 0) process.exitCode = 1;
      console.log(`\n${describeDemo(summary, settings, { config, failed: synced.failed })}`);
    });

  demo
    .command('seed')
    .description('generate the estate (deterministic) and load every source; writes the ground truth')
    .option('--scale <people>', 'number of people behind the estate', positiveInt, 2000)
    .option('--seed <seed>', 'PRNG seed: the same seed and scale give the same data', 'junction')
    .option('--out <dir>', 'folder for ground_truth.csv and crm_oracle_seed.sql (default: <dataDir>/estate)')
    .action(async (opts: { scale: number; seed: string; out?: string }) => {
      // Progress only where someone watches; piped output stays the summary alone.
      const tty = process.stderr.isTTY;
      const summary = await seedEstate({
        scale: opts.scale,
        seed: opts.seed,
        outDir: opts.out,
        onProgress: tty
          ? (done, total) => process.stderr.write(`\rseeding… ${done}/${total} people`)
          : undefined,
      });
      if (tty) process.stderr.write('\n');
      console.log(`seeded ${summary.scale} people (seed ${JSON.stringify(summary.seed)}) in ${(summary.durationMs / 1000).toFixed(1)} s`);
      const width = Math.max(...Object.keys(summary.counts).map((k) => k.length));
      for (const [stream, n] of Object.entries(summary.counts)) console.log(`  ${stream.padEnd(width)}  ${n}`);
      console.log(`ground truth: ${summary.groundTruthPath} (${summary.groundTruthRows} rows)`);
      console.log(`ground truth sha256: ${summary.groundTruthSha256}`);
      console.log(`oracle seed:  ${summary.oracleSeedPath} (not loaded: no Oracle server runs here)`);
    });

  return demo;
}
