import { civilFromDays, DAY_MS, dayOfWeek, daysInMonth, floorDiv, HOUR_MS, MINUTE_MS } from './civil.js';
import { ScheduleError } from './errors.js';

/**
 * Parsing and wall-clock matching of standard 5-field cron expressions.
 *
 * Why not a cron library: the scheduler needs the *previous* fire time as much as the next one
 * (a window is [previous fire, next fire)), needs both to agree exactly across DST changes, and
 * must not depend on the host's time zone. croner 9.1 has no previous-run API, skips the first
 * pass of a repeated hour for hourly jobs (a 2-hour window on the autumn change) and computes
 * some next runs differently depending on the process's TZ (croner issue #284). So matching is
 * done here, in two layers: this file answers "which wall-clock minutes match?" with pure
 * calendar arithmetic; cron-time.ts maps those minutes to instants in a time zone.
 *
 * Supported syntax (Vixie cron): `minute hour day-of-month month day-of-week`, each field a
 * comma-separated list of `*`, `N`, `N-M`, `*\/S`, `N-M/S` or `N/S` (N up to the maximum in
 * steps of S); month names JAN-DEC and weekday names SUN-SAT (case-insensitive); day-of-week
 * 0-7 with both 0 and 7 meaning Sunday. As in Vixie cron, when both day fields are restricted
 * (neither starts with `*`) a day matches if EITHER matches (`0 0 1 * MON` = the 1st and every
 * Monday); otherwise both must match. Seconds, years, `?`, `L`, `W`, `#` and `@daily`-style
 * nicknames are rejected rather than guessed at.
 */

export interface CronSpec {
  readonly expression: string;
  /** allowed[value] for minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6 */
  readonly minutes: readonly boolean[];
  readonly hours: readonly boolean[];
  readonly days: readonly boolean[];
  readonly months: readonly boolean[];
  readonly weekdays: readonly boolean[];
  /** Vixie's rule: days match by OR only when both day fields are restricted. */
  readonly dayOr: boolean;
  /**
   * True when the minute or hour field starts with `*` (e.g. `*\/15 * * * *`, `0 * * * *`).
   * Vixie cron runs such periodic jobs by the real clock across DST changes (every occurrence
   * of a repeated hour, none of a skipped one), and jobs at a fixed time of day exactly once a
   * day (see WallPolicy). We follow the same split.
   */
  readonly periodic: boolean;
  /** matchesBefore[x] = matching times of day before minute-of-day x (0-1440), for counting. */
  readonly matchesBefore: readonly number[];
  /** nextMinute[m] = smallest allowed minute >= m, or -1; likewise for the others. */
  readonly nextMinute: readonly number[];
  readonly prevMinute: readonly number[];
  readonly nextHour: readonly number[];
  readonly prevHour: readonly number[];
}

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MINUTE: FieldDef = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldDef = { name: 'hour', min: 0, max: 23 };
const DAY: FieldDef = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldDef = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
// 7 is accepted as Sunday and folded onto 0 after parsing.
const WEEKDAY: FieldDef = { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };

function parseField(text: string, def: FieldDef, fail: (reason: string) => ScheduleError): boolean[] {
  const allowed = new Array<boolean>(def.max + 1).fill(false);
  const value = (token: string): number => {
    if (/^\d+$/.test(token)) {
      const n = Number(token);
      if (n < def.min || n > def.max) throw fail(`${def.name} ${token} is out of range ${def.min}-${def.max}`);
      return n;
    }
    const index = def.names?.indexOf(token.toUpperCase()) ?? -1;
    if (index < 0) throw fail(`"${token}" is not a valid ${def.name}`);
    return index + (def === MONTH ? 1 : 0);
  };
  for (const item of text.split(',')) {
    if (item === '') throw fail(`empty list item in ${def.name} field "${text}"`);
    const [range = '', stepText, extra] = item.split('/');
    if (extra !== undefined) throw fail(`"${item}" in ${def.name} has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw fail(`step "${stepText}" in ${def.name} must be a whole number of at least 1`);
      }
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      from = def.min;
      to = def === WEEKDAY ? 6 : def.max;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2 || bounds.some((b) => b === '')) throw fail(`"${item}" is not a valid ${def.name}`);
      from = value(bounds[0] ?? '');
      // `N/S` means from N to the maximum in steps of S (cronie, croner, Quartz).
      to = bounds[1] !== undefined ? value(bounds[1]) : stepText !== undefined ? def.max : from;
      if (to < from) throw fail(`range "${range}" in ${def.name} goes backwards`);
    }
    for (let v = from; v <= to; v += step) allowed[v] = true;
  }
  if (def === WEEKDAY) {
    if (allowed[7] === true) allowed[0] = true;
    return allowed.slice(0, 7);
  }
  return allowed;
}

function nextTable(allowed: readonly boolean[]): number[] {
  const table = new Array<number>(allowed.length).fill(-1);
  let next = -1;
  for (let v = allowed.length - 1; v >= 0; v--) {
    if (allowed[v] === true) next = v;
    table[v] = next;
  }
  return table;
}

function prevTable(allowed: readonly boolean[]): number[] {
  const table = new Array<number>(allowed.length).fill(-1);
  let prev = -1;
  for (let v = 0; v < allowed.length; v++) {
    if (allowed[v] === true) prev = v;
    table[v] = prev;
  }
  return table;
}

function prefixCounts(minutes: readonly boolean[], hours: readonly boolean[]): number[] {
  const counts = [0];
  for (let x = 0; x < 1440; x++) {
    const match = hours[Math.floor(x / 60)] === true && minutes[x % 60] === true;
    counts.push((counts[x] ?? 0) + (match ? 1 : 0));
  }
  return counts;
}

const FIELD_HELP = 'expected 5 fields: minute hour day-of-month month day-of-week, e.g. "0 8,13,20 * * *"';

/** Parses a 5-field cron expression, throwing ScheduleError naming the expression on any problem. */
export function parseCron(expression: string): CronSpec {
  const fail = (reason: string): ScheduleError => new ScheduleError(`invalid cron expression "${expression}": ${reason}`);
  if (typeof expression !== 'string') throw fail(FIELD_HELP);
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) throw fail(`nicknames like ${trimmed.split(/\s/)[0] ?? trimmed} are not supported; ${FIELD_HELP}`);
  const fields = trimmed === '' ? [] : trimmed.split(/\s+/);
  if (fields.length !== 5) {
    throw fail(`${FIELD_HELP}; got ${fields.length}${fields.length === 6 ? ' (seconds are not supported)' : ''}`);
  }
  const [minuteText = '', hourText = '', dayText = '', monthText = '', weekdayText = ''] = fields;
  for (const field of fields) {
    const bad = /[^0-9A-Za-z*,/-]/.exec(field);
    if (bad !== null) throw fail(`unsupported character "${bad[0]}"`);
  }

  const minutes = parseField(minuteText, MINUTE, fail);
  const hours = parseField(hourText, HOUR, fail);
  const days = parseField(dayText, DAY, fail);
  const months = parseField(monthText, MONTH, fail);
  const weekdays = parseField(weekdayText, WEEKDAY, fail);

  // A month/day combination that no calendar has (e.g. `0 0 30 2 *`) would never fire.
  const dayOr = !dayText.startsWith('*') && !weekdayText.startsWith('*');
  if (!dayOr) {
    let possible = false;
    for (let month = 1; month <= 12; month++) {
      if (months[month] !== true) continue;
      const longest = month === 2 ? 29 : daysInMonth(2001, month);
      for (let day = 1; day <= longest; day++) if (days[day] === true) possible = true;
    }
    if (!possible) throw fail('the day-of-month never occurs in the given month(s), so it would never fire');
  }

  return {
    expression,
    minutes,
    hours,
    days,
    months,
    weekdays,
    dayOr,
    periodic: minuteText.startsWith('*') || hourText.startsWith('*'),
    matchesBefore: prefixCounts(minutes, hours),
    nextMinute: nextTable(minutes),
    prevMinute: prevTable(minutes),
    nextHour: nextTable(hours),
    prevHour: prevTable(hours),
  };
}

const specCache = new Map<string, CronSpec>();

/** {@link parseCron} with memoisation: the same few expressions are evaluated constantly. */
export function cronSpec(expression: string): CronSpec {
  let spec = specCache.get(expression);
  if (spec === undefined) {
    spec = parseCron(expression);
    if (specCache.size >= 1000) specCache.clear();
    specCache.set(expression, spec);
  }
  return spec;
}

/** Whether the calendar day (days since epoch) can fire at all. */
export function dayMatches(spec: CronSpec, days: number, month: number, day: number): boolean {
  if (spec.months[month] !== true) return false;
  const dom = spec.days[day] === true;
  const dow = spec.weekdays[dayOfWeek(days)] === true;
  return spec.dayOr ? dom || dow : dom && dow;
}

/**
 * Search horizon. Every valid expression fires at least once in 28 years (the calendar repeats
 * its weekday/leap pattern); 60 allows for the skipped leap day of 2100.
 */
const HORIZON_DAYS = 60 * 366;

function noFire(spec: CronSpec): ScheduleError {
  return new ScheduleError(`cron expression "${spec.expression}" has no fire time within 60 years`);
}

/** The smallest matching wall minute >= wall (wall milliseconds). */
export function nextWallMatch(spec: CronSpec, wall: number): number {
  const start = Math.ceil(wall / MINUTE_MS) * MINUTE_MS;
  let days = floorDiv(start, DAY_MS);
  const minuteOfDay = (start - days * DAY_MS) / MINUTE_MS;
  let hour = Math.floor(minuteOfDay / 60);
  let minute = minuteOfDay % 60;
  const limit = days + HORIZON_DAYS;
  while (days <= limit) {
    const { year, month, day } = civilFromDays(days);
    if (spec.months[month] !== true) {
      // Jump to the first day of the next month.
      days += daysInMonth(year, month) - day + 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (dayMatches(spec, days, month, day)) {
      let h = spec.nextHour[hour] ?? -1;
      while (h >= 0) {
        const m = spec.nextMinute[h === hour ? minute : 0] ?? -1;
        if (m >= 0) return days * DAY_MS + h * HOUR_MS + m * MINUTE_MS;
        h = h + 1 < 24 ? (spec.nextHour[h + 1] ?? -1) : -1;
      }
    }
    days += 1;
    hour = 0;
    minute = 0;
  }
  throw noFire(spec);
}

/** The largest matching wall minute <= wall (wall milliseconds). */
export function prevWallMatch(spec: CronSpec, wall: number): number {
  const start = Math.floor(wall / MINUTE_MS) * MINUTE_MS;
  let days = floorDiv(start, DAY_MS);
  const minuteOfDay = (start - days * DAY_MS) / MINUTE_MS;
  let hour = Math.floor(minuteOfDay / 60);
  let minute = minuteOfDay % 60;
  const limit = days - HORIZON_DAYS;
  while (days >= limit) {
    const { month, day } = civilFromDays(days);
    if (spec.months[month] !== true) {
      // Jump to the last day of the previous month.
      days -= day;
      hour = 23;
      minute = 59;
      continue;
    }
    if (dayMatches(spec, days, month, day)) {
      let h = spec.prevHour[hour] ?? -1;
      while (h >= 0) {
        const m = spec.prevMinute[h === hour ? minute : 59] ?? -1;
        if (m >= 0) return days * DAY_MS + h * HOUR_MS + m * MINUTE_MS;
        h = h > 0 ? (spec.prevHour[h - 1] ?? -1) : -1;
      }
    }
    days -= 1;
    hour = 23;
    minute = 59;
  }
  throw noFire(spec);
}

/** Number of matching wall minutes in [from, to) (wall milliseconds), without enumerating them. */
export function countWallMatches(spec: CronSpec, from: number, to: number): number {
  if (to <= from) return 0;
  const lo = Math.ceil(from / MINUTE_MS);
  const hi = Math.ceil(to / MINUTE_MS);
  const firstDay = floorDiv(lo, 1440);
  const lastDay = floorDiv(hi - 1, 1440);
  let count = 0;
  for (let days = firstDay; days <= lastDay; days++) {
    const { month, day } = civilFromDays(days);
    if (!dayMatches(spec, days, month, day)) continue;
    const dayStart = days * 1440;
    const begin = Math.max(lo - dayStart, 0);
    const finish = Math.min(hi - dayStart, 1440);
    count += (spec.matchesBefore[finish] ?? 0) - (spec.matchesBefore[begin] ?? 0);
  }
  return count;
}
