import { DAY_MS, daysFromCivil, floorDiv, HOUR_MS, MINUTE_MS } from './civil.js';
import { ScheduleError } from './errors.js';

/**
 * Time-zone math on top of `Intl`, the only tz database available without a dependency.
 *
 * `Intl` can only answer one question: "what does the wall clock show at this instant?". Every
 * other operation (offsets, "which instant shows this wall time?", DST gaps and overlaps) is
 * derived from it here. Two assumptions keep this cheap, both true for every real zone in the
 * period a scheduler cares about:
 *   - a zone changes its UTC offset at most once within any two-day span;
 *   - a single change is smaller than a day.
 *
 * Instants and offsets are plain millisecond numbers; "wall" values are the local date-time
 * encoded as if it were UTC (see civil.ts).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new ScheduleError(`unknown time zone "${timeZone}"`);
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * Throws ScheduleError unless `timeZone` is an IANA zone name the runtime knows
 * (`Europe/Berlin`, `America/New_York`, `UTC`). Fixed offsets such as `+01:00` are rejected:
 * they have no DST, so a user who writes one almost always meant a region.
 */
export function assertTimeZone(timeZone: string): void {
  if (typeof timeZone !== 'string' || timeZone.trim() === '' || /^[+-]\d/.test(timeZone)) {
    throw new ScheduleError(`unknown time zone "${String(timeZone)}"`);
  }
  formatterFor(timeZone);
}

// `format` + a regex is ~3x faster than `formatToParts`; the parts API is the fallback in case
// a future ICU changes the en-US layout.
const FORMATTED = /^(\d+)\/(\d+)\/(\d+) (AD|BC), (\d+):(\d+):(\d+)$/;

function wallOfSecond(formatter: Intl.DateTimeFormat, instant: number): number {
  const match = FORMATTED.exec(formatter.format(instant));
  let year: number, month: number, day: number, hour: number, minute: number, second: number;
  let bc: boolean;
  if (match !== null) {
    month = Number(match[1]);
    day = Number(match[2]);
    year = Number(match[3]);
    bc = match[4] === 'BC';
    hour = Number(match[5]);
    minute = Number(match[6]);
    second = Number(match[7]);
  } else {
    const parts: Record<string, string> = {};
    for (const part of formatter.formatToParts(instant)) parts[part.type] = part.value;
    year = Number(parts.year);
    month = Number(parts.month);
    day = Number(parts.day);
    bc = parts.era === 'BC' || parts.era === 'B';
    hour = Number(parts.hour);
    minute = Number(parts.minute);
    second = Number(parts.second);
  }
  if (bc) year = 1 - year;
  return daysFromCivil(year, month, day) * DAY_MS + (hour % 24) * HOUR_MS + minute * MINUTE_MS + second * 1000;
}

function rawOffset(timeZone: string, instant: number): number {
  const second = floorDiv(instant, 1000) * 1000;
  return wallOfSecond(formatterFor(timeZone), second) - second;
}

/**
 * The offsets of one UTC day: `before` until the instant `change`, `after` from it on (no
 * change: `change` is Infinity). Offsets change on whole seconds.
 */
interface DayOffsets {
  before: number;
  change: number;
  after: number;
}

// An Intl call costs microseconds and the scheduler asks about the same few days for thousands
// of topics, so offsets are tabulated per zone and UTC day (two Intl calls per day, plus a
// binary search on the rare day with a change). Dropped wholesale if it ever grows large.
const DAY_CACHE_LIMIT = 50_000;
const dayCaches = new Map<string, Map<number, DayOffsets>>();

function dayOffsets(timeZone: string, day: number): DayOffsets {
  let cache = dayCaches.get(timeZone);
  if (cache === undefined) {
    formatterFor(timeZone);
    cache = new Map();
    dayCaches.set(timeZone, cache);
  }
  let entry = cache.get(day);
  if (entry === undefined) {
    const start = day * DAY_MS;
    const before = cache.get(day - 1)?.after ?? rawOffset(timeZone, start);
    const after = cache.get(day + 1)?.before ?? rawOffset(timeZone, start + DAY_MS);
    let change = Infinity;
    if (before !== after) {
      // Binary search over seconds for the first one with the new offset.
      let low = start / 1000;
      let high = (start + DAY_MS) / 1000;
      while (high - low > 1) {
        const mid = Math.floor((low + high) / 2);
        if (rawOffset(timeZone, mid * 1000) === before) low = mid;
        else high = mid;
      }
      change = high * 1000;
    }
    entry = { before, change, after };
    if (cache.size >= DAY_CACHE_LIMIT) cache.clear();
    cache.set(day, entry);
  }
  return entry;
}

/** UTC offset (wall minus instant) in milliseconds of `timeZone` at `instant`. */
export function offsetAt(timeZone: string, instant: number): number {
  const { before, change, after } = dayOffsets(timeZone, floorDiv(instant, DAY_MS));
  return instant < change ? before : after;
}

/**
 * The instant at which the offset changes in (lo, hi], given that it differs at lo and hi
 * (at most a day apart, so the change lies in lo's or hi's UTC day).
 */
function transitionBetween(timeZone: string, lo: number, hi: number): number {
  const first = dayOffsets(timeZone, floorDiv(lo, DAY_MS));
  if (first.change > lo && first.change <= hi) return first.change;
  const second = dayOffsets(timeZone, floorDiv(hi, DAY_MS)).change;
  return second > lo && second <= hi ? second : hi;
}

/** The wall clock (as wall milliseconds) shown in `timeZone` at `instant`. */
export function wallAt(timeZone: string, instant: number): number {
  return instant + offsetAt(timeZone, instant);
}

/**
 * How wall times that do not map to exactly one instant are treated (DST gaps and overlaps).
 *   - `once`: a wall time happens at the first instant at which the local clock shows that time
 *     or a later one. So it happens exactly once: in an overlap (clocks going back) at its first
 *     occurrence, in a gap (clocks jumping forward) at the moment of the jump. This is how
 *     classic cron (Vixie cron, cronie) runs jobs at a fixed time of day, and what "start of
 *     the day" means.
 *   - `each`: a wall time happens at every real instant that shows it: never inside a gap,
 *     twice inside an overlap. This is how cron runs periodic (`*`) jobs.
 */
export type WallPolicy = 'once' | 'each';

export interface ResolvedWall {
  /** Instants at which the wall time happens under the policy, ascending (0, 1 or 2). */
  instants: number[];
  /**
   * When the wall time lies in an overlap (shown twice), the size of the overlap, else 0.
   * Only there do wall order and instant order disagree: the second pass through a repeated
   * hour comes after the first pass through later wall times. Searches must look this much
   * further past such a wall time before they can be sure of an answer.
   */
  overlap: number;
}

/** Maps a wall time in `timeZone` to the instant(s) at which it happens (see {@link WallPolicy}). */
export function resolveWall(timeZone: string, wall: number, policy: WallPolicy): ResolvedWall {
  // Sampling a day either side brackets any offset change that can affect this wall time,
  // since offsets lie within -12h..+14h of UTC.
  const before = offsetAt(timeZone, wall - DAY_MS);
  const after = offsetAt(timeZone, wall + DAY_MS);
  if (before === after) return { instants: [wall - before], overlap: 0 };

  const early = wall - before;
  const late = wall - after;
  const earlyValid = offsetAt(timeZone, early) === before;
  const lateValid = offsetAt(timeZone, late) === after;
  if (earlyValid && lateValid) {
    // Overlap: clocks went back, the wall time is shown twice (before > after, so early < late).
    return { instants: policy === 'once' ? [early] : [early, late], overlap: before - after };
  }
  if (earlyValid) return { instants: [early], overlap: 0 };
  if (lateValid) return { instants: [late], overlap: 0 };
  // Gap: clocks jumped forward over this wall time.
  if (policy === 'each') return { instants: [], overlap: 0 };
  return { instants: [transitionBetween(timeZone, late, early)], overlap: 0 };
}

/**
 * The first instant of the local calendar day containing `instant`: local midnight, or the
 * moment the day begins when a DST change skips midnight (e.g. America/Santiago).
 */
export function startOfLocalDay(timeZone: string, instant: number): number {
  const wall = wallAt(timeZone, instant);
  const midnight = floorDiv(wall, DAY_MS) * DAY_MS;
  const [start] = resolveWall(timeZone, midnight, 'once').instants;
  // 'once' always yields exactly one instant.
  return start ?? midnight - offsetAt(timeZone, instant);
}
