import { readTickScheduler, waitingSince, type PipelineQueue, type SchedulerQueue } from '@aharadar/queue';
import type { QueueSnapshot } from './rules.js';

/** Active jobs inspected for `stuck_job`: active jobs are bounded by workers × concurrency. */
const ACTIVE_JOBS_INSPECTED = 500;

/**
 * Reads what the rules need from Redis only (a handful of commands; no Postgres), so the
 * scheduler can run it, and it answers when the workers are gone. `clock` is read after the
 * reads: a check that waited for Redis judges ages at the time the data is from.
 */
export async function readQueueSnapshot(queues: { scheduler: SchedulerQueue; pipeline: PipelineQueue }, clock: () => number = Date.now): Promise<QueueSnapshot> {
  const { pipeline, scheduler } = queues;
  const [counts, paused, [oldestWaiting], active, workers, tick, [lastCompleted], [lastFailed]] = await Promise.all([
    pipeline.getJobCounts('waiting', 'prioritized', 'delayed', 'active'),
    pipeline.isPaused(),
    pipeline.getJobs(['waiting'], 0, 0, true),
    pipeline.getJobs(['active'], 0, ACTIVE_JOBS_INSPECTED - 1, true),
    // CLIENT LIST, which this needs, is disabled on some managed Redis: then "unknown", not a failed check.
    pipeline.getWorkersCount().catch(() => null),
    readTickScheduler(scheduler),
    scheduler.getJobs(['completed'], 0, 0, false),
    scheduler.getJobs(['failed'], 0, 0, false),
  ]);
  const now = clock();
  return {
    now,
    pipeline: {
      paused,
      waiting: counts.waiting ?? 0,
      prioritized: counts.prioritized ?? 0,
      delayed: counts.delayed ?? 0,
      active: counts.active ?? 0,
      oldestWaitingAt: oldestWaiting ? waitingSince(oldestWaiting) : null,
      activeJobs: active.filter((job) => job?.processedOn).map((job) => ({ id: job.id ?? '?', startedAt: job.processedOn ?? now })),
      workers,
    },
    tick: {
      registered: tick.registered,
      everyMs: tick.everyMs,
      nextTickAt: tick.nextTickAt,
      lastCompletedAt: lastCompleted?.finishedOn ?? null,
      lastFailedAt: lastFailed?.finishedOn ?? null,
      lastFailedReason: lastFailed?.failedReason ?? null,
    },
  };
}
