/**
 * The run's per-topic lock with real BullMQ workers on the real Postgres and Redis:
 * - runs of different topics run at the same time on different workers (invariant 3, the
 *   half the ordering test cannot show);
 * - a run whose topic lock is lost under it aborts, so the job is retried (issue item 4).
 * The topics follow no feed, so a run builds an empty digest. Runs are held inside their
 * persist by a table lock the test holds: "at the same time" is observed, never slept for.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createSafeFetcher, type SafeFetcher } from '@aharadar/connectors';
import type { WindowRow } from '@aharadar/db';
import { enqueueWindows, lockKey, PIPELINE_QUEUE, type RunWindowPayload, createFeedLocks } from '@aharadar/queue';
import { Worker } from 'bullmq';
import { sql } from 'kysely';
import { deleteKeys } from '../../../test/support/services.js';
import { processRunWindow, type RunWindowDeps } from '../src/run-window.js';
import { addMinuteTopic, createWiring, waitFor, type Wiring } from './wiring.js';

const MINUTE = 60_000;

describe('run locks', () => {
  let w: Wiring;
  let fetcher: SafeFetcher;
  before(async () => {
    w = await createWiring();
    fetcher = createSafeFetcher({ timeoutMs: 1_000, maxBytes: 64 * 1024, maxRedirects: 0, allowPrivate: true });
  });
  after(async () => {
    await fetcher.close();
    await w.close();
  });
  beforeEach(async () => {
    await w.database.sql`TRUNCATE topics, windows, digests RESTART IDENTITY CASCADE`;
    await deleteKeys(w.redis.redis, `${w.redis.prefix}:*`);
  });

  function runDeps(overrides: Partial<RunWindowDeps> = {}): RunWindowDeps {
    return {
      db: w.database.db,
      redis: w.connection(),
      pipeline: w.queues.pipeline,
      prefix: w.redis.prefix,
      topicLockTtlMs: 10_000,
      fetcher,
      log: w.log,
      sourceConcurrency: 2,
      hackerNewsApiUrl: 'http://127.0.0.1:1/v0',
      polling: { minIntervalMs: 1_000, maxIntervalMs: 60_000 },
      feedLocks: createFeedLocks(w.redis.redis, w.redis.prefix, 10_000),
      now: () => new Date(),
      ...overrides,
    };
  }

  function startWorkers(count: number, deps: () => RunWindowDeps) {
    const failures: string[] = [];
    const workers = Array.from({ length: count }, () => {
      const worker = new Worker<RunWindowPayload>(PIPELINE_QUEUE, (job, token) => processRunWindow(deps(), job, token), { connection: w.connection(), prefix: w.redis.prefix, concurrency: 1 });
      worker.on('failed', (_job, error) => failures.push(error.message));
      return worker;
    });
    return { failures, close: () => Promise.all(workers.map((x) => x.close())) };
  }

  async function queuedWindow(topicId: number, start: Date): Promise<WindowRow> {
    return w.database.db
      .insertInto('windows')
      .values({ topic_id: topicId, window_start: start, window_end: new Date(start.getTime() + MINUTE), trigger: 'scheduled', status: 'queued' })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Holds SHARE on digests in a transaction of its own: every persist waits until release(). */
  async function holdDigests() {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (locked = resolve));
    const done = w.database.sql.begin(async (tx) => {
      await tx`LOCK TABLE digests IN SHARE MODE`;
      locked();
      await gate;
    });
    await Promise.race([ready, done]);
    return {
      async release() {
        release();
        await done;
      },
    };
  }

  async function waitingForLocks(): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(w.database.db);
    return rows[0]?.n ?? 0;
  }

  it('runs windows of two topics at the same time on two workers', async () => {
    const base = new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE);
    const a = await addMinuteTopic(w, 'a', base);
    const b = await addMinuteTopic(w, 'b', base);
    // B's window is later than A's: a predecessor check that ignored the topic would hold B back.
    const windows = [await queuedWindow(a.id, base), await queuedWindow(b.id, new Date(base.getTime() + 2 * MINUTE))];
    const hold = await holdDigests();
    const pool = startWorkers(2, runDeps);
    try {
      await enqueueWindows(w.queues.pipeline, windows, 3);
      // Both runs are inside their persist at once: each holds its topic lock and waits for ours.
      await waitFor('both topics running at the same time', async () => (await waitingForLocks()) >= 2, 20_000);
      const running = await w.database.sql<{ status: string }[]>`SELECT status FROM windows ORDER BY id`;
      assert.deepEqual(running.map((r) => r.status), ['running', 'running']);
      await hold.release();
      await waitFor('both windows succeeded', async () => {
        const rows = await w.database.sql<{ status: string }[]>`SELECT status FROM windows`;
        return rows.every((r) => r.status === 'succeeded');
      });
      const digests = await w.database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digests`;
      assert.equal(digests[0]?.n, 2);
      assert.deepEqual(pool.failures, []);
    } finally {
      await hold.release();
      await pool.close();
    }
  });

  it('aborts a run whose topic lock was lost, so the job fails and is retried', async () => {
    const base = new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE);
    const topic = await addMinuteTopic(w, 'lost', base);
    const window = await queuedWindow(topic.id, base);
    const hold = await holdDigests();
    // A short lock TTL: extended every 200 ms while the run lasts.
    const pool = startWorkers(1, () => runDeps({ topicLockTtlMs: 600 }));
    try {
      await enqueueWindows(w.queues.pipeline, [window], 3);
      await waitFor('the run to wait in its persist', async () => (await waitingForLocks()) >= 1, 20_000);
      // The lock lapsed and another worker took it: what a stalled worker finds when it wakes.
      await w.redis.redis.set(lockKey(w.redis.prefix, `topic-${topic.id}`), 'another-worker', 'PX', 60_000);
      const reason = await waitFor('the job to fail', async () => pool.failures[0], 20_000);
      assert.match(reason, /run lock of topic \d+ was lost during the run of window \d+; aborted/);
      const job = await w.queues.pipeline.getJob(`window-${window.id}`);
      assert.ok(job && (await job.isDelayed()), 'the job waits for its retry');
    } finally {
      await hold.release();
      await pool.close();
    }
  });
});
