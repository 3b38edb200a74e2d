import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatRelative, formatSpan, formatTime } from '../output.js';
import { readTickReport, describeTickReport } from '../tick-report.js';

/** A topic is "behind" when it is later than this many tick intervals (DESIGN §8). */
const BEHIND_TICKS = 2;
const LIST_LIMIT = 50;

/** The job counts shown for the pipeline queue, in BullMQ's names. */
const PIPELINE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/**
 * `radar status` (DESIGN §8): is the machine running? The tick job scheduler and the last
 * tick (from Redis), queue depths, the ledger's unfinished windows, topics behind schedule,
 * topics whose schedule cannot be planned and failing sources (from Postgres), and the global pause.
 */
export function registerStatusCommand(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('show the scheduler, queues, windows, topics behind schedule, failing sources and pause state')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { json?: boolean }) => {
      const config = ctx.config();
      const db = await ctx.db();
      const queues = await ctx.queues();
      const now = ctx.now();
      const { countWindowsByStatus, failingFeeds, listScheduleErrors, readGlobalPause, topicsBehindSchedule } = await import('@aharadar/db');
      const { readTickScheduler, tickIntervalMs } = await import('@aharadar/queue');

      const scheduler = await readTickScheduler(queues.scheduler);
      const [lastCompleted] = await queues.scheduler.getJobs(['completed'], 0, 0, false);
      const [lastFailed] = await queues.scheduler.getJobs(['failed'], 0, 0, false);
      const counts = await queues.pipeline.getJobCounts(...PIPELINE_STATES);
      const pipelinePaused = await queues.pipeline.isPaused();
      const windows = await countWindowsByStatus(db);
      const tickMs = scheduler.everyMs ?? tickIntervalMs(config.scheduling.tickMinutes);
      const behind = await topicsBehindSchedule(db, { now, lagSeconds: config.scheduling.lagSeconds, graceMs: BEHIND_TICKS * tickMs, limit: LIST_LIMIT });
      const scheduleErrors = await listScheduleErrors(db, LIST_LIMIT);
      const failing = await failingFeeds(db, LIST_LIMIT);
      const pollCounts = await queues.poll.getJobCounts(...PIPELINE_STATES);
      const pause = await readGlobalPause(db);

      const lastTick = lastCompleted
        ? { jobId: lastCompleted.id ?? null, finishedOn: lastCompleted.finishedOn ?? null, report: readTickReport(lastCompleted.returnvalue) }
        : null;
      const lastTickFailure =
        lastFailed && (lastFailed.finishedOn ?? 0) > (lastCompleted?.finishedOn ?? 0)
          ? { jobId: lastFailed.id ?? null, finishedOn: lastFailed.finishedOn ?? null, reason: lastFailed.failedReason }
          : null;

      if (options.json) {
        return ctx.out.json({
          now,
          tickScheduler: { registered: scheduler.registered, everyMs: scheduler.everyMs, nextTickAt: scheduler.nextTickAt === null ? null : new Date(scheduler.nextTickAt) },
          lastTick: lastTick && { ...lastTick, finishedOn: lastTick.finishedOn === null ? null : new Date(lastTick.finishedOn) },
          lastTickFailure: lastTickFailure && { ...lastTickFailure, finishedOn: lastTickFailure.finishedOn === null ? null : new Date(lastTickFailure.finishedOn) },
          pipeline: { paused: pipelinePaused, counts },
          windows,
          globalPause: pause,
          behindSchedule: behind.map((t) => ({
            topic: t.name,
            paused: t.paused,
            nextWindowEnd: t.next_window_end,
            staleQueuedWindows: t.stale_queued,
            oldestQueuedAt: t.oldest_queued_at,
          })),
          scheduleErrors: { count: scheduleErrors.total, topics: scheduleErrors.topics.map((t) => ({ topic: t.name, error: t.error, since: t.since })) },
                    poll: { counts: pollCounts },
          failingFeeds: failing.map((f) => ({
            feedId: f.id,
            type: f.type,
            config: f.config,
            topics: f.topics,
            enabled: f.enabled,
            disabledReason: f.disabled_reason,
            lastError: f.last_error,
            lastErrorCode: f.last_error_code,
            lastHttpStatus: f.last_http_status,
            consecutiveFailures: f.consecutive_failures,
            warning: f.warning,
            lastPolledAt: f.last_polled_at,
            nextPollAt: f.next_poll_at,
          })),
        });
      }

      const o = ctx.out;
      o.line(
        pause.paused
          ? `GLOBAL PAUSE since ${formatTime(pause.since)}: no fan-out and no pipeline runs until \`radar resume\``
          : 'global pause: off',
      );
      o.line(
        scheduler.registered
          ? `tick job scheduler: registered, every ${formatSpan(scheduler.everyMs ?? tickMs)}, next tick ${formatTime(scheduler.nextTickAt)} (${formatRelative(scheduler.nextTickAt, now)})`
          : 'tick job scheduler: NOT registered — is the scheduler process running?',
      );
      if (lastTick) {
        o.line(`last tick: ${formatTime(lastTick.finishedOn)} (${formatRelative(lastTick.finishedOn, now)}) — ${lastTick.report ? describeTickReport(lastTick.report) : 'no report'}`);
      } else {
        o.line('last tick: none recorded — is a worker running?');
      }
      if (lastTickFailure) o.line(`last tick FAILED ${formatTime(lastTickFailure.finishedOn)}: ${lastTickFailure.reason}`);
      o.line(`pipeline queue${pipelinePaused ? ' (paused)' : ''}: ${PIPELINE_STATES.map((s) => `${s} ${counts[s] ?? 0}`).join(', ')}`);
      o.line(`poll queue: ${PIPELINE_STATES.map((s) => `${s} ${pollCounts[s] ?? 0}`).join(', ')}`);
      o.line(`windows: queued ${windows.queued}, running ${windows.running}, failed ${windows.failed} (succeeded ${windows.succeeded}, skipped ${windows.skipped})`);
      o.line();
      o.line(`topics behind schedule (more than ${BEHIND_TICKS} ticks late): ${behind.length === 0 ? 'none' : behind.length}`);
      if (behind.length > 0) {
        o.table(
          ['TOPIC', 'STATE', 'NEXT WINDOW END', 'STALE QUEUED', 'OLDEST QUEUED'],
          behind.map((t) => [t.name, t.paused ? 'paused' : 'active', `${formatTime(t.next_window_end)} (${formatRelative(t.next_window_end, now)})`, t.stale_queued, formatTime(t.oldest_queued_at)]),
        );
      }
      o.line();
      o.line(`topics that cannot be scheduled (no windows until fixed): ${scheduleErrors.total === 0 ? 'none' : scheduleErrors.total}`);
      if (scheduleErrors.total > 0) {
        o.table(
          ['TOPIC', 'SINCE', 'SCHEDULE ERROR'],
          scheduleErrors.topics.map((t) => [t.name, `${formatTime(t.since)} (${formatRelative(t.since, now)})`, t.error]),
        );
      }
      o.line();
      o.line(`failing or disabled feeds: ${failing.length === 0 ? 'none' : failing.length}`);
      if (failing.length > 0) {
        o.table(
          ['FEED', 'TOPICS', 'STATE', 'FAILURES', 'LAST POLL', 'NEXT POLL', 'PROBLEM'],
          failing.map((f) => [
            `#${f.id} ${feedLabel(f)}`,
            f.topics.join(', '),
            f.enabled ? (f.last_status ?? '-') : 'disabled',
            f.consecutive_failures,
            formatTime(f.last_polled_at),
            f.enabled ? formatTime(f.next_poll_at) : '-',
            f.disabled_reason ?? f.last_error ?? f.warning,
          ]),
        );
      }
    });
}

function feedLabel(feed: { type: string; config: unknown }): string {
  const config = feed.config as { url?: unknown; list?: unknown };
  if (typeof config.url === 'string') return config.url;
  if (typeof config.list === 'string') return `${feed.type} ${config.list}`;
  return feed.type;
}
