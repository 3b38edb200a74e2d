import { describeDuration, publisherFloor } from './publisher-hints.js';
import type { PublisherHints } from './publisher-hints.js';

/**
 * When to poll a feed next (DESIGN §6.1, adaptive cadence).
 *
 * A feed document shows only its newest items, so anything published and rotated out between
 * two polls is lost. The rule is therefore: **poll at least twice within the time the feed
 * takes to turn over its visible items** — then every item is visible to at least one poll even
 * if publishing speeds up somewhat, while a slow feed is not hammered.
 *
 * Turnover is estimated in two independent ways, and the shorter (more careful) one wins:
 *
 * (a) **From item dates.** n dated visible items spanning S from oldest to newest mean the feed
 *     publishes about (n-1)/S items per ms, so its window of n items turns over in about
 *     n·S/(n-1). Needs at least two distinct dates.
 * (b) **From what the last poll found.** `newCount` unseen items out of `visibleCount` since the
 *     previous poll (`elapsed = now - lastPolledAt`) give a rate newCount/elapsed and a turnover
 *     visibleCount·elapsed/newCount. If *everything* was new, the feed may have rotated items
 *     past us, so the true turnover is at most `elapsed` and possibly much less: we take half of
 *     it, so a saturated feed converges quickly to the right speed instead of creeping toward it.
 *
 * The interval is turnover/{@link POLLS_PER_TURNOVER}, clamped to [minIntervalMs, maxIntervalMs].
 * With no estimate (no usable dates, nothing new) or a 304, the feed is quiet: the previous
 * interval grows by {@link QUIET_GROWTH} (clamped), so dormant feeds back off geometrically and
 * one new item brings them straight back. A first poll that learns nothing uses the minimum.
 *
 * Hacker News lists are different: item dates are story submission times (top stories are
 * hours old) and say nothing about how fast the list changes, so only (b) is used, and the
 * interval is capped at {@link HN_MAX_INTERVAL_MS}.
 *
 * Failures back off exponentially from the minimum interval (min·2^(failures-1), capped at
 * {@link BACKOFF_CAP_MS}) and never stop for good: a feed that has been down for a week is still
 * tried daily, and the first success returns to the regular cadence, which errors leave alone.
 *
 * Every outcome respects the publisher's floor ({@link publisherFloor}: Retry-After,
 * Cache-Control max-age, Expires, RSS ttl, capped at 24 h): the next poll is never planned
 * earlier, and `notBefore` carries it so that on-demand freshness polls respect it too.
 *
 * Pure: `now` is an input and the result only depends on the input.
 */

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/** Two polls per turnover: every item is seen at least once even if the feed speeds up ~2×. */
export const POLLS_PER_TURNOVER = 2;

/**
 * Growth of the interval per quiet poll (304 or nothing new and no dates). 1.5× reaches a
 * 6-hour maximum from one minute in ~15 quiet polls and is cheap to undo: one new item resets
 * the interval from the turnover estimate rather than shrinking it step by step.
 */
export const QUIET_GROWTH = 1.5;

/**
 * When every visible item was new, the feed turned over in at most `elapsed` — possibly far
 * less, since we cannot see what we missed. Estimating the turnover as half of `elapsed` (so
 * polling at a quarter of it) halves the gap each time this happens and converges fast.
 */
export const SATURATED_TURNOVER_FACTOR = 0.5;

/**
 * Failure backoff never grows beyond a day, and there is no "give up": a site that comes back
 * after a week is picked up within a day, and an operator sees the reason meanwhile.
 */
export const BACKOFF_CAP_MS = 24 * HOUR_MS;

/**
 * Upper bound for Hacker News lists. Their API offers no validators (no 304) and no dates
 * that reveal list churn, so a run of polls that find nothing new is weak evidence; the top
 * list still replaces several stories an hour, and a story can rise and drop off within about
 * one. Fifteen minutes bounds what can be missed while the estimate has nothing to go on.
 * (When the operator's minimum interval is longer, the minimum wins.)
 */
export const HN_MAX_INTERVAL_MS = 15 * MINUTE_MS;

/** The smallest accepted minimum interval: a guard against unit mistakes (seconds as ms). */
export const MIN_POLL_INTERVAL_LOWER_BOUND_MS = SECOND_MS;

export type PollOutcome =
  | {
      status: 'ok';
      /** Items the feed document showed. */
      visibleCount: number;
      /** Of those, items this feed had never stored before. */
      newCount: number;
      /** Publish dates of the visible items that have one. */
      itemDates: Date[];
    }
  | { status: 'not_modified' }
  | {
      status: 'error';
      /** Failures in a row, including this one (≥ 1). */
      consecutiveFailures: number;
      /** The failure cannot fix itself soon (404, unparseable feed): retry at the cap. */
      permanent?: boolean;
    };

export interface PollCadenceInput {
  now: Date;
  minIntervalMs: number;
  maxIntervalMs: number;
  /** The regular cadence remembered from the previous plan; null before the first. */
  previousIntervalMs: number | null;
  /** The previous successful poll, which `newCount` is relative to; null before the first. */
  lastPolledAt: Date | null;
  kind: 'feed' | 'hackernews';
  outcome: PollOutcome;
  /** The response's raw caching/retry hints; null when there was no response. */
  hints: PublisherHints | null;
}

export interface PollPlan {
  /** When to poll next. */
  nextPollAt: Date;
  /** The regular cadence to remember (errors and publisher floors do not change it). */
  intervalMs: number;
  /** Politeness floor (publisher ask or failure backoff) even an on-demand poll must respect. */
  notBefore: Date | null;
  /** A short explanation for operators. */
  reason: string;
}

interface Estimate {
  turnoverMs: number;
  description: string;
}

interface BasePlan {
  waitMs: number;
  intervalMs: number;
  notBefore: number | null;
  reason: string;
}

/** Plans the next poll of one feed after a poll ended with `outcome` (rules: module comment). */
export function planNextPoll(input: PollCadenceInput): PollPlan {
  const now = validate(input);
  const base = input.outcome.status === 'error' ? planAfterError(input, input.outcome, now) : planCadence(input, now);

  let nextPollAt = now + base.waitMs;
  let notBefore = base.notBefore;
  let reason = base.reason;
  const floor = input.hints === null ? null : publisherFloor(input.hints, input.now);
  if (floor?.notBefore) {
    const floorMs = floor.notBefore.getTime();
    if (floorMs > nextPollAt) {
      nextPollAt = floorMs;
      reason = `publisher: ${floor.reason} (cadence: ${base.reason})`;
    } else {
      reason = `${base.reason}; publisher floor: ${floor.reason}`;
    }
    notBefore = notBefore === null ? floorMs : Math.max(notBefore, floorMs);
  }
  return {
    nextPollAt: new Date(nextPollAt),
    intervalMs: base.intervalMs,
    notBefore: notBefore === null ? null : new Date(notBefore),
    reason,
  };
}

/** Regular cadence after a 200 or a 304. */
function planCadence(input: PollCadenceInput, now: number): BasePlan {
  const { minIntervalMs: min, maxIntervalMs: max, outcome } = input;
  const hn = input.kind === 'hackernews';
  const upper = hn ? Math.max(min, Math.min(max, HN_MAX_INTERVAL_MS)) : max;
  const clamped = (ms: number): { ms: number; note: string } => {
    if (ms < min) return { ms: min, note: ' (minimum)' };
    if (ms > upper) return { ms: upper, note: upper < max ? ' (Hacker News maximum)' : ' (maximum)' };
    return { ms: Math.round(ms), note: '' };
  };
  const plan = (intervalMs: number, reason: string): BasePlan => ({ waitMs: intervalMs, intervalMs, notBefore: null, reason });

  if (outcome.status === 'ok') {
    const estimates: Estimate[] = [];
    if (!hn) {
      const fromDates = estimateFromItemDates(outcome.itemDates);
      if (fromDates) estimates.push(fromDates);
    }
    const fromPoll = estimateFromLastPoll(outcome.visibleCount, outcome.newCount, input.lastPolledAt, now);
    if (fromPoll) estimates.push(fromPoll);
    let best: Estimate | null = null;
    for (const estimate of estimates) if (best === null || estimate.turnoverMs < best.turnoverMs) best = estimate;
    if (best) {
      const interval = clamped(best.turnoverMs / POLLS_PER_TURNOVER);
      return plan(interval.ms, `${best.description} → every ${describeDuration(interval.ms)}${interval.note}`);
    }
  }

  const quiet = outcome.status === 'not_modified' ? 'not modified' : 'nothing new';
  if (input.previousIntervalMs === null) {
    return plan(min, `${quiet}, nothing known yet → every ${describeDuration(min)}`);
  }
  const grown = clamped(input.previousIntervalMs * QUIET_GROWTH);
  return plan(grown.ms, `${quiet} → every ${describeDuration(grown.ms)} (×${QUIET_GROWTH})${grown.note}`);
}

/** (a) n dated items spanning S turn over in ~n·S/(n-1). Needs two distinct valid dates. */
function estimateFromItemDates(dates: readonly Date[]): Estimate | null {
  let n = 0;
  let oldest = Infinity;
  let newest = -Infinity;
  for (const date of dates) {
    const t = date.getTime();
    if (!Number.isFinite(t)) continue;
    n++;
    oldest = Math.min(oldest, t);
    newest = Math.max(newest, t);
  }
  const span = newest - oldest;
  if (n < 2 || !(span > 0)) return null;
  const turnoverMs = (n * span) / (n - 1);
  return { turnoverMs, description: `turnover ~${describeDuration(turnoverMs)} from item dates` };
}

/**
 * (b) newCount of visibleCount new since lastPolledAt: turnover ~visibleCount·elapsed/newCount;
 * everything new means we may have missed items, so the turnover is taken as half of elapsed.
 */
function estimateFromLastPoll(visibleCount: number, newCount: number, lastPolledAt: Date | null, now: number): Estimate | null {
  if (lastPolledAt === null || visibleCount === 0 || newCount === 0) return null;
  const elapsed = now - lastPolledAt.getTime();
  if (!(elapsed > 0)) return null; // clock went backwards: no usable measurement
  if (newCount >= visibleCount) {
    const turnoverMs = elapsed * SATURATED_TURNOVER_FACTOR;
    return {
      turnoverMs,
      description: `all ${visibleCount} items new in ${describeDuration(elapsed)} (some may be missed): turnover ~${describeDuration(turnoverMs)}`,
    };
  }
  const turnoverMs = (visibleCount * elapsed) / newCount;
  return {
    turnoverMs,
    description: `turnover ~${describeDuration(turnoverMs)} from ${newCount} of ${visibleCount} items new in ${describeDuration(elapsed)}`,
  };
}

/**
 * Exponential backoff from the minimum interval; the regular cadence is kept (clamped to the
 * current bounds) so the first success after an outage resumes it. A permanent error goes
 * straight to the cap. The backoff is also `notBefore`: a freshness poll must not hammer a
 * failing publisher either.
 */
function planAfterError(input: PollCadenceInput, outcome: Extract<PollOutcome, { status: 'error' }>, now: number): BasePlan {
  const { minIntervalMs: min, maxIntervalMs: max } = input;
  const failures = outcome.consecutiveFailures;
  const backoff = outcome.permanent ? BACKOFF_CAP_MS : Math.min(BACKOFF_CAP_MS, min * 2 ** (failures - 1));
  // An operator minimum above the cap still wins: it is a politeness promise too.
  const waitMs = Math.max(min, backoff);
  const intervalMs = Math.min(max, Math.max(min, input.previousIntervalMs ?? min));
  const plural = failures === 1 ? 'failure' : 'failures';
  const reason = outcome.permanent
    ? `permanent error after ${failures} ${plural}: retry in ${describeDuration(waitMs)}`
    : `backoff after ${failures} ${plural}: ${describeDuration(waitMs)}`;
  return { waitMs, intervalMs, notBefore: now + waitMs, reason };
}

/** Throws a clear Error for inputs that can only be programming or configuration mistakes. */
function validate(input: PollCadenceInput): number {
  const fail = (message: string): never => {
    throw new Error(`planNextPoll: ${message}`);
  };
  const now = input.now.getTime();
  if (!Number.isFinite(now)) fail('now is not a valid Date');
  const { minIntervalMs: min, maxIntervalMs: max } = input;
  if (!Number.isFinite(min) || min < MIN_POLL_INTERVAL_LOWER_BOUND_MS) {
    fail(`minIntervalMs must be at least ${MIN_POLL_INTERVAL_LOWER_BOUND_MS} ms (1 s), got ${min}`);
  }
  if (!Number.isFinite(max) || max < min) fail(`maxIntervalMs must be at least minIntervalMs (${min} ms), got ${max}`);
  const previous = input.previousIntervalMs;
  if (previous !== null && !(Number.isFinite(previous) && previous > 0)) {
    fail(`previousIntervalMs must be a positive number of ms or null, got ${previous}`);
  }
  if (input.lastPolledAt !== null && !Number.isFinite(input.lastPolledAt.getTime())) fail('lastPolledAt is not a valid Date');
  const { outcome } = input;
  if (outcome.status === 'ok') {
    const count = (name: string, value: number): void => {
      if (!Number.isSafeInteger(value) || value < 0) fail(`${name} must be a non-negative integer, got ${value}`);
    };
    count('visibleCount', outcome.visibleCount);
    count('newCount', outcome.newCount);
  } else if (outcome.status === 'error') {
    const failures = outcome.consecutiveFailures;
    if (!Number.isSafeInteger(failures) || failures < 1) fail(`consecutiveFailures must be an integer ≥ 1, got ${failures}`);
  }
  return now;
}
