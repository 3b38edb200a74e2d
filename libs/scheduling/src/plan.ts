import { ScheduleError } from './errors.js';
import { boundariesOf, toMs, windowOf } from './schedule.js';
import type { Boundaries, Schedule, TimeWindow } from './schedule.js';

/**
 * Deciding which windows to schedule (or record as skipped) for one topic at one moment.
 *
 * The planners are pure: the caller passes the topic's watermark (end of the last window it
 * handled) and gets back the windows to act on plus the new watermark and `nextWindowEnd`.
 * Because a plan only depends on (schedule, watermark, now), planning at t1 and then again at
 * t2 from the returned watermark covers exactly the windows one plan at t2 would: nothing is
 * scheduled twice and nothing falls between plans, whatever the tick timing.
 *
 * Work is bounded by the number of windows returned, not by how long the topic was neglected:
 * after a year of downtime a one-minute schedule still costs ~1000 window computations, plus
 * an arithmetic count for the summary.
 */

/**
 * At most this many skipped windows are listed individually per plan (the newest ones); older
 * ones are summarised as one range with a count, so a long outage cannot produce an unbounded
 * list of rows. Nothing is dropped silently either way.
 */
export const SKIPPED_RECORD_LIMIT = 1000;

export interface SkippedSummary {
  /** Start of the oldest summarised window. */
  start: Date;
  /** End of the newest summarised window (= start of the oldest listed skipped window). */
  end: Date;
  count: number;
}

export interface DuePlanInput {
  schedule: Schedule;
  /** End of the last scheduled window; null = never scheduled. */
  watermark: Date | null;
  /** The topic's creation time: its first window is the one containing it. */
  createdAt: Date;
  now: Date;
  /** A window is due when end + lag <= now (DESIGN §4: lets late publishers land). */
  lagSeconds: number;
  /** At most this many due windows are scheduled per plan (DESIGN §4 catch-up). */
  maxCatchupWindows: number;
}

export interface DuePlan {
  /** Due windows to schedule, oldest first: the newest `maxCatchupWindows` of the due ones. */
  scheduled: TimeWindow[];
  /** Older due windows beyond the catch-up bound, oldest first (the newest SKIPPED_RECORD_LIMIT). */
  skipped: TimeWindow[];
  /** The oldest skipped windows beyond SKIPPED_RECORD_LIMIT, summarised; null when none. */
  skippedOmitted: SkippedSummary | null;
  /** End of the last due window; the input watermark when nothing is due. */
  watermark: Date | null;
  /** End of the first window not yet scheduled: the topic's `next_window_end`. */
  nextWindowEnd: Date;
}

export interface ResumePlanInput {
  schedule: Schedule;
  watermark: Date | null;
  createdAt: Date;
  now: Date;
}

export interface ResumePlan {
  /** Windows that ended while the topic was paused (reason: paused), oldest first. */
  skipped: TimeWindow[];
  skippedOmitted: SkippedSummary | null;
  /** Start of the current window (= end of the last skipped one); unchanged if none ended. */
  watermark: Date | null;
  /** End of the current window. */
  nextWindowEnd: Date;
}

interface Split {
  kept: TimeWindow[];
  skipped: TimeWindow[];
  omitted: SkippedSummary | null;
  /** End of the last window ending at or before the cutoff, or null when none does. */
  lastEnd: number | null;
  /** End of the first window ending after the cutoff. */
  nextEnd: number;
}

/**
 * The topic's pending windows: the first is [watermark, next boundary) — a normal window, or
 * a bridging one if the schedule changed — or, for a topic never scheduled, the window
 * containing its creation time. The rest follow boundary to boundary.
 */
function firstPending(boundaries: Boundaries, watermark: Date | null, createdAt: Date): [number, number] {
  if (watermark === null) {
    const created = toMs(createdAt, 'createdAt');
    return [boundaries.atOrBefore(created), boundaries.after(created)];
  }
  const start = toMs(watermark, 'watermark');
  return [start, boundaries.after(start)];
}

/**
 * Splits the pending windows at `cutoff`: those ending at or before it are "ended"; of these
 * the newest `keep` are kept, the older ones skipped (listed up to SKIPPED_RECORD_LIMIT, the
 * rest summarised). Walks backwards from the cutoff, so the cost is bounded by
 * keep + SKIPPED_RECORD_LIMIT however far behind the topic is.
 */
function splitAt(boundaries: Boundaries, first: [number, number], cutoff: number, keep: number): Split {
  const [firstStart, firstEnd] = first;
  if (firstEnd > cutoff) return { kept: [], skipped: [], omitted: null, lastEnd: null, nextEnd: firstEnd };

  // firstEnd is a boundary <= cutoff, so the last boundary <= cutoff is at or after it.
  const lastEnd = boundaries.atOrBefore(cutoff);
  const nextEnd = boundaries.after(lastEnd);
  const capacity = keep + SKIPPED_RECORD_LIMIT;
  const newestFirst: [number, number][] = [];
  let end = lastEnd;
  while (end > firstEnd && newestFirst.length < capacity) {
    const start = boundaries.atOrBefore(end - 1);
    newestFirst.push([start, end]);
    end = start;
  }
  let omitted: SkippedSummary | null = null;
  if (end === firstEnd && newestFirst.length < capacity) {
    newestFirst.push([firstStart, firstEnd]);
  } else {
    // Windows [firstStart, firstEnd) and one per boundary in [firstEnd, end) were not listed.
    omitted = { start: new Date(firstStart), end: new Date(end), count: 1 + boundaries.count(firstEnd, end) };
  }
  const ended = newestFirst.reverse().map(([start, windowEnd]) => windowOf(start, windowEnd));
  const keptCount = Math.min(keep, ended.length);
  return {
    kept: ended.slice(ended.length - keptCount),
    skipped: ended.slice(0, ended.length - keptCount),
    omitted,
    lastEnd,
    nextEnd,
  };
}

/**
 * Which windows of a topic are due now (DESIGN §4): a window is due when end + lag <= now.
 * Missed windows are scheduled oldest first, at most `maxCatchupWindows` (the newest ones);
 * older missed windows are returned as skipped so they are recorded, never silently dropped.
 * The returned watermark and nextWindowEnd are what the caller stores with the topic.
 */
export function planDueWindows(input: DuePlanInput): DuePlan {
  const boundaries = boundariesOf(input.schedule);
  const now = toMs(input.now, 'now');
  const { lagSeconds, maxCatchupWindows } = input;
  if (!Number.isFinite(lagSeconds) || lagSeconds < 0) {
    throw new ScheduleError(`invalid scheduler lag ${String(lagSeconds)}: expected seconds >= 0`);
  }
  if (!Number.isSafeInteger(maxCatchupWindows) || maxCatchupWindows < 1) {
    throw new ScheduleError(`invalid max catch-up windows ${String(maxCatchupWindows)}: expected a whole number >= 1`);
  }
  const first = firstPending(boundaries, input.watermark, input.createdAt);
  const split = splitAt(boundaries, first, now - Math.round(lagSeconds * 1000), maxCatchupWindows);
  return {
    scheduled: split.kept,
    skipped: split.skipped,
    skippedOmitted: split.omitted,
    watermark: split.lastEnd === null ? input.watermark : new Date(split.lastEnd),
    nextWindowEnd: new Date(split.nextEnd),
  };
}

/**
 * Resuming a paused topic (DESIGN §4): every pending window that ended while it was paused
 * (end <= now) is skipped with reason "paused", and scheduling continues with the window
 * containing now, which becomes due at its end as usual.
 */
export function planResume(input: ResumePlanInput): ResumePlan {
  const boundaries = boundariesOf(input.schedule);
  const now = toMs(input.now, 'now');
  const first = firstPending(boundaries, input.watermark, input.createdAt);
  const split = splitAt(boundaries, first, now, 0);
  return {
    skipped: split.skipped,
    skippedOmitted: split.omitted,
    watermark: split.lastEnd === null ? input.watermark : new Date(split.lastEnd),
    nextWindowEnd: new Date(split.nextEnd),
  };
}
