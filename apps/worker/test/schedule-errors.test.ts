/**
 * One topic whose schedule cannot be planned must not stop scheduling for the others (issue
 * 13.2): the tick plans topic by topic, records the error on the topic, counts it, and writes
 * the failing set to Redis for the alert monitor. Also: abandoned manual runs are ended.
 * Real Postgres and Redis.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { evaluateAlerts, readQueueSnapshot, scheduleErrorsKey as alertsScheduleErrorsKey } from '@aharadar/alerts';
import { deleteKeys } from '../../../test/support/services.js';
import { MANUAL_RUN_EXPIRY_MS, runTick, scheduleErrorsKey, TICK_BATCH_SIZE } from '../src/tick.js';
import { addMinuteTopic, createWiring, type Wiring } from './wiring.js';

const MINUTE = 60_000;

describe('a topic whose schedule cannot be planned', () => {
  let w: Wiring;
  before(async () => {
    w = await createWiring({ lagSeconds: 1, maxCatchupWindows: 6 });
  });
  after(async () => w.close());
  beforeEach(async () => {
    await w.database.sql`TRUNCATE topics, windows, digests RESTART IDENTITY CASCADE`;
    await deleteKeys(w.redis.redis, `${w.redis.prefix}:*`);
  });

  /** A topic as an older release (or another ICU) may have stored it: inserted in SQL, due for a long time. */
  async function insertBroken(name: string, cron: string, zone: string, dueSince: Date): Promise<number> {
    const [row] = await w.database.sql<{ id: number }[]>`
      INSERT INTO topics (name, schedule_kind, cron_expr, time_zone, anchor, digest_size, max_per_source, next_window_end, created_at)
      VALUES (${name}, 'cron', ${cron}, ${zone}, ${dueSince}, 20, 20, ${dueSince}, ${dueSince}) RETURNING id`;
    return row!.id;
  }

  async function errors() {
    return w.database.sql<{ name: string; schedule_error: string | null; schedule_error_at: Date | null }[]>`
      SELECT name, schedule_error, schedule_error_at FROM topics ORDER BY name`;
  }

  it('is recorded on the topic, counted, published for the alert monitor, and the other topics are scheduled', async () => {
    const now = new Date();
    const createdAt = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE - 2 * MINUTE + 1_000);
    // Due longest, so they come first in the batch.
    await insertBroken('mars', '0 * * * *', 'Mars/Olympus', new Date(now.getTime() - 60 * MINUTE));
    await insertBroken('bad-cron', '61 * * * *', 'UTC', new Date(now.getTime() - 50 * MINUTE));
    for (const name of ['a', 'b', 'c']) await addMinuteTopic(w, name, createdAt);

    const first = await runTick({ ...w.tickDeps(), now: () => now });
    assert.equal(first.outcome, 'done');
    assert.equal(first.dueTopics, 5);
    assert.equal(first.scheduleErrors, 2);
    const perTopic = Math.floor((now.getTime() - 1_000) / MINUTE) - Math.floor(createdAt.getTime() / MINUTE);
    assert.ok(perTopic >= 1);
    assert.equal(first.windowsScheduled, 3 * perTopic, 'the good topics are scheduled');
    const byName = new Map((await errors()).map((r) => [r.name, r]));
    assert.match(byName.get('mars')?.schedule_error ?? '', /unknown time zone "Mars\/Olympus"/);
    assert.match(byName.get('bad-cron')?.schedule_error ?? '', /invalid cron expression "61 \* \* \* \*"/);
    assert.equal(byName.get('mars')?.schedule_error_at?.getTime(), now.getTime());
    assert.equal(byName.get('a')?.schedule_error, null);

    // What the monitor reads, through the key the alerts library computes.
    assert.equal(alertsScheduleErrorsKey(w.redis.prefix), scheduleErrorsKey(w.redis.prefix));
    const published = JSON.parse((await w.redis.redis.get(scheduleErrorsKey(w.redis.prefix))) ?? 'null') as { count: number; topics: { name: string; error: string }[] };
    assert.equal(published.count, 2);
    assert.deepEqual(published.topics.map((t) => t.name).sort(), ['bad-cron', 'mars']);
    const thresholds = { queueDepth: 0, oldestWaitingMs: 0, stuckJobMs: 0 };
    const alert = evaluateAlerts(await readQueueSnapshot(w.queues, Date.now, { redis: w.redis.redis, prefix: w.redis.prefix }), thresholds).find((c) => c.name === 'schedule_error');
    assert.match(alert?.message ?? '', /^2 topic\(s\) get no windows because their schedule cannot be planned: .*mars \(unknown time zone "Mars\/Olympus"\)/);

    // Still broken a tick later: counted again; the error keeps its first-seen time.
    const later = new Date(now.getTime() + MINUTE);
    const second = await runTick({ ...w.tickDeps(), now: () => later });
    assert.equal(second.scheduleErrors, 2);
    assert.equal(new Map((await errors()).map((r) => [r.name, r])).get('mars')?.schedule_error_at?.getTime(), now.getTime());

    // Fixed: the next tick plans it, clears the error and the published set.
    await w.database.sql`UPDATE topics SET time_zone = 'UTC' WHERE name = 'mars'`;
    await w.database.sql`DELETE FROM topics WHERE name = 'bad-cron'`;
    const third = await runTick({ ...w.tickDeps(), now: () => new Date(later.getTime() + MINUTE) });
    assert.equal(third.scheduleErrors, 0);
    assert.equal(new Map((await errors()).map((r) => [r.name, r])).get('mars')?.schedule_error, null);
    const windows = await w.database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM windows w JOIN topics t ON t.id = w.topic_id WHERE t.name = 'mars'`;
    assert.ok((windows[0]?.n ?? 0) > 0, 'the repaired topic got its windows');
    const cleared = JSON.parse((await w.redis.redis.get(scheduleErrorsKey(w.redis.prefix))) ?? 'null') as { count: number };
    assert.equal(cleared.count, 0);
    const snapshot = await readQueueSnapshot(w.queues, Date.now, { redis: w.redis.redis, prefix: w.redis.prefix });
    assert.equal(evaluateAlerts(snapshot, thresholds).some((c) => c.name === 'schedule_error'), false);
  });

  it('does not starve the topics behind a full batch of broken ones', { timeout: 120_000 }, async () => {
    const now = new Date();
    const dueSince = new Date(now.getTime() - 60 * MINUTE);
    await w.database.sql`
      INSERT INTO topics (name, schedule_kind, cron_expr, time_zone, anchor, digest_size, max_per_source, next_window_end, created_at)
      SELECT 'broken-' || g, 'cron', '0 * * * *', 'Mars/Olympus', ${dueSince}, 20, 20, ${dueSince}, ${dueSince}
        FROM generate_series(1, ${TICK_BATCH_SIZE}) AS g`;
    const createdAt = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE - 2 * MINUTE + 1_000);
    await addMinuteTopic(w, 'behind-them', createdAt);
    const report = await runTick({ ...w.tickDeps(), now: () => now });
    assert.equal(report.scheduleErrors, TICK_BATCH_SIZE);
    assert.ok(report.windowsScheduled >= 1, 'the topic after the broken batch was scheduled in the same tick');
    const published = JSON.parse((await w.redis.redis.get(scheduleErrorsKey(w.redis.prefix))) ?? 'null') as { count: number; topics: unknown[] };
    assert.equal(published.count, TICK_BATCH_SIZE);
    assert.ok(published.topics.length <= 20, 'the Redis state stays small');
  });
});

describe('abandoned manual runs', () => {
  let w: Wiring;
  before(async () => {
    w = await createWiring();
  });
  after(async () => w.close());

  it('are ended failed by the tick after MANUAL_RUN_EXPIRY_MS; younger ones and scheduled rows are left alone', async () => {
    const now = new Date();
    const topic = await addMinuteTopic(w, 'manual', new Date(now.getTime() - 90 * MINUTE));
    const row = async (trigger: 'manual' | 'scheduled', startedAgoMs: number, offset: number) => {
      const start = new Date(now.getTime() - 120 * MINUTE + offset * MINUTE);
      const [r] = await w.database.sql<{ id: number }[]>`
        INSERT INTO windows (topic_id, window_start, window_end, trigger, status, attempts, started_at)
        VALUES (${topic.id}, ${start}, ${new Date(start.getTime() + MINUTE)}, ${trigger}, 'running', 1, ${new Date(now.getTime() - startedAgoMs)}) RETURNING id`;
      return r!.id;
    };
    const abandoned = await row('manual', MANUAL_RUN_EXPIRY_MS + 1_000, 0);
    const young = await row('manual', MANUAL_RUN_EXPIRY_MS - 60_000, 1);
    const scheduled = await row('scheduled', 2 * MANUAL_RUN_EXPIRY_MS, 2);
    await runTick({ ...w.tickDeps(), now: () => now });
    const rows = new Map(
      (await w.database.sql<{ id: number; status: string; error: string | null; finished_at: Date | null }[]>`SELECT id, status, error, finished_at FROM windows`).map((r) => [r.id, r]),
    );
    assert.equal(rows.get(abandoned)?.status, 'failed');
    assert.match(rows.get(abandoned)?.error ?? '', /abandoned: the manual run was still running after 30 min/);
    assert.equal(rows.get(abandoned)?.finished_at?.getTime(), now.getTime());
    assert.equal(rows.get(young)?.status, 'running');
    assert.equal(rows.get(scheduled)?.status, 'running', 'scheduled rows are reconciled, not expired');
  });
});
