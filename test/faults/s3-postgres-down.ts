/**
 * Scenario 3 — Postgres down for 30 s (invariant 6): ticks and runs fail and are retried;
 * the processes stay up and the workers' /readyz reports not ready; when Postgres is back,
 * work resumes by itself (no restart), including the windows that became due meanwhile.
 */
import { defaultAnchor } from '@aharadar/scheduling';
import { liveFeed } from '../support/feed-server.js';
import type { LogLine } from '../support/processes.js';
import { alive, createStack, readyz, seconds, settleAndVerify, sleep, stderrWriters, until, type Proc, type TopicSpec } from './support/stack.js';
import type { Scenario } from './support/scenario.js';

const TOPICS = 20;
const LAG_SECONDS = 1;
const DOWN_MS = 30_000;
/** Ticks must succeed again within this long after Postgres is back (connect timeout + backoff). */
const RESUME_WITHIN_MS = 30_000;

const lineTime = (l: LogLine) => Date.parse(String(l.time));

export const postgresDown: Scenario = {
  id: 3,
  title: 'Postgres down for 30 s',
  async run(ctx, outcome) {
    const stack = await createStack(ctx.infra, 's3', {
      SCHEDULER_TICK_MINUTES: '0.05',
      SCHEDULER_LAG_SECONDS: String(LAG_SECONDS),
      SCHEDULER_MAX_CATCHUP_WINDOWS: '100',
      WORKER_CONCURRENCY: '4',
      WORKER_LOCK_DURATION_MS: '4000',
    });
    let pgStopped = false;
    try {
      const createdAt = new Date(Date.now() - 1.5 * 60_000);
      const topics: TopicSpec[] = [];
      for (let i = 0; i < TOPICS; i++) {
        const path = `/s3/${i}.xml`;
        stack.feeds.route(path, liveFeed(`s3-${i}`, { slotSeconds: 15, slots: 20 }));
        const id = await stack.addEveryTopic(`pgdown-${i}`, createdAt, stack.feeds.url(path));
        topics.push({ id, createdAt, schedule: { kind: 'every', everySeconds: 60, anchor: defaultAnchor(createdAt, 'UTC') } });
      }
      const scheduler = await stack.start('scheduler', 'scheduler');
      const workers: Proc[] = [await stack.start('worker', 'worker-a'), await stack.start('worker', 'worker-b')];
      const procs = [scheduler, ...workers];

      await until('the first digests', async () => (await stack.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digests`)[0]?.n, 60_000);
      // Start the outage between seconds 33 and 55 of a minute: the next window then becomes
      // due (boundary + lag) while Postgres is down, whatever the setup took.
      const inMinute = Date.now() % 60_000;
      const wait = inMinute >= 33_000 && inMinute <= 55_000 ? 0 : (33_000 - inMinute + 60_000) % 60_000;
      ctx.note(`waiting ${Math.round(wait / 1000)} s to take Postgres down between seconds 33 and 55`);
      await sleep(wait);

      await ctx.infra.pg.stop();
      pgStopped = true;
      const downAt = Date.now();
      ctx.note('Postgres stopped');
      const notReadyAfter = new Map<string, number>();
      let died = '';
      let schedulerNotReady = 0;
      while (Date.now() - downAt < DOWN_MS) {
        for (const w of workers) {
          if (!notReadyAfter.has(w.label) && (await readyz(w.healthPort, 3_000)).status === 503) notReadyAfter.set(w.label, Date.now() - downAt);
        }
        if ((await readyz(scheduler.healthPort, 3_000)).status !== 200) schedulerNotReady++;
        for (const p of procs) if (!alive(p) && !died) died = `${p.label} exited (${String(p.child.exitCode ?? p.child.signalCode)}) while Postgres was down`;
        await sleep(1_000);
      }
      const readyBody = (await readyz(workers[0]?.healthPort ?? 0)).body;
      await ctx.infra.pg.start();
      pgStopped = false;
      const upAt = Date.now();
      ctx.note('Postgres started again');

      const readyAfter = await until(
        'every worker ready again',
        async () => {
          const answers = await Promise.all(workers.map((w) => readyz(w.healthPort, 3_000)));
          return answers.every((a) => a.status === 200) ? Date.now() - upAt : undefined;
        },
        60_000,
      ).catch(() => undefined);
      const ticks = () => stack.allLines().map((x) => x.line).filter((l) => l.msg === 'Scheduler tick' && l.outcome === 'done');
      const firstTick = await until('a successful tick', async () => ticks().find((l) => lineTime(l) > upAt), 60_000).catch(() => undefined);
      // Windows that became due while Postgres was down, and when the last of their digests landed.
      const dueDuring = topics.flatMap((t) => {
        const end = Math.floor(downAt / 60_000) * 60_000 + 60_000;
        return end + LAG_SECONDS * 1000 > downAt && end + LAG_SECONDS * 1000 <= upAt ? [{ topic: t.id, end: new Date(end) }] : [];
      });
      const caughtUp = await until(
        'the windows due during the outage to get their digests',
        async () => {
          if (dueDuring.length === 0) return Date.now();
          const [r] = await stack.db.sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM digests WHERE window_end = ${dueDuring[0]?.end ?? new Date(0)} AND trigger = 'scheduled'`;
          return r && r.n >= dueDuring.length ? Date.now() : undefined;
        },
        90_000,
        500,
      ).catch(() => undefined);
      const failedRuns = stack.allLines().filter((x) => x.line.msg === 'run failed; will retry' || x.line.msg === 'job failed').length;
      const failedTicks = stack.allLines().filter((x) => x.line.msg === 'tick failed').length;

      const { report, settled } = await settleAndVerify(stack.db, topics, LAG_SECONDS, 60_000);

      outcome.figure('down', seconds(upAt - downAt));
      outcome.figure('not-ready-after', [...notReadyAfter.values()].length ? seconds(Math.max(...notReadyAfter.values())) : 'never');
      outcome.figure('ready-again-after', readyAfter !== undefined ? seconds(readyAfter) : 'never');
      outcome.figure('first-tick-after', firstTick ? seconds(lineTime(firstTick) - upAt) : 'never');
      outcome.figure('due-during-outage', dueDuring.length);
      outcome.figure('caught-up-after', caughtUp ? seconds(caughtUp - upAt) : 'never');
      outcome.figure('failed-ticks-logged', failedTicks);
      outcome.figure('failed-runs-logged', failedRuns);
      outcome.figure('windows', report.scheduled);
      outcome.figure('expected', report.expected);
      outcome.figure('digests', report.digests);
      outcome.figure('duplicates', report.duplicates);
      outcome.figure('lost', report.lost);

      outcome.check(died === '', died);
      outcome.check(notReadyAfter.size === workers.length, `only ${notReadyAfter.size}/${workers.length} workers reported not ready while Postgres was down`);
      outcome.check(/postgres/.test(readyBody), `/readyz during the outage does not name postgres: ${readyBody.trim()}`);
      outcome.check(schedulerNotReady === 0, 'the scheduler (which does not use Postgres) reported not ready');
      outcome.check(readyAfter !== undefined, 'workers did not become ready again within 60 s');
      outcome.check(firstTick !== undefined && lineTime(firstTick) - upAt <= RESUME_WITHIN_MS, `ticks did not resume within ${RESUME_WITHIN_MS / 1000} s of Postgres being back`);
      outcome.check(failedTicks > 0, 'no failed tick was logged during the outage (an operator would see nothing)');
      outcome.check(dueDuring.length > 0, 'no window became due during the outage (the scenario proves less)');
      outcome.check(caughtUp !== undefined, 'windows due during the outage did not get their digests');
      outcome.check(settled, `ledger did not settle: scheduled ${report.scheduled} expected ${report.expected} digests ${report.digests} duplicates ${report.duplicates} lost ${report.lost}`);
      for (const w of stderrWriters(stack)) outcome.fail(`wrote to stderr instead of logging JSON: ${w}`);
      for (const p of procs) outcome.check(alive(p), `${p.label} exited (${String(p.child.exitCode ?? p.child.signalCode)})`);
    } finally {
      if (pgStopped) await ctx.infra.pg.start();
      await stack.close();
    }
  },
};
