import { Option, type Command } from 'commander';
import { intInRange, parseId, parseWeight } from '../args.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { requireTopic } from '../lookups.js';
import { formatRelative, formatSpan, formatTime } from '../output.js';
import { privateTargetWarning } from '../private-target.js';
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
 * Builds and validates a source's config from the flags, through the connector's own
 * parseConfig, and derives the feed's identity (type + canonical config): the CLI never stores
 * a config the worker would reject later, and the same URL given twice is one feed.
 */
export async function buildSourceConfig(options: SourceAddOptions): Promise<{ type: string; config: object; key: string; label: string }> {
  const { getConnector } = await import('@aharadar/connectors');
  const { feedIdentity } = await import('@aharadar/pipeline');
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
  const identity = feedIdentity(type, raw);
  return { type, config: identity.config, key: identity.key, label: connector.describe(identity.config) };
}

/** `radar source add|list|rm|poll`. */
export function registerSourceCommands(program: Command, ctx: CliContext): void {
  const source = program
    .command('source')
    .description('manage the sources of a topic: subscriptions to feeds, each polled once for every topic that follows it');

  source
    .command('add')
    .description('subscribe a topic to a feed (the same URL in several topics is one feed, polled once)')
    .requiredOption('--topic <name>', 'topic the source belongs to')
    .requiredOption('--type <type>', 'source type: feed | hackernews (every connector in libs/connectors is accepted)')
    .option('--url <url>', 'feed URL (RSS, Atom, RDF or JSON Feed) — for --type feed')
    .option('--list <list>', 'Hacker News list: top | new | best — for --type hackernews')
    .option('--limit <n>', 'stories from the head of the Hacker News list (default 30)', intInRange(1, 100))
    .option('--weight <w>', 'score multiplier for items of this source (this topic only)', parseWeight, 1)
    .option('--name <name>', 'display name in this topic (default: the URL or list)')
    .addOption(new Option('--json', 'print the new source as JSON'))
    .action(async (options: SourceAddOptions) => {
      const { type, config, key, label } = await buildSourceConfig(options);
      const name = (options.name ?? label).trim();
      if (name === '') throw new CliError('--name must not be empty');
      const db = await ctx.db();
      const topic = await requireTopic(db, options.topic);
      const { listSources, subscribe, SubscriptionExistsError } = await import('@aharadar/db');
      let added;
      try {
        added = await subscribe(db, { topicId: topic.id, feed: { type, key, config }, name, weight: options.weight }, topic.name);
      } catch (error) {
        if (error instanceof SubscriptionExistsError) throw new CliError(error.message);
        throw error;
      }
      const warning = type === 'feed' && !ctx.config().fetch.allowPrivate ? await privateTargetWarning((config as { url: string }).url) : null;
      if (warning) ctx.out.note(`warning: ${warning}`);
      const [row] = await listSources(db, { sourceId: added.source.id, now: ctx.now() });
      if (options.json) return ctx.out.json(row ? sourceView(row, ctx.now()) : { id: added.source.id });
      const shared = added.feedCreated ? `new feed #${added.feed.id}, first poll at the next tick` : `feed #${added.feed.id}, already polled for ${row?.feed_topics.filter((t) => t !== topic.name).join(', ') || 'another topic'}`;
      ctx.out.line(`added ${type} source #${added.source.id} "${added.source.name}" to topic "${topic.name}" (weight ${added.source.weight}; ${shared})`);
    });

  source
    .command('list')
    .description('list sources with their feed: topics, poll interval, next poll, last status, 304s, items per day, backoff')
    .option('--topic <name>', 'only the sources of this topic')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { topic?: string; json?: boolean }) => {
      const db = await ctx.db();
      const now = ctx.now();
      const topicId = options.topic === undefined ? undefined : (await requireTopic(db, options.topic)).id;
      const { listSources } = await import('@aharadar/db');
      const rows = await listSources(db, topicId === undefined ? { now } : { topicId, now });
      if (options.json) return ctx.out.json(rows.map((r) => sourceView(r, now)));
      ctx.out.table(
        ['ID', 'TOPIC', 'FEED', 'NAME', 'WEIGHT', 'TOPICS', 'INTERVAL', 'NEXT POLL', 'LAST STATUS', 'POLLS 24H (304)', 'ITEMS 24H', 'WHY / ERROR'],
        rows.map((s) => [
          s.id,
          s.topic_name,
          `#${s.feed.id} ${s.feed.type}`,
          s.name,
          s.weight,
          s.feed_topics.length,
          s.feed.poll_interval_ms === null ? '-' : formatSpan(s.feed.poll_interval_ms),
          s.feed.enabled ? `${formatTime(s.feed.next_poll_at)} (${formatRelative(s.feed.next_poll_at, now)})` : 'disabled',
          feedState(s.feed),
          `${s.polls_24h} (${s.not_modified_24h})`,
          s.items_24h,
          s.feed.disabled_reason ?? s.feed.last_error ?? s.feed.warning ?? s.feed.schedule_reason,
        ]),
        options.topic === undefined ? 'no sources yet: add one with `radar source add`' : 'this topic has no sources yet',
      );
    });

  source
    .command('rm')
    .description('remove a source (a subscription); its feed is removed when no topic follows it any more')
    .argument('<id>', 'source id (see `radar source list`)', parseId('source'))
    .action(async (id: number) => {
      const db = await ctx.db();
      const { deleteSource } = await import('@aharadar/db');
      const removed = await deleteSource(db, id);
      if (!removed.removed) throw new CliError(`no source with id ${id} (see \`radar source list\`)`);
      ctx.out.line(`removed source #${id}${removed.feedDeleted ? ' (no other topic followed its feed: feed removed, items in digests kept)' : ' (its feed is still polled for other topics)'}`);
    });

  source
    .command('poll')
    .description("poll a source's feed now (ignores its cadence, never the publisher's Retry-After or backoff) and print what it found")
    .argument('<id>', 'source id (see `radar source list`)', parseId('source'))
    .option('--force', "poll even while the publisher asked us to wait (Retry-After, max-age) or the feed backs off after failures")
    .addOption(new Option('--json', 'print JSON'))
    .action(async (id: number, options: { force?: boolean; json?: boolean }) => {
      const config = ctx.config();
      const db = await ctx.db();
      const { findFeed, findSource } = await import('@aharadar/db');
      const { pollFeed } = await import('@aharadar/pipeline');
      const subscription = await findSource(db, id);
      if (!subscription) throw new CliError(`no source with id ${id} (see \`radar source list\`)`);
      const feed = await findFeed(db, subscription.feed_id);
      if (!feed) throw new CliError(`source #${id} has no feed`);
      if (!feed.enabled) throw new CliError(`feed #${feed.id} is disabled: ${feed.disabled_reason ?? 'no reason recorded'}`);
      const now = ctx.now();
      if (!options.force && feed.not_before !== null && feed.not_before.getTime() > now.getTime()) {
        throw new CliError(`feed #${feed.id} must not be polled before ${formatTime(feed.not_before)} (${feed.schedule_reason ?? 'publisher or backoff'}); --force polls anyway`);
      }
      const locks = await ctx.feedLocks();
      const deps = {
        db,
        fetcher: await ctx.fetcher(),
        log: await ctx.logger(),
        hackerNewsApiUrl: config.fetch.hackerNewsApiUrl,
        polling: config.polling,
        now: () => new Date(),
      };
      const attempt = await locks.run(feed.id, async () => {
        const current = (await findFeed(db, feed.id)) ?? feed;
        return pollFeed(deps, current, { kind: 'manual', claimSeq: null, windowId: null, lagMs: null });
      });
      if (!attempt.ran) throw new CliError(`feed #${feed.id} is being polled right now by a worker; try again in a moment`);
      const r = attempt.value;
      if (options.json) return ctx.out.json({ sourceId: id, ...r });
      const what = r.status === 'error' ? `failed (${r.errorCode}): ${r.error}` : r.status === 'not_modified' ? 'not modified (304)' : `${r.itemsFound} entries, ${r.newEntries} new`;
      ctx.out.line(`polled feed #${feed.id} of source #${id}: ${what}; next poll ${formatTime(r.nextPollAt)} (${r.reason})`);
      if (r.status === 'error') process.exitCode = 1;
    });
}

function feedState(feed: { enabled: boolean; last_status: string | null; consecutive_failures: number; warning: string | null }): string {
  if (!feed.enabled) return 'disabled';
  if (feed.last_status === null) return 'never polled';
  if (feed.last_status === 'error') return `error ×${feed.consecutive_failures}`;
  return feed.warning ? `${feed.last_status} (warning)` : feed.last_status;
}
