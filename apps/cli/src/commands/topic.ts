import { Option, type Command } from 'commander';
import { intInRange, parseList } from '../args.js';
import type { CliContext } from '../context.js';
import { formatTime } from '../output.js';
import { requireTopic } from '../lookups.js';
import { buildTopicInput, type TopicAddOptions } from '../topic-input.js';
import { describeSchedule, topicState, topicView } from '../views.js';

interface JsonFlag {
  json?: boolean;
}

/** `radar topic add|list|rm|pause|resume`. */
export function registerTopicCommands(program: Command, ctx: CliContext): void {
  const topic = program.command('topic').description('manage topics: what to watch and on which schedule');

  topic
    .command('add')
    .description('add a topic with an `every` or `cron` schedule')
    .argument('<name>', 'topic name (unique)')
    .option('--every <duration>', 'a window every DURATION, e.g. 30m, 1h, 1h30m, 1d (at least 1m)')
    .option('--cron <expression>', 'windows between fire times of a 5-field cron expression, e.g. "0 8,13,20 * * *"')
    .option('--tz <zone>', 'IANA time zone of the cron expression and of the `every` anchor (midnight)', 'UTC')
    .option('--keywords <list>', 'comma-separated keywords that boost matching items', parseList)
    .option('--exclude <list>', 'comma-separated keywords that drop matching items', parseList)
    .option('--size <n>', 'items per digest', intInRange(1, 500), 20)
    .option('--max-per-source <n>', 'at most N items from one source (default: half of --size)', intInRange(1, 500))
    .addOption(new Option('--json', 'print the new topic as JSON'))
    .action(async (name: string, options: TopicAddOptions & JsonFlag) => {
      const input = buildTopicInput(name, options, ctx.now());
      const db = await ctx.db();
      const { insertTopic } = await import('@aharadar/db');
      const row = await insertTopic(db, input);
      if (options.json) return ctx.out.json(topicView(row));
      ctx.out.line(`added topic "${row.name}" (#${row.id}): ${describeSchedule(row)}`);
      ctx.out.line(`first window ends ${formatTime(row.next_window_end)}; add sources with \`radar source add --topic ${quoteArg(row.name)} ...\``);
    });

  topic
    .command('list')
    .description('list topics with their schedule and state')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: JsonFlag) => {
      const { listTopics } = await import('@aharadar/db');
      const rows = await listTopics(await ctx.db());
      if (options.json) return ctx.out.json(rows.map(topicView));
      ctx.out.table(
        ['NAME', 'SCHEDULE', 'SOURCES', 'STATE', 'NEXT WINDOW END', 'LAST DIGEST WINDOW', 'KEYWORDS'],
        rows.map((t) => [
          t.name,
          describeSchedule(t),
          t.source_count,
          topicState(t),
          formatTime(t.next_window_end),
          formatTime(t.last_window_end),
          t.keywords.join(','),
        ]),
        'no topics yet: add one with `radar topic add NAME --every 1h`',
      );
    });

  topic
    .command('rm')
    .description('remove a topic with its sources, windows and digests')
    .argument('<name>', 'topic name')
    .action(async (name: string) => {
      const db = await ctx.db();
      const row = await requireTopic(db, name);
      const { deleteTopic } = await import('@aharadar/db');
      await deleteTopic(db, row.id);
      ctx.out.line(`removed topic "${row.name}" with its sources, windows and digests`);
    });

  topic
    .command('pause')
    .description('stop scheduling windows for a topic until it is resumed')
    .argument('<name>', 'topic name')
    .action(async (name: string) => {
      const db = await ctx.db();
      const row = await requireTopic(db, name);
      const { pauseTopic } = await import('@aharadar/db');
      const changed = await pauseTopic(db, row.id, ctx.now());
      ctx.out.line(changed ? `paused topic "${row.name}": no windows are scheduled until \`radar topic resume\`` : `topic "${row.name}" was already paused`);
    });

  topic
    .command('resume')
    .description('resume a paused topic; windows that ended meanwhile are recorded as skipped (paused)')
    .argument('<name>', 'topic name')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (name: string, options: JsonFlag) => {
      const db = await ctx.db();
      const row = await requireTopic(db, name);
      const { resumeTopic } = await import('@aharadar/db');
      const outcome = await resumeTopic(db, row.id, ctx.now());
      const skipped = outcome.skipped.length + (outcome.skippedOmitted?.count ?? 0);
      if (options.json) return ctx.out.json({ topic: row.name, resumed: outcome.resumed, skippedWindows: skipped });
      if (!outcome.resumed) return ctx.out.line(`topic "${row.name}" is not paused`);
      ctx.out.line(`resumed topic "${row.name}": ${skipped} window${skipped === 1 ? '' : 's'} that ended while paused recorded as skipped (paused)`);
      if (skipped > 0) ctx.out.line(`run them later with \`radar backfill ${quoteArg(row.name)} --from ... --to ...\` if you need them`);
    });
}

/** Quotes a name for a suggested shell command when it holds spaces or shell characters. */
export function quoteArg(value: string): string {
  return /^[A-Za-z0-9_.,:/@+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
