/**
 * `junction check [--config FILE] [--json] [--no-connect]`: validates the config and every
 * mapping it references, printing every error as `file:line:col path: message [CODE]`, then
 * checks every enabled source's connectivity. Exit 2 on config errors, 3 when a source
 * fails its check (1 stays for crashes), so scripts can tell them apart.
 */
import type { Command } from 'commander';
import { isConfigErrors } from '../../config/load.js';
import { checkSources, formatSourceChecks } from '../check-sources.js';
import { configProblems, printJson } from '../json-output.js';
import { loadCliConfig } from '../sources.js';

/** Exit code of a config that does not validate. */
export const EXIT_INVALID_CONFIG = 2;
/** Exit code when the config is valid but a source fails its connectivity check. */
export const EXIT_SOURCE_FAILED = 3;


/** Adds `junction check` to the CLI. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate config/junction.yaml and every mapping it references')
    .option('-c, --config <file>', 'config file, relative to the current folder (default: the project\'s config/junction.yaml)')
    .option('--json', 'print one JSON object {errors, sources}: the config\'s problems and the source checks (empty when not run)')
    .option('--no-connect', 'validate files only; do not contact the sources')
    .action(async (opts: { config?: string; json?: boolean; connect: boolean }) => {
      try {
        const config = await loadCliConfig(opts.config);
        const rows = opts.connect ? await checkSources(config) : [];
        if (rows.some((r) => r.status === 'failed')) process.exitCode = EXIT_SOURCE_FAILED;
        if (opts.json) {
          printJson({ errors: [], sources: rows });
          return;
        }
        const sources = Object.keys(config.sources).length;
        console.log(`ok: ${sources} sources, ${config.mappings.length} mappings, ${config.schedules.length} schedules`);
        if (rows.length) console.log(`\n${formatSourceChecks(rows)}`);
      } catch (err) {
        if (!isConfigErrors(err)) throw err;
        // An invalid config is check's verdict, not its failure: the same object as a valid one.
        for (const e of err.errors) console.error(e.format());
        if (opts.json) printJson({ errors: configProblems(err), sources: [] });
        process.exitCode = EXIT_INVALID_CONFIG;
      }
    });
}
