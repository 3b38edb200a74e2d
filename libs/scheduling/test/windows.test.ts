import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  assertSchedule,
  defaultAnchor,
  firstWindowEnd,
  isBoundary,
  ScheduleError,
  windowAfter,
  windowContaining,
  windowsBetween,
  WINDOWS_BETWEEN_DEFAULT_LIMIT,
} from '../src/index.js';
import type { Schedule } from '../src/index.js';
import { assertContiguous, at, DAY, HOUR, hours, int, iso, MINUTE, pairs, pick, prng } from './support.js';

const every = (everySeconds: number, anchor: string): Schedule => ({ kind: 'every', everySeconds, anchor: at(anchor) });

describe('every: boundaries at anchor + k * everySeconds', () => {
  it('aligns to an anchor before the instant', () => {
    const schedule = every(3600, '2026-01-01T00:00:00Z');
    assert.deepEqual(pairs([windowContaining(schedule, at('2026-01-01T05:30:00Z'))]), [
      ['2026-01-01T05:00:00.000Z', '2026-01-01T06:00:00.000Z'],
    ]);
  });

  it('aligns to an anchor after the instant (negative k)', () => {
    const schedule = every(7 * 3600, '2026-01-10T00:00:00Z');
    // 216 h before the anchor is k = -30.86, so the window is k = -31: anchor - 217 h.
    assert.deepEqual(pairs([windowContaining(schedule, at('2026-01-01T00:00:00Z'))]), [
      ['2025-12-31T23:00:00.000Z', '2026-01-01T06:00:00.000Z'],
    ]);
    // Far before the anchor too.
    const early = windowContaining(schedule, at('1999-06-15T12:34:56Z'));
    assert.equal((at('2026-01-10T00:00:00Z').getTime() - early.start.getTime()) % (7 * HOUR), 0);
    assert.ok(early.start <= at('1999-06-15T12:34:56Z') && at('1999-06-15T12:34:56Z') < early.end);
  });

  it('handles periods that do not divide a day (7h, 45m, 100m)', () => {
    const sevenHours = windowsBetween(every(7 * 3600, '2026-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'), at('2026-01-03T00:00:00Z'));
    assert.deepEqual(
      sevenHours.map((w) => iso(w.start)),
      ['2026-01-01T00', '2026-01-01T07', '2026-01-01T14', '2026-01-01T21', '2026-01-02T04', '2026-01-02T11'].map((h) => `${h}:00:00.000Z`),
    );
    assertContiguous(sevenHours);
    assert.ok(sevenHours.every((w) => hours(w) === 7));
    const hundred = windowContaining(every(6000, '2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'));
    assert.deepEqual(pairs([hundred]), [['2026-01-01T23:20:00.000Z', '2026-01-02T01:00:00.000Z']]);
  });

  it('an instant exactly on a boundary starts a new window', () => {
    const schedule = every(1800, '2026-01-01T00:10:00Z');
    assert.equal(iso(windowContaining(schedule, at('2026-03-01T10:40:00Z')).start), '2026-03-01T10:40:00.000Z');
    assert.equal(iso(windowContaining(schedule, at('2026-03-01T10:39:59.999Z')).start), '2026-03-01T10:10:00.000Z');
    assert.equal(isBoundary(schedule, at('2026-03-01T10:40:00Z')), true);
    assert.equal(isBoundary(schedule, at('2026-03-01T10:40:00.001Z')), false);
  });

  it('is real elapsed time: a daily every keeps 24h across DST (drifting an hour on the wall clock)', () => {
    const schedule: Schedule = { kind: 'every', everySeconds: 86_400, anchor: defaultAnchor(at('2026-03-20T12:00:00Z'), 'Europe/Berlin') };
    const windows = windowsBetween(schedule, at('2026-03-27T00:00:00Z'), at('2026-04-01T00:00:00Z'));
    assert.ok(windows.every((w) => hours(w) === 24));
    assert.equal(iso(windows[0]?.start ?? new Date(0)), '2026-03-27T23:00:00.000Z'); // 00:00 CET, later 01:00 CEST
  });

  it('random instants: the containing window is aligned, contains the instant and has the period', () => {
    const random = prng(99);
    for (let i = 0; i < 2000; i++) {
      const seconds = pick(random, [60, 90, 3600, 7 * 3600, 86_400, 6000, 604_800, int(random, 60, 10 * 86_400)]);
      const anchor = int(random, -1e12, 3e12);
      const instant = int(random, -1e12, 3e12);
      const window = windowContaining({ kind: 'every', everySeconds: seconds, anchor: new Date(anchor) }, new Date(instant));
      assert.equal(Math.abs((window.start.getTime() - anchor) % (seconds * 1000)), 0);
      assert.ok(window.start.getTime() <= instant && instant < window.end.getTime());
      assert.equal(window.end.getTime() - window.start.getTime(), seconds * 1000);
    }
  });
});

describe('windowAfter', () => {
  it('returns the next window, starting at the previous end', () => {
    const schedule = every(3600, '2026-01-01T00:00:00Z');
    const first = windowContaining(schedule, at('2026-01-01T05:30:00Z'));
    assert.deepEqual(pairs([windowAfter(schedule, first)]), [['2026-01-01T06:00:00.000Z', '2026-01-01T07:00:00.000Z']]);
    const cron: Schedule = { kind: 'cron', expression: '0 8,13,20 * * *', timeZone: 'Europe/Berlin' };
    const w = windowContaining(cron, at('2026-03-28T20:00:00Z'));
    assert.deepEqual(pairs([w, windowAfter(cron, w)]), [
      ['2026-03-28T19:00:00.000Z', '2026-03-29T06:00:00.000Z'],
      ['2026-03-29T06:00:00.000Z', '2026-03-29T11:00:00.000Z'],
    ]);
  });

  it('bridges to the next boundary when the previous end is not one (schedule changed)', () => {
    const schedule = every(3600, '2026-01-01T00:00:00Z');
    const old = { start: at('2026-01-01T09:47:00Z'), end: at('2026-01-01T10:17:00Z') };
    assert.deepEqual(pairs([windowAfter(schedule, old)]), [['2026-01-01T10:17:00.000Z', '2026-01-01T11:00:00.000Z']]);
  });
});

describe('windowsBetween', () => {
  const schedule = every(3600, '2026-01-01T00:00:00Z');

  it('returns complete windows inside [from, to), oldest first', () => {
    assert.deepEqual(pairs(windowsBetween(schedule, at('2026-01-01T01:00:00Z'), at('2026-01-01T04:00:00Z'))), [
      ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z'],
      ['2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z'],
      ['2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z'],
    ]);
  });

  it('starts at the first boundary at or after from and drops a partial last window', () => {
    assert.deepEqual(pairs(windowsBetween(schedule, at('2026-01-01T01:00:01Z'), at('2026-01-01T04:30:00Z'))), [
      ['2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z'],
      ['2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z'],
    ]);
    assert.deepEqual(windowsBetween(schedule, at('2026-01-01T01:10:00Z'), at('2026-01-01T01:50:00Z')), []);
    assert.deepEqual(windowsBetween(schedule, at('2026-01-01T04:00:00Z'), at('2026-01-01T01:00:00Z')), []);
  });

  it('returns at most limit windows (the oldest), so callers can page', () => {
    const from = at('2026-01-01T00:00:00Z');
    const to = at('2026-01-02T00:00:00Z');
    const page1 = windowsBetween(schedule, from, to, 5);
    assert.equal(page1.length, 5);
    const page2 = windowsBetween(schedule, page1.at(-1)?.end ?? from, to, 100);
    assert.equal(page2.length, 19);
    assertContiguous([...page1, ...page2]);
    assert.deepEqual(windowsBetween(schedule, from, to, 0), []);
    assert.throws(() => windowsBetween(schedule, from, to, -1), ScheduleError);
    assert.throws(() => windowsBetween(schedule, from, to, 1.5), ScheduleError);
  });

  it('has a default limit so a huge range cannot allocate without bound', () => {
    const minutes = every(60, '2026-01-01T00:00:00Z');
    const started = performance.now();
    const windows = windowsBetween(minutes, at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'));
    assert.equal(windows.length, WINDOWS_BETWEEN_DEFAULT_LIMIT);
    assert.ok(performance.now() - started < 1000);
    const few = windowsBetween({ kind: 'cron', expression: '* * * * *', timeZone: 'Europe/Berlin' }, at('2026-01-01T00:00:00Z'), at('2030-01-01T00:00:00Z'), 3);
    assert.equal(few.length, 3);
  });
});

describe('firstWindowEnd', () => {
  it('is the end of the window containing the creation time', () => {
    assert.equal(iso(firstWindowEnd(every(3600, '2026-01-01T00:00:00Z'), at('2026-01-01T05:30:00Z'))), '2026-01-01T06:00:00.000Z');
    assert.equal(iso(firstWindowEnd(every(3600, '2026-01-01T00:00:00Z'), at('2026-01-01T05:00:00Z'))), '2026-01-01T06:00:00.000Z');
    const cron: Schedule = { kind: 'cron', expression: '0 8,13,20 * * *', timeZone: 'Europe/Berlin' };
    assert.equal(iso(firstWindowEnd(cron, at('2026-03-28T22:00:00Z'))), '2026-03-29T06:00:00.000Z');
  });
});

describe('schedule validation', () => {
  it('rejects invalid schedules with ScheduleError', () => {
    const bad: unknown[] = [
      { kind: 'every', everySeconds: 59, anchor: at('2026-01-01T00:00:00Z') },
      { kind: 'every', everySeconds: 90.5, anchor: at('2026-01-01T00:00:00Z') },
      { kind: 'every', everySeconds: Number.NaN, anchor: at('2026-01-01T00:00:00Z') },
      { kind: 'every', everySeconds: 3600, anchor: new Date(Number.NaN) },
      { kind: 'every', everySeconds: 3600, anchor: '2026-01-01' },
      { kind: 'cron', expression: '0 25 * * *', timeZone: 'UTC' },
      { kind: 'cron', expression: '0 8 * * *', timeZone: 'Mars/Base' },
      { kind: 'weekly' },
      null,
    ];
    for (const schedule of bad) {
      assert.throws(() => assertSchedule(schedule as Schedule), ScheduleError, JSON.stringify(schedule));
      assert.throws(() => windowContaining(schedule as Schedule, at('2026-01-01T00:00:00Z')), ScheduleError);
    }
    assert.throws(() => windowContaining(every(3600, '2026-01-01T00:00:00Z'), new Date('nope')), /invalid instant/);
  });

  it('names the problem', () => {
    assert.throws(() => assertSchedule({ kind: 'every', everySeconds: 30, anchor: at('2026-01-01T00:00:00Z') }), /from 60 \(1m\)/);
    assert.throws(() => assertSchedule({ kind: 'weekly' } as unknown as Schedule), /invalid schedule kind "weekly"/);
  });
});

describe('contiguity property', () => {
  it('windowAfter chains and windowContaining agree for random schedules', () => {
    const random = prng(5);
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'UTC'];
    const expressions = ['0 * * * *', '30 2 * * *', '0 8,13,20 * * *', '*/45 * * * *', '15 1-3 * * 0'];
    for (let round = 0; round < 60; round++) {
      const schedule: Schedule =
        random() < 0.5
          ? { kind: 'every', everySeconds: int(random, 1, 300) * 60, anchor: new Date(int(random, 1.7e12, 1.8e12)) }
          : { kind: 'cron', expression: pick(random, expressions), timeZone: pick(random, zones) };
      let window = windowContaining(schedule, new Date(int(random, 1.77e12, 1.8e12)));
      for (let i = 0; i < 30; i++) {
        const next = windowAfter(schedule, window);
        assert.equal(next.start.getTime(), window.end.getTime());
        assert.ok(next.end > next.start);
        const mid = new Date(next.start.getTime() + Math.floor((next.end.getTime() - next.start.getTime()) * random()));
        assert.deepEqual(pairs([windowContaining(schedule, mid)]), pairs([next]));
        window = next;
      }
    }
    assert.ok(DAY > MINUTE);
  });
});
