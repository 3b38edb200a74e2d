/**
 * Scenario — polling at scale: 5,000 feeds served by a local feed server process that listens
 * on 50 loopback addresses (127.0.0.2 … 127.0.0.51, one port each, 100 feeds per address):
 * the per-host limit (FETCH_PER_HOST_CONCURRENCY = 2, counted per host name and port across
 * every worker) would otherwise hold all 5,000 to 2 requests at once, where real feeds are
 * spread over many publishers. 3 real worker processes (apps/worker/src/main.ts, as
 * `pnpm dev:worker` runs it) with the product's defaults (POLL_CONCURRENCY 16 each, host gate
 * on) poll them; the tick that plans the polls is a manual tick job, the same job the
 * scheduler emits.
 *
 *   round 1: every feed falls due at the same moment and answers 200 with its document
 *            (20 items): polls/s from the tick until the last poll is stored;
 *   round 2: all due again, nothing changed: the server answers the conditional GETs 304.
 *
 * Poll lag is fetch_results.lag_ms (start of the poll minus its planned time); with 5,000
 * polls due at one instant its p99 is about the time the burst takes to work off. Worker CPU
 * per poll is the /proc CPU time of the 3 worker processes over the round, divided by polls.
 *
 * The raw limit, measured in the same run: a plain undici GET loop in this process over the
 * same 5,000 URLs with the same total concurrency (3 x 16), reading every body — once
 * unconditional (against round 1) and once with If-None-Match (against round 2).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { manualTickJobId, TICK_JOB, tickJobOptions } from '../libs/queue/src/index.js';
import { startApp, stopApp, type AppProcess } from '../test/support/processes.js';
import { TEST_REDIS_URL } from '../test/support/services.js';
import { startFeedProcess } from './feeds.js';
import { fmtMs, fmtNum, onCleanup, openServices, percentile, readCpuMs, round, sleep, type BenchContext, type ScenarioResult } from './support.js';

const WORKERS = 3;
/** POLL_CONCURRENCY of each worker: the product default. */
const POLL_CONCURRENCY = 16;
const ITEMS_PER_FEED = 20;
/** Our throughput against the raw GET loop's. */
const MIN_SHARE = 0.25;

/** The bits of undici the raw loop uses (undici is a dependency of libs/connectors, not of the root). */
interface Undici {
  Agent: new (options: { connections?: number; keepAliveTimeout?: number }) => { close(): Promise<void> };
  request(url: string, options: { dispatcher: unknown; headers?: Record<string, string> }): Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined>; body: { arrayBuffer(): Promise<ArrayBuffer> } }>;
}

async function loadUndici(): Promise<Undici> {
  const require = createRequire(new URL('../libs/connectors/package.json', import.meta.url));
  const mod = (await import(pathToFileURL(require.resolve('undici')).href)) as Undici & { default?: Undici };
  return mod.default ?? mod;
}

interface RawLoop {
  ms: number;
  cpuMs: number;
  statuses: Record<number, number>;
  etags: string[];
}

/** GETs every URL once, `concurrency` at a time, reading each body; conditional when etags are given. */
async function rawLoop(undici: Undici, urls: readonly string[], concurrency: number, etags: readonly string[] | null): Promise<RawLoop> {
  // The product's agent holds up to 32 connections per origin; so does this one.
  const agent = new undici.Agent({ connections: 32, keepAliveTimeout: 10_000 });
  const statuses: Record<number, number> = {};
  const seen: string[] = new Array<string>(urls.length);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < urls.length) {
      const i = next++;
      const res = await undici.request(urls[i]!, { dispatcher: agent, ...(etags ? { headers: { 'if-none-match': etags[i]! } } : {}) });
      await res.body.arrayBuffer();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      seen[i] = String(res.headers.etag ?? '');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  await agent.close();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, statuses, etags: seen };
}

interface PollRound {
  label: string;
  polls: number;
  ms: number;
  pollsPerSecond: number;
  statuses: Record<string, number>;
  lagMs: { p50: number; p99: number; max: number };
  workerCpuMsPerPoll: number;
  postgresCpuMsPerPoll: number;
  feedServerCpuMsPerPoll: number;
  durationMs: { p50: number; p99: number };
}

export async function pollingAtScale(ctx: BenchContext): Promise<ScenarioResult> {
  const hosts = ctx.quick ? 10 : 50;
  const perHost = ctx.quick ? 50 : 100;
  const feeds = hosts * perHost;
  const totalConcurrency = WORKERS * POLL_CONCURRENCY;
  const services = await openServices();
  const server = await startFeedProcess({ hosts });
  const workers: AppProcess[] = [];
  const unregisterWorkers = onCleanup(async () => Promise.all(workers.map((w) => stopApp(w, 10_000))));
  try {
    const { database, redis, queues } = services;
    ctx.log(`polling-scale: ${fmtNum(feeds)} feeds on ${server.bases.length} loopback host:port pairs (${server.bases[0]} … ${server.bases.at(-1)})`);
    const now = Date.now();
    const urls = Array.from({ length: feeds }, (_, f) => `${server.bases[f % hosts]}/poll/${f}.xml?n=${ITEMS_PER_FEED}&now=${now}`);
    const later = new Date(now + 86_400_000);
    await database.sql`
      INSERT INTO feeds (type, key, config, next_poll_at)
      SELECT 'feed', 'feed:' || u, jsonb_build_object('url', u), ${later} FROM unnest(${urls}::text[]) AS u`;
    await database.sql`VACUUM ANALYZE feeds`;

    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: redis.prefix,
      FETCH_ALLOW_PRIVATE: 'true',
      HEALTH_PORT: '0',
      LOG_LEVEL: 'info',
      SCHEDULER_TICK_MINUTES: '0.1',
      POLL_MIN_INTERVAL_SECONDS: '60',
      POLL_MAX_INTERVAL_SECONDS: '120',
      POLL_CONCURRENCY: String(POLL_CONCURRENCY),
    };
    ctx.log(`polling-scale: starting ${WORKERS} worker processes, POLL_CONCURRENCY=${POLL_CONCURRENCY}, FETCH_PER_HOST_CONCURRENCY default (2)`);
    for (let n = 0; n < WORKERS; n++) workers.push(startApp('worker', env));
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'worker started', 60_000, 'worker start')));
    const pids = workers.map((w) => w.child.pid ?? -1);
    const undici = await loadUndici();
    const cpuOf = (list: number[]): number => list.reduce((n, pid) => n + (readCpuMs(pid) ?? 0), 0);
    const pgPids = async (): Promise<number[]> =>
      (await database.sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).map((r) => r.pid);

    const pollRound = async (label: string): Promise<PollRound> => {
      const due = new Date();
      await database.sql`UPDATE feeds SET next_poll_at = ${due}`;
      const pgStart = await pgPids();
      const cpu0 = { workers: cpuOf(pids), pg: cpuOf(pgStart), server: cpuOf([server.pid]) };
      const started = Date.now();
      await queues.scheduler.add(TICK_JOB, { manual: true }, { ...tickJobOptions, jobId: manualTickJobId(new Date()) });
      const deadline = started + 10 * 60_000;
      let lastLog = started;
      for (;;) {
        const [{ n } = { n: 0 }] = await database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM fetch_results WHERE fetched_at >= ${due}`;
        if (n >= feeds) break;
        if (Date.now() > deadline) throw new Error(`polling-scale ${label}: only ${n} of ${feeds} polls after 10 minutes`);
        if (workers.some((w) => w.child.exitCode !== null)) throw new Error(`polling-scale: a worker exited: ${workers.map((w) => w.stderr.join('').slice(-500)).join('\n')}`);
        if (Date.now() - lastLog > 10_000) {
          ctx.log(`polling-scale ${label}: ${n}/${feeds} polls`);
          lastLog = Date.now();
        }
        await sleep(100);
      }
      const pgEnd = [...new Set([...pgStart, ...(await pgPids())])];
      const cpu = { workers: cpuOf(pids) - cpu0.workers, pg: cpuOf(pgEnd) - cpu0.pg, server: cpuOf([server.pid]) - cpu0.server };
      const rows = await database.sql<{ status: string; lag_ms: number | null; duration_ms: number; at: number }[]>`
        SELECT status, lag_ms, duration_ms, extract(epoch FROM fetched_at) * 1000 AS at FROM fetch_results WHERE fetched_at >= ${due}`;
      const statuses: Record<string, number> = {};
      for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      const ms = Math.max(...rows.map((r) => Number(r.at))) - started;
      const lags = rows.map((r) => Number(r.lag_ms ?? Number.NaN)).filter(Number.isFinite);
      const durations = rows.map((r) => Number(r.duration_ms));
      const [{ extra } = { extra: 0 }] = await database.sql<{ extra: number }[]>`
        SELECT (count(*) - count(DISTINCT feed_id))::int AS extra FROM fetch_results WHERE fetched_at >= ${due}`;
      if (extra !== 0) throw new Error(`polling-scale ${label}: ${extra} feeds were polled more than once`);
      return {
        label,
        polls: rows.length,
        ms: round(ms),
        pollsPerSecond: round(rows.length / (ms / 1000), 1),
        statuses,
        lagMs: { p50: round(percentile(lags, 50)), p99: round(percentile(lags, 99)), max: round(Math.max(...lags)) },
        workerCpuMsPerPoll: round(cpu.workers / rows.length, 2),
        postgresCpuMsPerPoll: round(cpu.pg / rows.length, 2),
        feedServerCpuMsPerPoll: round(cpu.server / rows.length, 2),
        durationMs: { p50: round(percentile(durations, 50)), p99: round(percentile(durations, 99)) },
      };
    };

    // Warm the server's document cache and the raw side's JIT with a small loop, not counted.
    await rawLoop(undici, urls.slice(0, 500), totalConcurrency, null);
    const raw200 = await rawLoop(undici, urls, totalConcurrency, null);
    ctx.log(`polling-scale: raw GET loop ${fmtNum(feeds / (raw200.ms / 1000))} GETs/s (${JSON.stringify(raw200.statuses)})`);
    const round1 = await pollRound('round 1 (200)');
    ctx.log(`polling-scale: round 1 ${fmtNum(round1.pollsPerSecond, 1)} polls/s, lag p99 ${fmtMs(round1.lagMs.p99)}, ${JSON.stringify(round1.statuses)}`);
    const round2 = await pollRound('round 2 (unchanged)');
    ctx.log(`polling-scale: round 2 ${fmtNum(round2.pollsPerSecond, 1)} polls/s, lag p99 ${fmtMs(round2.lagMs.p99)}, ${JSON.stringify(round2.statuses)}`);
    const raw304 = await rawLoop(undici, urls, totalConcurrency, raw200.etags);
    ctx.log(`polling-scale: raw conditional GET loop ${fmtNum(feeds / (raw304.ms / 1000))} GETs/s (${JSON.stringify(raw304.statuses)})`);
    const serverStats = await server.stats();
    const exitCodes = await Promise.all(workers.map((w) => stopApp(w, 30_000)));
    const warnings = workers.flatMap((w) => w.lines.filter((l) => l.level === 'warn' || l.level === 'error')).slice(0, 5);

    const rawRate = (r: RawLoop): number => feeds / (r.ms / 1000);
    const share1 = round1.pollsPerSecond / rawRate(raw200);
    const share2 = round2.pollsPerSecond / rawRate(raw304);
    const notModifiedShare = (round2.statuses.not_modified ?? 0) / round2.polls;
    const spread = `${fmtNum(feeds)} feeds on ${hosts} loopback hosts (127.0.0.2-${hosts + 1})`;
    return {
      rows: [
        {
          scenario: 'polling-scale',
          metric: `${spread}, ${WORKERS} workers x ${POLL_CONCURRENCY}: all due at once, 200 + ${ITEMS_PER_FEED} items`,
          ours: `${fmtNum(round1.pollsPerSecond, 1)} polls/s`,
          baseline: `${fmtNum(rawRate(raw200), 0)} GETs/s raw undici loop (${totalConcurrency} at once)`,
          ratio: `${(share1 * 100).toFixed(0)}% of raw`,
          target: `>= ${MIN_SHARE * 100}% of raw`,
          pass: share1 >= MIN_SHARE && round1.polls === feeds,
        },
        {
          scenario: 'polling-scale',
          metric: `same, nothing changed (conditional GET): 304 share`,
          ours: `${fmtNum(round2.pollsPerSecond, 1)} polls/s, ${(notModifiedShare * 100).toFixed(1)}% 304`,
          baseline: `${fmtNum(rawRate(raw304), 0)} GETs/s raw conditional loop`,
          ratio: `${(share2 * 100).toFixed(0)}% of raw`,
          target: '100% 304',
          pass: notModifiedShare === 1,
        },
        {
          scenario: 'polling-scale',
          metric: `poll lag p99 (5,000 due at one instant) / worker CPU per poll`,
          ours: `p99 ${fmtMs(round1.lagMs.p99)} / ${fmtMs(round2.lagMs.p99)} (304)`,
          baseline: `${fmtNum(raw200.cpuMs / feeds, 2)} ms CPU/GET raw`,
          ratio: `${fmtNum(round1.workerCpuMsPerPoll, 2)} ms CPU/poll (200), ${fmtNum(round2.workerCpuMsPerPoll, 2)} (304)`,
          target: '(reported)',
          pass: null,
        },
      ],
      figures: {
        feeds,
        hosts: server.bases,
        feedsPerHost: perHost,
        itemsPerFeed: ITEMS_PER_FEED,
        workers: WORKERS,
        pollConcurrencyPerWorker: POLL_CONCURRENCY,
        perHostConcurrency: 2,
        workersMode: 'child processes (apps/worker/src/main.ts), manual tick job',
        round1,
        round2,
        notModifiedShare: round(notModifiedShare, 4),
        raw: {
          unconditional: { ms: round(raw200.ms), getsPerSecond: round(rawRate(raw200), 1), cpuMsPerGet: round(raw200.cpuMs / feeds, 3), statuses: raw200.statuses },
          conditional: { ms: round(raw304.ms), getsPerSecond: round(rawRate(raw304), 1), cpuMsPerGet: round(raw304.cpuMs / feeds, 3), statuses: raw304.statuses },
        },
        shareOfRaw: { round1: round(share1, 3), round2: round(share2, 3) },
        feedServer: serverStats,
        workerExitCodes: exitCodes,
        warnings,
      },
    };
  } finally {
    await Promise.all(workers.map((w) => stopApp(w, 10_000)));
    unregisterWorkers();
    await server.close();
    await services.close();
  }
}
