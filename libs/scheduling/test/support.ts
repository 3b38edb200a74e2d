/**
 * Test helpers: a seeded PRNG and a brute-force cron oracle.
 *
 * The oracle shares no code with src/: it walks time minute by minute, reads the wall clock
 * with Intl.formatToParts, matches fields with its own tiny parser, and applies the documented
 * DST rules in their most literal form. The optimised implementation must agree with it.
 */
import assert from 'node:assert/strict';

import type { TimeWindow } from '../src/index.js';

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from empty list');
  return item;
}

export function int(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export const at = (iso: string): Date => new Date(iso);
export const iso = (date: Date): string => date.toISOString();

/** Windows as [startISO, endISO] pairs, for readable deep-equal failures. */
export function pairs(windows: readonly TimeWindow[]): [string, string][] {
  return windows.map((w) => [iso(w.start), iso(w.end)]);
}

export function hours(window: TimeWindow): number {
  return (window.end.getTime() - window.start.getTime()) / HOUR;
}

export function assertContiguous(windows: readonly TimeWindow[]): void {
  for (let i = 1; i < windows.length; i++) {
    assert.equal(windows[i]?.start.getTime(), windows[i - 1]?.end.getTime(), `window ${i} does not start where ${i - 1} ends`);
  }
  for (const w of windows) assert.ok(w.start < w.end, `empty window ${iso(w.start)}`);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const wallMemo = new Map<string, Map<number, number>>();

/** Wall clock at a whole-minute instant, as "wall minutes" (local date-time as if UTC). */
export function oracleWallMinute(timeZone: string, instant: number): number {
  let memo = wallMemo.get(timeZone);
  if (memo === undefined) {
    memo = new Map();
    wallMemo.set(timeZone, memo);
  }
  let wall = memo.get(instant);
  if (wall === undefined) {
    wall = formatWallMinute(timeZone, instant);
    memo.set(instant, wall);
  }
  return wall;
}

function formatWallMinute(timeZone: string, instant: number): number {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour) % 24, Number(parts.minute)) / MINUTE;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function oracleField(text: string, min: number, max: number, names: string[] | null, nameBase: number): Set<number> {
  const values = new Set<number>();
  const num = (s: string): number => {
    const i = names?.indexOf(s.toLowerCase()) ?? -1;
    return i >= 0 ? i + nameBase : Number(s);
  };
  for (const item of text.split(',')) {
    const [range = '', step] = item.split('/');
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(num) as [number, number];
    else [lo, hi] = [num(range), step === undefined ? num(range) : max];
    for (let v = lo; v <= hi; v += step === undefined ? 1 : Number(step)) values.add(v);
  }
  return values;
}

/** A literal cron matcher over wall minutes. */
export function oracleMatcher(expression: string): { matches: (wallMinute: number) => boolean; periodic: boolean } {
  const [mi = '', h = '', dom = '', mon = '', dow = ''] = expression.trim().split(/\s+/);
  const minutes = oracleField(mi, 0, 59, null, 0);
  const hoursSet = oracleField(h, 0, 23, null, 0);
  const doms = oracleField(dom, 1, 31, null, 0);
  const months = oracleField(mon, 1, 12, MONTHS, 1);
  const dows = oracleField(dow, 0, 7, DAYS, 0);
  if (dows.has(7)) dows.add(0);
  const restrictedDom = !dom.startsWith('*');
  const restrictedDow = !dow.startsWith('*');
  return {
    periodic: mi.startsWith('*') || h.startsWith('*'),
    matches(wallMinute) {
      const d = new Date(wallMinute * MINUTE);
      if (!minutes.has(d.getUTCMinutes()) || !hoursSet.has(d.getUTCHours()) || !months.has(d.getUTCMonth() + 1)) return false;
      const domOk = doms.has(d.getUTCDate());
      const dowOk = dows.has(d.getUTCDay());
      return restrictedDom && restrictedDow ? domOk || dowOk : domOk && dowOk;
    },
  };
}

/**
 * All fire instants in [from, to), by walking every minute from a day earlier.
 *   - periodic expressions fire at every instant whose wall clock matches;
 *   - others fire at the first instant at which the wall clock shows the time or a later one
 *     (high-water mark), i.e. once per matching wall time, at the jump for skipped times.
 */
export function oracleFires(expression: string, timeZone: string, from: number, to: number): number[] {
  const { matches, periodic } = oracleMatcher(expression);
  const fires: number[] = [];
  const startMinute = Math.floor((from - DAY) / MINUTE);
  let highWater = oracleWallMinute(timeZone, (startMinute - 1) * MINUTE);
  for (let m = startMinute; m * MINUTE < to; m++) {
    const instant = m * MINUTE;
    const wall = oracleWallMinute(timeZone, instant);
    let fires_ = false;
    if (periodic) {
      fires_ = matches(wall);
    } else {
      for (let w = highWater + 1; w <= wall; w++) if (matches(w)) fires_ = true;
    }
    highWater = Math.max(highWater, wall);
    if (fires_ && instant >= from) fires.push(instant);
  }
  return fires;
}

/** True if the zone's UTC offset changes somewhere in [from, to) (a meaningful DST test range). */
export function offsetChanges(timeZone: string, from: number, to: number): boolean {
  const offset = (t: number): number => oracleWallMinute(timeZone, t) * MINUTE - t;
  const first = offset(from);
  for (let t = from; t < to; t += 15 * MINUTE) if (offset(t) !== first) return true;
  return false;
}
