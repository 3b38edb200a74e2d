import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertCondition } from '../src/rules.js';
import { advanceAlerts, EMPTY_ALERT_STATE, firingAlerts, parseAlertState } from '../src/state.js';

const depth: AlertCondition = { name: 'queue_depth', severity: 'warning', message: 'backlog 500', value: 500, threshold: 100, forMs: 0 };
const noWorkers: AlertCondition = { name: 'no_workers', severity: 'critical', message: 'none', value: 0, threshold: 1, forMs: 60_000 };

describe('alert state', () => {
  it('fires a condition without a hold time at once, and only once', () => {
    const first = advanceAlerts(EMPTY_ALERT_STATE, [depth], 1_000);
    assert.deepEqual(first.transitions.map((t) => [t.status, t.name, t.since]), [['firing', 'queue_depth', 1_000]]);
    const second = advanceAlerts(first.state, [{ ...depth, message: 'backlog 600' }], 2_000);
    assert.deepEqual(second.transitions, []);
    assert.equal(second.state.alerts.queue_depth?.since, 1_000);
    assert.equal(second.state.alerts.queue_depth?.message, 'backlog 600');
  });

  it('holds a condition with forMs as pending until it has lasted that long', () => {
    const a = advanceAlerts(EMPTY_ALERT_STATE, [noWorkers], 0);
    assert.deepEqual(a.transitions, []);
    assert.equal(a.state.alerts.no_workers?.firing, false);
    const b = advanceAlerts(a.state, [noWorkers], 59_999);
    assert.deepEqual(b.transitions, []);
    const c = advanceAlerts(b.state, [noWorkers], 60_000);
    assert.deepEqual(c.transitions.map((t) => [t.status, t.since, t.at]), [['firing', 0, 60_000]]);
  });

  it('forgets a pending condition that went away without announcing anything', () => {
    const a = advanceAlerts(EMPTY_ALERT_STATE, [noWorkers], 0);
    const b = advanceAlerts(a.state, [], 30_000);
    assert.deepEqual(b.transitions, []);
    assert.deepEqual(b.state.alerts, {});
    // ... and starts its hold time afresh when it comes back.
    const c = advanceAlerts(b.state, [noWorkers], 70_000);
    assert.deepEqual(c.transitions, []);
  });

  it('resolves a firing alert whose condition is gone', () => {
    const a = advanceAlerts(EMPTY_ALERT_STATE, [depth, noWorkers], 0);
    const b = advanceAlerts(a.state, [], 5_000);
    assert.deepEqual(b.transitions.map((t) => [t.status, t.name]), [['resolved', 'queue_depth']]);
    assert.deepEqual(firingAlerts(b.state), []);
  });

  it('keeps the outbox across steps and lists firing alerts oldest first', () => {
    const a = advanceAlerts({ alerts: {}, outbox: [{ status: 'resolved', name: 'stuck_job', severity: 'critical', message: 'x', since: 1, at: 1 }] }, [depth], 10);
    assert.equal(a.state.outbox.length, 1);
    const b = advanceAlerts(a.state, [depth, { ...noWorkers, forMs: 0 }], 20);
    assert.deepEqual(firingAlerts(b.state).map((f) => f.name), ['queue_depth', 'no_workers']);
  });

  it('starts afresh from a state it cannot read', () => {
    assert.deepEqual(parseAlertState(null), EMPTY_ALERT_STATE);
    assert.deepEqual(parseAlertState('{not json'), EMPTY_ALERT_STATE);
    assert.deepEqual(parseAlertState('{"alerts":1,"outbox":[]}'), EMPTY_ALERT_STATE);
    const kept = { alerts: { queue_depth: { since: 1, firing: true, severity: 'warning', message: 'm' } }, outbox: [] };
    assert.deepEqual(parseAlertState(JSON.stringify(kept)), kept);
  });

  it('restarts the hold time of pending conditions after a gap in checking, but keeps firing alerts', () => {
    const a = advanceAlerts(EMPTY_ALERT_STATE, [noWorkers, depth], 0);
    assert.equal(a.state.checkedAt, 0);
    const afterGap = advanceAlerts(a.state, [noWorkers, depth], 600_000, 90_000);
    assert.deepEqual(afterGap.transitions, [], 'no_workers was not watched during the gap: not fired');
    assert.equal(afterGap.state.alerts.no_workers?.since, 600_000);
    assert.equal(afterGap.state.alerts.queue_depth?.since, 0, 'a firing alert keeps its start');
    const noGap = advanceAlerts(a.state, [noWorkers], 60_000, 90_000);
    assert.deepEqual(noGap.transitions.map((t) => [t.status, t.name]), [['firing', 'no_workers'], ['resolved', 'queue_depth']]);
  });
});
