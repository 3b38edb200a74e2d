import { windowContaining, windowsBetween, type Schedule, type TimeWindow } from '@aharadar/scheduling';
import { CliError } from './errors.js';

/** One backfill schedules at most this many windows: a bounded ledger insert and addBulk. */
export const MAX_BACKFILL_WINDOWS = 10_000;

export interface BackfillPlan {
  windows: TimeWindow[];
  /** The requested --to moved back to the last instant a window may end, when it was later. */
  clippedTo: Date | null;
  /** The latest end a window may have to be due now (end + lag <= now). */
  latestEnd: Date;
}

/**
 * The windows `radar backfill` schedules: those of the topic's schedule that overlap
 * [from, to) starting with the window containing `from`, and that have ENDED
 * (end + lag <= now, DESIGN §4 — a digest is never built for a window still open).
 * Pure; everything is validated before the caller writes anything.
 */
export function planBackfill(schedule: Schedule, from: Date, to: Date, now: Date, lagSeconds: number): BackfillPlan {
  if (from.getTime() >= to.getTime()) {
    throw new CliError(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  }
  const latestEnd = new Date(now.getTime() - lagSeconds * 1000);
  if (from.getTime() >= latestEnd.getTime()) {
    throw new CliError(`--from ${from.toISOString()} is not in the past: no window from there has ended yet (backfill only runs windows that ended)`);
  }
  const clippedTo = to.getTime() > latestEnd.getTime() ? latestEnd : null;
  const effectiveTo = clippedTo ?? to;
  const start = windowContaining(schedule, from).start;
  const windows = windowsBetween(schedule, start, effectiveTo, MAX_BACKFILL_WINDOWS + 1);
  if (windows.length > MAX_BACKFILL_WINDOWS) {
    const lastAllowed = windows[MAX_BACKFILL_WINDOWS - 1]?.end ?? effectiveTo;
    throw new CliError(
      `the range holds more than ${MAX_BACKFILL_WINDOWS.toLocaleString('en-US')} windows; backfill at most that many at a time ` +
        `(e.g. --from ${from.toISOString()} --to ${lastAllowed.toISOString()}, then continue from there)`,
    );
  }
  return { windows, clippedTo, latestEnd };
}
