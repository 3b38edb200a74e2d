import { TICK_JOB, TICK_SCHEDULER_ID } from './names.js';
import { tickJobOptions, type SchedulerQueue } from './queues.js';

/** Minutes (fractions allowed) to the `every` of the job scheduler, in ms. */
export function tickIntervalMs(tickMinutes: number): number {
  return Math.max(1_000, Math.round(tickMinutes * 60_000));
}

/**
 * Registers (or updates) the BullMQ job scheduler that emits `tick` jobs. Upsert semantics:
 * calling it from two scheduler processes, or again after a restart, leaves one scheduler;
 * calling it with a new interval changes the cadence.
 */
export async function upsertTickScheduler(queue: SchedulerQueue, tickMinutes: number): Promise<void> {
  await queue.upsertJobScheduler(
    TICK_SCHEDULER_ID,
    { every: tickIntervalMs(tickMinutes) },
    { name: TICK_JOB, data: {}, opts: tickJobOptions },
  );
}

export interface TickSchedulerState {
  registered: boolean;
  everyMs: number | null;
  /** When the next tick job is due (ms epoch), if BullMQ knows. */
  nextTickAt: number | null;
}

export async function readTickScheduler(queue: SchedulerQueue): Promise<TickSchedulerState> {
  const scheduler = await queue.getJobScheduler(TICK_SCHEDULER_ID);
  if (!scheduler) return { registered: false, everyMs: null, nextTickAt: null };
  const every = scheduler.every === undefined || scheduler.every === null ? null : Number(scheduler.every);
  return { registered: true, everyMs: every, nextTickAt: scheduler.next ?? null };
}
