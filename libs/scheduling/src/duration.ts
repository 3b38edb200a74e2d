import { ScheduleError } from './errors.js';

/**
 * DESIGN §4: an `every` schedule is at least one minute. Shorter windows would make the
 * scheduler tick (and the catch-up arithmetic) the bottleneck and produce near-empty digests.
 */
export const MIN_EVERY_SECONDS = 60;

/**
 * Upper bound that only exists to keep millisecond arithmetic exact (far below 2^53 ms); a
 * window longer than a century is certainly a typo, so it is reported rather than accepted.
 */
export const MAX_EVERY_SECONDS = 100 * 365 * 86_400;

const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
type Unit = keyof typeof UNIT_SECONDS;
const UNIT_ORDER: readonly Unit[] = ['d', 'h', 'm', 's'];

const HINT = 'use a number with s, m, h or d, e.g. 30m, 1h30m';

/**
 * Parses an operator-written duration such as `90s`, `30m`, `1h`, `1h30m` or `2d` into seconds.
 *
 * Deliberately strict: whole numbers only, units largest-first and each at most once. A
 * duration is a schedule, so an ambiguous or surprising reading (`1.5h`, `30m1h`, a bare
 * `3600`) is worse than an error that tells the operator how to write it.
 * The result is at least {@link MIN_EVERY_SECONDS}, because durations here are `every` periods.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const invalid = (): ScheduleError => new ScheduleError(`invalid duration "${text}": ${HINT}`);
  if (trimmed === '') throw invalid();

  const part = /(\d+)([a-z])/gy;
  let seconds = 0;
  let lastUnitIndex = -1;
  let consumed = 0;
  for (let match = part.exec(trimmed); match !== null; match = part.exec(trimmed)) {
    const [, digits = '', unit = ''] = match;
    const unitIndex = UNIT_ORDER.indexOf(unit as Unit);
    if (unitIndex < 0 || unitIndex <= lastUnitIndex) throw invalid();
    lastUnitIndex = unitIndex;
    seconds += Number(digits) * UNIT_SECONDS[unit as Unit];
    consumed = part.lastIndex;
  }
  if (consumed !== trimmed.length) throw invalid();

  if (seconds < MIN_EVERY_SECONDS) {
    throw new ScheduleError(`duration "${text}" is too short: a schedule must be at least 1m`);
  }
  if (!Number.isSafeInteger(seconds) || seconds > MAX_EVERY_SECONDS) {
    throw new ScheduleError(`duration "${text}" is too long: a schedule must be at most 36500d`);
  }
  return seconds;
}

/**
 * Formats seconds the way {@link parseDuration} reads them (`5400` -> `1h30m`), so values
 * round-trip through config files and log lines. Zero components are omitted; `0` is `0s`.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new ScheduleError(`cannot format duration ${String(seconds)}: expected a whole, non-negative number of seconds`);
  }
  if (seconds === 0) return '0s';
  let rest = seconds;
  let out = '';
  for (const unit of UNIT_ORDER) {
    const size = UNIT_SECONDS[unit];
    const amount = Math.floor(rest / size);
    if (amount > 0) out += `${amount}${unit}`;
    rest -= amount * size;
  }
  return out;
}
