import { MetricsRegistry } from '@aharadar/runtime';
import { waitingSince, type PipelineQueue } from '@aharadar/queue';

/** The worker's Prometheus series (DESIGN §8). Counters are per process; sum them across workers. */
export interface WorkerMetrics {
  registry: MetricsRegistry;
  ticks: (by?: number, labels?: Record<string, string>) => void;
  windowsScheduled: (by?: number) => void;
  windowsReenqueued: (by?: number) => void;
  windowsSkipped: (by?: number) => void;
  runs: (by: number, labels: { status: string }) => void;
  runDurationSecondsSum: (by: number) => void;
  runDurationCount: (by?: number) => void;
  itemsIngested: (by?: number) => void;
  sourceErrors: (by?: number) => void;
}

export function createWorkerMetrics(pipeline: PipelineQueue): WorkerMetrics {
  const registry = new MetricsRegistry();
  const metrics: WorkerMetrics = {
    registry,
    ticks: registry.counter('radar_ticks_total', 'Tick jobs processed by this worker, by outcome'),
    windowsScheduled: registry.counter('radar_windows_scheduled_total', 'Ledger rows inserted as queued by ticks'),
    windowsReenqueued: registry.counter('radar_windows_reenqueued_total', 'Unfinished windows whose lost job was enqueued again'),
    windowsSkipped: registry.counter('radar_windows_skipped_total', 'Windows recorded as skipped (catch-up bound)'),
    runs: registry.counter('radar_runs_total', 'Window runs finished by this worker, by status'),
    runDurationSecondsSum: registry.counter('radar_run_duration_seconds_sum', 'Total seconds spent in window runs'),
    runDurationCount: registry.counter('radar_run_duration_seconds_count', 'Number of timed window runs'),
    itemsIngested: registry.counter('radar_items_ingested_total', 'New items stored by ingest'),
    sourceErrors: registry.counter('radar_source_errors_total', 'Source fetches that failed'),
  };
  registry.gauge('radar_queue_jobs', 'Jobs in the pipeline queue by state', async () => {
    const counts = await pipeline.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    return Object.entries(counts).map(([state, value]) => ({ labels: { queue: 'pipeline', state }, value }));
  });
  registry.gauge('radar_queue_oldest_waiting_seconds', 'Age of the oldest waiting pipeline job', async () => {
    const [oldest] = await pipeline.getJobs(['waiting'], 0, 0, true);
    const age = oldest ? Math.max(0, (Date.now() - waitingSince(oldest)) / 1000) : 0;
    return [{ labels: { queue: 'pipeline' }, value: Math.round(age * 1000) / 1000 }];
  });
  return metrics;
}
