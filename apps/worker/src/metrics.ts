import { waitingSince } from '@aharadar/queue';
import { MetricsRegistry, type CounterFn, type ObserveFn } from '@aharadar/runtime';
import type { Queue } from 'bullmq';

/** Window runs take from a twentieth of a second (nothing new) to minutes (many slow feeds). */
export const RUN_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;
/** How late a poll started against its planned time: from scheduling jitter to a 30-minute backlog. */
export const POLL_LAG_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800] as const;
/** Job states counted by `radar_queue_jobs`. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const;

export type PollStatus = 'ok' | 'not_modified' | 'error' | 'skipped';

/** The worker's Prometheus series (DESIGN §8). Counters are per process; sum them across workers. */
export interface WorkerMetrics {
  registry: MetricsRegistry;
  ticks: (by?: number, labels?: { outcome: string }) => void;
  windowsScheduled: (by?: number) => void;
  windowsReenqueued: (by?: number) => void;
  windowsSkipped: (by?: number) => void;
  runs: (by: number, labels: { status: string }) => void;
  /** One finished window run, in seconds (`radar_run_duration_seconds` histogram). */
  runDuration: (seconds: number) => void;
  itemsIngested: (by?: number) => void;
  sourceErrors: (by?: number) => void;
  /** Feed polls by outcome (`radar_polls_total{status}`). */
  polls: (by: number, labels: { status: PollStatus }) => void;
  /** How many seconds after its planned time a poll started (`radar_poll_lag_seconds` histogram). */
  pollLagSeconds: (seconds: number) => void;
  /** Response bytes read by polls (`radar_poll_bytes_total`). */
  pollBytes: (n: number) => void;
}

export interface WorkerMetricsOptions {
  /** Queues whose depth and oldest waiting job are reported, e.g. pipeline and poll. */
  queues: Array<{ name: string; queue: Queue }>;
  /** For tests; the runtime default otherwise. */
  collectDeadlineMs?: number;
}

export function createWorkerMetrics(options: WorkerMetricsOptions): WorkerMetrics {
  const registry = new MetricsRegistry({ collectDeadlineMs: options.collectDeadlineMs });
  const ticks: CounterFn = registry.counter('radar_ticks_total', 'Tick jobs processed by this worker, by outcome', ['outcome']);
  const runs: CounterFn = registry.counter('radar_runs_total', 'Window runs finished by this worker, by status', ['status']);
  const polls: CounterFn = registry.counter('radar_polls_total', 'Feed polls by this worker, by status (ok, not_modified, error, skipped)', ['status']);
  const runDuration: ObserveFn = registry.histogram('radar_run_duration_seconds', 'Duration of window runs', RUN_DURATION_BUCKETS);
  const pollLag: ObserveFn = registry.histogram('radar_poll_lag_seconds', 'How late a feed poll started against its planned time', POLL_LAG_BUCKETS);
  const metrics: WorkerMetrics = {
    registry,
    ticks,
    windowsScheduled: registry.counter('radar_windows_scheduled_total', 'Ledger rows inserted as queued by ticks'),
    windowsReenqueued: registry.counter('radar_windows_reenqueued_total', 'Unfinished windows whose lost job was enqueued again'),
    windowsSkipped: registry.counter('radar_windows_skipped_total', 'Windows recorded as skipped (catch-up bound)'),
    runs,
    runDuration,
    itemsIngested: registry.counter('radar_items_ingested_total', 'New items stored by ingest'),
    sourceErrors: registry.counter('radar_source_errors_total', 'Source fetches that failed'),
    polls,
    pollLagSeconds: (seconds) => pollLag(Math.max(0, seconds)),
    pollBytes: registry.counter('radar_poll_bytes_total', 'Response bytes read by feed polls'),
  };
  const { queues } = options;
  registry.gauge(
    'radar_queue_jobs',
    'Jobs in a queue by state',
    async () => {
      const perQueue = await Promise.all(
        queues.map(async ({ name, queue }) => {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          return Object.entries(counts).map(([state, value]) => ({ labels: { queue: name, state }, value }));
        }),
      );
      return perQueue.flat();
    },
    ['queue', 'state'],
  );
  registry.gauge(
    'radar_queue_oldest_waiting_seconds',
    'Age of the oldest waiting job of a queue',
    () =>
      Promise.all(
        queues.map(async ({ name, queue }) => {
          const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
          const age = oldest ? Math.max(0, (Date.now() - waitingSince(oldest)) / 1000) : 0;
          return { labels: { queue: name }, value: Math.round(age * 1000) / 1000 };
        }),
      ),
    ['queue'],
  );
  return metrics;
}
