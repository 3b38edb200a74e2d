import { floorMod } from './civil.js';
import { cronSpec } from './cron-expression.js';
import { countFires, nextFire, previousFire } from './cron-time.js';
import { MAX_EVERY_SECONDS, MIN_EVERY_SECONDS } from './duration.js';
import { ScheduleError } from './errors.js';
import { assertTimeZone, startOfLocalDay } from './zone.js';

/**
 * A topic's schedule (DESIGN §4). Its boundaries cut time into consecutive windows.
 *   - `every`: boundaries at `anchor + k * everySeconds` for every integer k (also negative),
 *     in real elapsed time: a daily `every` drifts by an hour against the wall clock across DST.
 *   - `cron`: boundaries are the consecutive fire times of a 5-field expression in an IANA
 *     zone, so a daily cron follows the wall clock and has 23- and 25-hour days.
 */
export type Schedule =
  | { kind: 'every'; everySeconds: number; anchor: Date }
  | { kind: 'cron'; expression: string; timeZone: string };

/** A half-open interval [start, end) between two consecutive boundaries. */
export interface TimeWindow {
  start: Date;
  end: Date;
}

/**
 * Default `limit` of {@link windowsBetween}: one request cannot allocate an unbounded list
 * (a year of one-minute windows is half a million). Page by calling again from the last end.
 */
export const WINDOWS_BETWEEN_DEFAULT_LIMIT = 10_000;

/** Throws ScheduleError unless `expression` is a valid 5-field cron and `timeZone` a known zone. */
export function assertCron(expression: string, timeZone: string): void {
  assertTimeZone(timeZone);
  cronSpec(expression);
}

/**
 * Midnight of `createdAt`'s calendar day in `timeZone` (or the day's first instant when a DST
 * change skips midnight): the default anchor of an `every` schedule, so that `every 6h`
 * windows start at 00:00, 06:00, ... local time on the day the topic was created.
 */
export function defaultAnchor(createdAt: Date, timeZone: string): Date {
  assertTimeZone(timeZone);
  return new Date(startOfLocalDay(timeZone, toMs(createdAt, 'createdAt')));
}

/**
 * The schedule's boundaries as three primitive queries on millisecond instants. Everything
 * else (windows, plans) is written once against this, so `every` (pure arithmetic, O(1)) and
 * `cron` (calendar search) share the exact same window logic.
 */
export interface Boundaries {
  /** The last boundary at or before t. */
  atOrBefore(t: number): number;
  /** The first boundary strictly after t. */
  after(t: number): number;
  /** How many boundaries lie in [from, to). */
  count(from: number, to: number): number;
}

/** Validates `schedule` and returns its boundary queries. */
export function boundariesOf(schedule: Schedule): Boundaries {
  if (schedule === null || typeof schedule !== 'object') throw new ScheduleError('invalid schedule: expected an object');
  if (schedule.kind === 'every') {
    const { everySeconds } = schedule;
    if (!Number.isSafeInteger(everySeconds) || everySeconds < MIN_EVERY_SECONDS || everySeconds > MAX_EVERY_SECONDS) {
      throw new ScheduleError(
        `invalid every schedule: ${String(everySeconds)} seconds; it must be a whole number of seconds from ${MIN_EVERY_SECONDS} (1m) to ${MAX_EVERY_SECONDS}`,
      );
    }
    const anchor = toMs(schedule.anchor, 'schedule anchor');
    const period = everySeconds * 1000;
    const atOrBefore = (t: number): number => t - floorMod(t - anchor, period);
    return {
      atOrBefore,
      after: (t) => atOrBefore(t) + period,
      count: (from, to) => (to <= from ? 0 : (atOrBefore(to - 1) - atOrBefore(from - 1)) / period),
    };
  }
  if (schedule.kind === 'cron') {
    const { expression, timeZone } = schedule;
    assertTimeZone(timeZone);
    const spec = cronSpec(expression);
    return {
      atOrBefore: (t) => previousFire(spec, timeZone, t),
      after: (t) => nextFire(spec, timeZone, t),
      count: (from, to) => (to <= from ? 0 : countFires(spec, timeZone, from, to)),
    };
  }
  throw new ScheduleError(`invalid schedule kind "${String((schedule as { kind: unknown }).kind)}": expected "every" or "cron"`);
}

/** Throws ScheduleError unless `schedule` is valid (kind, period, anchor, cron, time zone). */
export function assertSchedule(schedule: Schedule): void {
  boundariesOf(schedule);
}

/** Milliseconds of a Date, rejecting anything that is not a valid Date. */
export function toMs(value: Date, label: string): number {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ScheduleError(`invalid ${label}: expected a valid Date`);
  }
  return value.getTime();
}

export function windowOf(start: number, end: number): TimeWindow {
  return { start: new Date(start), end: new Date(end) };
}

/** The window with start <= instant < end. An instant exactly on a boundary starts a window. */
export function windowContaining(schedule: Schedule, instant: Date): TimeWindow {
  const boundaries = boundariesOf(schedule);
  const t = toMs(instant, 'instant');
  return windowOf(boundaries.atOrBefore(t), boundaries.after(t));
}

/**
 * The window that follows `window`: it starts at `window.end` and ends at the next boundary.
 * If `window.end` is not a boundary (the topic's schedule was changed since), the result is a
 * shorter bridging window up to the new schedule's next boundary, so that coverage stays
 * contiguous: no item time falls into two windows or into none.
 */
export function windowAfter(schedule: Schedule, window: TimeWindow): TimeWindow {
  const boundaries = boundariesOf(schedule);
  const start = toMs(window.end, 'window end');
  return windowOf(start, boundaries.after(start));
}

/** Whether `instant` is exactly a boundary of `schedule`. */
export function isBoundary(schedule: Schedule, instant: Date): boolean {
  const t = toMs(instant, 'instant');
  return boundariesOf(schedule).atOrBefore(t) === t;
}

/**
 * The complete windows inside [from, to): start >= from and end <= to, oldest first, at most
 * `limit` of them (the oldest ones; continue from the last end for more). `from` need not be a
 * boundary: the first window starts at the first boundary at or after it. Cost is proportional
 * to the number of windows returned, never to the length of the range.
 */
export function windowsBetween(schedule: Schedule, from: Date, to: Date, limit = WINDOWS_BETWEEN_DEFAULT_LIMIT): TimeWindow[] {
  const boundaries = boundariesOf(schedule);
  const fromMs = toMs(from, 'from');
  const toMsValue = toMs(to, 'to');
  if (!(Number.isInteger(limit) && limit >= 0) && limit !== Infinity) {
    throw new ScheduleError(`invalid limit ${String(limit)}: expected a whole number >= 0`);
  }
  const windows: TimeWindow[] = [];
  if (toMsValue <= fromMs) return windows;
  let start = boundaries.after(fromMs - 1);
  while (windows.length < limit) {
    const end = boundaries.after(start);
    if (end > toMsValue) break;
    windows.push(windowOf(start, end));
    start = end;
  }
  return windows;
}

/** End of the window containing `createdAt`: the initial `next_window_end` of a new topic. */
export function firstWindowEnd(schedule: Schedule, createdAt: Date): Date {
  return new Date(boundariesOf(schedule).after(toMs(createdAt, 'createdAt')));
}
