/**
 * Scenario 2 — Redis loses its data (FLUSHALL while running): the tick job scheduler, every
 * queued job and every lock are gone at once. Invariant 5: ticks resume within a minute and
 * every scheduled-but-unfinished window is enqueued again; nothing is built twice.
 */
import { defaultAnchor } from '@aharadar/scheduling';
import { Redis } from 'ioredis';
import { liveFeed } from '../support/feed-server.js';
import type { LogLine } from '../support/processes.js';
import { alive, createStack, seconds, settleAndVerify, sleep, stderrWriters, until, type Proc, type TopicSpec } from './support/stack.js';
import type { Scenario } from './support/scenario.js';

const TOPICS = 40;
const LAG_SECONDS = 1;
/** Each feed answers after this long, so that runs are in flight and jobs queued at the flush. */
const FEED_DELAY_MS = 700;

const lineTime = (l: LogLine) => Date.parse(String(l.time));

export const redisFlush: Scenario = {
  id: 2,
  title: 'Redis loses its data (FLUSHALL while running)',
  async run(ctx, outcome) {
    const stack = await createStack(ctx.infra, 's2', {
      SCHEDULER_TICK_MINUTES: '0.05',
      SCHEDULER_LAG_SECONDS: String(LAG_SECONDS),
      SCHEDULER_MAX_CATCHUP_WINDOWS: '100',
      WORKER_CONCURRENCY: '4',
      WORKER_LOCK_DURATION_MS: '4000',
      FETCH_TIMEOUT_MS: '5000',
    });
    const probe = new Redis(ctx.infra.redis.url, { maxRetriesPerRequest: null });
    try {
      const createdAt = new Date(Date.now() - 4.5 * 60_000);
      const topics: TopicSpec[] = [];
      for (let i = 0; i < TOPICS; i++) {
        const path = `/s2/${i}.xml`;
        const feed = liveFeed(`s2-${i}`, { slotSeconds: 20, slots: 30 });
        stack.feeds.route(path, async (req, res) => {
          await sleep(FEED_DELAY_MS);
          await feed(req, res);
        });
        const id = await stack.addEveryTopic(`flush-${i}`, createdAt, stack.feeds.url(path));
        topics.push({ id, createdAt, schedule: { kind: 'every', everySeconds: 60, anchor: defaultAnchor(createdAt, 'UTC') } });
      }
      const scheduler = await stack.start('scheduler', 'scheduler');
      const workers: Proc[] = [await stack.start('worker', 'worker-a'), await stack.start('worker', 'worker-b')];

      // Flush once some windows are done and many are still queued or running.
      await until(
        'some digests with a backlog behind them',
        async () => {
          const [r] = await stack.db.sql<{ done: number; open: number }[]>`
            SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS done, count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS open FROM windows`;
          return r && r.done >= 10 && r.open >= 50;
        },
        60_000,
      );
      const keysBefore = (await probe.keys(`${stack.prefix}:*`)).length;
      const flushedAt = Date.now();
      await ctx.infra.redis.flushAll();
      const unfinished = await stack.db.sql<{ id: number }[]>`SELECT id FROM windows WHERE status IN ('queued', 'running') AND trigger <> 'manual'`;
      ctx.note(`FLUSHALL with ${unfinished.length} windows unfinished (${keysBefore} keys gone)`);

      const ticks = () => stack.allLines().map((x) => x.line).filter((l) => l.msg === 'Scheduler tick');
      // A tick that started after the flush (one in flight at the flush does not count).
      const resumed = await until(
        'a tick after the flush',
        async () => ticks().find((l) => lineTime(l) - Number(l.durationMs ?? 0) > flushedAt && l.outcome === 'done'),
        90_000,
      ).catch(() => undefined);
      const reregistered = scheduler.lines.find((l) => l.msg === 'tick job scheduler registered' && lineTime(l) > flushedAt);
      const firstReenqueue = await until(
        'the reconcile to re-enqueue the lost jobs',
        async () => ticks().find((l) => lineTime(l) > flushedAt && Number(l.reenqueued ?? 0) > 0),
        60_000,
      ).catch(() => undefined);

      // Right after the first reconcile, every row that is still unfinished must have a job.
      let jobless = -1;
      if (firstReenqueue) {
        const open = await stack.db.sql<{ id: number }[]>`
          SELECT id FROM windows WHERE status IN ('queued', 'running') AND trigger <> 'manual' AND created_at < ${new Date(lineTime(firstReenqueue) - 15_000)}`;
        const pipe = probe.pipeline();
        for (const { id } of open) pipe.exists(`${stack.prefix}:pipeline:window-${id}`);
        const replies = (await pipe.exec()) ?? [];
        jobless = replies.filter(([, n]) => n === 0).length;
      }
      const reenqueued = ticks()
        .filter((l) => lineTime(l) > flushedAt)
        .reduce((n, l) => n + Number(l.reenqueued ?? 0), 0);

      const ids = unfinished.map((r) => r.id);
      const allDone = await until(
        'every window unfinished at the flush to get its digest',
        async () => {
          const [r] = await stack.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digests WHERE window_id = ANY(${ids})`;
          return r && r.n >= ids.length ? Date.now() : undefined;
        },
        150_000,
        500,
      ).catch(() => undefined);
      const { report, settled } = await settleAndVerify(stack.db, topics, LAG_SECONDS, 60_000);
      const [perWindow] = await stack.db.sql<{ with_digest: number; extra: number }[]>`
        SELECT count(DISTINCT window_id)::int AS with_digest, (count(*) - count(DISTINCT window_id))::int AS extra FROM digests WHERE window_id = ANY(${ids})`;

      outcome.figure('unfinished-at-flush', ids.length);
      outcome.figure('ticks-resumed-after', resumed ? seconds(lineTime(resumed) - Number(resumed.durationMs ?? 0) - flushedAt) : 'never');
      outcome.figure('scheduler-reregistered-after', reregistered ? seconds(lineTime(reregistered) - flushedAt) : 'never');
      outcome.figure('re-enqueued', reenqueued);
      outcome.figure('re-enqueued-after', firstReenqueue ? seconds(lineTime(firstReenqueue) - flushedAt) : 'never');
      outcome.figure('all-unfinished-done-after', allDone ? seconds(allDone - flushedAt) : 'never');
      outcome.figure('windows', report.scheduled);
      outcome.figure('expected', report.expected);
      outcome.figure('digests', report.digests);
      outcome.figure('duplicates', report.duplicates);
      outcome.figure('lost', report.lost);

      outcome.check(ids.length > 0, 'nothing was unfinished at the flush (the scenario proves nothing)');
      outcome.check(resumed !== undefined && lineTime(resumed) - flushedAt <= 60_000, 'ticks did not resume within a minute');
      outcome.check(firstReenqueue !== undefined, 'no tick re-enqueued the lost jobs');
      outcome.check(jobless === 0, `${jobless} unfinished windows still had no job after the first reconcile`);
      outcome.check(allDone !== undefined, 'not every window unfinished at the flush got a digest');
      outcome.check(
        (perWindow?.with_digest ?? 0) === ids.length && (perWindow?.extra ?? 1) === 0,
        `windows unfinished at the flush: ${perWindow?.with_digest}/${ids.length} with a digest, ${perWindow?.extra} extra digests`,
      );
      outcome.check(settled, `ledger did not settle: scheduled ${report.scheduled} expected ${report.expected} digests ${report.digests} duplicates ${report.duplicates} lost ${report.lost}`);
      for (const w of stderrWriters(stack)) outcome.fail(`wrote to stderr instead of logging JSON: ${w}`);
      for (const p of [scheduler, ...workers]) outcome.check(alive(p), `${p.label} exited (${String(p.child.exitCode ?? p.child.signalCode)})`);
    } finally {
      probe.disconnect();
      await stack.close();
    }
  },
};
