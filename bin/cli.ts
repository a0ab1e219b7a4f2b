/**
 * The `junction` command line. Each command group lives in `bin/commands/*.ts` and is
 * added here with one line; `--help` works on every command (commander).
 */
import { Command } from 'commander';
import { isJunctionError } from '../config/errors.js';
import { registerStack } from './commands/stack.js';
import { registerCheck } from './commands/check.js';
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

const program = new Command('junction')
  .description('Integration hub for customer service: legacy connectors, unified customer view, analytics and chat.')
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ sortSubcommands: true });

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

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Known errors print their code and origin on one line; anything else keeps its stack.
  if (isJunctionError(err)) {
    console.error(`junction: ${err.format()}`);
    process.exitCode = process.exitCode || 1;
  } else {
    console.error(err);
    process.exitCode = 1;
  }
}
