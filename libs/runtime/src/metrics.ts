import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one process: a thin wrapper over a prom-client {@link Registry}
 * (one per process, not prom-client's global one) with the default process metrics on it
 * (`process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, `nodejs_gc_duration_seconds`, ...).
 *
 * Gauges are read at scrape time (queue depth is asked from Redis only when someone scrapes),
 * and each read has a deadline: a gauge whose collector does not answer in time (Redis down,
 * a command waiting in the offline queue for ever) reports nothing for that scrape and counts
 * `radar_metrics_collect_timeouts_total{metric}`; the scrape itself still answers.
 */
export type Labels = Readonly<Record<string, string>>;

export type GaugeSample = { labels?: Labels; value: number };
export type GaugeCollector = () => Promise<GaugeSample[]> | GaugeSample[];

/** Increments a counter (by 1 unless told), with the labels it was declared with. */
export type CounterFn = (by?: number, labels?: Labels) => void;
/** Records one observation in a histogram. */
export type ObserveFn = (value: number, labels?: Labels) => void;

/** How long one gauge's collector may take per scrape. Well under Prometheus' default 10 s scrape timeout. */
export const METRICS_COLLECT_DEADLINE_MS = 2_000;

export interface MetricsRegistryOptions {
  /** Per-gauge collection deadline; {@link METRICS_COLLECT_DEADLINE_MS} by default. */
  collectDeadlineMs?: number;
  /** Node.js process metrics (memory, CPU, event-loop lag, GC); on by default. */
  defaultMetrics?: boolean;
}

type Collected = { kind: 'samples'; samples: GaugeSample[] } | { kind: 'timeout' } | { kind: 'error' };

async function withDeadline(collection: Promise<GaugeSample[]>, ms: number): Promise<Collected> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      collection.then(
        (samples): Collected => ({ kind: 'samples', samples }),
        (): Collected => ({ kind: 'error' }),
      ),
      new Promise<Collected>((resolve) => {
        // Not unref'd: a scrape waiting for its deadline is work in progress, and the timer is
        // cleared as soon as the collection answers.
        timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class MetricsRegistry {
  /** The prom-client registry underneath, for anything this wrapper does not cover. */
  readonly registry = new Registry();
  readonly collectDeadlineMs: number;
  /** Rendered after the others, so a scrape reports the timeouts that happened during it. */
  private readonly ownRegistry = new Registry();
  private readonly collectTimeouts: Counter<'metric'>;

  constructor(options: MetricsRegistryOptions = {}) {
    this.collectDeadlineMs = options.collectDeadlineMs ?? METRICS_COLLECT_DEADLINE_MS;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.collectTimeouts = new Counter({
      name: 'radar_metrics_collect_timeouts_total',
      help: 'Gauge collections that missed their deadline during a scrape (the gauge was left out of that scrape)',
      labelNames: ['metric'],
      registers: [this.ownRegistry],
    });
  }

  /** The Content-Type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Declares a counter and returns a function that increments it. */
  counter(name: string, help: string, labelNames: readonly string[] = []): CounterFn {
    const counter = new Counter({ name, help, labelNames, registers: [this.registry] });
    return (by = 1, labels) => {
      if (labels && Object.keys(labels).length > 0) counter.inc(labels, by);
      else counter.inc(by);
    };
  }

  /** Declares a histogram with the given upper bucket bounds and returns its observe function. */
  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): ObserveFn {
    const histogram = new Histogram({ name, help, buckets: [...buckets], labelNames, registers: [this.registry] });
    return (value, labels) => {
      if (labels && Object.keys(labels).length > 0) histogram.observe(labels, value);
      else histogram.observe(value);
    };
  }

  /**
   * Declares a gauge read at scrape time by `collect`, bounded by the collection deadline. A
   * collection still running from an earlier scrape is waited for again, not started twice:
   * scrapes during an outage do not pile up commands behind a dead connection.
   */
  gauge(name: string, help: string, collect: GaugeCollector, labelNames: readonly string[] = []): void {
    let inFlight: Promise<GaugeSample[]> | null = null;
    const gauge: Gauge = new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect: async () => {
        if (!inFlight) {
          const started = Promise.resolve().then(collect);
          inFlight = started;
          const done = () => {
            if (inFlight === started) inFlight = null;
          };
          started.then(done, done);
        }
        const collected = await withDeadline(inFlight, this.collectDeadlineMs);
        gauge.reset();
        if (collected.kind === 'samples') {
          try {
            for (const sample of collected.samples) gauge.set(sample.labels ?? {}, sample.value);
            return;
          } catch {
            gauge.reset(); // a sample with undeclared labels: the gauge is left out, like a failed read
          }
        }
        if (collected.kind === 'timeout') this.collectTimeouts.inc({ metric: name });
        gauge.remove({}); // reset() leaves an unlabelled gauge at 0; "unknown" is not 0
      },
    });
  }

  /** The exposition text (Prometheus text format, {@link contentType}). */
  async render(): Promise<string> {
    const text = await this.registry.metrics();
    return `${text}\n${await this.ownRegistry.metrics()}`;
  }
}
