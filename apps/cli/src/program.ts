import { Command } from 'commander';
import { registerAlertsCommand } from './commands/alerts.js';
import { registerBackfillCommand } from './commands/backfill.js';
import { registerDashboardCommand } from './commands/dashboard.js';
import { registerDigestCommands } from './commands/digests.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerPauseCommands } from './commands/pause.js';
import { registerRunCommand } from './commands/run.js';
import { registerSourceCommands } from './commands/source.js';
import { registerStatusCommand } from './commands/status.js';
import { registerTickCommand } from './commands/tick.js';
import { registerTopicCommands } from './commands/topic.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

/**
 * The `radar` command tree. Usage errors are printed by commander as one line prefixed like
 * our own (`radar: error: ...`), and `exitOverride` hands control back to main instead of
 * exiting, so connections opened by a previous step are still closed.
 */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('radar')
    .description('aharadar content radar: topics, sources, schedules, runs, digests and status')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (message, write) => write(`radar: ${message.trim()}\n`),
    })
    .addHelpText(
      'after',
      '\nConfiguration comes from the environment (DATABASE_URL, REDIS_URL, QUEUE_PREFIX, ...; see .env.example).\nAdd --json to commands that print data for machine-readable output.',
    );
  registerMigrateCommand(program, ctx);
  registerTopicCommands(program, ctx);
  registerSourceCommands(program, ctx);
  registerRunCommand(program, ctx);
  registerBackfillCommand(program, ctx);
  registerTickCommand(program, ctx);
  registerDigestCommands(program, ctx);
  registerStatusCommand(program, ctx);
  registerPauseCommands(program, ctx);
  registerAlertsCommand(program, ctx);
  registerDashboardCommand(program, ctx);
  for (const group of program.commands) if (group.commands.length > 0) requireSubcommand(group);
  return program;
}

/**
 * `radar topic` alone (or `radar topic frob`) is a usage error like any other: one
 * `radar: error:` line naming the choices, exit 1 — not commander's page of help on stderr.
 */
function requireSubcommand(group: Command): void {
  const names = group.commands.map((c) => c.name()).filter((n) => n !== 'help');
  const usage = `radar ${group.name()} ${names.join('|')} (see radar ${group.name()} --help)`;
  group.usage('<command> [options]').argument('[command]').action((given: string | undefined) => {
    throw new CliError(given === undefined ? `missing command: ${usage}` : `unknown command '${given}': ${usage}`);
  });
}
