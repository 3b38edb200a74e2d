/**
 * Scenario 1 — load with chaos.
 *
 * 200 topics `every 1m`, 3 workers, 2 scheduler processes. To get well over 1,000 windows in
 * minutes without a fake clock inside the processes, the topics are created with `created_at`
 * CATCHUP_MINUTES in the past and SCHEDULER_MAX_CATCHUP_WINDOWS raised above that: the first
 * tick finds 5-6 due windows per topic (~1,100 at once, the "backfill"), and 200 more become
 * due every minute while the run lasts (~1,700 windows in all). The scheduling is the
 * product's own: nothing is inserted into the ledger by the test.
 *
 * During the run: a random worker is SIGKILLed every few seconds and restarted, Redis is
 * restarted once (AOF, data kept) and Postgres once (fast shutdown: every connection is cut).
 * Then, once quiet: the ledger must equal the windows the scheduling math expects at that
 * moment, with one digest each, no duplicate and nothing lost.
 */
import { defaultAnchor } from '@aharadar/scheduling';
import { liveFeed } from '../support/feed-server.js';
import { alive, createStack, seconds, settleAndVerify, sleep, stderrWriters, type Proc, type TopicSpec } from './support/stack.js';
import type { Scenario } from './support/scenario.js';

const TOPICS = 200;
const WORKERS = 3;
const SCHEDULERS = 2;
const CATCHUP_MINUTES = 5.5;
const LAG_SECONDS = 2;
const CHAOS_MS = 100_000;
const REDIS_RESTART_AT_MS = 30_000;
const POSTGRES_RESTART_AT_MS = 65_000;

export const loadChaos: Scenario = {
  id: 1,
  title: 'load with chaos (200 topics, 3 workers, 2 schedulers, kills + Redis/Postgres restarts)',
  async run(ctx, outcome) {
    const stack = await createStack(
      ctx.infra,
      's1',
      {
        SCHEDULER_TICK_MINUTES: '0.05',
        SCHEDULER_LAG_SECONDS: String(LAG_SECONDS),
        SCHEDULER_MAX_CATCHUP_WINDOWS: '100',
        WORKER_CONCURRENCY: '8',
        WORKER_LOCK_DURATION_MS: '4000',
        FETCH_TIMEOUT_MS: '5000',
        FETCH_SOURCE_CONCURRENCY: '4',
      },
      20,
    );
    try {
      const createdAt = new Date(Date.now() - CATCHUP_MINUTES * 60_000);
      const topics: TopicSpec[] = [];
      for (let i = 0; i < TOPICS; i++) {
        const path = `/s1/${i}.xml`;
        // Items every 20 s over the last 12 minutes: each one-minute window holds three.
        stack.feeds.route(path, liveFeed(`t${i}`, { slotSeconds: 20, slots: 36 }));
        const id = await stack.addEveryTopic(`load-${i}`, createdAt, stack.feeds.url(path));
        topics.push({ id, createdAt, schedule: { kind: 'every', everySeconds: 60, anchor: defaultAnchor(createdAt, 'UTC') } });
      }
      ctx.note(`${TOPICS} topics created ${CATCHUP_MINUTES} min in the past`);

      const t0 = Date.now();
      const schedulers: Proc[] = [];
      for (let i = 0; i < SCHEDULERS; i++) schedulers.push(await stack.start('scheduler', `scheduler-${i}`));
      const workers: Proc[] = [];
      for (let i = 0; i < WORKERS; i++) workers.push(await stack.start('worker', `worker-${i}`));

      // --- chaos ------------------------------------------------------------------------------
      let kills = 0;
      let restarts = 0;
      let chaosError: unknown;
      const chaosEnd = Date.now() + CHAOS_MS;
      // Every 2-5 s a random running worker is SIGKILLed and a replacement started at once (its
      // start-up is not awaited: the next kill may come while it is still booting).
      const booting: Promise<unknown>[] = [];
      const killer = (async () => {
        let n = WORKERS;
        while (Date.now() < chaosEnd) {
          await sleep(2_000 + Math.random() * 3_000);
          if (Date.now() >= chaosEnd) break;
          const candidates = workers.filter((w) => alive(w) && w.healthPort > 0);
          const victim = candidates[Math.floor(Math.random() * candidates.length)];
          if (!victim) continue;
          victim.kill('SIGKILL');
          await victim.exited;
          kills++;
          const replacement = stack.spawn('worker', `worker-${n++}`);
          booting.push(stack.ready(replacement));
          workers[workers.indexOf(victim)] = replacement;
        }
        await Promise.all(booting);
      })().catch((e: unknown) => {
        chaosError = e;
      });
      let redisDownMs = 0;
      let pgDownMs = 0;
      const outages = (async () => {
        await sleep(Math.max(0, t0 + REDIS_RESTART_AT_MS - Date.now()));
        ctx.note('restarting Redis (AOF, data kept)');
        redisDownMs = (await ctx.infra.redis.restart(1_000)).downMs;
        restarts++;
        await sleep(Math.max(0, t0 + POSTGRES_RESTART_AT_MS - Date.now()));
        ctx.note('restarting Postgres (fast: connections cut)');
        pgDownMs = (await ctx.infra.pg.restart()).downMs;
        restarts++;
      })().catch((e: unknown) => {
        chaosError = e;
      });
      await Promise.all([killer, outages]);
      if (chaosError) throw chaosError;
      ctx.note(`chaos over: ${kills} kills; waiting for the system to settle`);

      const { report, settled } = await settleAndVerify(stack.db, topics, LAG_SECONDS, 150_000);

      // Throughput and latency from the digests themselves (Postgres clock = this machine's).
      // A window "becomes due" at end + lag, or at t0 for the backlog that was due before start.
      const [perf] = await stack.db.sql<{ backlog: number; backlog_done: Date | null; max_delay_ms: number; p99_delay_ms: number }[]>`
        WITH d AS (
          SELECT w.window_end, d.created_at,
                 extract(epoch FROM d.created_at - greatest(w.window_end + make_interval(secs => ${LAG_SECONDS}), ${new Date(t0)}::timestamptz)) * 1000 AS delay_ms
            FROM windows w JOIN digests d ON d.window_id = w.id WHERE w.trigger <> 'manual')
        SELECT count(*) FILTER (WHERE window_end + make_interval(secs => ${LAG_SECONDS}) <= ${new Date(t0)}::timestamptz)::int AS backlog,
               max(created_at) FILTER (WHERE window_end + make_interval(secs => ${LAG_SECONDS}) <= ${new Date(t0)}::timestamptz) AS backlog_done,
               coalesce(max(delay_ms), 0)::float8 AS max_delay_ms,
               coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY delay_ms), 0)::float8 AS p99_delay_ms
          FROM d`;
      const backlog = perf?.backlog ?? 0;
      const drainMs = perf?.backlog_done ? perf.backlog_done.getTime() - t0 : NaN;

      outcome.figure('windows', report.scheduled);
      outcome.figure('expected', report.expected);
      outcome.figure('digests', report.digests);
      outcome.figure('duplicates', report.duplicates);
      outcome.figure('lost', report.lost);
      outcome.figure('windows/s', Number.isFinite(drainMs) ? (backlog / (drainMs / 1000)).toFixed(1) : 'n/a');
      outcome.figure('backlog', `${backlog}in${Number.isFinite(drainMs) ? seconds(drainMs, 0) : 'n/a'}`);
      outcome.figure('max-due→digest', seconds(perf?.max_delay_ms ?? 0));
      outcome.figure('p99-due→digest', seconds(perf?.p99_delay_ms ?? 0));
      outcome.figure('kills', kills);
      outcome.figure('retried', report.retried);
      outcome.figure('redis-down', seconds(redisDownMs));
      outcome.figure('pg-restart', seconds(pgDownMs));

      outcome.check(report.scheduled >= 1_000, `only ${report.scheduled} windows processed (want >= 1,000)`);
      outcome.check(settled, 'the system did not settle to the expected ledger within 150 s');
      outcome.check(report.scheduled === report.expected, `windows scheduled ${report.scheduled} != expected ${report.expected} (missing ${report.missing}, unexpected ${report.unexpected})`);
      outcome.check(report.digests === report.scheduled, `digests ${report.digests} != windows ${report.scheduled}`);
      outcome.check(report.duplicates === 0, `duplicates ${report.duplicates}`);
      outcome.check(report.lost === 0, `lost ${report.lost} (missing ${report.missing}, unfinished ${report.unfinished}, digest mismatch ${report.digestMismatch}, items ${report.lostItems})`);
      outcome.check(report.outOfOrder === 0, `${report.outOfOrder} windows finished out of window order`);
      outcome.check(report.failedDigests === 0, `${report.failedDigests} windows ended failed`);
      outcome.check(report.skipped === 0, `${report.skipped} windows skipped`);
      outcome.check(restarts === 2, 'Redis and Postgres were not both restarted');
      outcome.check(kills >= 10, `only ${kills} workers killed`);
      for (const w of stderrWriters(stack)) outcome.fail(`wrote to stderr instead of logging JSON: ${w}`);
      for (const p of [...schedulers, ...workers]) outcome.check(alive(p), `${p.label} exited during the run (${String(p.child.exitCode ?? p.child.signalCode)})`);
    } finally {
      await stack.close();
    }
  },
};
