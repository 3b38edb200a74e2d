import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  BACKOFF_CAP_MS,
  HN_MAX_INTERVAL_MS,
  MIN_POLL_INTERVAL_LOWER_BOUND_MS,
  planNextPoll,
  POLLS_PER_TURNOVER,
  QUIET_GROWTH,
  SATURATED_TURNOVER_FACTOR,
} from '../src/index.js';
import type { PollCadenceInput, PollOutcome, PollPlan, PublisherHints } from '../src/index.js';
import { at, DAY, HOUR, int, MINUTE, pick, prng } from './support.js';

const NOW = at('2026-03-10T12:00:00Z');
const SECOND = 1_000;
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);

function plan(overrides: Partial<PollCadenceInput>): PollPlan {
  return planNextPoll({
    now: NOW,
    minIntervalMs: MINUTE,
    maxIntervalMs: 6 * HOUR,
    previousIntervalMs: null,
    lastPolledAt: null,
    kind: 'feed',
    outcome: { status: 'ok', visibleCount: 0, newCount: 0, itemDates: [] },
    hints: null,
    ...overrides,
  });
}

const ok = (visibleCount: number, newCount: number, itemDates: Date[] = []): PollOutcome => ({ status: 'ok', visibleCount, newCount, itemDates });
const error = (consecutiveFailures: number, permanent?: boolean): PollOutcome => ({ status: 'error', consecutiveFailures, ...(permanent === undefined ? {} : { permanent }) });
const noHints: PublisherHints = { retryAfter: null, cacheControl: null, expires: null, date: null, ttlMinutes: null };
/** Five items, 8 minutes apart: span 32 min, turnover 5·32/4 = 40 min. */
const every8min = [0, 8, 16, 24, 32].map((m) => ago(m * MINUTE));
const wait = (p: PollPlan): number => p.nextPollAt.getTime() - NOW.getTime();

describe('planNextPoll: constants', () => {
  it('are the documented values', () => {
    assert.equal(POLLS_PER_TURNOVER, 2);
    assert.equal(QUIET_GROWTH, 1.5);
    assert.equal(SATURATED_TURNOVER_FACTOR, 0.5);
    assert.equal(BACKOFF_CAP_MS, DAY);
    assert.equal(HN_MAX_INTERVAL_MS, 15 * MINUTE);
    assert.equal(MIN_POLL_INTERVAL_LOWER_BOUND_MS, SECOND);
  });
});

describe('planNextPoll: (a) turnover from item dates', () => {
  it('n dated items spanning S turn over in n·S/(n-1); the interval is half of that', () => {
    const p = plan({ outcome: ok(5, 0, every8min) });
    assert.deepEqual(p, {
      nextPollAt: new Date(NOW.getTime() + 20 * MINUTE),
      intervalMs: 20 * MINUTE,
      notBefore: null,
      reason: 'turnover ~40 min from item dates → every 20 min',
    });
  });

  it('order does not matter and invalid dates are skipped', () => {
    const shuffled = [every8min[3], new Date(Number.NaN), every8min[0], every8min[4], every8min[1], every8min[2]].filter((d): d is Date => d !== undefined);
    assert.equal(plan({ outcome: ok(6, 0, shuffled) }).intervalMs, 20 * MINUTE);
  });

  it('uses the dated items only: two dates 10 min apart turn over in 20 min', () => {
    assert.equal(plan({ outcome: ok(30, 0, [ago(0), ago(10 * MINUTE)]) }).intervalMs, 10 * MINUTE);
  });

  it('one date, or all dates equal, is no estimate', () => {
    const quiet = 'nothing new, nothing known yet → every 1 min';
    assert.equal(plan({ outcome: ok(5, 0, [ago(HOUR)]) }).reason, quiet);
    assert.equal(plan({ outcome: ok(5, 0, [ago(HOUR), ago(HOUR), ago(HOUR)]) }).reason, quiet);
    assert.equal(plan({ outcome: ok(5, 0, [new Date(Number.NaN), ago(HOUR)]) }).reason, quiet);
  });
});

describe('planNextPoll: (b) turnover from what the last poll found', () => {
  it('newCount of visibleCount new in elapsed: turnover visibleCount·elapsed/newCount', () => {
    const p = plan({ lastPolledAt: ago(10 * MINUTE), outcome: ok(20, 5) });
    assert.equal(p.intervalMs, 20 * MINUTE);
    assert.equal(wait(p), 20 * MINUTE);
    assert.equal(p.reason, 'turnover ~40 min from 5 of 20 items new in 10 min → every 20 min');
  });

  it('everything new: turnover is at most elapsed, taken as half of it', () => {
    const p = plan({ lastPolledAt: ago(10 * MINUTE), outcome: ok(20, 20) });
    assert.equal(p.intervalMs, 2.5 * MINUTE);
    assert.equal(p.reason, 'all 20 items new in 10 min (some may be missed): turnover ~5 min → every 2.5 min');
    // More new than visible cannot happen, but is read the same way.
    assert.equal(plan({ lastPolledAt: ago(10 * MINUTE), outcome: ok(20, 25) }).intervalMs, 2.5 * MINUTE);
  });

  it('needs a previous poll in the past and something new', () => {
    const quiet = /^nothing new/;
    assert.match(plan({ lastPolledAt: null, outcome: ok(20, 5) }).reason, quiet);
    assert.match(plan({ lastPolledAt: ago(10 * MINUTE), outcome: ok(20, 0) }).reason, quiet);
    assert.match(plan({ lastPolledAt: ago(10 * MINUTE), outcome: ok(0, 0) }).reason, quiet);
    assert.match(plan({ lastPolledAt: new Date(NOW.getTime() + MINUTE), outcome: ok(20, 5) }).reason, quiet);
    assert.match(plan({ lastPolledAt: NOW, outcome: ok(20, 5) }).reason, quiet);
  });
});

describe('planNextPoll: the more careful estimate wins', () => {
  it('dates faster than the last poll', () => {
    // Dates: turnover 40 min. Poll: 1 of 5 new in 30 min, turnover 150 min.
    const p = plan({ lastPolledAt: ago(30 * MINUTE), outcome: ok(5, 1, every8min) });
    assert.equal(p.intervalMs, 20 * MINUTE);
    assert.match(p.reason, /from item dates/);
  });

  it('the last poll faster than the dates', () => {
    // Dates: turnover 40 min. Poll: 4 of 5 new in 8 min, turnover 10 min.
    const p = plan({ lastPolledAt: ago(8 * MINUTE), outcome: ok(5, 4, every8min) });
    assert.equal(p.intervalMs, 5 * MINUTE);
    assert.equal(p.reason, 'turnover ~10 min from 4 of 5 items new in 8 min → every 5 min');
  });
});

describe('planNextPoll: clamping', () => {
  it('to the minimum', () => {
    const p = plan({ minIntervalMs: 30 * MINUTE, outcome: ok(5, 0, every8min) });
    assert.equal(p.intervalMs, 30 * MINUTE);
    assert.equal(p.reason, 'turnover ~40 min from item dates → every 30 min (minimum)');
  });

  it('to the maximum', () => {
    const weekly = [0, 7, 14].map((d) => ago(d * DAY));
    const p = plan({ outcome: ok(3, 0, weekly) });
    assert.equal(p.intervalMs, 6 * HOUR);
    assert.equal(p.reason, 'turnover ~21 d from item dates → every 6 h (maximum)');
  });

  it('min = max pins the interval', () => {
    assert.equal(plan({ minIntervalMs: HOUR, maxIntervalMs: HOUR, outcome: ok(5, 0, every8min) }).intervalMs, HOUR);
  });

  it('intervals are whole milliseconds', () => {
    const p = plan({ lastPolledAt: ago(10 * MINUTE), outcome: ok(7, 3) });
    assert.ok(Number.isInteger(p.intervalMs));
    assert.equal(p.intervalMs, Math.round((7 * 10 * MINUTE) / 3 / 2));
  });
});

describe('planNextPoll: Hacker News', () => {
  const hn = { kind: 'hackernews' as const };

  it('ignores item dates (story age says nothing about list churn)', () => {
    // Dates alone would say every 20 min; without a last poll there is no estimate.
    const p = plan({ ...hn, outcome: ok(5, 0, every8min) });
    assert.equal(p.intervalMs, MINUTE);
    assert.equal(p.reason, 'nothing new, nothing known yet → every 1 min');
    const fast = [0, 1, 2, 3, 4].map((m) => ago(m * SECOND));
    assert.equal(plan({ ...hn, lastPolledAt: ago(20 * MINUTE), outcome: ok(30, 3, fast) }).intervalMs, 15 * MINUTE);
  });

  it('uses what the last poll found', () => {
    assert.equal(plan({ ...hn, lastPolledAt: ago(10 * MINUTE), outcome: ok(30, 10) }).intervalMs, 15 * MINUTE);
    assert.equal(plan({ ...hn, lastPolledAt: ago(4 * MINUTE), outcome: ok(30, 10) }).intervalMs, 6 * MINUTE);
  });

  it('is capped at 15 min, also when quiet', () => {
    const p = plan({ ...hn, lastPolledAt: ago(HOUR), outcome: ok(30, 1) });
    assert.equal(p.intervalMs, HN_MAX_INTERVAL_MS);
    assert.equal(p.reason, 'turnover ~30 h from 1 of 30 items new in 60 min → every 15 min (Hacker News maximum)');
    assert.equal(plan({ ...hn, previousIntervalMs: 14 * MINUTE, outcome: ok(30, 0) }).intervalMs, HN_MAX_INTERVAL_MS);
    assert.equal(plan({ ...hn, previousIntervalMs: 14 * MINUTE, outcome: { status: 'not_modified' } }).intervalMs, HN_MAX_INTERVAL_MS);
  });

  it('a smaller operator maximum or a larger minimum wins over the 15 min cap', () => {
    assert.equal(plan({ ...hn, maxIntervalMs: 5 * MINUTE, previousIntervalMs: 10 * MINUTE, outcome: { status: 'not_modified' } }).intervalMs, 5 * MINUTE);
    const p = plan({ ...hn, minIntervalMs: 30 * MINUTE, previousIntervalMs: 30 * MINUTE, outcome: { status: 'not_modified' } });
    assert.equal(p.intervalMs, 30 * MINUTE);
  });
});

describe('planNextPoll: quiet feeds grow', () => {
  it('a 304 grows the previous interval by 1.5×', () => {
    const p = plan({ previousIntervalMs: 10 * MINUTE, outcome: { status: 'not_modified' } });
    assert.equal(p.intervalMs, 15 * MINUTE);
    assert.equal(wait(p), 15 * MINUTE);
    assert.equal(p.notBefore, null);
    assert.equal(p.reason, 'not modified → every 15 min (×1.5)');
  });

  it('nothing new and no dates grows too', () => {
    assert.equal(plan({ previousIntervalMs: 10 * MINUTE, lastPolledAt: ago(10 * MINUTE), outcome: ok(20, 0) }).reason, 'nothing new → every 15 min (×1.5)');
  });

  it('repeated growth reaches the maximum and stays there', () => {
    const seen: number[] = [];
    let previous: number | null = null;
    for (let i = 0; i < 20; i++) {
      previous = plan({ previousIntervalMs: previous, outcome: { status: 'not_modified' } }).intervalMs;
      seen.push(previous);
    }
    assert.deepEqual(seen.slice(0, 4), [MINUTE, 1.5 * MINUTE, 2.25 * MINUTE, 3.375 * MINUTE]);
    assert.equal(seen.indexOf(6 * HOUR), 15);
    assert.ok(seen.slice(15).every((ms) => ms === 6 * HOUR));
    assert.equal(plan({ previousIntervalMs: 5 * HOUR, outcome: { status: 'not_modified' } }).reason, 'not modified → every 6 h (×1.5) (maximum)');
  });

  it('first poll with nothing known: the minimum', () => {
    assert.equal(plan({ outcome: { status: 'not_modified' } }).intervalMs, MINUTE);
    assert.equal(plan({ outcome: ok(0, 0) }).intervalMs, MINUTE);
  });

  it('a previous interval outside the current bounds is clamped (configuration changed)', () => {
    assert.equal(plan({ minIntervalMs: 10 * MINUTE, previousIntervalMs: MINUTE, outcome: { status: 'not_modified' } }).intervalMs, 10 * MINUTE);
    assert.equal(plan({ maxIntervalMs: HOUR, previousIntervalMs: DAY, outcome: { status: 'not_modified' } }).intervalMs, HOUR);
  });

  it('one new item brings a grown feed straight back', () => {
    const p = plan({ previousIntervalMs: 6 * HOUR, lastPolledAt: ago(6 * HOUR), outcome: ok(10, 5) });
    assert.equal(p.intervalMs, 6 * HOUR); // turnover 12 h → 6 h
    assert.equal(plan({ previousIntervalMs: 6 * HOUR, lastPolledAt: ago(6 * HOUR), outcome: ok(10, 5, every8min) }).intervalMs, 20 * MINUTE);
  });
});

describe('planNextPoll: failures back off', () => {
  it('doubles from the minimum: 1, 2, 4, 8, 16 s with a 1 s minimum', () => {
    const waits = [1, 2, 3, 4, 5].map((failures) => wait(plan({ minIntervalMs: SECOND, outcome: error(failures) })));
    assert.deepEqual(waits, [1, 2, 4, 8, 16].map((s) => s * SECOND));
  });

  it('notBefore is the retry time, the regular cadence is kept and the reason counts', () => {
    const p = plan({ previousIntervalMs: 20 * MINUTE, outcome: error(4) });
    assert.deepEqual(p, {
      nextPollAt: new Date(NOW.getTime() + 8 * MINUTE),
      intervalMs: 20 * MINUTE,
      notBefore: new Date(NOW.getTime() + 8 * MINUTE),
      reason: 'backoff after 4 failures: 8 min',
    });
    assert.equal(plan({ outcome: error(1) }).reason, 'backoff after 1 failure: 1 min');
    assert.equal(plan({ outcome: error(1) }).intervalMs, MINUTE);
    assert.equal(plan({ maxIntervalMs: 10 * MINUTE, previousIntervalMs: HOUR, outcome: error(1) }).intervalMs, 10 * MINUTE);
  });

  it('caps at 24 h and never stops', () => {
    assert.equal(wait(plan({ outcome: error(11) })), 1024 * MINUTE);
    assert.equal(wait(plan({ outcome: error(12) })), DAY);
    for (const failures of [13, 100, 2_000, Number.MAX_SAFE_INTEGER]) {
      const p = plan({ outcome: error(failures) });
      assert.equal(wait(p), DAY, String(failures));
      assert.equal(p.notBefore?.getTime(), NOW.getTime() + DAY);
    }
  });

  it('is not bounded by the regular maximum (a failing feed waits longer)', () => {
    assert.equal(wait(plan({ maxIntervalMs: 10 * MINUTE, outcome: error(6) })), 32 * MINUTE);
  });

  it('a permanent error goes straight to the cap', () => {
    const p = plan({ outcome: error(1, true) });
    assert.equal(wait(p), DAY);
    assert.equal(p.reason, 'permanent error after 1 failure: retry in 24 h');
    assert.equal(wait(plan({ outcome: error(1, false) })), MINUTE);
  });

  it('a minimum above the cap still wins', () => {
    assert.equal(wait(plan({ minIntervalMs: 2 * DAY, maxIntervalMs: 3 * DAY, outcome: error(1) })), 2 * DAY);
  });
});

describe('planNextPoll: the publisher floor applies to every outcome', () => {
  it('a floor before the cadence only sets notBefore', () => {
    const p = plan({ outcome: ok(5, 0, every8min), hints: { ...noHints, retryAfter: '120' } });
    assert.equal(wait(p), 20 * MINUTE);
    assert.equal(p.intervalMs, 20 * MINUTE);
    assert.equal(p.notBefore?.getTime(), NOW.getTime() + 120 * SECOND);
    assert.equal(p.reason, 'turnover ~40 min from item dates → every 20 min; publisher floor: Retry-After 120 s');
  });

  it('a floor after the cadence moves the next poll, not the cadence', () => {
    const p = plan({ outcome: ok(5, 0, every8min), hints: { ...noHints, cacheControl: 'max-age=3600' } });
    assert.equal(wait(p), HOUR);
    assert.equal(p.intervalMs, 20 * MINUTE);
    assert.equal(p.notBefore?.getTime(), NOW.getTime() + HOUR);
    assert.equal(p.reason, 'publisher: Cache-Control max-age 3600 (cadence: turnover ~40 min from item dates → every 20 min)');
  });

  it('on a 304', () => {
    const p = plan({ previousIntervalMs: 10 * MINUTE, outcome: { status: 'not_modified' }, hints: { ...noHints, ttlMinutes: 60 } });
    assert.equal(wait(p), HOUR);
    assert.equal(p.intervalMs, 15 * MINUTE);
    assert.equal(p.reason, 'publisher: RSS ttl 60 min (cadence: not modified → every 15 min (×1.5))');
  });

  it('on an error: Retry-After longer than the backoff wins, shorter changes nothing', () => {
    const longer = plan({ outcome: error(2), hints: { ...noHints, retryAfter: '600' } });
    assert.equal(wait(longer), 10 * MINUTE);
    assert.equal(longer.notBefore?.getTime(), longer.nextPollAt.getTime());
    assert.equal(longer.reason, 'publisher: Retry-After 600 s (cadence: backoff after 2 failures: 2 min)');
    const shorter = plan({ outcome: error(4), hints: { ...noHints, retryAfter: '60' } });
    assert.equal(wait(shorter), 8 * MINUTE);
    assert.equal(shorter.notBefore?.getTime(), NOW.getTime() + 8 * MINUTE);
  });

  it('HTTP-dates with a skewed Date header', () => {
    const server = (offsetMs: number): string => new Date(NOW.getTime() + 3 * HOUR + offsetMs).toUTCString();
    const p = plan({ outcome: ok(5, 0, every8min), hints: { ...noHints, date: server(0), expires: server(45 * MINUTE) } });
    assert.equal(wait(p), 45 * MINUTE);
  });

  it('the floor is capped at 24 h', () => {
    const p = plan({ outcome: ok(5, 0, every8min), hints: { ...noHints, cacheControl: 'max-age=31536000' } });
    assert.equal(wait(p), DAY);
    assert.equal(p.notBefore?.getTime(), NOW.getTime() + DAY);
  });

  it('garbage hints are ignored', () => {
    const p = plan({ outcome: ok(5, 0, every8min), hints: { retryAfter: 'x', cacheControl: 'max-age=?', expires: '0', date: 'now', ttlMinutes: Number.NaN } });
    assert.equal(wait(p), 20 * MINUTE);
    assert.equal(p.notBefore, null);
    assert.equal(p.reason, 'turnover ~40 min from item dates → every 20 min');
  });
});

describe('planNextPoll: validation', () => {
  it('throws a clear Error for impossible inputs', () => {
    assert.throws(() => plan({ minIntervalMs: 999 }), /minIntervalMs must be at least 1000 ms \(1 s\), got 999/);
    assert.throws(() => plan({ minIntervalMs: Number.NaN }), /minIntervalMs/);
    assert.throws(() => plan({ maxIntervalMs: 30 * SECOND }), /maxIntervalMs must be at least minIntervalMs \(60000 ms\), got 30000/);
    assert.throws(() => plan({ maxIntervalMs: Number.POSITIVE_INFINITY }), /maxIntervalMs/);
    assert.throws(() => plan({ now: new Date(Number.NaN) }), /now is not a valid Date/);
    assert.throws(() => plan({ lastPolledAt: new Date('garbage') }), /lastPolledAt/);
    assert.throws(() => plan({ previousIntervalMs: 0 }), /previousIntervalMs/);
    assert.throws(() => plan({ outcome: ok(-1, 0) }), /visibleCount/);
    assert.throws(() => plan({ outcome: ok(3, 1.5) }), /newCount/);
    assert.throws(() => plan({ outcome: error(0) }), /consecutiveFailures must be an integer ≥ 1, got 0/);
    assert.throws(() => plan({ outcome: error(1.5) }), /consecutiveFailures/);
  });

  it('accepts the smallest legal bounds', () => {
    assert.equal(plan({ minIntervalMs: SECOND, maxIntervalMs: SECOND }).intervalMs, SECOND);
  });
});

describe('planNextPoll: invariants over random inputs', () => {
  it('the interval stays in bounds and the next poll respects every floor', () => {
    const random = prng(61);
    for (let i = 0; i < 5_000; i++) {
      const minIntervalMs = pick(random, [SECOND, MINUTE, 5 * MINUTE, HOUR]);
      const maxIntervalMs = minIntervalMs * pick(random, [1, 2, 60, 1_000]);
      const kind = pick(random, ['feed', 'hackernews'] as const);
      const visible = int(random, 0, 50);
      const outcome: PollOutcome = pick(random, [
        ok(visible, int(random, 0, visible), Array.from({ length: int(random, 0, 10) }, () => ago(int(random, -HOUR, 30 * DAY)))),
        { status: 'not_modified' } as const,
        error(int(random, 1, 40), random() < 0.1),
      ]);
      const hints: PublisherHints | null = random() < 0.5 ? null : { ...noHints, retryAfter: random() < 0.5 ? null : String(int(random, 0, 200_000)), ttlMinutes: random() < 0.5 ? null : int(random, 0, 3_000) };
      const input: PollCadenceInput = {
        now: NOW,
        minIntervalMs,
        maxIntervalMs,
        previousIntervalMs: random() < 0.2 ? null : int(random, 1, 10 * DAY),
        lastPolledAt: random() < 0.2 ? null : ago(int(random, -MINUTE, 2 * DAY)),
        kind,
        outcome,
        hints,
      };
      const p = planNextPoll(input);
      const message = JSON.stringify({ input, p });
      const next = p.nextPollAt.getTime() - NOW.getTime();
      assert.ok(p.intervalMs >= minIntervalMs && p.intervalMs <= maxIntervalMs, message);
      assert.ok(Number.isInteger(p.intervalMs), message);
      assert.ok(next >= minIntervalMs, message);
      assert.ok(next <= Math.max(maxIntervalMs, minIntervalMs, DAY), message);
      if (kind === 'hackernews' && outcome.status !== 'error' && hints === null) assert.ok(p.intervalMs <= Math.max(minIntervalMs, HN_MAX_INTERVAL_MS), message);
      if (p.notBefore !== null) assert.ok(p.notBefore.getTime() <= p.nextPollAt.getTime(), message);
      if (outcome.status === 'error') assert.equal(p.notBefore?.getTime(), p.nextPollAt.getTime(), message);
      assert.ok(p.reason.length > 0, message);
    }
  });
});
