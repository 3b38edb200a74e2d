/**
 * Scenarios 4-6 — real worker processes (apps/worker/src/main.ts, as `pnpm dev:worker` runs
 * it) on the real Postgres and Redis, with the feeds served by a separate local process:
 *
 *   4. e2e-latency: 1,000 windows fall due at the same moment; one tick fans them out and
 *      3 workers build the digests. Latency per window = digests.created_at − (window_end + lag).
 *   5. scale-out: the same 1,000 windows with feeds answering after 200 ms, built by 1 worker
 *      and by 3 workers (fresh database each run, order 1-3-3-1): throughput ratio.
 *   6. memory: VmRSS of every worker process, idle (started, nothing to do) and peak during 4/5.
 *
 * The windows are made due by giving fresh topics a first window that ends exactly `lag`
 * seconds before the moment the tick is enqueued (the `every` anchor is free), and the tick is
 * a manual tick job on the scheduler queue — the same job the BullMQ job scheduler emits.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualTickJobId, TICK_JOB, tickJobOptions } from '../libs/queue/src/index.js';
import { startApp, stopApp, type AppProcess } from '../test/support/processes.js';
import { TEST_REDIS_URL } from '../test/support/services.js';
import { startFeedProcess } from './feeds.js';
import { fmtMs, fmtNum, median, onCleanup, openServices, percentile, readCpuMs, readRssMiB, round, sampleRss, sleep, type BenchContext, type ScenarioResult } from './support.js';

/** Pipeline jobs each worker runs at once: the product default (WORKER_CONCURRENCY=4). */
export const BENCH_WORKER_CONCURRENCY = 4;
const LAG_SECONDS = 1;
const WINDOW_SECONDS = 60;
const ITEMS_PER_FEED = 20;
const CPU_PROFILE_HOOK = fileURLToPath(new URL('./cpu-profile-hook.mjs', import.meta.url));

export interface WorkerRunOptions {
  label: string;
  windows: number;
  workers: number;
  concurrency: number;
  feedDelayMs: number;
}

export interface WorkerRunResult {
  label: string;
  windows: number;
  workers: number;
  concurrency: number;
  feedDelayMs: number;
  /** Due -> digest per window, ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; min: number };
  /** From the due moment to the last digest. */
  makespanMs: number;
  windowsPerSecond: number;
  digestsByStatus: Record<string, number>;
  rssMiB: { idlePerWorker: number[]; peakPerWorker: number[] };
  workerExitCodes: (number | string)[];
  /** CPU time per window of the worker processes, the database's backends and the feed server. */
  cpuMsPerWindow: { workers: number; postgres: number; feedServer: number };
  /** The workers' own `run finished` durations (start of the run to its end). */
  runDurationMs: { p50: number; p90: number; max: number; runs: number };
  tick: unknown[];
  warnings: unknown[];
}

/** One run: fresh database and prefix, N worker processes, `windows` windows due at once. */
export async function runWorkers(ctx: BenchContext, o: WorkerRunOptions): Promise<WorkerRunResult> {
  const services = await openServices();
  const feeds = await startFeedProcess();
  const workers: AppProcess[] = [];
  const unregisterWorkers = onCleanup(async () => Promise.all(workers.map((w) => stopApp(w, 10_000))));
  try {
    const { database, redis, queues } = services;
    const env = (n: number): Record<string, string> => ({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: redis.prefix,
      SCHEDULER_LAG_SECONDS: String(LAG_SECONDS),
      WORKER_CONCURRENCY: String(o.concurrency),
      FETCH_ALLOW_PRIVATE: 'true',
      HEALTH_PORT: '0',
      LOG_LEVEL: 'info',
      // node refuses --cpu-prof in NODE_OPTIONS; the hook profiles the process from inside.
      ...(ctx.cpuProfDir
        ? { NODE_OPTIONS: `--import ${CPU_PROFILE_HOOK}`, BENCH_CPU_PROFILE: join(ctx.cpuProfDir, `worker-${o.label}-${n}.cpuprofile`) }
        : {}),
    });

    // The topics, one feed each, created first with a window far in the future; just before
    // the tick their schedule is moved so that the first window [end-60s, end) ends `lag`
    // before `due` (the anchor of an `every` schedule is free).
    const later = new Date(Date.now() + 86_400_000);
    const range = await database.sql<{ first: number; last: number }[]>`
      WITH inserted AS (
        INSERT INTO topics (name, schedule_kind, every_seconds, time_zone, anchor, digest_size, max_per_source, watermark, next_window_end, created_at)
        SELECT 'w-' || n, 'every', ${WINDOW_SECONDS}, 'UTC', ${later}, 20, 20, NULL, ${later}, ${later}
          FROM generate_series(1, ${o.windows}::int) AS n
        RETURNING id)
      SELECT min(id)::int AS first, max(id)::int AS last FROM inserted`;
    const { first, last } = range[0]!;
    await database.sql`
      INSERT INTO sources (topic_id, type, name, config)
      SELECT t.id, 'feed', 'feed ' || t.id, '{}'::jsonb FROM topics t WHERE t.id BETWEEN ${first} AND ${last}`;
    // A system that has been running: each feed's items of three days ago are stored, linked
    // and claimed by an older window — outside the 48 h candidate lookback, but in the tables
    // and in the planner's statistics, as in production.
    const oldAt = new Date(Date.now() - 3 * 86_400_000);
    await database.sql`
      INSERT INTO windows (topic_id, window_start, window_end, trigger, status, attempts, created_at, started_at, finished_at)
      SELECT id, ${new Date(oldAt.getTime() - WINDOW_SECONDS * 1000)}, ${oldAt}, 'backfill', 'succeeded', 1, ${oldAt}, ${oldAt}, ${oldAt}
        FROM topics WHERE id BETWEEN ${first} AND ${last}`;
    await database.sql`
      WITH old AS (
        INSERT INTO items (url, canonical_url, url_hash, title, published_at, first_seen_at)
        SELECT 'https://news.example/old/' || s.id || '/' || n, 'https://news.example/old/' || s.id || '/' || n,
               md5('old' || s.id || '/' || n) || md5(s.id || '/' || n), 'Old story ' || n, ${oldAt}, ${oldAt}
          FROM sources s, generate_series(1, ${ITEMS_PER_FEED}::int) AS n
        RETURNING id, url)
      INSERT INTO item_sources (item_id, source_id, external_id, first_seen_at)
      SELECT old.id, split_part(old.url, '/', 5)::int, old.url, ${oldAt} FROM old`;
    await database.sql`
      INSERT INTO topic_item_claims (topic_id, item_id, window_id)
      SELECT s.topic_id, l.item_id, w.id FROM item_sources l JOIN sources s ON s.id = l.source_id JOIN windows w ON w.topic_id = s.topic_id`;
    await database.sql`VACUUM ANALYZE`;
    if (process.env.BENCH_AUTO_EXPLAIN_MS) {
      // Logs the plan (EXPLAIN ANALYZE) of every statement slower than this to the server log.
      for (const setting of [`session_preload_libraries = 'auto_explain'`, `auto_explain.log_min_duration = ${Number(process.env.BENCH_AUTO_EXPLAIN_MS)}`, 'auto_explain.log_analyze = on']) {
        await database.sql.unsafe(`ALTER DATABASE ${database.name} SET ${setting}`);
      }
    }

    ctx.log(`${o.label}: starting ${o.workers} worker process(es), WORKER_CONCURRENCY=${o.concurrency}`);
    for (let n = 0; n < o.workers; n++) workers.push(startApp('worker', env(n)));
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'worker started', 60_000, 'worker start')));
    const pids = workers.map((w) => w.child.pid ?? -1);

    // Idle memory: started, connected, consuming, nothing to do.
    await sleep(2_000);
    const idle = pids.map((pid) => readRssMiB(pid) ?? Number.NaN);

    const due = Date.now() + 1_500;
    const end = due - LAG_SECONDS * 1000;
    const anchor = new Date(end - WINDOW_SECONDS * 1000);
    await database.sql`
      UPDATE topics SET anchor = ${anchor}, created_at = ${new Date(anchor.getTime() + 1_000)}, next_window_end = ${new Date(end)}
       WHERE id BETWEEN ${first} AND ${last}`;
    await database.sql`
      UPDATE sources
         SET config = jsonb_build_object('url', ${feeds.base} || '/topic/' || topic_id || ${`.xml?end=${end}&n=${ITEMS_PER_FEED}&delay=${o.feedDelayMs}`})
       WHERE topic_id BETWEEN ${first} AND ${last}`;
    if (Date.now() > due) throw new Error('setup took longer than the lead time before the windows fall due');

    const pgPids = async (): Promise<number[]> =>
      (await database.sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).map((r) => r.pid);
    const cpuOf = (list: number[]): number => list.reduce((n, pid) => n + (readCpuMs(pid) ?? 0), 0);
    const pgAtStart = await pgPids();
    const cpuStart = { workers: cpuOf(pids), pg: cpuOf(pgAtStart), feeds: cpuOf([feeds.pid]) };
    const sampler = sampleRss(pids, 100);
    await sleep(due - Date.now());
    await queues.scheduler.add(TICK_JOB, { manual: true }, { ...tickJobOptions, jobId: manualTickJobId(new Date()) });
    ctx.log(`${o.label}: ${fmtNum(o.windows)} windows due, tick enqueued`);

    const deadline = Date.now() + 10 * 60_000;
    let lastLog = Date.now();
    for (;;) {
      const [{ n } = { n: 0 }] = await database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digests`;
      if (n >= o.windows) break;
      if (Date.now() > deadline) throw new Error(`${o.label}: only ${n} of ${o.windows} digests after 10 minutes`);
      if (workers.some((w) => w.child.exitCode !== null)) throw new Error(`${o.label}: a worker exited: ${workers.map((w) => w.stderr.join('').slice(-500)).join('\n')}`);
      if (Date.now() - lastLog > 10_000) {
        ctx.log(`${o.label}: ${n}/${o.windows} digests`);
        lastLog = Date.now();
      }
      await sleep(100);
    }
    const peaks = sampler.peaks();
    sampler.stop();
    // Backends that were already there at the start, plus any opened during the run (pools grow).
    const pgAtEnd = [...new Set([...pgAtStart, ...(await pgPids())])];
    const cpuMs = {
      workers: cpuOf(pids) - cpuStart.workers,
      postgres: cpuOf(pgAtEnd) - cpuStart.pg,
      feedServer: cpuOf([feeds.pid]) - cpuStart.feeds,
    };

    const rows = await database.sql<{ ms: number; status: string; made: number }[]>`
      SELECT extract(epoch FROM d.created_at - (d.window_end + make_interval(secs => ${LAG_SECONDS}))) * 1000 AS ms,
             d.status, extract(epoch FROM d.created_at) * 1000 AS made
        FROM digests d`;
    const latencies = rows.map((r) => Number(r.ms));
    const makespanMs = Math.max(...rows.map((r) => Number(r.made))) - due;
    const digestsByStatus: Record<string, number> = {};
    for (const r of rows) digestsByStatus[r.status] = (digestsByStatus[r.status] ?? 0) + 1;
    const [{ duplicates } = { duplicates: 0 }] = await database.sql<{ duplicates: number }[]>`
      SELECT (count(*) - count(DISTINCT window_id))::int AS duplicates FROM digests`;
    if (duplicates !== 0) throw new Error(`${o.label}: ${duplicates} duplicate digests`);

    const runMs = workers.flatMap((w) => w.lines.filter((l) => l.msg === 'run finished')).map((l) => Number(l.durationMs));
    const tick = workers.flatMap((w) => w.lines.filter((l) => l.msg === 'Scheduler tick'));
    const warnings = workers.flatMap((w) => w.lines.filter((l) => l.level === 'warn' || l.level === 'error')).slice(0, 5);
    const exitCodes = await Promise.all(workers.map((w) => stopApp(w, 30_000)));
    return {
      label: o.label,
      windows: o.windows,
      workers: o.workers,
      concurrency: o.concurrency,
      feedDelayMs: o.feedDelayMs,
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(Math.max(...latencies)),
        min: round(Math.min(...latencies)),
      },
      makespanMs: round(makespanMs),
      windowsPerSecond: round(o.windows / (makespanMs / 1000), 1),
      digestsByStatus,
      rssMiB: { idlePerWorker: idle.map((v) => round(v, 1)), peakPerWorker: pids.map((pid) => round(peaks.get(pid) ?? Number.NaN, 1)) },
      workerExitCodes: exitCodes,
      cpuMsPerWindow: {
        workers: round(cpuMs.workers / o.windows, 1),
        postgres: round(cpuMs.postgres / o.windows, 1),
        feedServer: round(cpuMs.feedServer / o.windows, 1),
      },
      runDurationMs: { p50: round(percentile(runMs, 50)), p90: round(percentile(runMs, 90)), max: round(Math.max(...runMs)), runs: runMs.length },
      tick: tick.map((l) => ({ dueTopics: l.dueTopics, windowsScheduled: l.windowsScheduled, durationMs: l.durationMs, time: l.time })),
      warnings,
    };
  } finally {
    await Promise.all(workers.map((w) => stopApp(w, 10_000)));
    unregisterWorkers();
    await feeds.close();
    await services.close();
  }
}

function memoryRow(scenario: string, runs: WorkerRunResult[]): ScenarioResult['rows'][number] {
  const idle = runs.flatMap((r) => r.rssMiB.idlePerWorker);
  const peak = runs.flatMap((r) => r.rssMiB.peakPerWorker);
  return {
    scenario,
    metric: `worker RSS (${runs.map((r) => `${r.workers}w`).join(', ')}): idle median / peak max`,
    ours: `${fmtNum(median(idle))} MiB idle`,
    baseline: `${fmtNum(Math.max(...peak))} MiB peak`,
    ratio: `peak ${(Math.max(...peak) / median(idle)).toFixed(1)}x idle`,
    target: '(reported)',
    pass: null,
  };
}

export async function e2eLatency(ctx: BenchContext): Promise<ScenarioResult> {
  const windows = ctx.quick ? 200 : 1_000;
  const run = await runWorkers(ctx, { label: 'e2e', windows, workers: 3, concurrency: BENCH_WORKER_CONCURRENCY, feedDelayMs: 0 });
  const ok = (run.digestsByStatus.complete ?? 0) === windows;
  return {
    rows: [
      {
        scenario: 'e2e-latency',
        metric: `due -> digest, ${fmtNum(windows)} windows at once, 3 workers x ${run.concurrency}`,
        ours: `p50 ${fmtMs(run.latencyMs.p50)}`,
        baseline: `p99 ${fmtMs(run.latencyMs.p99)}`,
        ratio: `${fmtNum(run.windowsPerSecond, 1)} windows/s`,
        target: ok ? '(reported)' : `all complete (got ${JSON.stringify(run.digestsByStatus)})`,
        pass: ok ? null : false,
      },
      memoryRow('memory (4)', [run]),
    ],
    figures: { run },
  };
}

export async function scaleOut(ctx: BenchContext): Promise<ScenarioResult> {
  const windows = ctx.quick ? 200 : 1_000;
  const feedDelayMs = 200;
  // A-B-B-A: the machine's load drifts; this order cancels a linear drift between the two.
  const order = ctx.quick ? [1, 3] : [1, 3, 3, 1];
  const runs: WorkerRunResult[] = [];
  for (const [i, workers] of order.entries()) {
    runs.push(await runWorkers(ctx, { label: `scale-${workers}w-${i + 1}`, windows, workers, concurrency: BENCH_WORKER_CONCURRENCY, feedDelayMs }));
    ctx.log(`scale-out run ${i + 1}/${order.length} (${workers} worker${workers > 1 ? 's' : ''}): ${fmtNum(runs.at(-1)!.windowsPerSecond, 1)} windows/s`);
  }
  const rate = (workers: number): number => {
    const of = runs.filter((r) => r.workers === workers);
    return of.reduce((n, r) => n + r.windowsPerSecond, 0) / of.length;
  };
  const one = rate(1);
  const three = rate(3);
  const speedup = three / one;
  const incomplete = runs.filter((r) => (r.digestsByStatus.complete ?? 0) !== windows);
  return {
    rows: [
      {
        scenario: 'scale-out',
        metric: `${fmtNum(windows)} windows, feeds answer after ${feedDelayMs} ms, WORKER_CONCURRENCY=${BENCH_WORKER_CONCURRENCY} (${order.join('-')} workers, mean)`,
        ours: `3 workers: ${fmtNum(three, 1)} windows/s`,
        baseline: `1 worker: ${fmtNum(one, 1)} windows/s`,
        ratio: `${speedup.toFixed(2)}x`,
        target: '>= 2.5x',
        pass: speedup >= 2.5 && incomplete.length === 0,
      },
      memoryRow('memory (5)', runs),
    ],
    figures: { runs, oneWorkerWindowsPerSecond: round(one, 1), threeWorkersWindowsPerSecond: round(three, 1), speedup: round(speedup), target: { minSpeedup: 2.5 }, met: speedup >= 2.5 },
  };
}
