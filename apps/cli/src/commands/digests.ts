import { Option, type Command } from 'commander';
import { intInRange, parseId } from '../args.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { requireTopic } from '../lookups.js';
import { formatTime } from '../output.js';
import { digestView, entryView, renderEntries } from '../views.js';

/** `radar digests` (the list) and `radar digest show ID` (one digest with its ranked items). */
export function registerDigestCommands(program: Command, ctx: CliContext): void {
  program
    .command('digests')
    .description('list digests, newest window first')
    .option('--topic <name>', 'only the digests of this topic')
    .option('--limit <n>', 'how many', intInRange(1, 10_000), 20)
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { topic?: string; limit: number; json?: boolean }) => {
      const db = await ctx.db();
      const topicId = options.topic === undefined ? undefined : (await requireTopic(db, options.topic)).id;
      const { listDigests } = await import('@aharadar/db');
      const rows = await listDigests(db, topicId === undefined ? { limit: options.limit } : { topicId, limit: options.limit });
      if (options.json) return ctx.out.json(rows.map(digestView));
      ctx.out.table(
        ['ID', 'TOPIC', 'WINDOW START', 'WINDOW END', 'TRIGGER', 'STATUS', 'ITEMS', 'SOURCES FAILED', 'ERROR'],
        rows.map((d) => [
          d.id,
          d.topic_name,
          formatTime(d.window_start),
          formatTime(d.window_end),
          d.trigger,
          d.status,
          d.item_count,
          `${d.sources_failed}/${d.sources_total}`,
          d.error,
        ]),
        'no digests yet',
      );
    });

  const digest = program.command('digest').description('inspect one digest');
  digest
    .command('show')
    .description('show a digest with its ranked items, scores and why they rank there')
    .argument('<id>', 'digest id (see `radar digests`)', parseId('digest'))
    .addOption(new Option('--json', 'print JSON'))
    .action(async (id: number, options: { json?: boolean }) => {
      const db = await ctx.db();
      const { findDigest } = await import('@aharadar/db');
      const found = await findDigest(db, id);
      if (!found) throw new CliError(`no digest with id ${id} (see \`radar digests\`)`);
      const { digest: d, entries } = found;
      if (options.json) return ctx.out.json({ ...digestView(d), items: entries.map(entryView) });
      ctx.out.line(`digest #${d.id} — topic "${d.topic_name}", window ${formatTime(d.window_start)} → ${formatTime(d.window_end)} (${d.trigger})`);
      ctx.out.line(
        `status ${d.status}: ${d.item_count} of ${d.candidate_count} candidates, sources ${d.sources_total - d.sources_failed}/${d.sources_total} ok, built ${formatTime(d.created_at)} in ${d.duration_ms} ms`,
      );
      if (d.error) ctx.out.line(`error: ${d.error}`);
      ctx.out.line();
      for (const line of renderEntries(entries)) ctx.out.line(line);
    });
}
