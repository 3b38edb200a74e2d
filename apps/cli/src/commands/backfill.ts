import { Option, type Command } from 'commander';
import { parseIsoDate } from '../args.js';
import { planBackfill } from '../backfill-plan.js';
import type { CliContext } from '../context.js';
import { requireTopic } from '../lookups.js';
import { formatTime } from '../output.js';

interface BackfillOptions {
  from: Date;
  to: Date;
  json?: boolean;
}

/**
 * `radar backfill TOPIC --from --to` (DESIGN §4): schedules past windows through the same
 * ledger as the tick, so a window that was already scheduled (or built) is left alone and a
 * second identical backfill schedules nothing. Windows recorded `skipped` (catch-up bound,
 * pause) are turned into queued backfills: that is what backfill is for.
 */
export function registerBackfillCommand(program: Command, ctx: CliContext): void {
  program
    .command('backfill')
    .description('schedule the past windows of a topic between two instants (only windows that have ended)')
    .argument('<topic>', 'topic name')
    .requiredOption('--from <iso>', 'start: the window containing this instant is the first (ISO 8601, UTC unless an offset is given)', parseIsoDate)
    .requiredOption('--to <iso>', 'end: the last window is the last one that ends by this instant', parseIsoDate)
    .addOption(new Option('--json', 'print JSON'))
    .action(async (name: string, options: BackfillOptions) => {
      const config = ctx.config();
      const db = await ctx.db();
      const topic = await requireTopic(db, name);
      const { insertBackfillWindows, topicSchedule } = await import('@aharadar/db');
      const { enqueueWindows } = await import('@aharadar/queue');
      const now = ctx.now();
      const plan = planBackfill(topicSchedule(topic), options.from, options.to, now, config.scheduling.lagSeconds);
      // Redis first: if it is unreachable, say so before the ledger holds rows nobody enqueued
      // (the tick's reconcile would enqueue them eventually, but the operator should know now).
      const queues = await ctx.queues();
      const outcome = await insertBackfillWindows(db, topic.id, plan.windows);
      await enqueueWindows(queues.pipeline, outcome.queued, config.pipelineAttempts);

      if (plan.clippedTo && !options.json) {
        ctx.out.note(`--to ${options.to.toISOString()} is not in the past: only windows that ended by ${plan.clippedTo.toISOString()} (now minus the ${config.scheduling.lagSeconds} s lag) are scheduled`);
      }
      const first = plan.windows[0];
      const last = plan.windows[plan.windows.length - 1];
      if (options.json) {
        return ctx.out.json({
          topic: topic.name,
          from: options.from,
          to: options.to,
          clippedTo: plan.clippedTo,
          windows: plan.windows.length,
          firstWindowStart: first?.start ?? null,
          lastWindowEnd: last?.end ?? null,
          queued: outcome.queued.length,
          alreadyScheduled: outcome.alreadyScheduled,
          windowIds: outcome.queued.map((w) => w.id),
        });
      }
      if (!first || !last) {
        ctx.out.line(`no complete window of topic "${topic.name}" ends between ${formatTime(options.from)} and ${formatTime(plan.clippedTo ?? options.to)}: nothing to schedule`);
        return;
      }
      ctx.out.line(`backfill of topic "${topic.name}": ${plan.windows.length} window${plan.windows.length === 1 ? '' : 's'} from ${formatTime(first.start)} to ${formatTime(last.end)}`);
      ctx.out.line(`  queued:            ${outcome.queued.length}`);
      ctx.out.line(`  already scheduled: ${outcome.alreadyScheduled} (left as they are)`);
      if (outcome.queued.length > 0) ctx.out.line('workers build them oldest first; see `radar status` and `radar digests`');
    });
}
