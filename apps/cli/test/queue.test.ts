import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@aharadar/log';
import { SCHEDULER_QUEUE, upsertTickScheduler, type Queues } from '@aharadar/queue';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../../test/support/services.js';
import { runTick } from '../../worker/src/tick.js';
import { createCliQueueFixture, type CliQueueFixture } from './harness.js';

interface BackfillJson {
  windows: number;
  queued: number;
  alreadyScheduled: number;
  clippedTo: string | null;
  windowIds: number[];
  firstWindowStart: string;
}

interface StatusJson {
  tickScheduler: { registered: boolean; everyMs: number | null; nextTickAt: string | null };
  lastTick: { report: { outcome: string; dueTopics: number; windowsScheduled: number } | null } | null;
  pipeline: { paused: boolean; counts: Record<string, number> };
  windows: { queued: number; running: number; failed: number };
  globalPause: { paused: boolean };
  behindSchedule: { topic: string; staleQueuedWindows: number }[];
  failingFeeds: { topics: string[]; lastError: string; consecutiveFailures: number }[];
}

describe('radar commands that drive the queues', () => {
  let cli: CliQueueFixture;
  let queues: Queues;
  before(async () => {
    cli = await createCliQueueFixture();
    queues = cli.queues;
  });
  after(() => cli.cleanup());

  async function ledger(topic: string): Promise<{ n: number; backfill: number }> {
    const [row] = await cli.database.sql<{ n: number; backfill: number }[]>`
      SELECT count(*)::int AS n, count(*) FILTER (WHERE w.trigger = 'backfill' AND w.status = 'queued')::int AS backfill
        FROM windows w JOIN topics t ON t.id = w.topic_id WHERE t.name = ${topic}`;
    return row ?? { n: 0, backfill: 0 };
  }

  it('backfills past windows into the ledger and the pipeline queue, exactly once', async () => {
    await cli.ok(['topic', 'add', 'hourly', '--every', '1h']);
    const args = ['backfill', 'hourly', '--from', '2024-01-01T00:30:00Z', '--to', '2024-01-02T00:00:00Z'];
    const first = await cli.json<BackfillJson>(args);
    assert.equal(first.windows, 24, 'from the window containing --from to the last one ending by --to');
    assert.equal(first.firstWindowStart, '2024-01-01T00:00:00.000Z');
    assert.equal(first.queued, 24);
    assert.equal(first.alreadyScheduled, 0);
    assert.deepEqual(await ledger('hourly'), { n: 24, backfill: 24 });
    assert.equal((await queues.pipeline.getJobCounts('waiting')).waiting, 24);
    const job = await queues.pipeline.getJob(`window-${first.windowIds[0]}`);
    assert.equal(job?.opts.attempts, 5, 'PIPELINE_ATTEMPTS default');

    const again = await cli.ok(args);
    assert.match(again.stdout, /24 windows from 2024-01-01 00:00Z to 2024-01-02 00:00Z/);
    assert.match(again.stdout, /queued:\s+0\n\s+already scheduled: 24/);
    assert.deepEqual(await ledger('hourly'), { n: 24, backfill: 24 });
    assert.equal((await queues.pipeline.getJobCounts('waiting')).waiting, 24, 'no new job either');
  });

  it('clips a --to in the future to the windows that have ended', async () => {
    await cli.ok(['topic', 'add', 'clipped', '--every', '1h']);
    const now = Date.now();
    const from = new Date(now - 3 * 3600_000).toISOString();
    const to = new Date(now + 24 * 3600_000).toISOString();
    const result = await cli.ok(['backfill', 'clipped', '--from', from, '--to', to], { PIPELINE_ATTEMPTS: '2' });
    assert.match(result.stderr, /^radar: --to .* is not in the past: only windows that ended by .* are scheduled$/m);
    const [row] = await cli.database.sql<{ n: number; latest: Date }[]>`
      SELECT count(*)::int AS n, max(window_end) AS latest FROM windows w JOIN topics t ON t.id = w.topic_id WHERE t.name = 'clipped'`;
    assert.ok(row && row.n >= 2 && row.n <= 3, `2 or 3 ended windows, got ${row?.n}`);
    assert.ok(row.latest.getTime() <= Date.now() - 60_000, 'no window that has not ended (plus lag)');
    const [jobRow] = await cli.database.sql<{ id: number }[]>`
      SELECT w.id FROM windows w JOIN topics t ON t.id = w.topic_id WHERE t.name = 'clipped' LIMIT 1`;
    assert.equal((await queues.pipeline.getJob(`window-${jobRow?.id}`))?.opts.attempts, 2, 'PIPELINE_ATTEMPTS from the environment');
  });

  it('pauses and resumes globally: Postgres flag and BullMQ pipeline queue', async () => {
    assert.equal(await queues.pipeline.isPaused(), false);
    const paused = await cli.ok(['pause']);
    assert.match(paused.stdout, /in flight finish.*feeds are still polled.*recorded skipped/);
    assert.equal(await queues.pipeline.isPaused(), true);
    let status = await cli.json<StatusJson>(['status']);
    assert.equal(status.globalPause.paused, true);
    assert.equal(status.pipeline.paused, true);

    const resumed = await cli.json<{ paused: boolean; wasPaused: boolean }>(['resume']);
    assert.deepEqual(resumed, { paused: false, wasPaused: true });
    assert.equal(await queues.pipeline.isPaused(), false);
    status = await cli.json<StatusJson>(['status']);
    assert.equal(status.globalPause.paused, false);
  });

  it('tick: says clearly when no worker takes the job, and withdraws it', async () => {
    const result = await cli.run(['tick', '--timeout', '1']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^radar: error: no worker picked up the tick within 1 s — is a worker running\?.*withdrawn\)\n$/);
    const counts = await queues.scheduler.getJobCounts('waiting', 'active');
    assert.deepEqual(counts, { waiting: 0, active: 0 });

    const noWait = await cli.json<{ jobId: string }>(['tick', '--no-wait']);
    const job = await queues.scheduler.getJob(noWait.jobId);
    assert.deepEqual(job?.data, { manual: true });
    await job?.remove();
  });

  it('tick: waits for a worker running the real tick and prints its report', async () => {
    // A topic whose windows are overdue, so the tick has something to schedule.
    await cli.ok(['topic', 'add', 'overdue', '--every', '1m']);
    await cli.database.sql`
      UPDATE topics SET created_at = now() - interval '1 hour', next_window_end = date_trunc('minute', now()) - interval '5 minutes',
                        watermark = date_trunc('minute', now()) - interval '6 minutes'
       WHERE name = 'overdue'`;
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const tickRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker(
      SCHEDULER_QUEUE,
      async () =>
        runTick({
          db: cli.database.db,
          redis: tickRedis,
          pipeline: queues.pipeline,
          poll: queues.poll,
          prefix: cli.redis.prefix,
          scheduling: { tickMinutes: 5, lagSeconds: 1, maxCatchupWindows: 6 },
          pipelineAttempts: 3,
          log: createLogger({ service: 'cli-test', level: 'silent' }),
        }),
      { connection, prefix: cli.redis.prefix },
    );
    try {
      const human = await cli.ok(['tick', '--timeout', '30']);
      assert.match(human.stdout, /^tick manual-tick-\S+ finished/m);
      assert.match(human.stdout, /^done: 1 due topics, [1-9]\d* windows scheduled, 0 skipped, \d+ re-enqueued, \d+ polls planned \(\d+ re-enqueued\) in \d+ ms$/m);
      const json = await cli.json<{ state: string; report: { outcome: string; dueTopics: number; windowsScheduled: number } }>(['tick']);
      assert.equal(json.state, 'completed');
      assert.equal(json.report.outcome, 'done');
      // Nothing already scheduled comes again; a 1-minute window that ended between the two
      // commands may be new (the test can straddle a minute boundary on a loaded machine).
      assert.ok(json.report.windowsScheduled <= 1, `the second tick rescheduled ${json.report.windowsScheduled} windows`);
    } finally {
      await worker.close();
      connection.disconnect();
      tickRedis.disconnect();
    }
  });

  it('status reports the tick scheduler, last tick, queues, windows, topics behind and failing sources', async () => {
    let status = await cli.json<StatusJson>(['status']);
    assert.equal(status.tickScheduler.registered, false);
    assert.equal(status.lastTick?.report?.outcome, 'done');

    await upsertTickScheduler(queues.scheduler, 5);
    await cli.ok(['source', 'add', '--topic', 'hourly', '--type', 'feed', '--url', 'http://127.0.0.1:9/x.xml', '--name', 'broken feed']);
    await cli.database.sql`UPDATE feeds SET last_status = 'error', last_error = 'connection refused', consecutive_failures = 4 WHERE id = (SELECT feed_id FROM sources WHERE name = 'broken feed')`;
    // 'hourly' stopped being scheduled two hours ago; its backfilled windows have waited 30 minutes.
    await cli.database.sql`UPDATE topics SET next_window_end = now() - interval '2 hours' WHERE name = 'hourly'`;
    await cli.database.sql`UPDATE windows SET created_at = now() - interval '30 minutes' WHERE topic_id = (SELECT id FROM topics WHERE name = 'hourly')`;

    status = await cli.json<StatusJson>(['status']);
    assert.equal(status.tickScheduler.registered, true);
    assert.equal(status.tickScheduler.everyMs, 300_000);
    assert.ok(status.tickScheduler.nextTickAt);
    assert.ok((status.pipeline.counts.waiting ?? 0) >= 24);
    assert.ok(status.windows.queued >= 24);
    const hourly = status.behindSchedule.find((t) => t.topic === 'hourly');
    assert.equal(hourly?.staleQueuedWindows, 24);
    assert.equal(status.behindSchedule.some((t) => t.topic === 'overdue'), false, 'scheduled by the tick: not behind');
    assert.deepEqual(status.failingFeeds.map((s) => [s.topics.length, s.lastError, s.consecutiveFailures]), [[1, 'connection refused', 4]]);

    const human = await cli.ok(['status']);
    assert.match(human.stdout, /^global pause: off$/m);
    assert.match(human.stdout, /^tick job scheduler: registered, every 5m, next tick /m);
    assert.match(human.stdout, /^last tick: .* — done: /m);
    assert.match(human.stdout, /^pipeline queue: waiting \d+, active 0/m);
    assert.match(human.stdout, /^windows: queued \d+, running 0, failed 0/m);
    assert.match(human.stdout, /^hourly\s+active\s+.*ago\)\s+24\s+/m);
    assert.match(human.stdout, /#\d+ http:\/\/127\.0\.0\.1:9\/x\.xml\s+hourly\s+error\s+4\s+-\s+\S+ \S+\s+connection refused/);
  });
});
