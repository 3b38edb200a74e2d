/**
 * Scenario 4 — graceful shutdown. SIGTERM during runs: the worker stops taking jobs, finishes
 * the runs it has (within WORKER_SHUTDOWN_TIMEOUT_MS) and exits 0; a second worker running at
 * the same time takes none of them. And past the grace period: the worker still exits 0 at
 * about the grace period, and its unfinished run is handed over and built exactly once.
 */
import { liveFeed } from '../support/feed-server.js';
import type { LogLine } from '../support/processes.js';
import { alive, createStack, seconds, sleep, stderrWriters, until, type Proc } from './support/stack.js';
import type { Scenario } from './support/scenario.js';

const LAG_SECONDS = 1;
const SLOW_FEED_MS = 5_000;
const GRACE_MS = 20_000;
const SHORT_GRACE_MS = 2_000;

const lineTime = (l: LogLine) => Date.parse(String(l.time));

/** Window ids a process has started and not finished, from its log. */
function activeRuns(p: Proc): number[] {
  const started = p.lines.filter((l) => l.msg === 'run started').map((l) => Number(l.windowId));
  const finished = new Set(p.lines.filter((l) => l.msg === 'run finished').map((l) => Number(l.windowId)));
  return started.filter((id) => !finished.has(id));
}

export const gracefulShutdown: Scenario = {
  id: 4,
  title: 'graceful shutdown (SIGTERM mid-run, within and past the grace period)',
  async run(ctx, outcome) {
    const stack = await createStack(ctx.infra, 's4', {
      SCHEDULER_TICK_MINUTES: '0.05',
      SCHEDULER_LAG_SECONDS: String(LAG_SECONDS),
      SCHEDULER_MAX_CATCHUP_WINDOWS: '100',
      WORKER_CONCURRENCY: '4',
      WORKER_LOCK_DURATION_MS: '4000',
      FETCH_TIMEOUT_MS: '30000',
    });
    try {
      const createdAt = new Date(Date.now() - 1.5 * 60_000);
      const slow = liveFeed('s4', { slotSeconds: 15, slots: 20 });
      stack.feeds.route('/s4/slow.xml', async (req, res) => {
        await sleep(SLOW_FEED_MS);
        await slow(req, res);
      });
      const scheduler = await stack.start('scheduler', 'scheduler');
      const a = await stack.start('worker', 'worker-a', { WORKER_SHUTDOWN_TIMEOUT_MS: String(GRACE_MS) });
      const b = await stack.start('worker', 'worker-b', { WORKER_SHUTDOWN_TIMEOUT_MS: String(GRACE_MS) });

      // --- within the grace period ----------------------------------------------------------
      const topicIds: number[] = [];
      for (let i = 0; i < 8; i++) topicIds.push(await stack.addEveryTopic(`graceful-${i}`, createdAt, stack.feeds.url('/s4/slow.xml')));
      await until('worker-a to be in the middle of runs', async () => activeRuns(a).length >= 2, 60_000, 100);
      await sleep(1_000); // well inside the slow fetch
      const inFlight = activeRuns(a);
      const termAt = Date.now();
      a.kill('SIGTERM');
      const code = await a.exited;
      const exitMs = Date.now() - termAt;
      ctx.note(`worker-a exited ${String(code)} after ${exitMs} ms with ${inFlight.length} runs in flight`);
      const rows = await stack.db.sql<{ id: number; status: string; attempts: number }[]>`SELECT id, status, attempts FROM windows WHERE id = ANY(${inFlight})`;
      const takenByB = b.lines.filter((l) => l.msg === 'run started' && inFlight.includes(Number(l.windowId))).length;
      await until(
        'every window of the graceful topics to finish',
        async () => (await stack.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM windows WHERE topic_id = ANY(${topicIds}) AND status IN ('queued', 'running')`)[0]?.n === 0,
        90_000,
      );
      const starts = new Map<number, number>();
      for (const { line } of stack.allLines()) if (line.msg === 'run started') starts.set(Number(line.windowId), (starts.get(Number(line.windowId)) ?? 0) + 1);
      const takenTwice = [...starts.values()].filter((n) => n > 1).length;
      const [digests] = await stack.db.sql<{ windows: number; digests: number }[]>`
        SELECT (SELECT count(*)::int FROM windows WHERE topic_id = ANY(${topicIds})) AS windows,
               (SELECT count(*)::int FROM digests WHERE topic_id = ANY(${topicIds})) AS digests`;

      outcome.figure('in-flight-at-sigterm', inFlight.length);
      outcome.figure('exit', String(code));
      outcome.figure('exit-after', seconds(exitMs));
      outcome.figure('grace', seconds(GRACE_MS, 0));
      outcome.figure('taken-twice', takenTwice);
      outcome.check(code === 0, `worker-a exited ${String(code)} on SIGTERM (want 0)`);
      outcome.check(exitMs < GRACE_MS, `worker-a took ${exitMs} ms to exit (grace ${GRACE_MS} ms)`);
      outcome.check(exitMs >= SLOW_FEED_MS - 1_500, `worker-a exited after ${exitMs} ms: too soon to have finished its runs`);
      outcome.check(
        rows.length === inFlight.length && rows.every((r) => r.status === 'succeeded' && r.attempts === 1),
        `runs in flight at SIGTERM did not all finish on worker-a: ${JSON.stringify(rows)}`,
      );
      outcome.check(takenByB === 0, `worker-b started ${takenByB} of worker-a's runs`);
      outcome.check(takenTwice === 0, `${takenTwice} windows were started twice`);
      outcome.check(digests?.windows === digests?.digests, `windows ${digests?.windows} != digests ${digests?.digests}`);

      // --- past the grace period -------------------------------------------------------------
      // worker-c gets a run that cannot finish within its 2 s grace period. It must still exit 0
      // at about the grace period, and the run is then built once, by worker-d.
      b.kill('SIGTERM');
      await b.exited;
      let release = false;
      const held = liveFeed('s4-held', { slotSeconds: 15, slots: 20 });
      stack.feeds.route('/s4/held.xml', async (req, res) => {
        while (!release && !res.destroyed) await sleep(100);
        await held(req, res);
      });
      const c = await stack.start('worker', 'worker-c', { WORKER_SHUTDOWN_TIMEOUT_MS: String(SHORT_GRACE_MS) });
      await stack.addEveryTopic('past-grace', createdAt, stack.feeds.url('/s4/held.xml'));
      await until('worker-c to start the long run', async () => activeRuns(c).length >= 1, 60_000, 100);
      const [longWindow] = activeRuns(c);
      const rescuer = await stack.start('worker', 'worker-d', { WORKER_SHUTDOWN_TIMEOUT_MS: String(GRACE_MS) });
      const cTermAt = Date.now();
      c.kill('SIGTERM');
      const cCode = await Promise.race([c.exited, sleep(40_000).then(() => 'still running after 40 s')]);
      const cExitMs = Date.now() - cTermAt;
      release = true;
      const rescued = await until(
        'the handed-back run to be built by worker-d',
        async () => rescuer.lines.find((l) => l.msg === 'run finished' && Number(l.windowId) === longWindow),
        60_000,
      ).catch(() => undefined);
      const [longRow] = await stack.db.sql<{ status: string; attempts: number; digests: number }[]>`
        SELECT status, attempts, (SELECT count(*)::int FROM digests WHERE window_id = w.id) AS digests FROM windows w WHERE id = ${longWindow ?? 0}`;

      outcome.figure('past-grace-exit', String(cCode));
      outcome.figure('past-grace-exit-after', seconds(cExitMs));
      outcome.figure('handed-over-in', rescued ? seconds(lineTime(rescued) - cTermAt) : 'never');
      outcome.check(cCode === 0, `worker-c exited ${String(cCode)} after its grace period (want 0)`);
      outcome.check(cExitMs < SHORT_GRACE_MS + 5_000, `worker-c took ${cExitMs} ms to exit with a ${SHORT_GRACE_MS} ms grace period`);
      outcome.check(rescued !== undefined, 'the run worker-c handed back was not built by worker-d');
      outcome.check(longRow?.status === 'succeeded' && longRow.digests === 1, `the handed-back window ended ${JSON.stringify(longRow)}`);
      for (const w of stderrWriters(stack)) outcome.fail(`wrote to stderr instead of logging JSON: ${w}`);
      outcome.check(alive(scheduler) && alive(rescuer), 'the scheduler or worker-d exited');
    } finally {
      await stack.close();
    }
  },
};
