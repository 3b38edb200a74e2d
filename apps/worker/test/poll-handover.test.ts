/**
 * A planned poll in flight on a worker that dies (SIGKILL) is handed over by BullMQ once its
 * job lock lapses, and the worker that takes it over must then POLL the feed — not find the
 * dead poll's feed lock still held and skip (`being_polled`), leaving the feed unpolled until
 * that lock expires. Found by fault scenario 7: with a fixed 30 s feed-lock TTL, feeds turning
 * over in seconds went 20–50 s unpolled after each kill.
 *
 * Real Postgres, Redis and BullMQ workers. The "killed" worker is a BullMQ worker force-closed
 * (its job-lock renewal stops, the job stays active) whose feed lock lives on a connection that
 * is then dropped (its renewal stops too): what Redis holds after a SIGKILL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findFeed } from '@aharadar/db';
import { createFeedLocks, lockKey, pollJobId, POLL_QUEUE, type PollFeedPayload } from '@aharadar/queue';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { rss, startFeedServer, type FeedServer } from '../../../test/support/feed-server.js';
import { TEST_REDIS_URL } from '../../../test/support/services.js';
import { feedLockTtlMs, MAX_STALLED_COUNT } from '../src/consumers.js';
import { processPollFeed, type PollFeedJobResult } from '../src/poll-feed.js';
import { runTick } from '../src/tick.js';
import { waitFor } from '../../../test/support/processes.js';
import { addEveryTopic, addFeedSource, createHarness, feedOf, type Harness } from './harness.js';

/** WORKER_LOCK_DURATION_MS of these workers (fault scenario 7 runs with 4 s). */
const JOB_LOCK_MS = 1_000;


describe('poll handed over from a killed worker', () => {
  let h: Harness;
  let feeds: FeedServer;
  const connections: Redis[] = [];
  const connection = () => {
    const c = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    c.on('error', () => undefined);
    connections.push(c);
    return c;
  };

  before(async () => {
    h = await createHarness({ scheduling: { lagSeconds: 1, tickMinutes: 0.05 } });
    feeds = await startFeedServer();
  });
  after(async () => {
    await feeds.close();
    for (const c of connections) c.disconnect();
    await h.close();
  });

  /** The consumer options of apps/worker/src/consumers.ts for a given job lock. */
  const workerOptions = (c: Redis) => ({ connection: c, prefix: h.redis.prefix, lockDuration: JOB_LOCK_MS, stalledInterval: JOB_LOCK_MS, maxStalledCount: MAX_STALLED_COUNT, concurrency: 4 });

  it('polls the feed instead of skipping it behind the dead poll\'s feed lock', async () => {
    let requests = 0;
    feeds.route('/handover.xml', (_q, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss('h', [{ guid: 'h-1', title: 'h 1', link: 'https://p.example/h/1', pubDate: new Date() }]));
    });
    const topic = await addEveryTopic(h, 'handover', 3600, new Date());
    const feedId = await feedOf(h, await addFeedSource(h, topic.id, feeds.url('/handover.xml')));
    await runTick({ ...h.tickDeps(), now: () => new Date() });
    const planned = (await findFeed(h.database.db, feedId))!;
    assert.ok(planned.poll_queued_at, 'the tick planned a poll');
    const jobId = pollJobId(feedId, planned.poll_seq);

    // The doomed worker takes the job and, like a poll in flight, holds the feed's lock with
    // the worker's TTL, renewed while it "runs" (it never finishes).
    const lockConnection = connection();
    const doomedLocks = createFeedLocks(lockConnection, h.redis.prefix, feedLockTtlMs(JOB_LOCK_MS));
    let lockHeld: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => (lockHeld = resolve));
    // The dead poll's task, ended only at the end of the test (its renewal timer lives until then).
    let endDeadTask: () => void = () => undefined;
    const deadTask = new Promise<void>((resolve) => (endDeadTask = resolve));
    const doomed = new Worker<PollFeedPayload>(
      POLL_QUEUE,
      async () =>
        doomedLocks.run(feedId, async () => {
          lockHeld();
          await deadTask;
        }),
      workerOptions(connection()),
    );
    doomed.on('error', () => undefined);
    await holding;
    assert.equal(await h.redis.redis.exists(lockKey(h.redis.prefix, `feed-${feedId}`)), 1, 'the feed lock is held');

    // SIGKILL: neither the job lock nor the feed lock is renewed any more; both stay in Redis.
    await doomed.close(true);
    lockConnection.disconnect();
    assert.equal(await (await h.queues.poll.getJob(jobId))?.getState(), 'active', 'the dead worker\'s job is still active');

    // A live worker hands the job over once its lock has lapsed, and processes it.
    const liveDeps = { ...h.runDeps(), feedLocks: createFeedLocks(h.redis.redis, h.redis.prefix, feedLockTtlMs(JOB_LOCK_MS)) };
    const live = new Worker<PollFeedPayload>(POLL_QUEUE, async (job: Job<PollFeedPayload>) => processPollFeed(liveDeps, job), workerOptions(connection()));
    try {
      const result = await waitFor('the handed-over job to finish', async () => {
        if ((await h.queues.poll.getJobState(jobId)) !== 'completed') return undefined;
        // Read after the state: a job read before it completed has no return value yet.
        return (await h.queues.poll.getJob(jobId))?.returnvalue as PollFeedJobResult | undefined;
      });
      assert.deepEqual(
        { outcome: result.outcome, requests },
        { outcome: 'polled', requests: 1 },
        `the handed-over poll ${JSON.stringify(result)}: the dead poll's feed lock outlived its job lock`,
      );
      const after = (await findFeed(h.database.db, feedId))!;
      assert.equal(after.poll_queued_at, null, 'the claim is released by the poll');
      assert.ok(after.last_polled_at, 'the feed was polled');
    } finally {
      endDeadTask();
      await live.close();
    }
  });
});
