import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { requireTopic } from '../lookups.js';
import { formatTime } from '../output.js';
import { digestView, entryView, renderEntries } from '../views.js';
import { quoteArg } from './topic.js';

/**
 * `radar run TOPIC`: an ad-hoc digest now (DESIGN §4 "Manual run"). A preview: the pipeline
 * records it as a `manual` window, so it moves neither the schedule nor the items.
 */
export function registerRunCommand(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('build an ad-hoc digest of a topic now (a preview: the schedule and items are untouched)')
    .argument('<topic>', 'topic name')
    .addOption(new Option('--json', 'print the digest as JSON'))
    .action(async (name: string, options: { json?: boolean }) => {
      const config = ctx.config();
      const db = await ctx.db();
      const topic = await requireTopic(db, name);
      const { findDigest, listSources, topicFeeds } = await import('@aharadar/db');
      const { buildManualDigest } = await import('@aharadar/pipeline');
      if ((await topicFeeds(db, topic.id)).length === 0) {
        throw new CliError(`topic "${topic.name}" has no sources: add one with \`radar source add --topic ${quoteArg(topic.name)} --type feed --url URL\``);
      }
      const build = await buildManualDigest(
        {
          db,
          fetcher: await ctx.fetcher(),
          log: await ctx.logger(),
          sourceConcurrency: config.fetch.sourceConcurrency,
          hackerNewsApiUrl: config.fetch.hackerNewsApiUrl,
          polling: config.polling,
          feedLocks: await ctx.feedLocks(),
          now: () => ctx.now(),
        },
        topic,
      );
      const detail = build.digestId === null ? undefined : await findDigest(db, build.digestId);
      if (!detail) throw new CliError(`the run of topic "${topic.name}" finished without a digest (${build.status})`);
      const failing = build.sourcesFailed > 0 ? (await listSources(db, { topicId: topic.id })).filter((s) => s.feed.last_status === 'error' || !s.feed.enabled) : [];

      if (options.json) {
        return ctx.out.json({
          ...digestView(detail.digest),
          itemsFound: build.itemsFound,
          itemsNew: build.itemsNew,
          excluded: build.excluded,
          freshnessPolls: build.freshnessPolls,
          failedSources: failing.map((s) => ({ id: s.id, name: s.name, error: s.feed.disabled_reason ?? s.feed.last_error })),
          items: detail.entries.map(entryView),
        });
      }
      const d = detail.digest;
      ctx.out.line(`digest #${d.id} for topic "${topic.name}" (manual preview of ${formatTime(d.window_start)} → ${formatTime(d.window_end)})`);
      ctx.out.line(
        `${d.item_count} item${d.item_count === 1 ? '' : 's'} ranked from ${d.candidate_count} candidate${d.candidate_count === 1 ? '' : 's'}; ` +
          `${d.sources_total} source${d.sources_total === 1 ? '' : 's'} (${build.freshnessPolls} polled now: ${build.itemsFound} entries, ${build.itemsNew} new items), ${d.sources_failed} failing`,
      );
      for (const s of failing) ctx.out.note(`warning: source #${s.id} "${s.name}" failing: ${s.feed.disabled_reason ?? s.feed.last_error ?? 'unknown error'}`);
      ctx.out.line();
      for (const line of renderEntries(detail.entries)) ctx.out.line(line);
    });
}
