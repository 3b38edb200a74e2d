import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { firstWindowEnd, planDueWindows, planResume, ScheduleError, SKIPPED_RECORD_LIMIT, windowContaining, windowsBetween } from '../src/index.js';
import type { DuePlan, DuePlanInput, Schedule, TimeWindow } from '../src/index.js';
import { assertContiguous, at, DAY, HOUR, int, iso, MINUTE, pairs, pick, prng } from './support.js';

const hourly: Schedule = { kind: 'every', everySeconds: 3600, anchor: at('2026-01-01T00:00:00Z') };
const berlin: Schedule = { kind: 'cron', expression: '0 8,13,20 * * *', timeZone: 'Europe/Berlin' };

function plan(overrides: Partial<DuePlanInput> & Pick<DuePlanInput, 'now'>): DuePlan {
  return planDueWindows({
    schedule: hourly,
    watermark: at('2026-01-01T00:00:00Z'),
    createdAt: at('2025-12-01T00:00:00Z'),
    lagSeconds: 60,
    maxCatchupWindows: 6,
    ...overrides,
  });
}

describe('planDueWindows: the due rule', () => {
  it('a window is due exactly when end + lag <= now', () => {
    const notYet = plan({ now: at('2026-01-01T01:00:59.999Z') });
    assert.deepEqual(notYet.scheduled, []);
    const due = plan({ now: at('2026-01-01T01:01:00Z') });
    assert.deepEqual(pairs(due.scheduled), [['2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z']]);
    assert.equal(iso(due.watermark ?? new Date(0)), '2026-01-01T01:00:00.000Z');
    assert.equal(iso(due.nextWindowEnd), '2026-01-01T02:00:00.000Z');
  });

  it('with zero lag a window is due at its end', () => {
    assert.equal(plan({ now: at('2026-01-01T01:00:00Z'), lagSeconds: 0 }).scheduled.length, 1);
    assert.equal(plan({ now: at('2026-01-01T00:59:59.999Z'), lagSeconds: 0 }).scheduled.length, 0);
  });

  it('nothing due: same watermark, no windows, nextWindowEnd unchanged', () => {
    const watermark = at('2026-01-01T00:00:00Z');
    const result = plan({ watermark, now: at('2026-01-01T00:30:00Z') });
    assert.deepEqual(result, { scheduled: [], skipped: [], skippedOmitted: null, watermark, nextWindowEnd: at('2026-01-01T01:00:00Z') });
    assert.equal(result.watermark, watermark);
  });

  it('planning again at the same instant from the new watermark finds nothing (idempotent)', () => {
    const now = at('2026-01-01T05:10:00Z');
    const first = plan({ now });
    const again = plan({ now, watermark: first.watermark });
    assert.deepEqual(again.scheduled, []);
    assert.deepEqual(again.skipped, []);
    assert.equal(iso(again.nextWindowEnd), iso(first.nextWindowEnd));
    assert.equal(again.watermark, first.watermark);
  });

  it('a watermark that is not a boundary (schedule changed) yields a bridging first window', () => {
    const result = plan({ watermark: at('2026-01-01T00:17:00Z'), now: at('2026-01-01T02:30:00Z') });
    assert.deepEqual(pairs(result.scheduled), [
      ['2026-01-01T00:17:00.000Z', '2026-01-01T01:00:00.000Z'],
      ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z'],
    ]);
  });

  it('works for cron schedules across DST (the 11-hour spring night)', () => {
    const result = planDueWindows({
      schedule: berlin,
      watermark: at('2026-03-28T19:00:00Z'),
      createdAt: at('2026-01-01T00:00:00Z'),
      now: at('2026-03-29T06:01:00Z'),
      lagSeconds: 60,
      maxCatchupWindows: 6,
    });
    assert.deepEqual(pairs(result.scheduled), [['2026-03-28T19:00:00.000Z', '2026-03-29T06:00:00.000Z']]);
    assert.equal(iso(result.nextWindowEnd), '2026-03-29T11:00:00.000Z');
  });
});

describe('planDueWindows: a new topic', () => {
  const createdAt = at('2026-01-01T05:20:00Z');
  const input = { watermark: null, createdAt };

  it('its first window is the one containing createdAt, not due before its end + lag', () => {
    const early = plan({ ...input, now: at('2026-01-01T06:00:30Z') });
    assert.deepEqual(early.scheduled, []);
    assert.equal(early.watermark, null);
    assert.equal(iso(early.nextWindowEnd), '2026-01-01T06:00:00.000Z');
    assert.equal(iso(early.nextWindowEnd), iso(firstWindowEnd(hourly, createdAt)));

    const due = plan({ ...input, now: at('2026-01-01T06:01:00Z') });
    assert.deepEqual(pairs(due.scheduled), [['2026-01-01T05:00:00.000Z', '2026-01-01T06:00:00.000Z']]);
    assert.equal(iso(due.watermark ?? new Date(0)), '2026-01-01T06:00:00.000Z');
    assert.equal(iso(due.nextWindowEnd), '2026-01-01T07:00:00.000Z');
  });

  it('created exactly on a boundary: its first window starts there', () => {
    const due = plan({ watermark: null, createdAt: at('2026-01-01T05:00:00Z'), now: at('2026-01-01T06:01:00Z') });
    assert.deepEqual(pairs(due.scheduled), [['2026-01-01T05:00:00.000Z', '2026-01-01T06:00:00.000Z']]);
  });

  it('created in the future (clock skew): nothing is due', () => {
    const result = plan({ watermark: null, createdAt: at('2026-01-02T00:30:00Z'), now: at('2026-01-01T12:00:00Z') });
    assert.deepEqual(result.scheduled, []);
    assert.equal(iso(result.nextWindowEnd), '2026-01-02T01:00:00.000Z');
  });
});

describe('planDueWindows: catch-up', () => {
  it('10 missed with max 6: the newest 6 scheduled, the 4 older skipped, both oldest first', () => {
    const result = plan({ now: at('2026-01-01T10:01:00Z') });
    assert.equal(result.scheduled.length, 6);
    assert.equal(result.skipped.length, 4);
    assert.deepEqual(
      result.skipped.map((w) => iso(w.start)),
      ['00', '01', '02', '03'].map((h) => `2026-01-01T${h}:00:00.000Z`),
    );
    assert.deepEqual(
      result.scheduled.map((w) => iso(w.start)),
      ['04', '05', '06', '07', '08', '09'].map((h) => `2026-01-01T${h}:00:00.000Z`),
    );
    assertContiguous([...result.skipped, ...result.scheduled]);
    assert.equal(result.skippedOmitted, null);
    assert.equal(iso(result.watermark ?? new Date(0)), '2026-01-01T10:00:00.000Z');
    assert.equal(iso(result.nextWindowEnd), '2026-01-01T11:00:00.000Z');
  });

  it('exactly max missed: all scheduled, none skipped', () => {
    const result = plan({ now: at('2026-01-01T06:01:00Z') });
    assert.equal(result.scheduled.length, 6);
    assert.deepEqual(result.skipped, []);
  });

  it('beyond SKIPPED_RECORD_LIMIT the oldest skipped windows are summarised, not listed', () => {
    assert.equal(SKIPPED_RECORD_LIMIT, 1000);
    const minutely: Schedule = { kind: 'every', everySeconds: 60, anchor: at('2026-01-01T00:00:00Z') };
    const base = { schedule: minutely, watermark: at('2026-01-01T00:00:00Z'), lagSeconds: 0 };

    const atLimit = plan({ ...base, now: new Date(at('2026-01-01T00:00:00Z').getTime() + 1006 * MINUTE) });
    assert.equal(atLimit.scheduled.length, 6);
    assert.equal(atLimit.skipped.length, 1000);
    assert.equal(atLimit.skippedOmitted, null);

    const overLimit = plan({ ...base, now: new Date(at('2026-01-01T00:00:00Z').getTime() + 1007 * MINUTE) });
    assert.equal(overLimit.skipped.length, 1000);
    assert.deepEqual(overLimit.skippedOmitted, { start: at('2026-01-01T00:00:00Z'), end: at('2026-01-01T00:01:00Z'), count: 1 });

    const result = plan({ ...base, now: new Date(at('2026-01-01T00:00:00Z').getTime() + 1500 * MINUTE) });
    assert.equal(result.scheduled.length, 6);
    assert.equal(result.skipped.length, 1000);
    assert.deepEqual(result.skippedOmitted, { start: at('2026-01-01T00:00:00Z'), end: result.skipped[0]?.start, count: 494 });
    assertContiguous([...result.skipped, ...result.scheduled]);
    assert.equal(iso(result.scheduled.at(-1)?.end ?? new Date(0)), iso(result.watermark ?? new Date(0)));
  });

  it('the summary count is exact for cron too, including both passes of a repeated hour', () => {
    const schedule: Schedule = { kind: 'cron', expression: '*/30 * * * *', timeZone: 'Europe/Berlin' };
    const watermark = at('2026-10-01T00:00:00Z');
    const now = at('2026-11-30T00:00:00Z');
    const result = planDueWindows({ schedule, watermark, createdAt: watermark, now, lagSeconds: 0, maxCatchupWindows: 6 });
    // 60 days of half-hour windows; the autumn change adds no wall time but keeps real time.
    const total = (now.getTime() - watermark.getTime()) / (30 * MINUTE);
    assert.equal(result.scheduled.length + result.skipped.length + (result.skippedOmitted?.count ?? 0), total);
    assert.equal(iso(result.skippedOmitted?.start ?? new Date(0)), iso(watermark));
    assert.equal(iso(result.skippedOmitted?.end ?? new Date(0)), iso(result.skipped[0]?.start ?? new Date(1)));
  });

  it('a fixed-time cron counts one window per day across DST', () => {
    const schedule: Schedule = { kind: 'cron', expression: '30 2 * * *', timeZone: 'Europe/Berlin' };
    const watermark = windowContaining(schedule, at('2023-01-01T12:00:00Z')).end; // 2023-01-02 02:30
    const now = at('2026-01-02T12:00:00Z');
    const result = planDueWindows({ schedule, watermark, createdAt: watermark, now, lagSeconds: 60, maxCatchupWindows: 6 });
    // 2023-01-02 02:30 to 2026-01-02 02:30: three years, one of them (2024) a leap year.
    assert.equal(result.scheduled.length + result.skipped.length + (result.skippedOmitted?.count ?? 0), 365 * 3 + 1);
  });
});

describe('planDueWindows: performance is bounded by what is returned', () => {
  it('a year of missed one-minute every windows is computed arithmetically', () => {
    const minutely: Schedule = { kind: 'every', everySeconds: 60, anchor: at('2025-01-01T00:00:00Z') };
    const started = performance.now();
    const result = plan({ schedule: minutely, watermark: at('2025-01-01T00:00:00Z'), now: at('2026-01-01T00:00:30Z'), lagSeconds: 0 });
    assert.ok(performance.now() - started < 200, `${performance.now() - started} ms`);
    assert.equal((result.skippedOmitted?.count ?? 0) + result.skipped.length + result.scheduled.length, 365 * 1440);
  });

  it('a year of missed one-minute cron windows stays fast (walks back from now, counts the rest)', () => {
    const schedule: Schedule = { kind: 'cron', expression: '* * * * *', timeZone: 'America/New_York' };
    const started = performance.now();
    const result = plan({ schedule, watermark: at('2025-01-01T00:00:00Z'), now: at('2026-01-01T00:00:30Z'), lagSeconds: 0 });
    assert.ok(performance.now() - started < 3000, `${performance.now() - started} ms`);
    assert.equal((result.skippedOmitted?.count ?? 0) + result.skipped.length + result.scheduled.length, 365 * 1440);
  });

  it('thousands of routine plans per tick are cheap', () => {
    const schedules: Schedule[] = [
      berlin,
      { kind: 'cron', expression: '0 * * * *', timeZone: 'America/New_York' },
      { kind: 'cron', expression: '*/15 * * * *', timeZone: 'Asia/Tokyo' },
      hourly,
    ];
    const now = at('2026-05-05T12:00:30Z');
    const started = performance.now();
    for (let i = 0; i < 4000; i++) {
      const schedule = schedules[i % schedules.length] ?? hourly;
      const watermark = windowContaining(schedule, new Date(now.getTime() - (i % 7) * HOUR)).start;
      planDueWindows({ schedule, watermark, createdAt: watermark, now, lagSeconds: 60, maxCatchupWindows: 6 });
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2000, `${elapsed} ms for 4000 plans`);
  });
});

describe('planDueWindows: composable across ticks (property)', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'UTC', 'Asia/Kolkata'];
  const expressions = ['0 * * * *', '*/20 * * * *', '30 2 * * *', '0 0 * * *', '0 8,13,20 * * *', '15 1-3 * * *', '0 */6 * * 1-5', '45 23 * * 0'];

  function randomSchedule(random: () => number): Schedule {
    if (random() < 0.4) {
      return { kind: 'every', everySeconds: pick(random, [60, 300, 3600, 7 * 3600, 86_400, int(random, 1, 2000) * 60]), anchor: new Date(int(random, 1.6e12, 1.9e12)) };
    }
    return { kind: 'cron', expression: pick(random, expressions), timeZone: pick(random, zones) };
  }

  const key = (windows: readonly TimeWindow[]): string => windows.map((w) => `${w.start.getTime()}/${w.end.getTime()}`).join(' ');

  it('planning at t1 then at t2 from the returned watermark equals planning once at t2', () => {
    const random = prng(1_234_567);
    const unbounded = 100_000;
    for (let round = 0; round < 300; round++) {
      const schedule = randomSchedule(random);
      const createdAt = new Date(int(random, 1.774e12, 1.8e12)); // 2026, both DST changes included
      const lagSeconds = pick(random, [0, 60, 300, 3600]);
      const watermark = random() < 0.5 ? null : windowContaining(schedule, createdAt).start;
      const t1 = new Date(createdAt.getTime() + int(random, 0, 5 * DAY));
      const t2 = new Date(t1.getTime() + int(random, 0, 5 * DAY));
      const base = { schedule, createdAt, lagSeconds, maxCatchupWindows: unbounded };

      const once = planDueWindows({ ...base, watermark, now: t2 });
      const first = planDueWindows({ ...base, watermark, now: t1 });
      const second = planDueWindows({ ...base, watermark: first.watermark, now: t2 });
      const label = `round ${round}: ${JSON.stringify(schedule)} ${iso(t1)} ${iso(t2)}`;

      assert.deepEqual(key([...first.scheduled, ...second.scheduled]), key(once.scheduled), label);
      assert.equal(second.watermark?.getTime(), once.watermark?.getTime(), label);
      assert.equal(second.nextWindowEnd.getTime(), once.nextWindowEnd.getTime(), label);
      assert.deepEqual([...first.skipped, ...second.skipped, ...once.skipped], [], label);

      // Invariants of every plan.
      for (const p of [once, first, second]) {
        assertContiguous(p.scheduled);
        for (const w of p.scheduled) assert.ok(w.end.getTime() + lagSeconds * 1000 <= t2.getTime(), label);
        if (p.watermark !== null && p.scheduled.length > 0) assert.equal(p.scheduled.at(-1)?.end.getTime(), p.watermark.getTime(), label);
        // nextWindowEnd is the end of the window after the watermark, and is not yet due.
        const anchor = p.watermark ?? createdAt;
        const expectedNext = p.watermark === null ? windowContaining(schedule, createdAt).end : windowContaining(schedule, anchor).end;
        assert.equal(p.nextWindowEnd.getTime(), expectedNext.getTime(), label);
      }
      assert.ok(once.nextWindowEnd.getTime() + lagSeconds * 1000 > t2.getTime(), label);
      // The scheduled windows are exactly the schedule's windows in that range.
      if (once.scheduled.length > 0) {
        const start = once.scheduled[0]?.start ?? createdAt;
        const end = once.scheduled.at(-1)?.end ?? createdAt;
        assert.deepEqual(key(windowsBetween(schedule, start, end, unbounded)), key(once.scheduled), label);
        if (watermark === null) assert.ok(start <= createdAt && createdAt < (once.scheduled[0]?.end ?? createdAt), label);
      }
    }
  });

  it('with a catch-up bound, scheduled + skipped + omitted still partition the due windows', () => {
    const random = prng(777);
    let summarised = 0;
    for (let round = 0; round < 150; round++) {
      const schedule = randomSchedule(random);
      const createdAt = new Date(int(random, 1.774e12, 1.8e12));
      const ticks = [createdAt.getTime()];
      for (let i = 0; i < 4; i++) ticks.push((ticks.at(-1) ?? 0) + int(random, 0, 3 * DAY));
      const maxCatchupWindows = int(random, 1, 8);
      let watermark: Date | null = null;
      const covered: TimeWindow[] = [];
      for (const tick of ticks) {
        const result = planDueWindows({ schedule, watermark, createdAt, now: new Date(tick), lagSeconds: 60, maxCatchupWindows });
        assert.ok(result.scheduled.length <= maxCatchupWindows);
        assert.ok(result.skipped.length <= SKIPPED_RECORD_LIMIT);
        if (result.skipped.length > 0) assert.equal(result.scheduled.length, maxCatchupWindows);
        if (result.skippedOmitted !== null) {
          // The summary stands for exactly the schedule's windows in its range.
          assert.equal(result.skipped.length, SKIPPED_RECORD_LIMIT);
          const expanded = windowsBetween(schedule, result.skippedOmitted.start, result.skippedOmitted.end, 1e7);
          assert.equal(expanded.length, result.skippedOmitted.count);
          covered.push(...expanded);
          summarised++;
        }
        covered.push(...result.skipped, ...result.scheduled);
        watermark = result.watermark;
      }
      assertContiguous(covered);
      const last = ticks.at(-1) ?? 0;
      const all = planDueWindows({ schedule, watermark: null, createdAt, now: new Date(last), lagSeconds: 60, maxCatchupWindows: 100_000 });
      assert.deepEqual(key(covered), key(all.scheduled), JSON.stringify(schedule));
    }
    assert.ok(summarised > 0, 'the property should exercise the skipped summary');
  });
});

describe('planResume: pause and resume', () => {
  it('windows that ended while paused are skipped; scheduling continues from the current window', () => {
    const result = planResume({ schedule: hourly, watermark: at('2026-01-01T03:00:00Z'), createdAt: at('2025-12-01T00:00:00Z'), now: at('2026-01-01T07:20:00Z') });
    assert.deepEqual(
      result.skipped.map((w) => iso(w.start)),
      ['03', '04', '05', '06'].map((h) => `2026-01-01T${h}:00:00.000Z`),
    );
    assertContiguous(result.skipped);
    assert.equal(result.skippedOmitted, null);
    assert.equal(iso(result.watermark ?? new Date(0)), '2026-01-01T07:00:00.000Z');
    assert.equal(iso(result.nextWindowEnd), '2026-01-01T08:00:00.000Z');

    // After resuming, the current window is scheduled normally when it ends.
    const next = plan({ watermark: result.watermark, now: at('2026-01-01T08:01:00Z') });
    assert.deepEqual(pairs(next.scheduled), [['2026-01-01T07:00:00.000Z', '2026-01-01T08:00:00.000Z']]);
    assert.deepEqual(next.skipped, []);
  });

  it('a window ending exactly at the resume instant ended while paused', () => {
    const result = planResume({ schedule: hourly, watermark: at('2026-01-01T06:00:00Z'), createdAt: at('2025-12-01T00:00:00Z'), now: at('2026-01-01T07:00:00Z') });
    assert.deepEqual(pairs(result.skipped), [['2026-01-01T06:00:00.000Z', '2026-01-01T07:00:00.000Z']]);
    assert.equal(iso(result.watermark ?? new Date(0)), '2026-01-01T07:00:00.000Z');
  });

  it('nothing ended while paused: nothing skipped, watermark unchanged', () => {
    const watermark = at('2026-01-01T07:00:00Z');
    const result = planResume({ schedule: hourly, watermark, createdAt: at('2025-12-01T00:00:00Z'), now: at('2026-01-01T07:20:00Z') });
    assert.deepEqual(result, { skipped: [], skippedOmitted: null, watermark, nextWindowEnd: at('2026-01-01T08:00:00Z') });
  });

  it('a topic paused before it was ever scheduled starts from the window containing createdAt', () => {
    const result = planResume({ schedule: hourly, watermark: null, createdAt: at('2026-01-01T05:20:00Z'), now: at('2026-01-01T07:20:00Z') });
    assert.deepEqual(
      result.skipped.map((w) => iso(w.start)),
      ['2026-01-01T05:00:00.000Z', '2026-01-01T06:00:00.000Z'],
    );
    assert.equal(iso(result.watermark ?? new Date(0)), '2026-01-01T07:00:00.000Z');
    const fresh = planResume({ schedule: hourly, watermark: null, createdAt: at('2026-01-01T07:10:00Z'), now: at('2026-01-01T07:20:00Z') });
    assert.deepEqual(fresh, { skipped: [], skippedOmitted: null, watermark: null, nextWindowEnd: at('2026-01-01T08:00:00Z') });
  });

  it('a long pause is summarised beyond SKIPPED_RECORD_LIMIT', () => {
    const result = planResume({ schedule: hourly, watermark: at('2026-01-01T00:00:00Z'), createdAt: at('2025-12-01T00:00:00Z'), now: at('2026-03-01T00:30:00Z') });
    const total = (at('2026-03-01T00:00:00Z').getTime() - at('2026-01-01T00:00:00Z').getTime()) / HOUR;
    assert.equal(result.skipped.length, SKIPPED_RECORD_LIMIT);
    assert.equal(result.skippedOmitted?.count, total - SKIPPED_RECORD_LIMIT);
    assert.equal(iso(result.skippedOmitted?.end ?? new Date(0)), iso(result.skipped[0]?.start ?? new Date(1)));
    assert.equal(iso(result.skipped.at(-1)?.end ?? new Date(0)), '2026-03-01T00:00:00.000Z');
    assert.equal(iso(result.watermark ?? new Date(0)), '2026-03-01T00:00:00.000Z');
  });

  it('resumes a cron topic across DST into the current window', () => {
    const result = planResume({ schedule: berlin, watermark: at('2026-03-28T12:00:00Z'), createdAt: at('2026-01-01T00:00:00Z'), now: at('2026-03-29T08:00:00Z') });
    assert.deepEqual(pairs(result.skipped), [
      ['2026-03-28T12:00:00.000Z', '2026-03-28T19:00:00.000Z'],
      ['2026-03-28T19:00:00.000Z', '2026-03-29T06:00:00.000Z'],
    ]);
    assert.equal(iso(result.nextWindowEnd), '2026-03-29T11:00:00.000Z');
  });
});

describe('planDueWindows: input validation', () => {
  it('rejects bad numbers and dates with ScheduleError', () => {
    const now = at('2026-01-01T05:00:00Z');
    assert.throws(() => plan({ now, lagSeconds: -1 }), ScheduleError);
    assert.throws(() => plan({ now, lagSeconds: Number.NaN }), ScheduleError);
    assert.throws(() => plan({ now, maxCatchupWindows: 0 }), /max catch-up windows 0/);
    assert.throws(() => plan({ now, maxCatchupWindows: 1.5 }), ScheduleError);
    assert.throws(() => plan({ now: new Date(Number.NaN) }), /invalid now/);
    assert.throws(() => plan({ now, watermark: new Date(Number.NaN) }), /invalid watermark/);
    assert.throws(() => planResume({ schedule: hourly, watermark: null, createdAt: new Date(Number.NaN), now }), /invalid createdAt/);
  });
});
