import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { ensureDatabase, databaseName } from '../ensure-database.js';

/**
 * `radar migrate`: creates the database if needed, then applies pending migrations. Used by
 * `pnpm db:migrate` and by the Docker `migrate` one-shot service, which the other services
 * wait on; safe to run concurrently (the migrator takes an advisory lock).
 */
export function registerMigrateCommand(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('create the database if it does not exist and apply pending migrations')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { json?: boolean }) => {
      const { databaseUrl } = ctx.config();
      const created = await ensureDatabase(databaseUrl);
      const { migrateToLatest } = await import('@aharadar/db');
      const report = await migrateToLatest(await ctx.db());
      if (options.json) return ctx.out.json({ database: databaseName(databaseUrl), created, ...report });
      if (created) ctx.out.line(`created database "${databaseName(databaseUrl)}"`);
      ctx.out.line(
        report.applied.length === 0
          ? `database is up to date (${report.alreadyApplied} migration${report.alreadyApplied === 1 ? '' : 's'} applied before)`
          : `applied ${report.applied.length} migration${report.applied.length === 1 ? '' : 's'}: ${report.applied.join(', ')}`,
      );
    });
}
