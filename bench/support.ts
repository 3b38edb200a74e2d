/**
 * Shared machinery of `pnpm bench`: an isolated database and Redis prefix per scenario (the
 * test helpers of test/support/services.ts), bulk fixtures, timing statistics, CPU and RSS
 * readings of processes, and the result model printed as a table and written to JSON.
 *
 * Benchmarks run on the real local Postgres and Redis (TEST_DATABASE_URL, TEST_REDIS_URL).
 * Workspace libs that are not dependencies of the root package are imported by relative path
 * (they resolve their own dependencies from their package folders).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { readWorkerConfig } from '@aharadar/config';
import { Redis } from 'ioredis';
import type { TickDeps } from '../apps/worker/src/tick.js';
import { createLogger, type Logger } from '../libs/log/src/index.js';
import { createQueues, type Queues } from '../libs/queue/src/index.js';
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase, type TestRedis } from '../test/support/services.js';

/** A benchmark's figures: what the table prints and what bench/results.json stores. */
export interface Row {
  /** Scenario id (`idle-tick`, `fanout`, ...). */
  scenario: string;
  /** What was measured, in words. */
  metric: string;
  /** Our figure, formatted for the table. */
  ours: string;
  /** The comparison figure (naive approach / raw limit / 1 worker), formatted. */
  baseline: string;
  /** ours vs baseline, formatted (e.g. `412x faster`). */
  ratio: string;
  target: string;
  /** null when the row has no target (informational). */
  pass: boolean | null;
}

export interface ScenarioResult {
  rows: Row[];
  /** Every raw figure of the scenario, for bench/results.json. */
  figures: Record<string, unknown>;
}

export type Scenario = (ctx: BenchContext) => Promise<ScenarioResult>;

export interface BenchContext {
  /** Smaller sizes and fewer repetitions (`--quick`): checks the bench itself, not the product. */
  quick: boolean;
  /** `--cpu-prof`: write CPU profiles (bench phases and worker processes) to this folder. */
  cpuProfDir: string | null;
  log(message: string): void;
}

/** Silent product logger for in-process use (the figures must not pay for log lines). */
export function silentLogger(): Logger {
  return createLogger({ service: 'bench', level: 'silent' });
}

/** Resources to release however a scenario ends (also on Ctrl-C). */
const cleanups = new Set<() => Promise<unknown>>();

export function onCleanup(fn: () => Promise<unknown>): () => void {
  cleanups.add(fn);
  return () => void cleanups.delete(fn);
}

export async function runCleanups(): Promise<void> {
  const pending = [...cleanups].reverse();
  cleanups.clear();
  for (const fn of pending) {
    try {
      await fn();
    } catch (error) {
      process.stderr.write(`bench cleanup failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

export interface BenchServices {
  database: TestDatabase;
  redis: TestRedis;
  queues: Queues;
  close(): Promise<void>;
}

/**
 * A fresh migrated database (radar_test_*) and a unique Redis key prefix, dropped and deleted
 * by close() — or by the Ctrl-C handler if the run is interrupted.
 */
export async function openServices(options: { maxConnections?: number } = {}): Promise<BenchServices> {
  const database = await createTestDatabase({ maxConnections: options.maxConnections ?? 10 });
  const redis = await createTestRedis();
  const queues = createQueues(redis.redis, redis.prefix);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await queues.close().catch(() => undefined);
    await redis.cleanup();
    await database.drop();
  };
  const unregister = onCleanup(close);
  return {
    database,
    redis,
    queues,
    async close() {
      unregister();
      await close();
    },
  };
}

/**
 * The worker's tick over a bench's services, wired as a worker wires it: its own Redis
 * connection (the tick lock), the product's default scheduling settings, 5 attempts, a silent
 * log. `close()` ends the connection; the services are closed by their owner.
 */
export function openTick(services: BenchServices, overrides: Partial<TickDeps> = {}): { deps: TickDeps; close(): void } {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const deps: TickDeps = {
    db: services.database.db,
    redis,
    pipeline: services.queues.pipeline,
    poll: services.queues.poll,
    prefix: services.redis.prefix,
    scheduling: readWorkerConfig({}).scheduling,
    pipelineAttempts: 5,
    log: silentLogger(),
    ...overrides,
  };
  return { deps, close: () => redis.disconnect() };
}

export interface TopicFixture {
  count: number;
  /** Name prefix; topics are `${prefix}-${n}`, n = 1..count. */
  prefix: string;
  everySeconds: number;
  anchor: Date;
  createdAt: Date;
  /** End of the first window not yet scheduled (`next_window_end`). */
  nextWindowEnd: Date;
  /** End of the last scheduled window; null for a topic never scheduled. */
  watermark: Date | null;
}

/** Creates `count` topics in ONE statement (INSERT ... SELECT generate_series). */
export async function bulkCreateTopics(database: TestDatabase, f: TopicFixture): Promise<{ firstId: number; lastId: number }> {
  const [row] = await database.sql<{ first: number; last: number }[]>`
    WITH inserted AS (
      INSERT INTO topics (name, schedule_kind, every_seconds, time_zone, anchor, digest_size, max_per_source, watermark, next_window_end, created_at)
      SELECT ${f.prefix} || '-' || n, 'every', ${f.everySeconds}, 'UTC', ${f.anchor}, 20, 20, ${f.watermark}, ${f.nextWindowEnd}, ${f.createdAt}
        FROM generate_series(1, ${f.count}::int) AS n
      RETURNING id)
    SELECT min(id)::int AS first, max(id)::int AS last FROM inserted`;
  if (!row) throw new Error('topic fixture: nothing inserted');
  return { firstId: row.first, lastId: row.last };
}

// ---------------------------------------------------------------------------------------------
// Statistics

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * Median of the ratios of measurements taken side by side (ours[i] right next to base[i]): on
 * a shared machine, load drifts between rounds, and pairing cancels most of it.
 */
export function medianPairedRatio(ours: readonly number[], base: readonly number[]): number {
  return median(ours.map((v, i) => v / (base[i] as number)));
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/**
 * Runs `fn` under the V8 CPU profiler of this process when `--cpu-prof` was given, writing
 * `<dir>/<name>.cpuprofile` (open it in Chrome DevTools or speedscope); otherwise just runs it.
 */
export async function profiled<T>(ctx: BenchContext, name: string, fn: () => Promise<T>): Promise<T> {
  if (!ctx.cpuProfDir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    const file = join(ctx.cpuProfDir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    ctx.log(`cpu profile written: ${file}`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtNum(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

// ---------------------------------------------------------------------------------------------
// Processes: memory and CPU

/** Resident set size of a process in MiB (VmRSS of /proc/<pid>/status), or null when it is gone. */
export function readRssMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in ms; null when it is gone. */
export function readCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime (fields 14 and 15 of stat; 12 and 13 after the command) in clock ticks (100 Hz).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

export interface RssSampler {
  /** Peak RSS seen per pid since start (MiB). */
  peaks(): Map<number, number>;
  stop(): void;
}

/** Samples VmRSS of `pids` every `intervalMs` and keeps each one's peak. */
export function sampleRss(pids: readonly number[], intervalMs = 100): RssSampler {
  const peaks = new Map<number, number>();
  const sample = (): void => {
    for (const pid of pids) {
      const rss = readRssMiB(pid);
      if (rss !== null) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, rss));
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    peaks: () => {
      sample();
      return new Map(peaks);
    },
    stop: () => clearInterval(timer),
  };
}

// ---------------------------------------------------------------------------------------------
// Output

export function formatTable(rows: readonly Row[]): string {
  const header: Row = { scenario: 'scenario', metric: 'metric', ours: 'ours', baseline: 'baseline (same run)', ratio: 'ratio', target: 'target', pass: null };
  const cells = (r: Row, isHeader = false): string[] => [r.scenario, r.metric, r.ours, r.baseline, r.ratio, r.target, isHeader ? 'met' : r.pass === null ? '-' : r.pass ? 'yes' : 'NO'];
  const all = [cells(header, true), ...rows.map((r) => cells(r))];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  const line = (c: string[]): string => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}
