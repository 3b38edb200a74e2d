import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateAlerts, formatDuration, NO_WORKERS_FOR_MS, TICK_OVERDUE_MIN_MS, type AlertThresholds, type QueueSnapshot } from '../src/rules.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const MIN = 60_000;
const thresholds: AlertThresholds = { queueDepth: 100, oldestWaitingMs: 15 * MIN, stuckJobMs: 30 * MIN };

/** A healthy stack: a few jobs moving, one worker, the tick taken on time. */
function healthy(overrides: { pipeline?: Partial<QueueSnapshot['pipeline']>; tick?: Partial<QueueSnapshot['tick']> } = {}): QueueSnapshot {
  return {
    now: NOW,
    pipeline: { paused: false, waiting: 3, prioritized: 0, delayed: 2, active: 1, oldestWaitingAt: NOW - 5_000, activeJobs: [{ id: 'window-1', startedAt: NOW - 2_000 }], workers: 1, ...overrides.pipeline },
    tick: { registered: true, everyMs: 5 * MIN, nextTickAt: NOW + 2 * MIN, lastCompletedAt: NOW - 3 * MIN, lastFailedAt: null, lastFailedReason: null, ...overrides.tick },
  };
}
const names = (s: QueueSnapshot, t = thresholds) => evaluateAlerts(s, t).map((c) => c.name);

describe('alert rules', () => {
  it('raise nothing for a healthy stack', () => {
    assert.deepEqual(names(healthy()), []);
  });

  it('queue_depth counts waiting, prioritized and delayed jobs, from the threshold on', () => {
    assert.deepEqual(names(healthy({ pipeline: { waiting: 60, prioritized: 20, delayed: 19 } })), []);
    const [depth] = evaluateAlerts(healthy({ pipeline: { waiting: 60, prioritized: 20, delayed: 20 } }), thresholds);
    assert.equal(depth?.name, 'queue_depth');
    assert.equal(depth?.value, 100);
    assert.match(depth?.message ?? '', /backlog is 100 jobs \(waiting 80, delayed 20\); alert at 100/);
  });

  it('queue_wait fires when the oldest waiting job is older than the threshold', () => {
    assert.deepEqual(names(healthy({ pipeline: { oldestWaitingAt: NOW - 15 * MIN + 1 } })), []);
    const [wait] = evaluateAlerts(healthy({ pipeline: { oldestWaitingAt: NOW - 20 * MIN } }), thresholds);
    assert.equal(wait?.name, 'queue_wait');
    assert.equal(wait?.value, 1200);
    assert.match(wait?.message ?? '', /waited 20 min; alert at 15 min/);
  });

  it('poll_lag fires when a due feed poll has waited longer than ALERT_POLL_LAG_SECONDS, even while paused', () => {
    const lag = { ...thresholds, pollLagMs: 5 * MIN };
    assert.deepEqual(names({ ...healthy(), poll: { waiting: 40, oldestWaitingAt: NOW - 5 * MIN + 1 } }, lag), []);
    assert.deepEqual(names({ ...healthy(), poll: { waiting: 0, oldestWaitingAt: null } }, lag), []);
    const [late] = evaluateAlerts({ ...healthy({ pipeline: { paused: true } }), poll: { waiting: 40, oldestWaitingAt: NOW - 7 * MIN } }, lag);
    assert.equal(late?.name, 'poll_lag');
    assert.equal(late?.value, 420);
    assert.match(late?.message ?? '', /waited 7 min to start \(40 polls waiting\); alert at 5 min: add workers or raise POLL_CONCURRENCY/);
    assert.deepEqual(names({ ...healthy(), poll: { waiting: 40, oldestWaitingAt: NOW - 7 * MIN } }, { ...lag, pollLagMs: 0 }), [], '0 = off');
  });

  it('a paused pipeline backs up on purpose: no depth, wait or no-worker alerts', () => {
    const paused = healthy({ pipeline: { paused: true, waiting: 10_000, oldestWaitingAt: NOW - 10 * 60 * MIN, workers: 0 } });
    assert.deepEqual(names(paused), []);
  });

  it('stuck_job names the oldest runs and counts the rest', () => {
    const activeJobs = [5, 40, 90, 35, 31].map((m, i) => ({ id: `window-${i + 1}`, startedAt: NOW - m * MIN }));
    const [stuck] = evaluateAlerts(healthy({ pipeline: { activeJobs, active: activeJobs.length } }), thresholds);
    assert.equal(stuck?.name, 'stuck_job');
    assert.equal(stuck?.value, 90 * 60, 'the oldest run\'s age, in seconds like the threshold');
    assert.match(stuck?.message ?? '', /4 run\(s\) active for over 30 min, oldest 90 min: window-3, window-2, window-4 and 1 more/);
  });

  it('no_workers needs jobs to take and must hold for a while before it fires', () => {
    assert.deepEqual(names(healthy({ pipeline: { workers: 0, waiting: 0, active: 0, activeJobs: [] } })), []);
    const [none] = evaluateAlerts(healthy({ pipeline: { workers: 0 } }), thresholds);
    assert.equal(none?.name, 'no_workers');
    assert.match(none?.message ?? '', /3 jobs waiting, 1 active without a worker/);
    // Redis would not say (CLIENT LIST disabled): unknown is not zero.
    assert.deepEqual(names(healthy({ pipeline: { workers: null } })), []);
    assert.equal(none?.forMs, NO_WORKERS_FOR_MS);
  });

  it('ticks_stopped when no worker took the due tick for two intervals (at least a minute)', () => {
    assert.deepEqual(names(healthy({ tick: { nextTickAt: NOW - 10 * MIN + 1 } })), []);
    const [stopped] = evaluateAlerts(healthy({ tick: { nextTickAt: NOW - 10 * MIN } }), thresholds);
    assert.equal(stopped?.name, 'ticks_stopped');
    assert.match(stopped?.message ?? '', /no worker has taken a tick for 10 min \(ticks every 5 min\)/);
    // A 3 s test cadence: the floor keeps it from flapping.
    assert.deepEqual(names(healthy({ tick: { everyMs: 3_000, nextTickAt: NOW - TICK_OVERDUE_MIN_MS + 1 } })), []);
    assert.deepEqual(names(healthy({ tick: { everyMs: 3_000, nextTickAt: NOW - TICK_OVERDUE_MIN_MS } })), ['ticks_stopped']);
  });

  it('ticks_stopped when the tick job scheduler is missing, after a grace for re-registration', () => {
    const [missing] = evaluateAlerts(healthy({ tick: { registered: false, everyMs: null, nextTickAt: null } }), thresholds);
    assert.equal(missing?.name, 'ticks_stopped');
    assert.ok((missing?.forMs ?? 0) > 0);
  });

  it('tick_failing when the last tick failed after the last success', () => {
    assert.deepEqual(names(healthy({ tick: { lastFailedAt: NOW - 10 * MIN, lastCompletedAt: NOW - 5 * MIN } })), []);
    const [failing] = evaluateAlerts(healthy({ tick: { lastFailedAt: NOW - MIN, lastFailedReason: 'connect ECONNREFUSED 127.0.0.1:5432' } }), thresholds);
    assert.equal(failing?.name, 'tick_failing');
    assert.match(failing?.message ?? '', /ECONNREFUSED/);
  });

  it('a threshold of 0 turns its rule off', () => {
    const bad = healthy({ pipeline: { waiting: 1e6, oldestWaitingAt: NOW - 1e9, activeJobs: [{ id: 'window-9', startedAt: NOW - 1e9 }] } });
    assert.deepEqual(names(bad, { queueDepth: 0, oldestWaitingMs: 0, stuckJobMs: 0 }), []);
  });

  it('formats durations for people', () => {
    assert.equal(formatDuration(45_000), '45 s');
    assert.equal(formatDuration(12 * MIN), '12 min');
    assert.equal(formatDuration(185 * MIN), '3 h 5 min');
  });
});
