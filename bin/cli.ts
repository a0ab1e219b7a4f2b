/**
 * The `junction` command line. Each command group lives in `bin/commands/*.ts` and is
 * added here with one line; `--help` works on every command (commander).
 */
import { inspect } from 'node:util';
import { Command, CommanderError } from 'commander';
import { stackSettings } from '../config/env.js';
import { isJunctionError } from '../config/errors.js';
import { isConfigErrors } from '../config/load.js';
import { redact } from '../config/redact.js';
import { passwords, serviceError } from './service-errors.js';
import { argvAsksJson, configErrorsJson, internalErrorJson, junctionErrorJson, printJson, usageErrorJson } from './json-output.js';
import { registerStack } from './commands/stack.js';
import { EXIT_INVALID_CONFIG, registerCheck } from './commands/check.js';
import { registerMigrate } from './commands/migrate.js';
import { registerDemo } from './commands/demo.js';
import { registerSchema } from './commands/schema.js';
import { registerRead } from './commands/read.js';
import { registerDiscover } from './commands/discover.js';
import { registerMapping } from './commands/mapping.js';
import { registerBench } from './commands/bench.js';
import { registerSync } from './commands/sync.js';
import { registerCustomers } from './commands/customers.js';
import { registerAgents } from './commands/agents.js';
import { registerSchedules } from './commands/schedules.js';
import { registerStart } from './commands/start.js';
import { registerDlq } from './commands/dlq.js';
import { registerAnalytics } from './commands/analytics.js';

const program = new Command('junction')
  .description('Integration hub for customer service: legacy connectors, unified customer view, analytics and chat.')
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ sortSubcommands: true })
  // Usage errors reach report() (inherited by every command added below), which prints them
  // as JSON too under --json; commander still prints its own message on stderr first.
  .exitOverride();

/** Whether the running command was given --json; undefined until its action starts. */
let jsonMode: boolean | undefined;
program.hook('preAction', (_program, action) => {
  jsonMode = Boolean(action.opts().json);
});

registerStack(program);
registerCheck(program);
registerMigrate(program);
registerDemo(program);
registerSchema(program);
registerRead(program);
registerDiscover(program);
registerMapping(program);
registerBench(program);
registerSync(program);
registerCustomers(program);
registerAgents(program);
registerSchedules(program);
registerStart(program);
registerDlq(program);
registerAnalytics(program);

// A reader that stops early (`junction … | head`) closes the pipe: the rest of the output has
// nowhere to go, which is what the user asked for, not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

/**
 * Prints a command's failure and returns the exit code: the human message on stderr and,
 * under --json, its JSON object on stdout (bin/json-output.ts).
 */
function report(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) {
    // --help (exit 0) is no failure; commander has printed a usage error on stderr already.
    if (json && err.exitCode !== 0) printJson(usageErrorJson(err));
    return err.exitCode;
  }
  // Every problem of the config, one `file:line:col path: message [CODE]` line each, as `check` prints them.
  if (isConfigErrors(err)) {
    for (const e of err.errors) console.error(e.format());
    if (json) printJson(configErrorsJson(err));
    return EXIT_INVALID_CONFIG;
  }
  let settings;
  try {
    settings = stackSettings();
  } catch {
    settings = undefined;
  }
  const secrets = settings ? passwords(settings) : [];
  // Known errors print their code and origin on one line; so do the hub's services' raw
  // failures (not running, credentials refused, not migrated). Anything else is a bug and
  // keeps its stack, with service passwords masked.
  const known = isJunctionError(err) ? err : settings && serviceError(err, settings);
  if (known) {
    console.error(`junction: ${known.format()}`);
    if (json) printJson(junctionErrorJson(known, secrets));
    return Number(process.exitCode) || 1;
  }
  console.error(redact(inspect(err), secrets));
  if (json) printJson(internalErrorJson(err, secrets));
  return 1;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err, jsonMode ?? argvAsksJson(process.argv.slice(2)));
}
