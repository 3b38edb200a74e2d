/**
 * Scenario — poll planning: 100,000 feeds in the database, the tick's polling step
 * (`planPolls`, apps/worker/src/plan-polls.ts: claim every poll due before the next tick in
 * one compare-and-set statement per 2,000, addBulk of delayed jobs, reconcile probe, the
 * hourly prune job) in two states:
 *
 *   - due:  1,000 feeds due now, the other 99,000 due later than the next tick;
 *   - idle: nothing due before the next tick.
 *
 * Against the naive approach measured in the same run: list the feeds, then one query per
 * feed (its next_poll_at and claim state by primary key, prepared), and for each due one a
 * compare-and-set UPDATE and a `queue.add` of its job, one by one.
 */
import { readWorkerConfig } from '@aharadar/config';
import { Redis } from 'ioredis';
import { planPolls, type PollPlanningDeps, type PollPlanningReport } from '../apps/worker/src/plan-polls.js';
import { POLL_FEED_JOB, pollJobId, pollJobOptions } from '../libs/queue/src/index.js';
import { deleteKeys, TEST_REDIS_URL } from '../test/support/services.js';
import { fmtMs, fmtNum, median, openServices, percentile, round, silentLogger, timed, type BenchContext, type ScenarioResult } from './support.js';

const MINUTE_MS = 60_000;

export async function pollPlanning(ctx: BenchContext): Promise<ScenarioResult> {
  const feeds = ctx.quick ? 10_000 : 100_000;
  const dueCount = ctx.quick ? 100 : 1_000;
  const ticks = ctx.quick ? 5 : 15;
  const services = await openServices();
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  try {
    const { database, queues } = services;
    const tickMinutes = readWorkerConfig({}).scheduling.tickMinutes;
    const deps: PollPlanningDeps = { db: database.db, redis, poll: queues.poll, tickMinutes, log: silentLogger() };
    const now = new Date();
    const horizonMs = tickMinutes * MINUTE_MS;
    // Feeds 1..dueCount are due within the last minute; the rest are spread over the hour
    // after the next tick.
    ctx.log(`poll-planning: creating ${fmtNum(feeds)} feeds`);
    await database.sql`
      INSERT INTO feeds (type, key, config, next_poll_at, poll_interval_ms, last_polled_at, last_status)
      SELECT 'feed', 'feed:https://publisher-' || n || '.example/feed.xml', jsonb_build_object('url', 'https://publisher-' || n || '.example/feed.xml'),
             CASE WHEN n <= ${dueCount} THEN ${now}::timestamptz - (n % 60) * interval '1 second'
                  ELSE ${now}::timestamptz + ${horizonMs + MINUTE_MS} * interval '1 millisecond' + (n % 3600) * interval '1 second' END,
             1800000, ${now}::timestamptz - interval '30 minutes', 'ok'
        FROM generate_series(1, ${feeds}::int) AS n`;
    await database.sql`VACUUM ANALYZE feeds`;
    const [{ first } = { first: 0 }] = await database.sql<{ first: number }[]>`SELECT min(id)::int AS first FROM feeds`;

    const resetClaims = async (): Promise<void> => {
      await database.sql`UPDATE feeds SET poll_queued_at = NULL, poll_due_at = NULL WHERE poll_queued_at IS NOT NULL`;
      await deleteKeys(services.redis.redis, `${services.redis.prefix}:*`);
    };
    const makeIdle = async (): Promise<void> => {
      await database.sql`UPDATE feeds SET next_poll_at = next_poll_at + ${horizonMs + 2 * MINUTE_MS} * interval '1 millisecond' WHERE id < ${first + dueCount}`;
      await database.sql`VACUUM ANALYZE feeds`;
    };

    const measureOurs = async (expected: number): Promise<{ ms: number[]; report: PollPlanningReport }> => {
      const ms: number[] = [];
      let report: PollPlanningReport | null = null;
      // Warm-up (connections, prepared plans, Lua scripts), then `ticks` measured ticks, each
      // from the same state.
      for (let i = 0; i < 3 + ticks; i++) {
        await resetClaims();
        const t = await timed(() => planPolls(deps, now));
        if (t.value.pollsPlanned !== expected) throw new Error(`planPolls planned ${t.value.pollsPlanned} polls, expected ${expected}`);
        if (i >= 3) ms.push(t.ms);
        report = t.value;
      }
      const delayed = await queues.poll.getDelayedCount();
      const waiting = await queues.poll.getWaitingCount();
      // + the hourly prune job.
      if (delayed + waiting !== expected + 1) throw new Error(`planPolls left ${delayed} delayed + ${waiting} waiting jobs, expected ${expected + 1}`);
      return { ms, report: report! };
    };

    const naive = async (): Promise<{ ms: number; planned: number }> => {
      await resetClaims();
      const t = await timed(async () => {
        const horizon = new Date(now.getTime() + horizonMs);
        const ids = await database.sql<{ id: number }[]>`SELECT id FROM feeds ORDER BY id`;
        let planned = 0;
        for (const { id } of ids) {
          const [feed] = await database.sql<{ enabled: boolean; next_poll_at: Date; poll_queued_at: Date | null; poll_seq: number }[]>`
            SELECT enabled, next_poll_at, poll_queued_at, poll_seq FROM feeds WHERE id = ${id}`;
          if (!feed || !feed.enabled || feed.poll_queued_at !== null || feed.next_poll_at > horizon) continue;
          const [claimed] = await database.sql<{ poll_seq: number; poll_due_at: Date }[]>`
            UPDATE feeds SET poll_seq = poll_seq + 1, poll_queued_at = ${now}, poll_due_at = next_poll_at
             WHERE id = ${id} AND poll_queued_at IS NULL RETURNING poll_seq, poll_due_at`;
          if (!claimed) continue;
          await queues.poll.add(POLL_FEED_JOB, { feedId: id, seq: claimed.poll_seq, dueAt: claimed.poll_due_at.getTime() }, {
            ...pollJobOptions,
            jobId: pollJobId(id, claimed.poll_seq),
            delay: Math.max(0, claimed.poll_due_at.getTime() - now.getTime()),
          });
          planned++;
        }
        return planned;
      });
      return { ms: t.ms, planned: t.value };
    };

    const cases: { label: string; due: number; ours: number[]; naiveMs: number; report: PollPlanningReport }[] = [];
    for (const label of ['due', 'idle'] as const) {
      if (label === 'idle') await makeIdle();
      const expected = label === 'due' ? dueCount : 0;
      const ours = await measureOurs(expected);
      ctx.log(`poll-planning (${label}): ours ${fmtMs(median(ours.ms))}; naive loop over ${fmtNum(feeds)} feeds (one query each)…`);
      const n = await naive();
      if (n.planned !== expected) throw new Error(`naive planning planned ${n.planned}, expected ${expected}`);
      ctx.log(`poll-planning (${label}): naive ${fmtMs(n.ms)}`);
      cases.push({ label, due: expected, ours: ours.ms, naiveMs: n.ms, report: ours.report });
    }

    const rows: ScenarioResult['rows'] = cases.map((c) => {
      const ours = median(c.ours);
      const speedup = c.naiveMs / ours;
      const minSpeedup = c.label === 'due' ? 10 : 100;
      const maxMs = c.label === 'due' ? 250 : 50;
      return {
        scenario: 'poll-planning',
        metric: `plan polls, ${fmtNum(feeds)} feeds, ${c.due === 0 ? 'none' : fmtNum(c.due)} due (tick step, median of ${ticks})`,
        ours: fmtMs(ours),
        baseline: `${fmtMs(c.naiveMs)} naive (1 query/feed${c.due > 0 ? ', 1 add/poll' : ''})`,
        ratio: `${fmtNum(speedup)}x faster`,
        target: `< ${maxMs} ms and >= ${minSpeedup}x`,
        pass: ours < maxMs && speedup >= minSpeedup,
      };
    });
    return {
      rows,
      figures: {
        feeds,
        tickMinutes,
        cases: cases.map((c) => ({
          label: c.label,
          due: c.due,
          ourMs: { median: round(median(c.ours)), p90: round(percentile(c.ours, 90)), all: c.ours.map((v) => round(v)) },
          naiveMs: round(c.naiveMs),
          naivePerFeedUs: round((c.naiveMs * 1000) / feeds),
          speedup: round(c.naiveMs / median(c.ours), 1),
          report: c.report,
        })),
      },
    };
  } finally {
    redis.disconnect();
    await services.close();
  }
}

