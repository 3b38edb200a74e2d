import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assertCron, ScheduleError } from '../src/index.js';
import { countWallMatches, nextWallMatch, parseCron, prevWallMatch } from '../src/cron-expression.js';
import { nextFire } from '../src/cron-time.js';
import { at, DAY, int, iso, MINUTE, oracleMatcher, pick, prng } from './support.js';

/** Fire times in UTC (no DST) in [from, to). */
function firesUtc(expression: string, from: string, to: string): string[] {
  const spec = parseCron(expression);
  const fires: string[] = [];
  for (let t = nextFire(spec, 'UTC', at(from).getTime() - 1); t < at(to).getTime(); t = nextFire(spec, 'UTC', t)) {
    fires.push(iso(new Date(t)));
  }
  return fires;
}

describe('assertCron', () => {
  it('accepts standard 5-field expressions', () => {
    for (const expression of [
      '0 8,13,20 * * *',
      '*/15 9-17 * * 1-5',
      '0 0 1 JAN *',
      '0 12 * * mon-fri',
      '0 0 * * 7',
      '0 0 29 2 *',
      '5/15 * * * *',
      '0-59/20 */6 1-31/2 */3 *',
      '  0   8  *  *  *  ',
      '59 23 31 12 SAT',
    ]) {
      assert.doesNotThrow(() => assertCron(expression, 'Europe/Berlin'), expression);
    }
  });

  it('rejects bad expressions with one line naming the expression and the problem', () => {
    const cases: [string, RegExp][] = [
      ['0 25 * * *', /hour 25 is out of range 0-23/],
      ['60 * * * *', /minute 60 is out of range 0-59/],
      ['0 0 0 * *', /day-of-month 0 is out of range 1-31/],
      ['0 0 * 13 *', /month 13 is out of range 1-12/],
      ['0 0 * * 8', /day-of-week 8 is out of range 0-7/],
      ['* * * *', /expected 5 fields.*got 4/],
      ['0 0 * * * *', /got 6 \(seconds are not supported\)/],
      ['', /expected 5 fields/],
      ['@daily', /nicknames like @daily are not supported/],
      ['0 0 30 2 *', /never fire/],
      ['0 0 31 4,6,9,11 *', /never fire/],
      ['0 0 ? * *', /unsupported character "\?"/],
      ['0 0 L * *', /"L" is not a valid day-of-month/],
      ['0 0 * * 5#2', /unsupported character "#"/],
      ['*/0 * * * *', /step "0" in minute/],
      ['5-1 * * * *', /range "5-1" in minute goes backwards/],
      ['1,,2 * * * *', /empty list item in minute/],
      ['1-2-3 * * * *', /"1-2-3" is not a valid minute/],
      ['*/5/2 * * * *', /more than one "\/"/],
      ['0 0 * FOO *', /"FOO" is not a valid month/],
      ['a b c d e', /"a" is not a valid minute/],
    ];
    for (const [expression, reason] of cases) {
      assert.throws(
        () => assertCron(expression, 'UTC'),
        (error: unknown) =>
          error instanceof ScheduleError &&
          error.message.includes(`"${expression}"`) &&
          reason.test(error.message) &&
          !error.message.includes('\n'),
        `${expression}: expected ${reason}`,
      );
    }
  });

  it('checks the time zone too', () => {
    assert.throws(() => assertCron('0 8 * * *', 'Mars/Base'), { name: 'ScheduleError', message: 'unknown time zone "Mars/Base"' });
  });
});

describe('cron field semantics', () => {
  it('names, ranges, steps and Sunday as 0 or 7', () => {
    assert.deepEqual(parseCron('0 0 * * 7').weekdays, parseCron('0 0 * * 0').weekdays);
    assert.deepEqual(parseCron('0 0 * * SUN').weekdays, parseCron('0 0 * * 0').weekdays);
    assert.deepEqual(parseCron('0 0 * * 5-7').weekdays, [true, false, false, false, false, true, true]);
    assert.deepEqual(parseCron('0 0 * jan-mar *').months.slice(1, 5), [true, true, true, false]);
    const minutes = parseCron('5/20 * * * *').minutes;
    assert.deepEqual([...minutes.keys()].filter((m) => minutes[m]), [5, 25, 45]);
    const hoursList = parseCron('0 1-10/4,23 * * *').hours;
    assert.deepEqual([...hoursList.keys()].filter((h) => hoursList[h]), [1, 5, 9, 23]);
  });

  it('marks schedules periodic when the minute or hour field starts with *', () => {
    assert.equal(parseCron('0 * * * *').periodic, true);
    assert.equal(parseCron('*/15 9-17 * * *').periodic, true);
    assert.equal(parseCron('0 */2 * * *').periodic, true);
    assert.equal(parseCron('0 8,13,20 * * *').periodic, false);
    assert.equal(parseCron('0-59 0-23 * * *').periodic, false);
  });

  it('ORs day-of-month and day-of-week when both are restricted (Vixie cron)', () => {
    // 2026-06: the 1st is a Monday; Mondays are 1, 8, 15, 22, 29; the 15th is a Monday too.
    assert.deepEqual(firesUtc('0 0 15 * MON', '2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z'), [
      '2026-06-01T00:00:00.000Z',
      '2026-06-08T00:00:00.000Z',
      '2026-06-15T00:00:00.000Z',
      '2026-06-22T00:00:00.000Z',
      '2026-06-29T00:00:00.000Z',
    ]);
    assert.deepEqual(firesUtc('0 0 10 * WED', '2026-06-01T00:00:00Z', '2026-06-20T00:00:00Z'), [
      '2026-06-03T00:00:00.000Z',
      '2026-06-10T00:00:00.000Z',
      '2026-06-17T00:00:00.000Z',
    ]);
  });

  it('ANDs them when either starts with * (so */2 keeps AND semantics)', () => {
    // Odd days of June 2026 that are Mondays: 1, 15, 29.
    assert.deepEqual(firesUtc('0 0 */2 * MON', '2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z'), [
      '2026-06-01T00:00:00.000Z',
      '2026-06-15T00:00:00.000Z',
      '2026-06-29T00:00:00.000Z',
    ]);
    assert.deepEqual(firesUtc('0 0 * * MON', '2026-06-01T00:00:00Z', '2026-06-15T00:00:00Z'), [
      '2026-06-01T00:00:00.000Z',
      '2026-06-08T00:00:00.000Z',
    ]);
  });

  it('handles month ends and leap days', () => {
    assert.deepEqual(firesUtc('0 0 31 * *', '2026-01-01T00:00:00Z', '2026-07-01T00:00:00Z'), [
      '2026-01-31T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
    ]);
    const spec = parseCron('0 12 29 2 *');
    assert.equal(iso(new Date(nextWallMatch(spec, Date.UTC(2026, 0, 1)))), '2028-02-29T12:00:00.000Z');
    assert.equal(iso(new Date(prevWallMatch(spec, Date.UTC(2026, 0, 1)))), '2024-02-29T12:00:00.000Z');
    // 2100 is not a leap year.
    assert.equal(iso(new Date(nextWallMatch(spec, Date.UTC(2097, 0, 1)))), '2104-02-29T12:00:00.000Z');
  });
});

describe('wall-clock matching against a brute-force oracle', () => {
  const random = prng(20_260_329);
  const minuteFields = ['*', '0', '30', '*/15', '*/7', '5-10', '0,30', '59', '0-59/20', '13/17'];
  const hourFields = ['*', '0', '2', '*/3', '1-3', '8,13,20', '23', '9-17', '*/5'];
  const domFields = ['*', '*', '*', '1', '15', '1-7', '*/2', '29', '31', '10-20/3'];
  const monthFields = ['*', '*', '*', '1,3', '2', 'jun-aug', '*/4', '12'];
  const dowFields = ['*', '*', '*', '0', '1-5', 'SAT,SUN', '*/3', '7', 'wed'];

  it('nextWallMatch, prevWallMatch and countWallMatches agree with a minute-by-minute scan', () => {
    for (let round = 0; round < 150; round++) {
      const expression = [minuteFields, hourFields, domFields, monthFields, dowFields].map((f) => pick(random, f)).join(' ');
      let spec;
      try {
        spec = parseCron(expression);
      } catch {
        continue; // e.g. `0 0 31 2 *`
      }
      const { matches } = oracleMatcher(expression);
      const start = Date.UTC(2026, 0, 1) + int(random, 0, 700) * DAY + int(random, 0, 1439) * MINUTE;
      const span = 3 * DAY;
      const expected: number[] = [];
      for (let m = start / MINUTE; m < (start + span) / MINUTE; m++) if (matches(m)) expected.push(m * MINUTE);

      const actual: number[] = [];
      for (let w = start; ; ) {
        const next = nextWallMatch(spec, w);
        if (next >= start + span) break;
        actual.push(next);
        w = next + MINUTE;
      }
      assert.deepEqual(actual, expected, expression);
      assert.equal(countWallMatches(spec, start, start + span), expected.length, expression);

      const backwards: number[] = [];
      for (let w = start + span - 1; ; ) {
        const prev = prevWallMatch(spec, w);
        if (prev < start) break;
        backwards.push(prev);
        w = prev - MINUTE;
      }
      assert.deepEqual(backwards.reverse(), expected, expression);
    }
  });

  it('rounds sub-minute wall times the right way', () => {
    const spec = parseCron('*/10 * * * *');
    const t = Date.UTC(2026, 4, 1, 12, 10, 30);
    assert.equal(nextWallMatch(spec, t), Date.UTC(2026, 4, 1, 12, 20));
    assert.equal(prevWallMatch(spec, t), Date.UTC(2026, 4, 1, 12, 10));
    assert.equal(nextWallMatch(spec, Date.UTC(2026, 4, 1, 12, 10)), Date.UTC(2026, 4, 1, 12, 10));
  });
});
