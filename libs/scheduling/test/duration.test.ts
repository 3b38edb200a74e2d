import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatDuration, parseDuration, ScheduleError } from '../src/index.js';
import { int, prng } from './support.js';

describe('parseDuration', () => {
  it('reads the documented forms', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('30m'), 1800);
    assert.equal(parseDuration('1h'), 3600);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.equal(parseDuration('2d'), 172_800);
    assert.equal(parseDuration('1d2h3m4s'), 93_784);
    assert.equal(parseDuration('60s'), 60);
    assert.equal(parseDuration('1m'), 60);
    assert.equal(parseDuration('7d'), 604_800);
  });

  it('tolerates surrounding whitespace and upper case', () => {
    assert.equal(parseDuration('  45m '), 2700);
    assert.equal(parseDuration('1H30M'), 5400);
  });

  it('rejects malformed input with one clear line naming it', () => {
    assert.throws(() => parseDuration('5x'), {
      name: 'ScheduleError',
      message: 'invalid duration "5x": use a number with s, m, h or d, e.g. 30m, 1h30m',
    });
    for (const bad of ['', '   ', 'h', '1.5h', '30m1h', '1h1h', '3600', '-5m', '1h 30m', '1w', 'm30', '1h30', 'ten minutes']) {
      assert.throws(
        () => parseDuration(bad),
        (error: unknown) => error instanceof ScheduleError && error.message.startsWith(`invalid duration "${bad}"`) && !error.message.includes('\n'),
        bad,
      );
    }
  });

  it('enforces the one-minute minimum of DESIGN §4', () => {
    assert.throws(() => parseDuration('30s'), { name: 'ScheduleError', message: 'duration "30s" is too short: a schedule must be at least 1m' });
    assert.throws(() => parseDuration('59s'), ScheduleError);
    assert.throws(() => parseDuration('0m'), ScheduleError);
  });

  it('rejects absurdly long durations instead of losing precision', () => {
    assert.throws(() => parseDuration('99999999999999999999d'), /too long/);
    assert.throws(() => parseDuration('36501d'), /too long/);
    assert.equal(parseDuration('36500d'), 36_500 * 86_400);
  });
});

describe('formatDuration', () => {
  it('formats largest unit first, omitting zero parts', () => {
    assert.equal(formatDuration(5400), '1h30m');
    assert.equal(formatDuration(60), '1m');
    assert.equal(formatDuration(90), '1m30s');
    assert.equal(formatDuration(86_400), '1d');
    assert.equal(formatDuration(90_061), '1d1h1m1s');
    assert.equal(formatDuration(172_800 + 60), '2d1m');
    assert.equal(formatDuration(0), '0s');
  });

  it('rejects values that are not whole non-negative seconds', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) assert.throws(() => formatDuration(bad), ScheduleError);
  });

  it('round-trips with parseDuration', () => {
    const random = prng(7);
    for (let i = 0; i < 500; i++) {
      const seconds = int(random, 60, 90 * 86_400);
      assert.equal(parseDuration(formatDuration(seconds)), seconds);
    }
  });
});
