/**
 * Scenario 7 — polling coverage under chaos.
 *
 * 300 feeds of varied turnover on 4 loopback "hosts" (ports): 60 fast (an item every 1-3 s,
 * showing only the newest 5), 60 medium (every 4-10 s, newest 10), 60 slow (every 20-60 s),
 * 60 very slow (every 90-240 s) and 60 that never change (304 to every conditional GET).
 * 20 topics `every 1m` follow them: each feed belongs to one topic, a third of them to a
 * second one, and two fast feeds to every topic (one feed, many topics). 3 workers poll with
 * POLL_MIN_INTERVAL_SECONDS=1, POLL_MAX_INTERVAL_SECONDS=20, FETCH_PER_HOST_CONCURRENCY=2.
 *
 * For ~3.5 minutes a random worker is SIGKILLed every 3-6 s and restarted, and Redis is
 * restarted once WITHOUT its data (planned polls, locks, leases and jobs all gone: the stack
 * must re-derive the planned polls from Postgres). Then publishing stops, the last windows
 * close and are built, and:
 *
 * - coverage: every item a topic's feeds published inside the topic's built windows (from
 *   the moment every feed had been polled once) is in exactly one digest of the topic —
 *   measured on digest_items (topics have --size 500 and max-per-source 500, and no window
 *   holds 500 items, so ranking drops nothing; claims are reported alongside);
 * - the feed servers never saw more than FETCH_PER_HOST_CONCURRENCY requests to one port at once;
 * - the exact-ledger check of the other scenarios;
 * - figures: the shortest gap between two polls of a feed where the second was a scheduled
 *   poll (must not be below POLL_MIN_INTERVAL; freshness polls may be), and polls per host.
 */
import { insertTopic } from '@aharadar/db';
import { addSource } from '@aharadar/pipeline';
import { defaultAnchor } from '@aharadar/scheduling';
import { startFeedFarm, type FeedFarm, type PublishedItem } from './support/feed-farm.js';
import { alive, createStack, seconds, settleAndVerify, sleep, stderrWriters, until, type Proc, type TopicSpec } from './support/stack.js';
import type { Scenario } from './support/scenario.js';

const FEEDS = 300;
const HOSTS = 4;
const TOPICS = 20;
const WORKERS = 3;
const LAG_SECONDS = 2;
const MIN_INTERVAL_S = 1;
const MAX_INTERVAL_S = 20;
const PER_HOST = 2;
const CHAOS_MS = 210_000;
const REDIS_RESTART_AT_MS = 80_000;
const DIGEST_SIZE = 500;
/** Feeds every topic follows. */
const SHARED_BY_ALL = [0, 1];

/** A small deterministic PRNG (mulberry32), so a failing layout can be replayed with FAULTS_S7_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function layout(random: () => number) {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const kinds = [
    { kind: 'fast', period: () => int(1, 3), visible: 5 },
    { kind: 'medium', period: () => int(4, 10), visible: 10 },
    { kind: 'slow', period: () => int(20, 60), visible: 10 },
    { kind: 'very-slow', period: () => int(90, 240), visible: 10 },
    { kind: 'static', period: () => null, visible: 10 },
  ];
  const per = FEEDS / kinds.length;
  return Array.from({ length: FEEDS }, (_, i) => {
    const k = kinds[Math.floor(i / per)] ?? kinds[0]!;
    const period = k.period();
    return { kind: k.kind, period, visible: k.visible, phase: period === null ? 0 : int(0, period - 1), host: i % HOSTS, delayMs: int(5, 40) };
  });
}

/** Topics of feed i: its own (i mod TOPICS), a second for every third feed, every topic for SHARED_BY_ALL. */
function topicsOf(i: number): number[] {
  if (SHARED_BY_ALL.includes(i)) return Array.from({ length: TOPICS }, (_, t) => t);
  const own = i % TOPICS;
  return i % 3 === 0 ? [own, (own + 7) % TOPICS] : [own];
}

interface Missed {
  topic: number;
  item: PublishedItem;
  why: string;
}

export const pollingCoverage: Scenario = {
  id: 7,
  title: 'polling coverage (300 feeds, 20 topics, 3 workers, kills + Redis restart without data)',
  async run(ctx, outcome) {
    const seed = Number(process.env.FAULTS_S7_SEED ?? Math.floor(Math.random() * 1e9));
    const specs = layout(rng(seed));
    const stack = await createStack(
      ctx.infra,
      's7',
      {
        SCHEDULER_TICK_MINUTES: '0.05',
        SCHEDULER_LAG_SECONDS: String(LAG_SECONDS),
        SCHEDULER_MAX_CATCHUP_WINDOWS: '100',
        WORKER_CONCURRENCY: '4',
        WORKER_LOCK_DURATION_MS: '4000',
        FETCH_TIMEOUT_MS: '5000',
        FETCH_SOURCE_CONCURRENCY: '8',
        FETCH_PER_HOST_CONCURRENCY: String(PER_HOST),
        POLL_MIN_INTERVAL_SECONDS: String(MIN_INTERVAL_S),
        POLL_MAX_INTERVAL_SECONDS: String(MAX_INTERVAL_S),
      },
      20,
    );
    let farm: FeedFarm | undefined;
    try {
      const origin = new Date();
      farm = await startFeedFarm(specs, HOSTS, origin);
      const createdAt = new Date();
      const anchor = defaultAnchor(createdAt, 'UTC');
      const topics: TopicSpec[] = [];
      for (let t = 0; t < TOPICS; t++) {
        const topic = await insertTopic(stack.db.db, {
          name: `poll-${t}`,
          schedule: { kind: 'every', everySeconds: 60, anchor },
          timeZone: 'UTC',
          keywords: [],
          excludeKeywords: [],
          digestSize: DIGEST_SIZE,
          maxPerSource: DIGEST_SIZE,
          createdAt,
        });
        topics.push({ id: topic.id, createdAt, schedule: { kind: 'every', everySeconds: 60, anchor } });
      }
      for (const feed of farm.feeds) {
        for (const t of topicsOf(feed.index)) {
          await addSource(stack.db.db, { topicId: topics[t]!.id, type: 'feed', name: `farm ${feed.index}`, config: { url: feed.url } });
        }
      }
      const feedIdByIndex = new Map<number, number>();
      for (const r of await stack.db.sql<{ id: number; url: string }[]>`SELECT id, config->>'url' AS url FROM feeds`) {
        const m = /\/farm\/(\d+)\.xml$/.exec(r.url);
        if (m) feedIdByIndex.set(Number(m[1]), r.id);
      }
      outcome.check(feedIdByIndex.size === FEEDS, `${feedIdByIndex.size} feeds in the database, want ${FEEDS} (one per URL, shared by topics)`);
      ctx.note(`seed ${seed}: ${FEEDS} feeds on ports ${farm.ports.join(',')}, ${TOPICS} topics`);

      const t0 = Date.now();
      const workers: Proc[] = [];
      const scheduler = await stack.start('scheduler', 'scheduler');
      for (let i = 0; i < WORKERS; i++) workers.push(await stack.start('worker', `worker-${i}`));

      // Coverage counts from the moment every feed had its first poll: before it, a fast
      // feed rotates items out that no poller could have seen.
      await until(
        'every feed to be polled once',
        async () => {
          const [r] = await stack.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM feeds WHERE last_polled_at IS NOT NULL`;
          return r && r.n >= FEEDS;
        },
        60_000,
      );
      const countFrom = new Date(Math.ceil(Date.now() / 1000) * 1000);
      ctx.note(`every feed polled once after ${seconds(countFrom.getTime() - t0)}; chaos for ${CHAOS_MS / 1000} s`);

      // --- chaos ------------------------------------------------------------------------------
      let kills = 0;
      let redisDownMs = 0;
      let redisBackAt = 0;
      let chaosError: unknown;
      const chaosEnd = Date.now() + CHAOS_MS;
      const booting: Promise<unknown>[] = [];
      const killer = (async () => {
        let n = WORKERS;
        while (Date.now() < chaosEnd) {
          await sleep(3_000 + Math.random() * 3_000);
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
      const outage = (async () => {
        await sleep(Math.max(0, countFrom.getTime() + REDIS_RESTART_AT_MS - Date.now()));
        ctx.note('restarting Redis WITHOUT its data');
        redisDownMs = (await ctx.infra.redis.restart(1_000, { wipe: true })).downMs;
        redisBackAt = Date.now();
      })().catch((e: unknown) => {
        chaosError = e;
      });
      await Promise.all([killer, outage]);
      if (chaosError) throw chaosError;
      const stopAt = farm.stopPublishing();
      ctx.note(`chaos over (${kills} kills); publishing stopped; waiting for the windows containing it to be built`);

      // The window containing stopAt must be built for every topic.
      const lastBuilt = await until(
        'every topic to build the window containing the end of publishing',
        async () => {
          const [r] = await stack.db.sql<{ n: number }[]>`
            SELECT count(DISTINCT topic_id)::int AS n FROM windows
             WHERE trigger <> 'manual' AND status = 'succeeded' AND window_end > ${stopAt}`;
          return r && r.n >= TOPICS ? Date.now() : undefined;
        },
        150_000,
        1_000,
      ).catch(() => undefined);
      const { report, settled } = await settleAndVerify(stack.db, topics, LAG_SECONDS, 60_000);

      // --- coverage ---------------------------------------------------------------------------
      const sql = stack.db.sql;
      const windows = await sql<{ topic_id: number; window_start: Date; window_end: Date }[]>`
        SELECT topic_id, window_start, window_end FROM windows WHERE trigger <> 'manual' AND status = 'succeeded'`;
      const entries = await sql<{ feed_id: number; external_id: string; item_id: number; first_seen_at: Date }[]>`
        SELECT feed_id, external_id, item_id, first_seen_at FROM feed_items`;
      const inDigests = await sql<{ topic_id: number; item_id: number; n: number }[]>`
        SELECT d.topic_id, di.item_id, count(*)::int AS n FROM digest_items di JOIN digests d ON d.id = di.digest_id
         WHERE d.trigger <> 'manual' GROUP BY 1, 2`;
      const claims = await sql<{ topic_id: number; item_id: number; window_start: Date }[]>`
        SELECT c.topic_id, c.item_id, w.window_start FROM topic_item_claims c JOIN windows w ON w.id = c.window_id`;
      const perWindow = await sql<{ n: number }[]>`SELECT coalesce(max(items_count), 0)::int AS n FROM (
        SELECT count(*) AS items_count FROM topic_item_claims GROUP BY window_id) x`;
      const entryKey = (feedId: number, guid: string) => `${feedId}|${guid}`;
      const itemOf = new Map(entries.map((e) => [entryKey(e.feed_id, e.external_id), e]));
      const digestCount = new Map(inDigests.map((r) => [`${r.topic_id}|${r.item_id}`, r.n]));
      const claimOf = new Map(claims.map((r) => [`${r.topic_id}|${r.item_id}`, r]));

      let expected = 0;
      let covered = 0;
      let claimed = 0;
      let twice = 0;
      const missed: Missed[] = [];
      for (let t = 0; t < TOPICS; t++) {
        const topicId = topics[t]!.id;
        const built = windows.filter((w) => w.topic_id === topicId);
        const inBuilt = (at: Date) => built.some((w) => w.window_start.getTime() <= at.getTime() && at.getTime() < w.window_end.getTime());
        for (const feed of farm.feeds) {
          if (!topicsOf(feed.index).includes(t)) continue;
          const feedId = feedIdByIndex.get(feed.index) ?? -1;
          for (const item of farm.published(feed.index, countFrom, stopAt)) {
            if (!inBuilt(item.at)) continue;
            expected++;
            const entry = itemOf.get(entryKey(feedId, item.guid));
            if (!entry) {
              missed.push({ topic: t, item, why: 'never stored: no poll saw it' });
              continue;
            }
            const n = digestCount.get(`${topicId}|${entry.item_id}`) ?? 0;
            if (claimOf.has(`${topicId}|${entry.item_id}`)) claimed++;
            if (n >= 1) covered++;
            if (n > 1) twice++;
            if (n === 0) {
              const claim = claimOf.get(`${topicId}|${entry.item_id}`);
              missed.push({
                topic: t,
                item,
                why: claim
                  ? `claimed by the window starting ${claim.window_start.toISOString()} but not in its digest`
                  : `stored (first seen ${entry.first_seen_at.toISOString()}) but claimed by no window`,
              });
            }
          }
        }
      }
      const coverage = expected === 0 ? 0 : covered / expected;

      // --- politeness -------------------------------------------------------------------------
      const maxInFlight = farm.maxInFlight();
      const gaps = await sql<{ feed_id: number; min_sched_gap_ms: number | null; min_any_gap_ms: number | null; under_min: number }[]>`
        WITH p AS (
          SELECT feed_id, poll_kind, extract(epoch FROM fetched_at - lag(fetched_at) OVER (PARTITION BY feed_id ORDER BY fetched_at)) * 1000 AS gap_ms
            FROM fetch_results)
        SELECT feed_id,
               min(gap_ms) FILTER (WHERE poll_kind = 'scheduled')::float8 AS min_sched_gap_ms,
               min(gap_ms)::float8 AS min_any_gap_ms,
               count(*) FILTER (WHERE poll_kind = 'scheduled' AND gap_ms < ${MIN_INTERVAL_S * 1000})::int AS under_min
          FROM p GROUP BY feed_id`;
      const minSched = Math.min(...gaps.map((g) => g.min_sched_gap_ms ?? Infinity));
      const minAny = Math.min(...gaps.map((g) => g.min_any_gap_ms ?? Infinity));
      const underMin = gaps.reduce((n, g) => n + g.under_min, 0);
      const serverGaps = farm.feeds.map((f) => {
        const r = farm!.requests(f.index);
        let min = Infinity;
        for (let i = 1; i < r.length; i++) min = Math.min(min, (r[i] ?? 0) - (r[i - 1] ?? 0));
        return min;
      });
      const [polls] = await sql<{ scheduled: number; freshness: number; errors: number; timeouts: number }[]>`
        SELECT count(*) FILTER (WHERE poll_kind = 'scheduled')::int AS scheduled,
               count(*) FILTER (WHERE error_code = 'timeout')::int AS timeouts,
               count(*) FILTER (WHERE poll_kind = 'freshness')::int AS freshness,
               count(*) FILTER (WHERE status = 'error')::int AS errors
          FROM fetch_results`;
      // Polls are planned only by ticks: the longest stretch of the chaos without a tick that
      // ran (outcome 'done'; a tick that finds the fan-out lock held is 'locked' and plans nothing).
      const tickLines = stack
        .allLines()
        .map((x) => x.line)
        .filter((l) => l.msg === 'Scheduler tick');
      const doneTicks = [
        countFrom.getTime(),
        ...tickLines
          .filter((l) => l.outcome === 'done')
          .map((l) => Date.parse(String(l.time)))
          .filter((t) => t > countFrom.getTime() && t < stopAt.getTime()),
        stopAt.getTime(),
      ].sort((a, b) => a - b);
      let tickGap = { ms: 0, from: 0 };
      for (let i = 1; i < doneTicks.length; i++) {
        const gap = (doneTicks[i] ?? 0) - (doneTicks[i - 1] ?? 0);
        if (gap > tickGap.ms) tickGap = { ms: gap, from: doneTicks[i - 1] ?? 0 };
      }
      const ticksLocked = tickLines.filter((l) => l.outcome === 'locked').length;
      const ticksDone = tickLines.filter((l) => l.outcome === 'done').length;
      const [resumed] = await sql<{ at: Date | null }[]>`
        SELECT min(fetched_at) AS at FROM fetch_results WHERE poll_kind = 'scheduled' AND fetched_at > ${new Date(redisBackAt)}`;
      const resumedAfterMs = resumed?.at ? resumed.at.getTime() - redisBackAt : null;
      const responses = farm.responses();
      const reenqueued = stack
        .allLines()
        .map((x) => x.line)
        .filter((l) => l.msg === 'Scheduler tick')
        .reduce((n, l) => n + Number(l.pollsReenqueued ?? 0), 0);

      outcome.figure('coverage', `${(coverage * 100).toFixed(2)}%`);
      outcome.figure('items', `${covered}/${expected}`);
      outcome.figure('claimed', claimed);
      outcome.figure('twice', twice);
      outcome.figure('max-in-flight/host', maxInFlight.join(','));
      outcome.figure('min-sched-gap', seconds(minSched, 2));
      outcome.figure('sched-under-min', underMin);
      outcome.figure('min-any-gap', seconds(minAny, 2));
      outcome.figure('min-request-gap', seconds(Math.min(...serverGaps), 3));
      outcome.figure('polls', `${polls?.scheduled ?? 0}+${polls?.freshness ?? 0}fresh`);
      outcome.figure('304s', responses.notModified);
      outcome.figure('poll-errors', polls?.errors ?? 0);
      outcome.figure('timeouts', polls?.timeouts ?? 0);
      outcome.figure('ticks', `${ticksDone}done+${ticksLocked}locked`);
      outcome.figure('longest-tick-gap', `${seconds(tickGap.ms)}@${new Date(tickGap.from).toISOString().slice(11, 19)}`);
      outcome.figure('polls-reenqueued', reenqueued);
      outcome.figure('polls-resumed-after-wipe', resumedAfterMs === null ? 'never' : seconds(resumedAfterMs));
      outcome.figure('max-items/window', perWindow[0]?.n ?? 0);
      outcome.figure('windows', report.scheduled);
      outcome.figure('kills', kills);
      outcome.figure('redis-down', seconds(redisDownMs));
      outcome.figure('seed', seed);

      outcome.check(expected > 1_000, `only ${expected} items published in built windows (the scenario proves little)`);
      outcome.check(lastBuilt !== undefined, 'not every topic built the window containing the end of publishing within 150 s');
      outcome.check((perWindow[0]?.n ?? 0) < DIGEST_SIZE, `a window claimed ${perWindow[0]?.n} items, at or over the digest size ${DIGEST_SIZE}: ranking may drop items`);
      if (!outcome.check(missed.length === 0 && covered === expected, `coverage ${(coverage * 100).toFixed(2)}%: ${missed.length} of ${expected} items missed`)) {
        const byWhy = new Map<string, number>();
        for (const m of missed) byWhy.set(m.why.replace(/\d{4}-[\d:T.]+Z/g, '…'), (byWhy.get(m.why.replace(/\d{4}-[\d:T.]+Z/g, '…')) ?? 0) + 1);
        outcome.fail(`missed by cause: ${[...byWhy].map(([w, n]) => `${n}× ${w}`).join('; ')}`);
        const byFeed = new Map<number, Missed[]>();
        for (const m of missed) byFeed.set(m.item.feed, [...(byFeed.get(m.item.feed) ?? []), m]);
        for (const [feed, list] of [...byFeed].slice(0, 8)) {
          const spec = farm.feeds[feed]!;
          const times = list.map((m) => m.item.at.getTime());
          const lo = Math.min(...times);
          const hi = Math.max(...times);
          // The polls around the gap, as the feed server saw them.
          const around = farm.requests(feed).filter((r) => r > lo - 20_000 && r < hi + spec.visible * (spec.period ?? 0) * 1000 + 20_000);
          const polled = await sql<{ fetched_at: Date; poll_kind: string; status: string; items_new: number }[]>`
            SELECT fetched_at, poll_kind, status, items_new FROM fetch_results
             WHERE feed_id = ${feedIdByIndex.get(feed) ?? -1} AND fetched_at BETWEEN ${new Date(lo - 20_000)} AND ${new Date(hi + 40_000)} ORDER BY fetched_at`;
          outcome.fail(
            `feed ${feed} (${spec.kind}, every ${spec.period}s, newest ${spec.visible}, topics ${topicsOf(feed).join('/')}): ${list.length} missed, published ${new Date(lo).toISOString().slice(11, 19)}–${new Date(hi).toISOString().slice(11, 19)} (${list[0]!.why}); ` +
              `requests at ${around.map((r) => new Date(r).toISOString().slice(11, 23)).join(' ')}; ` +
              `polls recorded ${polled.map((p) => `${p.fetched_at.toISOString().slice(11, 23)} ${p.poll_kind}/${p.status}+${p.items_new}`).join(', ')}`,
          );
        }
      }
      outcome.check(twice === 0, `${twice} items in two digests of one topic`);
      for (const [host, n] of maxInFlight.entries()) outcome.check(n <= PER_HOST, `port ${farm.ports[host]} had ${n} requests in progress at once (limit ${PER_HOST})`);
      outcome.check(settled, `ledger did not settle: scheduled ${report.scheduled} expected ${report.expected} digests ${report.digests} duplicates ${report.duplicates} lost ${report.lost} (items ${report.lostItems})`);
      outcome.check(report.duplicates === 0, `duplicates ${report.duplicates}`);
      outcome.check(kills >= 20, `only ${kills} workers killed`);
      outcome.check(redisDownMs > 0, 'Redis was not restarted');
      outcome.check(resumedAfterMs !== null && resumedAfterMs < 30_000, 'scheduled polls did not resume within 30 s of Redis coming back without its data');
      for (const w of stderrWriters(stack)) outcome.fail(`wrote to stderr instead of logging JSON: ${w}`);
      for (const p of [scheduler, ...workers]) outcome.check(alive(p), `${p.label} exited during the run (${String(p.child.exitCode ?? p.child.signalCode)})`);
    } finally {
      await farm?.close();
      await stack.close();
    }
  },
};
