/**
 * Invariant 1 (DESIGN §5): each due (topic, window) is scheduled exactly once, whatever the
 * number of workers ticking, duplicated ticks, or a lost tick lock. Real Postgres and Redis.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { applyDuePlans, findDueTopics, pauseTopic, topicSchedule, writeGlobalPause } from '@aharadar/db';
import { planDueWindows } from '@aharadar/scheduling';
import { deleteKeys } from '../../../test/support/services.js';
import { runTick } from '../src/tick.js';
import { addEveryTopic, createHarness, type Harness } from './harness.js';

const MINUTE = 60_000;

async function ledger(h: Harness) {
  const rows = await h.database.sql<{ topic_id: number; window_start: Date; window_end: Date; status: string; id: number }[]>`
    SELECT id, topic_id, window_start, window_end, status FROM windows ORDER BY id`;
  return rows;
}

async function pipelineJobIds(h: Harness): Promise<string[]> {
  const jobs = await h.queues.pipeline.getJobs(['waiting', 'delayed', 'active', 'prioritized'], 0, -1);
  return jobs.map((j) => j.id ?? '');
}

describe('tick fan-out', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ scheduling: { lagSeconds: 1, maxCatchupWindows: 6 } });
  });
  after(async () => h.close());
  beforeEach(async () => {
    await h.database.sql`TRUNCATE topics, windows, digests RESTART IDENTITY CASCADE`;
    await h.database.sql`DELETE FROM system_state`;
    await deleteKeys(h.redis.redis, `${h.redis.prefix}:*`);
  });

  it('schedules each due window exactly once when three workers tick at the same moment', async () => {
    const now = new Date();
    // Created 4.5 minutes ago with 1-minute windows: 4 windows have ended (the 5th is open).
    const createdAt = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE - 4 * MINUTE + 1_000);
    for (let i = 0; i < 300; i++) await addEveryTopic(h, `topic-${i}`, 60, createdAt);
    const reports = await Promise.all([h.tickDeps(), h.tickDeps(), h.tickDeps()].map((deps) => runTick({ ...deps, now: () => now })));

    const rows = await ledger(h);
    const expectedPerTopic = Math.floor((now.getTime() - 1_000) / MINUTE) - Math.floor(createdAt.getTime() / MINUTE);
    assert.equal(rows.length, 300 * expectedPerTopic);
    const keys = new Set(rows.map((r) => `${r.topic_id}|${r.window_start.toISOString()}|${r.window_end.toISOString()}`));
    assert.equal(keys.size, rows.length, 'a window was scheduled twice');
    assert.equal(reports.reduce((n, r) => n + r.windowsScheduled, 0), rows.length);
    assert.equal(reports.filter((r) => r.outcome === 'done').length >= 1, true);

    const jobIds = await pipelineJobIds(h);
    assert.equal(jobIds.length, rows.length, 'jobs in Redis must match ledger rows one to one');
    assert.deepEqual(new Set(jobIds), new Set(rows.map((r) => `window-${r.id}`)));
  });

  it('schedules once even when ticks lost the lock and apply the same stale plans concurrently', async () => {
    const now = new Date();
    const createdAt = new Date(now.getTime() - 3.5 * MINUTE);
    for (let i = 0; i < 50; i++) await addEveryTopic(h, `stale-${i}`, 60, createdAt);
    const due = await findDueTopics(h.database.db, { now, lagSeconds: 1, limit: 1000 });
    const planned = due.map((topic) => ({
      topic,
      plan: planDueWindows({ schedule: topicSchedule(topic), watermark: topic.watermark, createdAt: topic.created_at, now, lagSeconds: 1, maxCatchupWindows: 6 }),
    }));
    const results = await Promise.all([1, 2, 3, 4].map(() => applyDuePlans(h.database.db, planned, now)));
    const queued = results.reduce((n, r) => n + r.queued.length, 0);
    const rows = await ledger(h);
    assert.equal(queued, rows.length, 'only inserted rows may be handed to the queue');
    assert.equal(rows.length, planned.reduce((n, p) => n + p.plan.scheduled.length, 0));
    assert.ok(results.reduce((n, r) => n + r.conflicts, 0) >= 150, 'three of four appliers must lose the compare-and-set');
  });

  it('does nothing more on a duplicated tick', async () => {
    const now = new Date();
    for (let i = 0; i < 20; i++) await addEveryTopic(h, `dup-${i}`, 60, new Date(now.getTime() - 2.5 * MINUTE));
    const first = await runTick({ ...h.tickDeps(), now: () => now });
    const second = await runTick({ ...h.tickDeps(), now: () => now });
    assert.ok(first.windowsScheduled > 0);
    assert.equal(second.windowsScheduled, 0);
    assert.equal(second.dueTopics, 0);
    assert.equal((await pipelineJobIds(h)).length, first.windowsScheduled);
  });

  it('enqueues a catch-up backlog oldest window first across topics, so a topic\'s windows do not queue back to back', async () => {
    const now = new Date();
    const createdAt = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE - 3 * MINUTE + 1_000);
    for (let i = 0; i < 4; i++) await addEveryTopic(h, `order-${i}`, 60, createdAt);
    const report = await runTick({ ...h.tickDeps(), now: () => now });
    assert.ok(report.windowsScheduled >= 8);
    const rows = new Map((await ledger(h)).map((r) => [`window-${r.id}`, r]));
    // The order a worker will take them in: oldest waiting job first.
    const waiting = await h.queues.pipeline.getJobs(['waiting'], 0, -1, true);
    const order = waiting.map((j) => rows.get(j.id ?? ''));
    assert.equal(order.length, report.windowsScheduled);
    for (let i = 1; i < order.length; i++) {
      assert.ok((order[i - 1]?.window_end.getTime() ?? 0) <= (order[i]?.window_end.getTime() ?? 0), `job ${i} is older than the one before it`);
      assert.notEqual(order[i - 1]?.topic_id, order[i]?.topic_id, 'two windows of one topic are next to each other in the queue');
    }
  });

  it('records windows beyond the catch-up bound as skipped, oldest first, and schedules the newest', async () => {
    const now = new Date('2026-03-01T12:00:30Z');
    await addEveryTopic(h, 'long-downtime', 60, new Date('2026-03-01T11:50:10Z'));
    const report = await runTick({ ...h.tickDeps(), now: () => now });
    const rows = await ledger(h);
    const skipped = rows.filter((r) => r.status === 'skipped');
    const queued = rows.filter((r) => r.status === 'queued');
    // Windows 11:50..11:59 have ended (10 of them): 6 run, the 4 oldest are skipped.
    assert.equal(queued.length, 6);
    assert.equal(skipped.length, 4);
    assert.equal(report.skipped, 4);
    assert.deepEqual(skipped.map((r) => r.window_start.toISOString()), ['2026-03-01T11:50:00.000Z', '2026-03-01T11:51:00.000Z', '2026-03-01T11:52:00.000Z', '2026-03-01T11:53:00.000Z']);
    assert.equal(queued[0]?.window_start.toISOString(), '2026-03-01T11:54:00.000Z');
    const reasons = await h.database.sql<{ skip_reason: string }[]>`SELECT DISTINCT skip_reason FROM windows WHERE status = 'skipped'`;
    assert.match(reasons[0]?.skip_reason ?? '', /catch-up limit/);
  });

  it('gives a paused topic no windows, and a global pause stops the fan-out and pauses the pipeline queue', async () => {
    const now = new Date();
    const paused = await addEveryTopic(h, 'paused', 60, new Date(now.getTime() - 3 * MINUTE));
    await addEveryTopic(h, 'active', 60, new Date(now.getTime() - 3 * MINUTE));
    await pauseTopic(h.database.db, paused.id, now);
    await runTick({ ...h.tickDeps(), now: () => now });
    const perTopic = await h.database.sql<{ topic_id: number; n: number }[]>`SELECT topic_id, count(*)::int AS n FROM windows GROUP BY topic_id`;
    assert.deepEqual(perTopic.map((r) => r.topic_id), [paused.id + 1]);

    await writeGlobalPause(h.database.db, true, now);
    const later = new Date(now.getTime() + 2 * MINUTE);
    const report = await runTick({ ...h.tickDeps(), now: () => later });
    assert.equal(report.outcome, 'paused');
    assert.equal(report.windowsScheduled, 0);
    assert.equal(await h.queues.pipeline.isPaused(), true);

    await writeGlobalPause(h.database.db, false, later);
    const resumed = await runTick({ ...h.tickDeps(), now: () => later });
    assert.equal(resumed.outcome, 'done');
    assert.ok(resumed.windowsScheduled > 0);
    assert.equal(await h.queues.pipeline.isPaused(), false);
  });

  it('re-enqueues unfinished windows whose jobs Redis lost, once', async () => {
    // Hourly windows, two of them ended: no further window falls due between the two ticks.
    const HOUR = 60 * MINUTE;
    const now = new Date();
    const hour = Math.floor(now.getTime() / HOUR) * HOUR;
    for (let i = 0; i < 10; i++) await addEveryTopic(h, `lost-${i}`, 3600, new Date(hour - 2 * HOUR + 1_000));
    const first = await runTick({ ...h.tickDeps(), now: () => now });
    assert.ok(first.windowsScheduled > 0);
    await deleteKeys(h.redis.redis, `${h.redis.prefix}:*`); // what FLUSHALL does to us
    assert.equal((await pipelineJobIds(h)).length, 0);

    const later = new Date(now.getTime() + 16_000); // past the reconcile grace period (15 s)
    const second = await runTick({ ...h.tickDeps(), now: () => later });
    assert.equal(second.reenqueued, first.windowsScheduled);
    const jobIds = await pipelineJobIds(h);
    assert.equal(jobIds.length, first.windowsScheduled);
    const third = await runTick({ ...h.tickDeps(), now: () => later });
    assert.equal(third.reenqueued, 0, 'jobs present in Redis are left alone');
    assert.equal((await pipelineJobIds(h)).length, first.windowsScheduled);
  });

  it('lets only one of several simultaneous ticks fan out (the Redis lock)', async () => {
    const now = new Date();
    for (let i = 0; i < 200; i++) await addEveryTopic(h, `lock-${i}`, 60, new Date(now.getTime() - 2.5 * MINUTE));
    const reports = await Promise.all([1, 2, 3, 4, 5].map(() => runTick({ ...h.tickDeps(), now: () => now })));
    const fannedOut = reports.filter((r) => r.windowsScheduled > 0);
    assert.equal(fannedOut.length, 1);
  });
});
