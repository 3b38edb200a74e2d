/**
 * Scenario 1 — idle tick: 100,000 topics, none due. Our tick (lock, global-pause sync, the
 * set-based due query, reconcile) against the naive approach a loop would take: one query per
 * topic, then the same due computation in JavaScript.
 */
import { topicSchedule, type Topic } from '@aharadar/db';
import { planDueWindows } from '@aharadar/scheduling';
import { runTick } from '../apps/worker/src/tick.js';
import { bulkCreateTopics, fmtMs, fmtNum, median, openServices, openTick, percentile, round, timed, type BenchContext, type ScenarioResult } from './support.js';

const HOUR_MS = 3_600_000;

export async function idleTick(ctx: BenchContext): Promise<ScenarioResult> {
  const topics = ctx.quick ? 10_000 : 100_000;
  const ticks = ctx.quick ? 5 : 25;
  const services = await openServices();
  let tick: ReturnType<typeof openTick> | undefined;
  try {
    const { database } = services;
    const now = Date.now();
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    // Hourly topics whose last window [hour-1h, hour) was scheduled and built: the next one
    // ends at hour+1h, so nothing is due now (lag 60 s).
    ctx.log(`idle-tick: creating ${fmtNum(topics)} topics and their last ledger rows`);
    const range = await bulkCreateTopics(database, {
      count: topics,
      prefix: 'idle',
      everySeconds: 3600,
      anchor: new Date(Math.floor(now / 86_400_000) * 86_400_000),
      createdAt: new Date(now - 2 * 86_400_000),
      watermark: new Date(hour),
      nextWindowEnd: new Date(hour + HOUR_MS),
    });
    await database.sql`
      INSERT INTO windows (topic_id, window_start, window_end, trigger, status, attempts, created_at, started_at, finished_at)
      SELECT id, ${new Date(hour - HOUR_MS)}, ${new Date(hour)}, 'scheduled', 'succeeded', 1, ${new Date(hour)}, ${new Date(hour)}, ${new Date(hour)}
        FROM topics`;
    await database.sql`VACUUM ANALYZE topics`;
    await database.sql`VACUUM ANALYZE windows`;

    tick = openTick(services);
    const { deps } = tick;

    // Ours: warm up (connections, prepared plans, JIT), then median of many ticks.
    for (let i = 0; i < 3; i++) await runTick(deps);
    const ourMs: number[] = [];
    for (let i = 0; i < ticks; i++) {
      const { ms, value } = await timed(() => runTick(deps));
      if (value.outcome !== 'done' || value.windowsScheduled !== 0) throw new Error(`idle tick scheduled something: ${JSON.stringify(value)}`);
      ourMs.push(ms);
    }

    // The due query on its own, as Postgres sees it.
    const cutoff = new Date(Date.now() - deps.scheduling.lagSeconds * 1000);
    const plan = await database.sql<{ 'QUERY PLAN': string }[]>`
      EXPLAIN (ANALYZE, BUFFERS) SELECT id, schedule_kind, every_seconds, cron_expr, time_zone, anchor, watermark, next_window_end, created_at
        FROM topics WHERE paused = false AND next_window_end <= ${cutoff} ORDER BY next_window_end, id LIMIT 1000`;
    const planText = plan.map((r) => r['QUERY PLAN']);
    const dueQueryMs = Number(/Execution Time: ([\d.]+) ms/.exec(planText.join('\n'))?.[1] ?? Number.NaN);

    // Naive: list the topics, then one query per topic and the due check in JS — sequential,
    // like `for (const topic of topics) await ...`. Primary-key lookups with prepared
    // statements on the raw driver: the cheapest per-topic query there is.
    ctx.log(`idle-tick: naive loop over ${fmtNum(topics)} topics (one query each)`);
    const naive = await timed(async () => {
      const ids = await database.sql<{ id: number }[]>`SELECT id FROM topics ORDER BY id`;
      let due = 0;
      const at = new Date();
      for (const { id } of ids) {
        const [topic] = await database.sql<Pick<Topic, 'schedule_kind' | 'every_seconds' | 'cron_expr' | 'time_zone' | 'anchor' | 'watermark' | 'created_at'>[]>`
          SELECT schedule_kind, every_seconds, cron_expr, time_zone, anchor, watermark, created_at FROM topics WHERE id = ${id} AND NOT paused`;
        if (!topic) continue;
        const p = planDueWindows({ schedule: topicSchedule(topic), watermark: topic.watermark, createdAt: topic.created_at, now: at, lagSeconds: 60, maxCatchupWindows: 6 });
        if (p.scheduled.length > 0) due++;
      }
      return { topics: ids.length, due };
    });
    if (naive.value.due !== 0 || naive.value.topics !== range.lastId - range.firstId + 1) throw new Error('naive idle tick saw something due');

    const ours = median(ourMs);
    const speedup = naive.ms / ours;
    const targetMs = 50;
    return {
      rows: [
        {
          scenario: 'idle-tick',
          metric: `idle tick, ${fmtNum(topics)} topics, none due (median of ${ticks})`,
          ours: fmtMs(ours),
          baseline: `${fmtMs(naive.ms)} naive (1 query/topic)`,
          ratio: `${fmtNum(speedup)}x faster`,
          target: `< ${targetMs} ms and >= 100x`,
          pass: ours < targetMs && speedup >= 100,
        },
      ],
      figures: {
        topics,
        ticks,
        ourTickMs: { median: round(ours), p90: round(percentile(ourMs, 90)), min: round(Math.min(...ourMs)), max: round(Math.max(...ourMs)), all: ourMs.map((v) => round(v)) },
        dueQueryExecutionMs: dueQueryMs,
        dueQueryPlan: planText,
        naiveMs: round(naive.ms),
        naivePerTopicUs: round((naive.ms * 1000) / topics),
        speedup: round(speedup, 1),
        targets: { maxMs: targetMs, minSpeedup: 100 },
        met: { underMs: ours < targetMs, speedup: speedup >= 100 },
      },
    };
  } finally {
    tick?.close();
    await services.close();
  }
}
