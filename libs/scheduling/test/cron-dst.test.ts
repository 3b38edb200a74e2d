import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { windowContaining, windowsBetween } from '../src/index.js';
import type { Schedule } from '../src/index.js';
import { parseCron } from '../src/cron-expression.js';
import { countFires, nextFire, previousFire } from '../src/cron-time.js';
import { assertContiguous, at, DAY, hours, HOUR, int, iso, offsetChanges, oracleFires, pairs, pick, prng } from './support.js';

const cron = (expression: string, timeZone: string): Schedule => ({ kind: 'cron', expression, timeZone });

describe('cron windows: [previous fire <= instant, next fire > instant)', () => {
  const schedule = cron('0 8,13,20 * * *', 'Europe/Berlin');

  it('contains the instant', () => {
    assert.deepEqual(pairs([windowContaining(schedule, at('2026-05-05T10:00:00Z'))]), [
      ['2026-05-05T06:00:00.000Z', '2026-05-05T11:00:00.000Z'],
    ]);
  });

  it('an instant exactly on a fire time starts a new window', () => {
    assert.deepEqual(pairs([windowContaining(schedule, at('2026-05-05T11:00:00Z'))]), [
      ['2026-05-05T11:00:00.000Z', '2026-05-05T18:00:00.000Z'],
    ]);
    assert.deepEqual(pairs([windowContaining(schedule, at('2026-05-05T10:59:59.999Z'))]), [
      ['2026-05-05T06:00:00.000Z', '2026-05-05T11:00:00.000Z'],
    ]);
  });

  it('wraps around midnight', () => {
    assert.deepEqual(pairs([windowContaining(schedule, at('2026-05-05T23:00:00Z'))]), [
      ['2026-05-05T18:00:00.000Z', '2026-05-06T06:00:00.000Z'],
    ]);
  });
});

describe('cron across DST in Europe/Berlin', () => {
  it('0 8,13,20: the night into the spring change is 11 real hours (20:00 CET -> 08:00 CEST)', () => {
    const window = windowContaining(cron('0 8,13,20 * * *', 'Europe/Berlin'), at('2026-03-29T03:00:00Z'));
    assert.deepEqual(pairs([window]), [['2026-03-28T19:00:00.000Z', '2026-03-29T06:00:00.000Z']]);
    assert.equal(hours(window), 11);
  });

  it('0 8,13,20: the night into the autumn change is 13 real hours', () => {
    const window = windowContaining(cron('0 8,13,20 * * *', 'Europe/Berlin'), at('2026-10-25T03:00:00Z'));
    assert.deepEqual(pairs([window]), [['2026-10-24T18:00:00.000Z', '2026-10-25T07:00:00.000Z']]);
    assert.equal(hours(window), 13);
  });

  it('0 0 * * *: 2026-03-29 is a 23-hour day and 2026-10-25 a 25-hour day', () => {
    const daily = cron('0 0 * * *', 'Europe/Berlin');
    const spring = windowsBetween(daily, at('2026-03-27T23:00:00Z'), at('2026-03-30T22:00:00Z'));
    assert.deepEqual(spring.map(hours), [24, 23, 24]);
    assert.equal(iso(spring[1]?.start ?? new Date(0)), '2026-03-28T23:00:00.000Z');
    const autumn = windowsBetween(daily, at('2026-10-23T22:00:00Z'), at('2026-10-26T23:00:00Z'));
    assert.deepEqual(autumn.map(hours), [24, 25, 24]);
    assert.equal(iso(autumn[1]?.start ?? new Date(0)), '2026-10-24T22:00:00.000Z');
  });

  it('30 2 * * * on the spring-forward day fires at 03:00 CEST, when the clock passes 02:30', () => {
    // 02:30 does not exist on 2026-03-29. We fire at the jump (01:00 UTC = 03:00 CEST), as Vixie
    // cron/cronie do ("jobs in the skipped interval run immediately"). For reference, croner 9.1
    // fires at 03:30 CEST (01:30 UTC), i.e. shifts by the gap; we replaced it (see cron-time.ts).
    const windows = windowsBetween(cron('30 2 * * *', 'Europe/Berlin'), at('2026-03-28T00:00:00Z'), at('2026-03-31T00:00:00Z'));
    assert.deepEqual(pairs(windows), [
      ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z'],
      ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    ]);
    assert.deepEqual(windows.map(hours), [23.5, 23.5]);
  });

  it('30 2 * * * on the fall-back day fires once, at the first 02:30 (CEST)', () => {
    const windows = windowsBetween(cron('30 2 * * *', 'Europe/Berlin'), at('2026-10-24T00:00:00Z'), at('2026-10-27T00:00:00Z'));
    assert.deepEqual(pairs(windows), [
      ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z'],
      ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    ]);
    // During the second pass through 02:xx (CET) we are still in the window that began at the first.
    assert.deepEqual(pairs([windowContaining(cron('30 2 * * *', 'Europe/Berlin'), at('2026-10-25T01:40:00Z'))]), [
      ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    ]);
  });

  it('0 * * * * (periodic) stays one real hour: 23 windows on the spring day, 25 on the autumn day', () => {
    const hourly = cron('0 * * * *', 'Europe/Berlin');
    const spring = windowsBetween(hourly, at('2026-03-28T23:00:00Z'), at('2026-03-29T22:00:00Z'));
    assert.equal(spring.length, 23);
    assert.ok(spring.every((w) => hours(w) === 1));
    const autumn = windowsBetween(hourly, at('2026-10-24T22:00:00Z'), at('2026-10-25T23:00:00Z'));
    assert.equal(autumn.length, 25);
    assert.ok(autumn.every((w) => hours(w) === 1));
    // Both passes through 02:00 are boundaries.
    assert.ok(autumn.some((w) => iso(w.start) === '2026-10-25T00:00:00.000Z'));
    assert.ok(autumn.some((w) => iso(w.start) === '2026-10-25T01:00:00.000Z'));
  });

  it('*/20 9-17 (periodic) is unaffected by a change outside its hours', () => {
    const windows = windowsBetween(cron('*/20 9-17 * * *', 'Europe/Berlin'), at('2026-03-29T00:00:00Z'), at('2026-03-29T16:00:00Z'));
    assert.equal(iso(windows[0]?.start ?? new Date(0)), '2026-03-29T07:00:00.000Z'); // 09:00 CEST
  });
});

describe('cron across DST in America/New_York', () => {
  it('0 0 * * *: 23 hours on 2026-03-08, 25 hours on 2026-11-01', () => {
    const daily = cron('0 0 * * *', 'America/New_York');
    assert.deepEqual(windowsBetween(daily, at('2026-03-07T05:00:00Z'), at('2026-03-10T04:00:00Z')).map(hours), [24, 23, 24]);
    assert.deepEqual(windowsBetween(daily, at('2026-10-31T04:00:00Z'), at('2026-11-03T05:00:00Z')).map(hours), [24, 25, 24]);
  });

  it('30 2 * * * fires at 03:00 EDT on 2026-03-08 (02:30 is skipped)', () => {
    const window = windowContaining(cron('30 2 * * *', 'America/New_York'), at('2026-03-08T12:00:00Z'));
    assert.deepEqual(pairs([window]), [['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']]);
  });

  it('30 1 * * * fires once on 2026-11-01, at 01:30 EDT', () => {
    const windows = windowsBetween(cron('30 1 * * *', 'America/New_York'), at('2026-10-31T00:00:00Z'), at('2026-11-03T00:00:00Z'));
    assert.deepEqual(pairs(windows), [
      ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z'],
      ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    ]);
  });

  it('*/30 * * * * fires at both 01:00 EDT and 01:00 EST', () => {
    const windows = windowsBetween(cron('*/30 * * * *', 'America/New_York'), at('2026-11-01T04:30:00Z'), at('2026-11-01T07:30:00Z'));
    assert.deepEqual(
      windows.map((w) => iso(w.start)),
      ['04:30', '05:00', '05:30', '06:00', '06:30', '07:00'].map((t) => `2026-11-01T${t}:00.000Z`),
    );
  });
});

describe('cron fire times agree with a brute-force oracle around DST changes', () => {
  // Ranges chosen to contain an offset change (asserted below), in zones with unusual rules:
  // 30-minute DST (Lord Howe), changes at midnight (Santiago), southern hemisphere (Sydney),
  // a +12:45 zone (Chatham) and a zone without DST (Kolkata).
  const ranges: [string, string, string][] = [
    ['Europe/Berlin', '2026-03-28T12:00:00Z', '2026-03-30T00:00:00Z'],
    ['Europe/Berlin', '2026-10-24T12:00:00Z', '2026-10-26T00:00:00Z'],
    ['America/New_York', '2026-03-07T18:00:00Z', '2026-03-09T06:00:00Z'],
    ['America/New_York', '2026-10-31T18:00:00Z', '2026-11-02T06:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T06:00:00Z', '2026-04-05T18:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T06:00:00Z', '2026-10-04T18:00:00Z'],
    ['America/Santiago', '2026-04-04T12:00:00Z', '2026-04-06T00:00:00Z'],
    ['America/Santiago', '2026-09-05T12:00:00Z', '2026-09-07T00:00:00Z'],
    ['Australia/Sydney', '2026-04-04T06:00:00Z', '2026-04-05T18:00:00Z'],
    ['Pacific/Chatham', '2026-04-04T00:00:00Z', '2026-04-05T12:00:00Z'],
    ['Asia/Kolkata', '2026-03-28T12:00:00Z', '2026-03-30T00:00:00Z'],
  ];
  const expressions = [
    '0 * * * *',
    '30 * * * *',
    '*/15 * * * *',
    '*/7 * * * *',
    '45 */2 * * *',
    '0 0 * * *',
    '30 0 * * *',
    '0 1 * * *',
    '30 1 * * *',
    '30 2 * * *',
    '0 2 * * *',
    '15 2,3 * * *',
    '0,30 1-3 * * *',
    '0-59/10 2 * * *',
    '0 8,13,20 * * *',
    '59 23 * * *',
    '0 0 * * SUN',
    '* 2 * * *',
    '0 0-23 * * *',
  ];
  const random = prng(42);

  for (const [zone, fromText, toText] of ranges) {
    it(`${zone} ${fromText.slice(0, 10)}`, () => {
      const from = at(fromText).getTime();
      const to = at(toText).getTime();
      if (zone !== 'Asia/Kolkata') assert.ok(offsetChanges(zone, from, to), 'test range must contain a DST change');
      for (const expression of expressions) {
        const spec = parseCron(expression);
        const expected = oracleFires(expression, zone, from, to);
        const label = `${expression} in ${zone}: ${expected.map((t) => iso(new Date(t))).join(' ')}`;

        const forward: number[] = [];
        for (let t = nextFire(spec, zone, from - 1); t < to; t = nextFire(spec, zone, t)) forward.push(t);
        assert.deepEqual(forward, expected, `nextFire ${label}`);

        const backward: number[] = [];
        for (let t = previousFire(spec, zone, to - 1); t >= from; t = previousFire(spec, zone, t - 1)) backward.push(t);
        assert.deepEqual(backward.reverse(), expected, `previousFire ${label}`);

        assert.equal(countFires(spec, zone, from, to), expected.length, `countFires ${label}`);

        // Random instants (not only fire times): the window around them matches the oracle.
        for (let i = 0; i < 10; i++) {
          const t = from + DAY / 2 + int(random, 0, to - from - DAY) + pick(random, [0, 0, 1, -1, 30_000]);
          const before = expected.filter((f) => f <= t).at(-1);
          const after = expected.find((f) => f > t);
          if (before === undefined || after === undefined) continue;
          const window = windowContaining({ kind: 'cron', expression, timeZone: zone }, new Date(t));
          assert.deepEqual([window.start.getTime(), window.end.getTime()], [before, after], `window at ${iso(new Date(t))} ${label}`);
        }
      }
    });
  }

  it('random expressions in random DST ranges', () => {
    const fields = [
      ['*', '0', '30', '*/15', '*/20', '5,35', '59', '0-30/10'],
      ['*', '0', '1', '2', '3', '*/2', '1-3', '0,2,23', '22-23'],
      ['*', '*', '*', '4,5,25,26', '*/2'],
      ['*', '*', '3,4,9,10,11'],
      ['*', '*', '*', '0', '6', '0,6'],
    ];
    for (let round = 0; round < 40; round++) {
      const [zone, fromText, toText] = pick(random, ranges);
      const expression = fields.map((f) => pick(random, f)).join(' ');
      const spec = parseCron(expression);
      const from = at(fromText).getTime();
      const to = at(toText).getTime();
      const expected = oracleFires(expression, zone, from, to);
      const forward: number[] = [];
      for (let t = nextFire(spec, zone, from - 1); t < to; t = nextFire(spec, zone, t)) forward.push(t);
      assert.deepEqual(forward, expected, `${expression} in ${zone}`);
      assert.equal(countFires(spec, zone, from, to), expected.length, `${expression} in ${zone}`);
    }
  });
});

describe('cron over long spans', () => {
  it('countFires over a year matches enumeration, including both DST changes', () => {
    const spec = parseCron('*/30 * * * *');
    const from = at('2026-01-01T00:00:00Z').getTime();
    const to = at('2027-01-01T00:00:00Z').getTime();
    let enumerated = 0;
    for (let t = nextFire(spec, 'Europe/Berlin', from - 1); t < to; t = nextFire(spec, 'Europe/Berlin', t)) enumerated++;
    assert.equal(enumerated, 365 * 48);
    assert.equal(countFires(spec, 'Europe/Berlin', from, to), enumerated);
    const fixed = parseCron('30 2 * * *');
    assert.equal(countFires(fixed, 'Europe/Berlin', from, to), 365);
  });

  it('windows stay contiguous over a year of a DST-crossing schedule', () => {
    const windows = windowsBetween(cron('15 1,2,3 * * *', 'Europe/London'), at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'));
    assertContiguous(windows);
    assert.ok(windows.length >= 3 * 365 - 3);
  });

  it('rare schedules (leap day) are found in both directions', () => {
    const schedule = cron('0 12 29 2 *', 'Europe/Berlin');
    assert.deepEqual(pairs([windowContaining(schedule, at('2026-06-01T00:00:00Z'))]), [
      ['2024-02-29T11:00:00.000Z', '2028-02-29T11:00:00.000Z'],
    ]);
  });
});

describe('host time zone independence', () => {
  it('gives identical windows whatever TZ the process runs in', () => {
    const script = `
      import { windowsBetween } from ${JSON.stringify(fileURLToPath(new URL('../src/index.ts', import.meta.url)))};
      const out = [];
      for (const [expression, timeZone] of [['0 * * * *', 'UTC'], ['0 * * * *', 'Europe/Berlin'], ['30 2 * * *', 'America/New_York'], ['*/30 * * * *', 'Australia/Sydney']]) {
        for (const [from, to] of [['2025-10-04T00:00:00Z', '2025-10-06T00:00:00Z'], ['2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z'], ['2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z']]) {
          out.push(windowsBetween({ kind: 'cron', expression, timeZone }, new Date(from), new Date(to)).map((w) => w.start.getTime()));
        }
      }
      console.log(JSON.stringify(out));
    `;
    const run = (tz: string): string =>
      execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, TZ: tz },
        encoding: 'utf8',
      });
    // croner 9.1 got UTC schedules wrong when the host was in Sydney (croner issue #284).
    const sydney = run('Australia/Sydney');
    assert.equal(run('UTC'), sydney);
    // Sanity: hourly UTC across the Sydney change (2025-10-05) is 48 one-hour windows.
    const parsed = JSON.parse(sydney) as number[][];
    assert.equal(parsed[0]?.length, 48);
    assert.ok((parsed[0] ?? []).every((t, i, all) => i === 0 || t - (all[i - 1] ?? 0) === HOUR));
  });
});
