import { Option, type Command } from 'commander';
import { intInRange, parseId, parseWeight } from '../args.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { requireTopic } from '../lookups.js';
import { formatTime } from '../output.js';
import { sourceView } from '../views.js';

interface SourceAddOptions {
  topic: string;
  type: string;
  url?: string;
  list?: string;
  limit?: number;
  weight: number;
  name?: string;
  json?: boolean;
}

/**
 * The connector config a source type takes from flags. For the known types each flag belongs
 * to one type, so a flag given to the wrong type is an error rather than silently ignored. A
 * type added to libs/connectors later works without a change here: it gets every config flag
 * that was given, and its own parseConfig decides.
 */
const FLAGS_BY_TYPE: Record<string, { required: (keyof SourceAddOptions)[]; optional: (keyof SourceAddOptions)[] }> = {
  feed: { required: ['url'], optional: [] },
  hackernews: { required: ['list'], optional: ['limit'] },
};
const CONFIG_FLAGS = ['url', 'list', 'limit'] as const;

/**
 * Builds and validates a source's stored config from the flags, through the connector's own
 * parseConfig: the CLI never stores a config the worker would reject later.
 */
export async function buildSourceConfig(options: SourceAddOptions): Promise<{ type: string; config: unknown; label: string }> {
  const { getConnector } = await import('@aharadar/connectors');
  const type = options.type.trim().toLowerCase();
  const connector = getConnector(type);
  const flags = FLAGS_BY_TYPE[type] ?? { required: [], optional: [...CONFIG_FLAGS] };
  for (const flag of flags.required) {
    if (options[flag] === undefined) throw new CliError(`${type} sources need --${flag} (see \`radar source add --help\`)`);
  }
  const allowed = new Set<string>([...flags.required, ...flags.optional]);
  const raw: Record<string, unknown> = {};
  for (const flag of CONFIG_FLAGS) {
    if (options[flag] === undefined) continue;
    if (!allowed.has(flag)) throw new CliError(`--${flag} does not apply to ${type} sources`);
    raw[flag] = options[flag];
  }
  const config = connector.parseConfig(raw);
  return { type, config, label: connector.describe(config) };
}

/** `radar source add|list|rm`. */
export function registerSourceCommands(program: Command, ctx: CliContext): void {
  const source = program.command('source').description('manage the sources of a topic (feeds, Hacker News)');

  source
    .command('add')
    .description('add a source to a topic')
    .requiredOption('--topic <name>', 'topic the source belongs to')
    .requiredOption('--type <type>', 'source type: feed | hackernews (every connector in libs/connectors is accepted)')
    .option('--url <url>', 'feed URL (RSS, Atom, RDF or JSON Feed) — for --type feed')
    .option('--list <list>', 'Hacker News list: top | new | best — for --type hackernews')
    .option('--limit <n>', 'stories from the head of the Hacker News list (default 30)', intInRange(1, 100))
    .option('--weight <w>', 'score multiplier for items of this source', parseWeight, 1)
    .option('--name <name>', 'display name (default: the URL or list)')
    .addOption(new Option('--json', 'print the new source as JSON'))
    .action(async (options: SourceAddOptions) => {
      const { type, config, label } = await buildSourceConfig(options);
      const name = (options.name ?? label).trim();
      if (name === '') throw new CliError('--name must not be empty');
      const db = await ctx.db();
      const topic = await requireTopic(db, options.topic);
      const { insertSource } = await import('@aharadar/db');
      const row = await insertSource(db, { topicId: topic.id, type, name, config, weight: options.weight });
      if (options.json) return ctx.out.json(sourceView({ ...row, topic_name: topic.name }));
      ctx.out.line(`added ${type} source #${row.id} "${row.name}" to topic "${topic.name}" (weight ${row.weight})`);
    });

  source
    .command('list')
    .description('list sources with their health: last status, last error, consecutive failures')
    .option('--topic <name>', 'only the sources of this topic')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { topic?: string; json?: boolean }) => {
      const db = await ctx.db();
      const topicId = options.topic === undefined ? undefined : (await requireTopic(db, options.topic)).id;
      const { listSources } = await import('@aharadar/db');
      const rows = await listSources(db, topicId === undefined ? {} : { topicId });
      if (options.json) return ctx.out.json(rows.map(sourceView));
      ctx.out.table(
        ['ID', 'TOPIC', 'TYPE', 'NAME', 'WEIGHT', 'LAST STATUS', 'LAST FETCH', 'FAILURES', 'LAST ERROR'],
        rows.map((s) => [
          s.id,
          s.topic_name,
          s.type,
          s.name,
          s.weight,
          s.enabled ? (s.last_status ?? 'never fetched') : 'disabled',
          formatTime(s.last_fetched_at),
          s.consecutive_failures,
          s.last_error,
        ]),
        options.topic === undefined ? 'no sources yet: add one with `radar source add`' : 'this topic has no sources yet',
      );
    });

  source
    .command('rm')
    .description('remove a source (its items stay in digests already built)')
    .argument('<id>', 'source id (see `radar source list`)', parseId('source'))
    .action(async (id: number) => {
      const db = await ctx.db();
      const { deleteSource } = await import('@aharadar/db');
      const removed = await deleteSource(db, id);
      if (!removed) throw new CliError(`no source with id ${id} (see \`radar source list\`)`);
      ctx.out.line(`removed source #${id}`);
    });
}
