/**
 * The real `scheduler` and `worker` processes, a local feed server, the real Postgres and
 * Redis: digests appear on schedule (the process test), a worker killed with SIGKILL
 * mid-run loses nothing (invariant 4), and SIGTERM finishes the run in flight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { evaluateAlerts, readQueueSnapshot } from '@aharadar/alerts';
import { insertTopic } from '@aharadar/db';
import { addSource } from '@aharadar/pipeline';
import { createQueues } from '@aharadar/queue';
import { defaultAnchor } from '@aharadar/scheduling';
import { liveFeed, startFeedServer, type FeedServer } from '../support/feed-server.js';
import { startApp, stopApp, waitFor, type AppProcess } from '../support/processes.js';
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase, type TestRedis } from '../support/services.js';

const MINUTE = 60_000;

describe('scheduler and worker processes', () => {
  let database: TestDatabase;
  let redis: TestRedis;
  let feeds: FeedServer;
  const running: AppProcess[] = [];

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: redis.prefix,
      SCHEDULER_TICK_MINUTES: '0.05',
      SCHEDULER_LAG_SECONDS: '1',
      FETCH_ALLOW_PRIVATE: 'true',
      FETCH_TIMEOUT_MS: '30000',
      HEALTH_PORT: '0',
      SCHEDULER_HEALTH_PORT: '0',
      WORKER_LOCK_DURATION_MS: '3000',
      LOG_LEVEL: 'info',
      ...extra,
    };
  }
  function start(app: 'worker' | 'scheduler', extra: Record<string, string> = {}): AppProcess {
    const p = startApp(app, env(extra));
    running.push(p);
    return p;
  }
  async function addTopic(name: string, createdAt: Date, feedPath: string): Promise<number> {
    const topic = await insertTopic(database.db, {
      name,
      schedule: { kind: 'every', everySeconds: 60, anchor: defaultAnchor(createdAt, 'UTC') },
      timeZone: 'UTC',
      keywords: [],
      excludeKeywords: [],
      digestSize: 20,
      maxPerSource: 20,
      createdAt,
    });
    await addSource(database.db, { topicId: topic.id, type: 'feed', name: feedPath, config: { url: feeds.url(feedPath) } });
    return topic.id;
  }

  before(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    feeds = await startFeedServer();
  });
  after(async () => {
    await Promise.all(running.map((p) => stopApp(p)));
    await feeds.close();
    await redis.cleanup();
    await database.drop();
  });

  it('builds a complete digest of the feed on schedule (topic every 1m, tick 3 s, lag 1 s)', { timeout: 150_000 }, async () => {
    feeds.route('/live.xml', liveFeed('live', { slotSeconds: 10, slots: 12 }));
    const scheduler = start('scheduler');
    const worker = start('worker');
    await scheduler.waitForLog((l) => l.msg === 'tick job scheduler registered', 20_000, 'registration');
    await worker.waitForLog((l) => l.msg === 'Scheduler tick', 20_000, 'a first tick');
    const topicId = await addTopic('live', new Date(), '/live.xml');

    const digest = await waitFor(
      'a complete digest',
      async () => (await database.sql<{ id: number; status: string; item_count: number }[]>`SELECT id, status, item_count FROM digests WHERE topic_id = ${topicId} AND status = 'complete'`)[0],
      130_000,
      500,
    );
    assert.ok(digest.item_count > 0);
    const titles = await database.sql<{ title: string }[]>`SELECT i.title FROM digest_items di JOIN items i ON i.id = di.item_id WHERE di.digest_id = ${digest.id}`;
    assert.ok(titles.every((t) => t.title.startsWith('live story')), 'the digest holds the feed items');
    const tick = worker.lines.find((l) => l.msg === 'Scheduler tick');
    assert.ok(tick && typeof tick.dueTopics === 'number' && typeof tick.windowsScheduled === 'number' && typeof tick.durationMs === 'number');
    // The alert monitor's view of this healthy stack: the real worker counts as a consumer, no alert holds.
    const queues = createQueues(redis.redis, redis.prefix);
    try {
      const snapshot = await readQueueSnapshot(queues);
      assert.equal(snapshot.pipeline.workers, 1, 'no_workers would fire while a worker runs');
      assert.deepEqual(evaluateAlerts(snapshot, { queueDepth: 1_000, oldestWaitingMs: 900_000, stuckJobMs: 1_800_000 }), []);
    } finally {
      await queues.close();
    }
    await Promise.all([stopApp(scheduler), stopApp(worker)]);
  });

  it('loses nothing when a worker is killed with SIGKILL mid-run', { timeout: 120_000 }, async () => {
    let hang = true;
    feeds.route('/hang.xml', async (req, res) => {
      while (hang && !res.destroyed) await new Promise((r) => setTimeout(r, 100));
      await liveFeed('hang')(req, res);
    });
    const topicId = await addTopic('killed', new Date(Date.now() - 1.5 * MINUTE), '/hang.xml');
    const scheduler = start('scheduler');
    const victim = start('worker');
    const running = await waitFor(
      'the window to be running',
      async () => (await database.sql<{ id: number }[]>`SELECT id FROM windows WHERE topic_id = ${topicId} AND status = 'running'`)[0],
      30_000,
    );
    victim.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');
    hang = false;
    const rescuer = start('worker');
    const done = await waitFor(
      'the window to succeed on another worker',
      async () => (await database.sql<{ status: string; attempts: number }[]>`SELECT status, attempts FROM windows WHERE id = ${running.id} AND status = 'succeeded'`)[0],
      60_000,
    );
    assert.ok(done.attempts >= 2, 'the run was retried');
    const digests = await database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digests WHERE window_id = ${running.id}`;
    assert.equal(digests[0]?.n, 1);
    const perWindow = await database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digests GROUP BY window_id HAVING count(*) > 1`;
    assert.equal(perWindow.length, 0);
    await Promise.all([stopApp(scheduler), stopApp(rescuer)]);
  });

  it('finishes the run in flight on SIGTERM and exits 0', { timeout: 60_000 }, async () => {
    let release = false;
    feeds.route('/slowish.xml', async (req, res) => {
      while (!release && !res.destroyed) await new Promise((r) => setTimeout(r, 100));
      await liveFeed('slowish')(req, res);
    });
    const topicId = await addTopic('graceful', new Date(Date.now() - 1.5 * MINUTE), '/slowish.xml');
    const scheduler = start('scheduler');
    const worker = start('worker');
    const row = await waitFor(
      'the window to be running',
      async () => (await database.sql<{ id: number }[]>`SELECT id FROM windows WHERE topic_id = ${topicId} AND status = 'running'`)[0],
      30_000,
    );
    worker.kill('SIGTERM');
    setTimeout(() => {
      release = true;
    }, 1_500);
    assert.equal(await worker.exited, 0);
    const [w] = await database.sql<{ status: string }[]>`SELECT status FROM windows WHERE id = ${row.id}`;
    assert.equal(w?.status, 'succeeded', 'the run in flight finished before the worker exited');
    await stopApp(scheduler);
  });
});
