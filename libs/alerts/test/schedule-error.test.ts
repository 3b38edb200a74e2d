/**
 * The `schedule_error` rule: topics whose schedule the tick cannot plan (issue 13.2), read
 * from the state the tick writes to Redis. The tick side is apps/worker/test/schedule-errors.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createQueues, type Queues } from '@aharadar/queue';
import { createTestRedis, type TestRedis } from '../../../test/support/services.js';
import { evaluateAlerts, type QueueSnapshot } from '../src/rules.js';
import { parseScheduleErrors, readQueueSnapshot, scheduleErrorsKey } from '../src/snapshot.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const off = { queueDepth: 0, oldestWaitingMs: 0, stuckJobMs: 0 };

function snapshot(scheduleErrors: QueueSnapshot['scheduleErrors']): QueueSnapshot {
  return {
    now: NOW,
    pipeline: { paused: false, waiting: 0, prioritized: 0, delayed: 0, active: 0, oldestWaitingAt: null, activeJobs: [], workers: 1 },
    tick: { registered: true, everyMs: 60_000, nextTickAt: NOW + 1_000, lastCompletedAt: NOW - 1_000, lastFailedAt: null, lastFailedReason: null },
    scheduleErrors,
  };
}

describe('schedule_error alert', () => {
  it('fires while topics cannot be scheduled, naming them, and is quiet otherwise', () => {
    assert.deepEqual(evaluateAlerts(snapshot(undefined), off), []);
    assert.deepEqual(evaluateAlerts(snapshot(null), off), []);
    assert.deepEqual(evaluateAlerts(snapshot({ updatedAt: '', count: 0, topics: [] }), off), []);
    const topics = ['a', 'b', 'c', 'd'].map((name) => ({ name, error: 'unknown time zone "Mars/Olympus"', since: '' }));
    const [alert, ...rest] = evaluateAlerts(snapshot({ updatedAt: '', count: 5, topics }), off);
    assert.deepEqual(rest, []);
    assert.equal(alert?.name, 'schedule_error');
    assert.equal(alert?.severity, 'critical');
    assert.equal(alert?.value, 5);
    assert.match(alert?.message ?? '', /^5 topic\(s\) get no windows because their schedule cannot be planned: a \(unknown time zone "Mars\/Olympus"\), b .*, c .* and 2 more/);
  });

  it('reads garbage in the key as nothing known', () => {
    assert.equal(parseScheduleErrors(null), null);
    assert.equal(parseScheduleErrors('not json'), null);
    assert.equal(parseScheduleErrors('{"count":"x"}'), null);
    assert.deepEqual(parseScheduleErrors('{"updatedAt":"t","count":1,"topics":[{"name":"n","error":"e","since":"s"},{"name":3}]}'), {
      updatedAt: 't',
      count: 1,
      topics: [{ name: 'n', error: 'e', since: 's' }],
    });
  });

  describe('in the Redis snapshot', () => {
    let t: TestRedis;
    let queues: Queues;
    before(async () => {
      t = await createTestRedis();
      queues = createQueues(t.redis, t.prefix);
    });
    after(async () => {
      await queues.close();
      await t.cleanup();
    });

    it('comes from <prefix>:state:schedule-errors', async () => {
      assert.equal(scheduleErrorsKey(t.prefix), `${t.prefix}:state:schedule-errors`);
      assert.equal((await readQueueSnapshot(queues, () => NOW, { redis: t.redis, prefix: t.prefix })).scheduleErrors, null);
      await t.redis.set(scheduleErrorsKey(t.prefix), JSON.stringify({ updatedAt: 'x', count: 1, topics: [{ name: 'mars', error: 'bad zone', since: 'y' }] }));
      const read = await readQueueSnapshot(queues, () => NOW, { redis: t.redis, prefix: t.prefix });
      assert.deepEqual(read.scheduleErrors, { updatedAt: 'x', count: 1, topics: [{ name: 'mars', error: 'bad zone', since: 'y' }] });
      assert.ok(evaluateAlerts(read, off).some((c) => c.name === 'schedule_error'));
    });
  });
});
