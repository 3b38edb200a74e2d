import { readTickScheduler, waitingSince, type PipelineQueue, type PollQueue, type SchedulerQueue } from '@aharadar/queue';
import type { Redis } from 'ioredis';
import type { QueueSnapshot, ScheduleErrorsState } from './rules.js';

/** A Redis connection and the QUEUE_PREFIX the stack's keys live under. */
export interface StateStore {
  redis: Redis;
  prefix: string;
}

/** Active jobs inspected for `stuck_job`: active jobs are bounded by workers × concurrency. */
const ACTIVE_JOBS_INSPECTED = 500;

/**
 * Reads what the rules need from Redis only (a handful of commands; no Postgres), so the
 * scheduler can run it, and it answers when the workers are gone. `clock` is read after the
 * reads: a check that waited for Redis judges ages at the time the data is from.
 */
export async function readQueueSnapshot(
  queues: { scheduler: SchedulerQueue; pipeline: PipelineQueue; poll?: PollQueue },
  clock: () => number = Date.now,
  /** Where the tick keeps state for the monitor (the schedule errors); without it none are read. */
  state?: StateStore,
): Promise<QueueSnapshot> {
  const { pipeline, scheduler } = queues;
  const [counts, paused, [oldestWaiting], active, workers, tick, [lastCompleted], [lastFailed], scheduleErrors, poll] = await Promise.all([
    pipeline.getJobCounts('waiting', 'prioritized', 'delayed', 'active'),
    pipeline.isPaused(),
    pipeline.getJobs(['waiting'], 0, 0, true),
    pipeline.getJobs(['active'], 0, ACTIVE_JOBS_INSPECTED - 1, true),
    // CLIENT LIST, which this needs, is disabled on some managed Redis: then "unknown", not a failed check.
    pipeline.getWorkersCount().catch(() => null),
    readTickScheduler(scheduler),
    scheduler.getJobs(['completed'], 0, 0, false),
    scheduler.getJobs(['failed'], 0, 0, false),
    readScheduleErrors(state),
    readPollQueue(queues.poll),
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
    scheduleErrors,
    ...(poll ? { poll } : {}),
  };
}

/**
 * The key the tick overwrites with the topics whose schedule it cannot plan (the worker's
 * `scheduleErrorsKey` in apps/worker/src/tick.ts writes the same one).
 */
export function scheduleErrorsKey(prefix: string): string {
  return `${prefix}:state:schedule-errors`;
}

async function readScheduleErrors(state: StateStore | undefined): Promise<ScheduleErrorsState | null> {
  if (!state) return null;
  return parseScheduleErrors(await state.redis.get(scheduleErrorsKey(state.prefix)));
}

/** Reads the tick's JSON; anything unreadable counts as "none known" rather than failing the check. */
export function parseScheduleErrors(text: string | null): ScheduleErrorsState | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object') return null;
    const { updatedAt, count, topics } = value as Record<string, unknown>;
    if (typeof count !== 'number' || !Array.isArray(topics)) return null;
    const named = topics.flatMap((t: unknown) => {
      const { name, error, since } = (t ?? {}) as Record<string, unknown>;
      return typeof name === 'string' && typeof error === 'string' ? [{ name, error, since: typeof since === 'string' ? since : '' }] : [];
    });
    return { updatedAt: typeof updatedAt === 'string' ? updatedAt : '', count, topics: named };
  } catch {
    return null;
  }
}

/** The poll queue's waiting count and how long its oldest due poll has waited (see `poll_lag`). */
async function readPollQueue(queue: PollQueue | undefined): Promise<{ waiting: number; oldestWaitingAt: number | null } | null> {
  if (!queue) return null;
  const [counts, [oldest]] = await Promise.all([queue.getJobCounts('waiting'), queue.getJobs(['waiting'], 0, 0, true)]);
  return { waiting: counts.waiting ?? 0, oldestWaitingAt: oldest ? waitingSince(oldest) : null };
}
